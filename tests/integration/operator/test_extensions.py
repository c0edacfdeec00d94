"""Server pod extensions, the operator's ServiceAccount and spec.labels/annotations on a real apiserver:
sidecars, init containers and volumes reach the pods, the ServiceAccount is made (owned, annotated) and
pruned when turned off, every child and the database's volume claim carry the labels, and a label added
later reaches the claim without touching the StatefulSet's immutable claim templates (no ApplyFailed)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from lgp_operator.k8s.kube import Kube

from .conftest import apply_spec, cond, get_cr, wait_for, wait_ready

SELECTOR = "app.kubernetes.io/managed-by=lgp-operator"


@pytest.fixture
def priority_class(kube: Kube):
    name = f"lgp-test-{uuid.uuid4().hex[:6]}"
    kube.apply(
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": name},
            "value": 1000,
        }
    )
    yield name
    kube.delete("scheduling.k8s.io/v1", "PriorityClass", None, name)


def _spec(priority: str, labels: dict[str, str], sa: bool) -> dict[str, Any]:
    return {
        "revision": {"id": f"r{len(labels)}{int(sa)}"},
        "labels": labels,
        "annotations": {"owner.example.com/contact": "agents@example.com"},
        "serviceAccount": {"create": sa, "annotations": {"iam.gke.io/gcp-service-account": "a@p.iam"}},
        "apiServer": {
            "replicas": 2,
            "initContainers": [{"name": "warm", "image": "registry.local/busybox:1", "command": ["true"]}],
            "sidecars": [{"name": "proxy", "image": "registry.local/envoy:1"}],
            "volumes": [{"name": "ca", "configMap": {"name": "corp-ca", "optional": True}}],
            "volumeMounts": [{"name": "ca", "mountPath": "/etc/ssl/corp", "readOnly": True}],
        },
        "queue": {"enabled": True},
        "ingress": {"enabled": True, "host": "agent.example.com"},
        "placement": {
            "priorityClassName": priority,
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"}
            ],
        },
        "database": {"managed": {"retainOnDelete": False}},
    }


def _children(kube: Kube, ns: str) -> list[dict[str, Any]]:
    kinds = [
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("v1", "Service"),
        ("v1", "Secret"),
        ("v1", "ServiceAccount"),
        ("networking.k8s.io/v1", "Ingress"),
        ("policy/v1beta1", "PodDisruptionBudget"),
        ("v1", "PersistentVolumeClaim"),
    ]
    return [
        o
        for api, kind in kinds
        for o in kube.list(api, kind, ns, SELECTOR)
        if o["metadata"]["name"] != "default"
    ]


def test_extensions_service_account_and_labels(operator, kube, namespace, kubelet, priority_class):
    labels = {"team": "agents"}
    apply_spec(kube, "agent", namespace, _spec(priority_class, labels, sa=True))
    wait_ready(kube, "agent", namespace, "r11", timeout=120)

    sa = kube.get("v1", "ServiceAccount", namespace, "agent")
    assert sa is not None and sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] == "a@p.iam"
    assert sa["metadata"]["ownerReferences"][0]["kind"] == "LangGraphPlatform"
    pods = kube.list("v1", "Pod", namespace, "app.kubernetes.io/component=api-server")
    assert pods
    for pod in pods:
        spec = pod["spec"]
        assert [c["name"] for c in spec["containers"]] == ["api-server", "proxy"]
        assert [c["name"] for c in spec["initContainers"]] == ["warm"]
        assert spec["serviceAccountName"] == "agent" and spec["priorityClassName"] == priority_class
        assert (
            spec["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"][
                "app.kubernetes.io/component"
            ]
            == "api-server"
        )
        assert {"name": "ca", "mountPath": "/etc/ssl/corp", "readOnly": True} in spec["containers"][0][
            "volumeMounts"
        ]
        assert pod["metadata"]["labels"]["team"] == "agents"
        assert pod["metadata"]["annotations"]["owner.example.com/contact"] == "agents@example.com"

    def labelled(want: dict[str, str]) -> list[str] | None:
        children = _children(kube, namespace)
        kinds = {o["kind"] for o in children}
        if "PersistentVolumeClaim" not in kinds:
            return None
        missing = [
            f"{o['kind']} {o['metadata']['name']}"
            for o in children
            if any((o["metadata"].get("labels") or {}).get(k) != v for k, v in want.items())
            or (o["metadata"].get("annotations") or {}).get("owner.example.com/contact")
            != "agents@example.com"
        ]
        assert missing == [], missing
        return sorted(kinds)

    kinds = wait_for(lambda: labelled(labels), 60, "labels on every child and the claim")
    assert {
        "Deployment",
        "StatefulSet",
        "Service",
        "Secret",
        "ServiceAccount",
        "Ingress",
        "PodDisruptionBudget",
    } <= set(kinds)
    sts = kube.get("apps/v1", "StatefulSet", namespace, "agent-postgres")
    assert sts is not None
    templates_before = sts["spec"]["volumeClaimTemplates"]

    # A label added later, and the ServiceAccount turned off.
    more = {"team": "agents", "cost-center": "42"}
    apply_spec(kube, "agent", namespace, _spec(priority_class, more, sa=False))
    wait_ready(kube, "agent", namespace, "r20", timeout=120)
    for pod in kube.list("v1", "Pod", namespace, "app.kubernetes.io/component=api-server"):
        if not pod["metadata"].get("deletionTimestamp"):
            assert pod["spec"]["serviceAccountName"] == "default"  # not the one dropped
    assert cond(get_cr(kube, "agent", namespace), "Degraded").get("status") == "False"
    wait_for(
        lambda: kube.get("v1", "ServiceAccount", namespace, "agent") is None, 60, "the ServiceAccount pruned"
    )
    wait_for(lambda: labelled(more), 60, "the new label on every child and on the existing claim")
    sts = kube.get("apps/v1", "StatefulSet", namespace, "agent-postgres")
    assert sts is not None and sts["spec"]["volumeClaimTemplates"] == templates_before
