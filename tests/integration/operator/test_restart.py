"""Leader election and crash safety: a second operator waits for the Lease; when the leader is killed
with SIGKILL mid-reconcile, the other takes over and converges with no duplicate and no orphan; a
restarted operator then resumes every resource without writing to any child."""

from __future__ import annotations

import uuid
from typing import Any

from .conftest import apply_spec, wait_for, wait_ready

N = 6


def test_kill_mid_reconcile_second_replica_converges(operator_factory, kube, namespace, kubelet):
    lease = f"lgp-restart-{uuid.uuid4().hex[:6]}"
    a = operator_factory(LGP_OPERATOR_LEADER_ELECTION_NAME=lease, LGP_OPERATOR_NAMESPACES=namespace).start()
    wait_for(lambda: "leads" in a.log(), 30, "operator A to lead")
    b = operator_factory(LGP_OPERATOR_LEADER_ELECTION_NAME=lease, LGP_OPERATOR_NAMESPACES=namespace).start()
    wait_for(lambda: "waiting; lease" in b.log(), 30, "operator B to wait for the lease")

    for i in range(N):
        apply_spec(kube, f"p{i}", namespace, {"queue": {"enabled": True}, "apiServer": {"replicas": 2}})
    # Kill A as soon as it has started creating children: mid-reconcile.
    wait_for(lambda: kube.list("apps/v1", "Deployment", namespace), 30, "the first child")
    a.kill()
    assert "created" not in b.log() and "leads" not in b.log()  # B never reconciled while A led
    secrets_before = {
        s["metadata"]["name"]: s["data"]["password"]
        for s in kube.list("v1", "Secret", namespace, "app.kubernetes.io/component=postgres")
    }

    for i in range(N):
        wait_ready(kube, f"p{i}", namespace, timeout=120)
    assert "leads" in b.log()
    holder = kube.get("coordination.k8s.io/v1", "Lease", "default", lease)
    assert (
        holder is not None
        and holder["spec"]["holderIdentity"] != ""
        and int(holder["spec"]["leaseTransitions"]) >= 1
    )

    crs = {
        c["metadata"]["uid"]: c["metadata"]["name"]
        for c in kube.list("lgp.dev/v1alpha1", "LangGraphPlatform", namespace)
    }
    expected = {("Deployment", f"p{i}-{s}") for i in range(N) for s in ("api-server", "queue", "redis")}
    expected |= {("StatefulSet", f"p{i}-postgres") for i in range(N)}
    expected |= {("Service", f"p{i}{s}") for i in range(N) for s in ("", "-postgres", "-redis")}
    expected |= {("PodDisruptionBudget", f"p{i}-api-server") for i in range(N)}
    seen: list[tuple[str, str]] = []
    for api_version, kind in (
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("v1", "Service"),
        ("policy/v1beta1", "PodDisruptionBudget"),
    ):
        for obj in kube.list(api_version, kind, namespace, "app.kubernetes.io/managed-by=lgp-operator"):
            refs = obj["metadata"].get("ownerReferences") or []
            assert len(refs) == 1 and refs[0]["uid"] in crs, f"orphan {kind} {obj['metadata']['name']}"
            seen.append((kind, obj["metadata"]["name"]))
    assert sorted(seen) == sorted(expected)  # nothing missing, nothing twice
    # One ReplicaSet per Deployment: the takeover caused no second rollout.
    rs_owners: dict[str, int] = {}
    for rs in kube.list("apps/v1", "ReplicaSet", namespace):
        owner = rs["metadata"]["ownerReferences"][0]["name"]
        rs_owners[owner] = rs_owners.get(owner, 0) + 1
    assert set(rs_owners.values()) == {1}, rs_owners
    # The password Secrets made before the kill were not regenerated.
    after: dict[str, Any] = {
        s["metadata"]["name"]: s["data"]["password"]
        for s in kube.list("v1", "Secret", namespace, "app.kubernetes.io/component=postgres")
    }
    assert all(after[name] == pw for name, pw in secrets_before.items())
    assert len(after) == N

    # Kill the new leader too and start a third process: on resume it finds everything in place.
    before = _versions(kube, namespace)
    b.kill()
    c = operator_factory(LGP_OPERATOR_LEADER_ELECTION_NAME=lease, LGP_OPERATOR_NAMESPACES=namespace).start()
    wait_for(
        lambda: all(f"{namespace}/p{i}: reconciled (ready, 0 change(s))" in c.log() for i in range(N)),
        90,
        "the restarted operator to resume every resource",
    )
    assert _versions(kube, namespace) == before  # not one child written


def _versions(kube: Any, namespace: str) -> dict[tuple[str, str], str]:
    out = {}
    for api_version, kind in (
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("v1", "Service"),
        ("v1", "Secret"),
        ("policy/v1beta1", "PodDisruptionBudget"),
    ):
        for obj in kube.list(api_version, kind, namespace, "app.kubernetes.io/managed-by=lgp-operator"):
            out[(kind, obj["metadata"]["name"])] = obj["metadata"]["resourceVersion"]
    return out
