"""The operator runs under exactly operator/rbac/operator-rbac.yaml (a ServiceAccount token from the
TokenRequest API) and still does everything: create every child (NetworkPolicies too), prune, autoscale,
retain on delete."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from lgp_operator.k8s.kube import Kube

from .conftest import ROOT, apply_spec, cond, events_for, get_cr, wait_for, wait_ready

RBAC = ROOT / "operator" / "rbac" / "operator-rbac.yaml"


def _install(kube: Kube, docs: list[dict[str, Any]], namespace: str, suffix: str) -> list[dict[str, Any]]:
    out = []
    for doc in docs:
        doc = dict(doc)
        meta = dict(doc["metadata"])
        if doc["kind"] in ("ClusterRole", "ClusterRoleBinding"):
            meta["name"] = f"{meta['name']}-{suffix}"
        else:
            meta["namespace"] = namespace
        doc["metadata"] = meta
        if doc["kind"] == "ClusterRoleBinding":
            doc["roleRef"] = {**doc["roleRef"], "name": f"{doc['roleRef']['name']}-{suffix}"}
        for s in doc.get("subjects", []):
            s["namespace"] = namespace
        kube.apply(doc)
        out.append(doc)
    return out


def test_operator_under_its_own_rbac(operator_factory, kube, k8s, cluster, namespace, kubelet, tmp_path):
    if not hasattr(cluster, "write_kubeconfig"):
        pytest.skip("needs the project's test cluster (static CA and kubeconfig writer)")
    suffix = uuid.uuid4().hex[:6]
    system = f"lgp-system-{suffix}"
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": system}})
    docs = list(yaml.safe_load_all(RBAC.read_text()))
    installed = _install(kube, docs, system, suffix)
    try:
        sa = next(d for d in installed if d["kind"] == "ServiceAccount")["metadata"]["name"]
        token = kube.request(
            "POST",
            f"/api/v1/namespaces/{system}/serviceaccounts/{sa}/token",
            body={
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": 3600},
            },
        )["status"]["token"]
        kubeconfig = cluster.write_kubeconfig(Path(tmp_path) / "operator.kubeconfig", sa, token, system)
        op = operator_factory(
            kubeconfig,
            LGP_OPERATOR_LEADER_ELECTION_NAMESPACE=system,
            LGP_OPERATOR_LEADER_ELECTION_NAME="lgp-operator",
        ).start()

        spec = {
            "revision": {"id": "r1"},
            "queue": {"enabled": True},
            "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 4},
            "ingress": {"enabled": True, "host": "rbac.example.com"},
            "envFromSecret": "agent-env",
        }
        apply_spec(kube, "rb", namespace, spec)

        def missing() -> bool:  # reading a missing Secret is allowed and reported
            return cond(get_cr(kube, "rb", namespace), "Degraded").get("reason") == "SecretNotFound"

        wait_for(missing, 60, "Degraded=SecretNotFound under the operator's identity")
        kube.apply(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "agent-env", "namespace": namespace},
                "stringData": {"A": "b"},
            }
        )
        cr = wait_ready(kube, "rb", namespace, "r1", timeout=120)
        assert cond(cr, "PendingRunScaling")["reason"] in ("KedaNotInstalled", "KedaScaledObject")
        lease = kube.get("coordination.k8s.io/v1", "Lease", system, "lgp-operator")
        assert lease is not None and lease["spec"]["holderIdentity"]

        policies = {"rb-api-server", "rb-queue", "rb-postgres", "rb-redis"}
        assert {
            p for p in policies if kube.get("networking.k8s.io/v1", "NetworkPolicy", namespace, p)
        } == policies

        # Pruning under the same identity.
        off = {"ingress": {"enabled": False}, "security": {"networkPolicy": {"enabled": False}}}
        apply_spec(kube, "rb", namespace, {**spec, **off})
        wait_for(
            lambda: kube.get("networking.k8s.io/v1", "Ingress", namespace, "rb") is None, 30, "Ingress pruned"
        )
        wait_for(
            lambda: not kube.list("networking.k8s.io/v1", "NetworkPolicy", namespace),
            30,
            "NetworkPolicies pruned",
        )

        # Deletion: finalizer, garbage collection, the database retained and labelled.
        kube.delete("lgp.dev/v1alpha1", "LangGraphPlatform", namespace, "rb")
        wait_for(
            lambda: kube.get("lgp.dev/v1alpha1", "LangGraphPlatform", namespace, "rb") is None,
            60,
            "the resource deleted (our finalizer removed)",
        )
        assert any(e["reason"] == "DatabaseRetained" for e in events_for(kube, "rb", namespace))
        secret = kube.get("v1", "Secret", namespace, "rb-postgres")
        assert secret is not None and secret["metadata"]["labels"].get("lgp.dev/retained") == "true"
        log = op.log()
        # No request was refused for lack of a permission (RBAC denials name the user).
        assert 'forbidden: User "system:serviceaccount' not in log, log[-3000:]
    finally:
        for doc in installed:
            if doc["kind"] in ("ClusterRole", "ClusterRoleBinding"):
                kube.delete("rbac.authorization.k8s.io/v1", doc["kind"], None, doc["metadata"]["name"])
        kube.delete("v1", "Namespace", None, system)
