"""The operator runs under exactly the chart's identity: `helm install` renders its ServiceAccount,
ClusterRole and per-namespace RoleBindings into a real apiserver; `lgp operator run` starts with the
environment of the installed Deployment and a TokenRequest token of that ServiceAccount, reconciles a
LangGraphPlatform in its namespace to Ready, and can touch nothing outside its namespaces."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from .conftest import ROOT, installed
from .test_rbac import GROUP, PLURAL, VERSION, can

RESYNC = "3"


def wait(what: str, timeout: float, check: Any, proc: subprocess.Popen[bytes], log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the operator exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        result = check()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(
        f"timed out after {timeout:.0f}s waiting for {what}; operator log:\n{log.read_text()[-4000:]}"
    )


def condition(cr: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in (cr.get("status") or {}).get("conditions") or [] if c["type"] == type_), {})


@pytest.fixture
def operator_release(
    helm_at: Any, namespace: str, extra_namespaces: Any, kubelet: Any, release: str
) -> Iterator[dict[str, str]]:
    """The data plane's operator installed in its own namespace, managing this test's namespace (where
    the simulated kubelet runs pods)."""
    system = extra_namespaces("lgp-sys")
    other = extra_namespaces("other")
    values = {
        "controlPlane": {"enabled": False},
        "dataPlane": {"namespaces": [namespace]},
        "operator": {"resyncSeconds": int(RESYNC)},
    }
    with installed(helm_at(system), release, values, system):
        yield {"release": system, "managed": namespace, "other": other, "name": release}


def start_operator(
    k8s: Any, sa_client: Any, ns: dict[str, str], tmp_path: Path
) -> tuple[subprocess.Popen[bytes], Path, Any]:
    deployment = client.AppsV1Api(k8s).read_namespaced_deployment(f"{ns['name']}-operator", ns["release"])
    pod = deployment.spec.template.spec
    container = pod.containers[0]
    assert container.args == ["operator", "run"]
    sa_api, kubeconfig = sa_client(ns["release"], pod.service_account_name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGP_")}
    env.update({e.name: e.value for e in container.env if e.value is not None})
    env.update(LGP_OPERATOR_KUBECONFIG=str(kubeconfig), PYTHONUNBUFFERED="1")
    log = tmp_path / "operator.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lgp_cli.main", *container.args],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return proc, log, sa_api


def test_operator_reconciles_under_the_charts_identity(
    k8s: Any, sa_client: Any, operator_release: dict[str, str], tmp_path: Path
) -> None:
    ns = operator_release
    proc, log, sa_api = start_operator(k8s, sa_client, ns, tmp_path)
    custom = client.CustomObjectsApi(k8s)
    try:
        for where in (ns["managed"], ns["other"]):
            custom.create_namespaced_custom_object(
                GROUP,
                VERSION,
                where,
                PLURAL,
                {
                    "apiVersion": f"{GROUP}/{VERSION}",
                    "kind": "LangGraphPlatform",
                    "metadata": {"name": "agent"},
                    "spec": {"image": "registry.local/agent:v1", "revision": {"id": "r1"}},
                },
            )

        def ready() -> dict[str, Any] | None:
            cr = custom.get_namespaced_custom_object(GROUP, VERSION, ns["managed"], PLURAL, "agent")
            status = cr.get("status") or {}
            ok = (
                condition(cr, "Ready").get("status") == "True"
                and status.get("observedGeneration") == cr["metadata"]["generation"]
            )
            return cr if ok else None

        wait("the LangGraphPlatform to be Ready under the chart's identity", 180, ready, proc, log)
        apps = client.AppsV1Api(k8s)
        assert apps.list_namespaced_deployment(ns["managed"]).items, "no children were created"
        # its NetworkPolicies too (the chart's copy of the operator's RBAC allows them)
        policies = client.NetworkingV1Api(k8s).list_namespaced_network_policy(ns["managed"]).items
        assert {p.metadata.name for p in policies} >= {"agent-api-server", "agent-postgres", "agent-redis"}
        lease = client.CoordinationV1Api(k8s).read_namespaced_lease(f"{ns['name']}-operator", ns["release"])
        assert lease.spec.holder_identity

        # Outside its namespaces it sees nothing and may do nothing.
        untouched = custom.get_namespaced_custom_object(GROUP, VERSION, ns["other"], PLURAL, "agent")
        assert not untouched.get("status"), "the operator reconciled a namespace it does not manage"
        assert apps.list_namespaced_deployment(ns["other"]).items == []
        assert not can(sa_api, "create", "deployments", ns["other"], "apps")
        assert not can(sa_api, "get", "secrets", ns["other"])
        assert not can(sa_api, "list", "langgraphplatforms", None, GROUP)
        assert not can(sa_api, "list", "secrets", ns["managed"])  # reads Secrets only by name
        assert not can(sa_api, "update", "langgraphplatforms", ns["managed"], GROUP)  # never writes the spec
        assert can(sa_api, "patch", "langgraphplatforms", ns["managed"], GROUP, sub="status")
        with pytest.raises(ApiException) as info:
            client.AppsV1Api(sa_api).list_namespaced_deployment(ns["other"])
        assert info.value.status == 403

        # Deleting goes through the operator's finalizer while it still runs.
        custom.delete_namespaced_custom_object(GROUP, VERSION, ns["managed"], PLURAL, "agent")

        def gone() -> bool:
            try:
                custom.get_namespaced_custom_object(GROUP, VERSION, ns["managed"], PLURAL, "agent")
            except ApiException as e:
                return e.status == 404
            return False

        wait("the LangGraphPlatform to be deleted", 60, gone, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        try:
            custom.delete_namespaced_custom_object(GROUP, VERSION, ns["other"], PLURAL, "agent")
        except ApiException as e:
            if e.status != 404:
                raise


def test_watch_all_namespaces_binds_the_cluster_role(
    helm_at: Any, sa_client: Any, extra_namespaces: Any, release: str
) -> None:
    system, somewhere = extra_namespaces("lgp-sys"), extra_namespaces("any")
    values = {"controlPlane": {"enabled": False}, "operator": {"watchAllNamespaces": True}}
    with installed(helm_at(system), release, values, system):
        sa_api, _ = sa_client(system, f"{release}-operator")
        assert can(sa_api, "list", "langgraphplatforms", None, GROUP)
        assert can(sa_api, "create", "deployments", somewhere, "apps")
        assert not can(sa_api, "list", "secrets", None)
        assert not can(sa_api, "create", "leases", somewhere, "coordination.k8s.io")
        assert can(sa_api, "create", "leases", system, "coordination.k8s.io")
