"""The operator on a real kube-apiserver never takes over a same-named object that is not its resource's:
the stranger is left untouched, the resource goes Degraded (NotOwned) naming it, with a Warning Event;
once the stranger is deleted, the operator converges."""

from __future__ import annotations

import base64
from typing import Any

from lgp_operator.k8s.kube import Kube
from lgp_operator.reconcile import Reconciler
from lgp_operator.settings import OperatorSettings

from .conftest import apply_spec, cond, events_for, get_cr, wait_for, wait_ready

STRANGER_PASSWORD = "the-strangers-password"


def _strangers(namespace: str) -> list[dict[str, Any]]:
    """A Service named like the resource's and a Secret named like its database's, made by someone else."""
    labels = {"app.kubernetes.io/managed-by": "someone-else", "app": "web"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "own", "namespace": namespace, "labels": labels},
            "spec": {
                "selector": {"app": "web"},
                "ports": [{"name": "http", "port": 9999, "targetPort": 9999}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "own-postgres", "namespace": namespace, "labels": labels},
            "data": {"password": base64.b64encode(STRANGER_PASSWORD.encode()).decode()},
        },
    ]


def _untouched(kube: Kube, before: dict[str, Any]) -> None:
    meta = before["metadata"]
    now = kube.get(before["apiVersion"], before["kind"], meta["namespace"], meta["name"])
    assert now is not None, f"{before['kind']} {meta['name']} was deleted"
    assert now["metadata"]["resourceVersion"] == meta["resourceVersion"], f"{before['kind']} was written"
    assert not now["metadata"].get("ownerReferences")
    assert {m["manager"] for m in now["metadata"].get("managedFields") or []} == {"lgp-test"}


def test_a_strangers_objects_are_left_alone_until_they_are_gone(operator, kube, k8s, namespace, kubelet):
    before = [kube.create(obj) for obj in _strangers(namespace)]
    apply_spec(kube, "own", namespace, {})

    def not_owned() -> dict[str, Any] | None:
        cr = get_cr(kube, "own", namespace)
        return cr if cond(cr, "Degraded").get("reason") == "NotOwned" else None

    cr = wait_for(not_owned, 60, "Degraded=NotOwned")
    message = cond(cr, "Degraded")["message"]
    assert f"Service 'own' in namespace '{namespace}' already exists and is not ours" in message
    assert f"Secret 'own-postgres' in namespace '{namespace}' already exists and is not ours" in message
    assert "not labelled app.kubernetes.io/managed-by=lgp-operator, app.kubernetes.io/instance=own" in message
    assert cond(cr, "Degraded")["status"] == "True"
    assert (cond(cr, "Ready")["status"], cond(cr, "Ready")["reason"]) == ("False", "NotOwned")
    warnings = [
        e for e in events_for(kube, "own", namespace) if e["type"] == "Warning" and e["reason"] == "NotOwned"
    ]
    assert warnings and "Service 'own'" in warnings[0]["message"]
    # what is ours was applied; the strangers were not written, nor by one more reconcile of our own
    assert kube.get("apps/v1", "Deployment", namespace, "own-api-server") is not None
    outcome = Reconciler(Kube(k8s), OperatorSettings(discovery_seconds=60)).reconcile(
        get_cr(kube, "own", namespace)
    )
    assert outcome.degraded is not None and outcome.degraded[0] == "NotOwned" and outcome.retry
    for obj in before:
        _untouched(kube, obj)

    for obj in before:
        kube.delete("v1", obj["kind"], namespace, obj["metadata"]["name"])
    cr = wait_ready(kube, "own", namespace)
    assert cond(cr, "Degraded")["status"] == "False"
    svc = kube.get("v1", "Service", namespace, "own")
    assert svc is not None and svc["metadata"]["ownerReferences"][0]["uid"] == cr["metadata"]["uid"]
    assert svc["spec"]["ports"][0]["port"] == 8000
    secret = kube.get("v1", "Secret", namespace, "own-postgres")
    assert secret is not None and secret["metadata"]["labels"]["app.kubernetes.io/instance"] == "own"
    assert base64.b64decode(secret["data"]["password"]).decode() != STRANGER_PASSWORD  # never read
