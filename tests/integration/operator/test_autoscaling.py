"""Autoscaling both ways on a real apiserver: without KEDA an HPA in the served autoscaling version and
PendingRunScaling=False; once the KEDA ScaledObject CRD is served, ScaledObjects with the three
triggers replace the HPAs."""

from __future__ import annotations

from typing import Any

from .conftest import apply_spec, cond, get_cr, keda_crd, wait_for

SPEC = {
    "queue": {"enabled": True},
    "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 5, "pendingRunsPerReplica": 7},
}
KEDA_API = "keda.sh/v1alpha1"


def _served(kube: Any) -> bool:
    try:
        kube.request("GET", f"/apis/{KEDA_API}")
    except Exception:
        return False
    return True


def _with_condition(kube: Any, namespace: str, status: str | None) -> dict[str, Any] | None:
    cr = get_cr(kube, "auto", namespace)
    c = cond(cr, "PendingRunScaling")
    return cr if c and (status is None or c.get("status") == status) else None


def test_hpa_without_keda_then_scaled_objects_with_it(operator, kube, namespace, kubelet):
    crd = keda_crd()
    assert not _served(kube), "the KEDA CRD must not be installed before this test"
    apply_spec(kube, "auto", namespace, SPEC)

    def hpas() -> list[dict[str, Any]]:
        items = kube.list("autoscaling/v2beta2", "HorizontalPodAutoscaler", namespace)
        return items if {h["metadata"]["name"] for h in items} == {"auto-api-server", "auto-queue"} else []

    items = wait_for(hpas, 60, "HPAs (autoscaling/v2beta2, the newest 1.20 serves)")
    spec = items[0]["spec"]
    assert {
        m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in spec["metrics"]
    } == {"cpu": 75, "memory": 75}
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 1800
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 5)
    cr = wait_for(lambda: _with_condition(kube, namespace, None), 30, "the PendingRunScaling condition")
    pending = cond(cr, "PendingRunScaling")
    assert pending["status"] == "False" and pending["reason"] == "KedaNotInstalled"
    assert "pending-run scaling is off" in pending["message"]
    # Replicas belong to the autoscaler: the operator does not own spec.replicas.
    dep = kube.get("apps/v1", "Deployment", namespace, "auto-api-server")
    assert dep is not None
    ours = [m for m in dep["metadata"]["managedFields"] if m["manager"] == "lgp-operator"]
    assert ours and all("f:replicas" not in (m["fieldsV1"].get("f:spec") or {}) for m in ours)

    kube.apply(crd)
    try:

        def scaled_objects() -> list[dict[str, Any]]:
            if not _served(kube):
                return []
            items = kube.list(KEDA_API, "ScaledObject", namespace)
            names = {s["metadata"]["name"] for s in items}
            gone = not kube.list("autoscaling/v2beta2", "HorizontalPodAutoscaler", namespace)
            return items if names == {"auto-api-server", "auto-queue"} and gone else []

        items = wait_for(scaled_objects, 60, "ScaledObjects replacing the HPAs")
        for so in items:
            triggers = {t["type"]: t for t in so["spec"]["triggers"]}
            if so["metadata"]["name"] == "auto-api-server":  # runs no runs: queue workers do
                assert set(triggers) == {"cpu", "memory"}
                continue
            assert set(triggers) == {"cpu", "memory", "postgresql"}
            pg = triggers["postgresql"]["metadata"]
            assert pg["query"] == "SELECT COUNT(*) FROM run WHERE status = 'pending'"
            assert pg["targetQueryValue"] == "7" and pg["connectionFromEnv"] == "POSTGRES_URI"
            assert (so["spec"]["minReplicaCount"], so["spec"]["maxReplicaCount"]) == (2, 5)
            assert so["metadata"]["ownerReferences"][0]["kind"] == "LangGraphPlatform"
        cr = wait_for(lambda: _with_condition(kube, namespace, "True"), 30, "PendingRunScaling=True")
        assert cond(cr, "PendingRunScaling")["reason"] == "KedaScaledObject"

        # Autoscaling off: the ScaledObjects are pruned and fixed replicas come back.
        apply_spec(kube, "auto", namespace, {"queue": {"enabled": True}})
        wait_for(lambda: not kube.list(KEDA_API, "ScaledObject", namespace), 30, "ScaledObjects pruned")
        wait_for(
            lambda: (
                (kube.get("apps/v1", "Deployment", namespace, "auto-api-server") or {})
                .get("spec", {})
                .get("replicas")
                == 1
            ),
            30,
            "replicas set by the operator again",
        )
    finally:
        kube.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, crd["metadata"]["name"])
        wait_for(lambda: not _served(kube), 30, "the KEDA CRD removed")
