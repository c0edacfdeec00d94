"""The operator on a real kube-apiserver: create, rollout and live revision, drift repair, toggles that
prune, a no-op resync with zero writes, Degraded with Events, and deletion with the database retained."""

from __future__ import annotations

import base64
from typing import Any

from kubernetes import config
from lgp_operator.k8s.kube import Kube
from lgp_operator.reconcile import Reconciler
from lgp_operator.settings import OperatorSettings

from lgp_contract.resource import LangGraphPlatformStatus

from .conftest import apply_spec, cond, events_for, get_cr, wait_for, wait_ready

EXTERNAL_REDIS = {"redis": {"external": {"secretRef": {"name": "redis-uri"}}}}


def _names(kube: Kube, api_version: str, kind: str, ns: str) -> set[str]:
    return {
        o["metadata"]["name"]
        for o in kube.list(api_version, kind, ns, "app.kubernetes.io/managed-by=lgp-operator")
    }


def _secret(kube: Kube, ns: str, name: str, data: dict[str, str]) -> None:
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": ns},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }
    )


def test_create_builds_every_child(operator, kube, namespace, kubelet):
    spec = {
        "revision": {"id": "r1", "number": 1},
        "apiServer": {"replicas": 2},
        "queue": {"enabled": True},
        "env": [{"name": "LOG_LEVEL", "value": "debug"}],
        "ingress": {"enabled": True, "host": "agent.example.com", "className": "nginx"},
    }
    apply_spec(kube, "demo", namespace, spec)
    cr = wait_ready(kube, "demo", namespace, "r1")
    st = cr["status"]
    LangGraphPlatformStatus.model_validate(st)  # the status matches its own published schema
    assert st["endpoint"] == "http://agent.example.com/"
    assert st["liveRevision"] == {"id": "r1", "number": 1}
    assert st["replicas"]["apiServer"]["available"] == 2
    assert {c["type"] for c in st["conditions"]} >= {
        "Ready",
        "Progressing",
        "Degraded",
        "DatabaseReady",
        "RedisReady",
    }
    assert _names(kube, "apps/v1", "Deployment", namespace) == {"demo-api-server", "demo-queue", "demo-redis"}
    assert _names(kube, "apps/v1", "StatefulSet", namespace) == {"demo-postgres"}
    assert _names(kube, "v1", "Service", namespace) == {"demo", "demo-postgres", "demo-redis"}
    assert _names(kube, "networking.k8s.io/v1", "Ingress", namespace) == {"demo"}
    # Kubernetes 1.20 serves no policy/v1: the PDB uses the version discovery found.
    assert _names(kube, "policy/v1beta1", "PodDisruptionBudget", namespace) == {"demo-api-server"}

    api = kube.get("apps/v1", "Deployment", namespace, "demo-api-server")
    assert api is not None
    container = api["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["N_JOBS_PER_WORKER"]["value"] == "0" and env["LOG_LEVEL"]["value"] == "debug"
    assert env["POSTGRES_URI"]["valueFrom"]["secretKeyRef"] == {"name": "demo-postgres", "key": "uri"}
    assert container["readinessProbe"]["httpGet"]["path"] == "/ok"
    assert api["spec"]["template"]["metadata"]["annotations"]["lgp.dev/revision"] == "r1"
    assert api["metadata"]["ownerReferences"][0]["uid"] == cr["metadata"]["uid"]
    managers = {m["manager"] for m in api["metadata"]["managedFields"]}
    assert "lgp-operator" in managers
    svc = kube.get("v1", "Service", namespace, "demo")
    assert svc is not None and svc["spec"]["ports"][0]["protocol"] == "TCP"
    # The operator's own bookkeeping: our finalizer, kopf's state in lgp.dev annotations only. kopf
    # writes its last-handled annotation after the handler returns, possibly after Ready was seen.
    assert cr["metadata"]["finalizers"] == ["lgp.dev/finalizer"]

    def handled() -> dict[str, Any] | None:
        c = get_cr(kube, "demo", namespace)
        return c if "lgp.dev/last-handled-configuration" in c["metadata"].get("annotations", {}) else None

    cr = wait_for(handled, 30, "kopf's lgp.dev/last-handled-configuration annotation")
    annotations = cr["metadata"]["annotations"]
    assert not [k for k in annotations if "zalando" in k or ("kopf" in k and not k.startswith("lgp.dev/"))]
    # The spec stays the applier's: the operator writes only status.
    cr_managers = {
        (m["manager"], m.get("subresource", ""))
        for m in cr["metadata"]["managedFields"]
        if "f:spec" in (m.get("fieldsV1") or {})
    }
    assert cr_managers == {("lgp-test", "")}
    reasons = {e["reason"] for e in events_for(kube, "demo", namespace)}
    assert {"Applied", "RevisionLive", "Ready"} <= reasons


def test_image_change_rolls_and_live_revision_follows_available_pods(operator, kube, namespace, kubelet):
    apply_spec(
        kube, "roll", namespace, {"revision": {"id": "r1"}, "apiServer": {"replicas": 2}, **EXTERNAL_REDIS}
    )
    _secret(kube, namespace, "redis-uri", {"uri": "redis://redis.example:6379/0"})
    wait_ready(kube, "roll", namespace, "r1")

    # A revision whose image cannot be pulled: Degraded with the reason, the old revision stays live.
    kubelet.fail("*:broken", "ImagePullBackOff", namespace=namespace)
    apply_spec(
        kube,
        "roll",
        namespace,
        {
            "image": "registry.local/agent:broken",
            "revision": {"id": "r2"},
            "apiServer": {"replicas": 2},
            **EXTERNAL_REDIS,
        },
    )

    def degraded() -> dict[str, Any] | None:
        cr = get_cr(kube, "roll", namespace)
        return cr if cond(cr, "Degraded").get("reason") == "ImagePullBackOff" else None

    cr = wait_for(degraded, 60, "Degraded=ImagePullBackOff")
    assert cond(cr, "Degraded")["status"] == "True"
    assert "registry.local/agent:broken" in cond(cr, "Degraded")["message"]
    assert cr["status"]["liveRevision"]["id"] == "r1"
    assert cond(cr, "Ready")["status"] == "False"
    warnings = [e for e in events_for(kube, "roll", namespace) if e["type"] == "Warning"]
    assert any(e["reason"] == "ImagePullBackOff" for e in warnings)

    # A good image whose pods cannot start yet (the kubelet is away: they stay Pending). The rollout
    # progresses, nothing is degraded, and the live revision stays r1 while the old pods serve.
    kubelet.unenroll(namespace)
    apply_spec(
        kube,
        "roll",
        namespace,
        {
            "image": "registry.local/agent:v2",
            "revision": {"id": "r3"},
            "apiServer": {"replicas": 2},
            **EXTERNAL_REDIS,
        },
    )

    def rolling() -> dict[str, Any] | None:
        cr = get_cr(kube, "roll", namespace)
        progressing = cond(cr, "Progressing")
        ok = progressing.get("reason") == "RollingOut" and "revision r3" in progressing.get("message", "")
        return cr if ok and cond(cr, "Degraded").get("status") == "False" else None

    cr = wait_for(rolling, 60, "Progressing=True RollingOut for r3")
    assert cr["status"]["liveRevision"]["id"] == "r1"
    assert cond(cr, "Ready")["status"] == "False"
    dep = kube.get("apps/v1", "Deployment", namespace, "roll-api-server")
    assert dep is not None and dep["status"].get("availableReplicas", 0) >= 2  # the old pods still serve

    # The kubelet comes back: the new pods become available, then and only then r3 is live.
    kubelet.enroll(namespace)

    def live_r3() -> bool:
        cr = get_cr(kube, "roll", namespace)
        if (cr.get("status", {}).get("liveRevision") or {}).get("id") != "r3":
            return False
        dep = kube.get("apps/v1", "Deployment", namespace, "roll-api-server")
        assert dep is not None
        s = dep["status"]
        assert dep["spec"]["template"]["metadata"]["annotations"]["lgp.dev/revision"] == "r3"
        assert s["updatedReplicas"] == s["availableReplicas"] == s["replicas"] == 2, s
        return True

    wait_for(live_r3, 90, "revision r3 live")
    cr = wait_ready(kube, "roll", namespace, "r3")
    assert cond(cr, "Degraded")["status"] == "False"


def test_drift_is_repaired(operator, kube, namespace, kubelet):
    apply_spec(kube, "drift", namespace, {"apiServer": {"replicas": 2}, **EXTERNAL_REDIS})
    _secret(kube, namespace, "redis-uri", {"uri": "redis://redis.example:6379/0"})
    wait_ready(kube, "drift", namespace)
    # Someone scales the Deployment by hand and deletes the Service.
    kube.merge_patch("apps/v1", "Deployment", namespace, "drift-api-server", {"spec": {"replicas": 5}})
    assert kube.delete("v1", "Service", namespace, "drift")

    def repaired() -> bool:
        dep = kube.get("apps/v1", "Deployment", namespace, "drift-api-server") or {}
        svc = kube.get("v1", "Service", namespace, "drift")
        return dep.get("spec", {}).get("replicas") == 2 and svc is not None

    wait_for(repaired, 15, "replicas back to 2 and the Service recreated (resync period 3 s)")


def test_toggles_prune(operator, kube, namespace, kubelet):
    spec: dict[str, Any] = {
        "queue": {"enabled": True},
        "ingress": {"enabled": True, "host": "t.example.com"},
        **EXTERNAL_REDIS,
    }
    _secret(kube, namespace, "redis-uri", {"uri": "redis://redis.example:6379/0"})
    apply_spec(kube, "tog", namespace, spec)
    wait_ready(kube, "tog", namespace)
    assert _names(kube, "networking.k8s.io/v1", "Ingress", namespace) == {"tog"}
    apply_spec(kube, "tog", namespace, {**EXTERNAL_REDIS})

    def pruned() -> bool:
        return not _names(kube, "networking.k8s.io/v1", "Ingress", namespace) and "tog-queue" not in _names(
            kube, "apps/v1", "Deployment", namespace
        )

    wait_for(pruned, 30, "Ingress and queue Deployment pruned")
    cr = wait_ready(kube, "tog", namespace)
    assert cr["status"]["endpoint"] == f"http://tog.{namespace}.svc:8000"
    dep = kube.get("apps/v1", "Deployment", namespace, "tog-api-server")
    assert dep is not None
    env = {e["name"]: e.get("value") for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["N_JOBS_PER_WORKER"] == "10"  # the api server runs jobs again
    assert any(
        e["reason"] == "Applied" and "deleted Ingress tog" in e["message"]
        for e in events_for(kube, "tog", namespace)
    )

    # Suspend: the server scales to zero, Ready says why; resuming brings it back.
    apply_spec(kube, "tog", namespace, {**EXTERNAL_REDIS, "suspend": True})

    def suspended() -> bool:
        dep = kube.get("apps/v1", "Deployment", namespace, "tog-api-server") or {}
        ready = cond(get_cr(kube, "tog", namespace), "Ready")
        return dep.get("spec", {}).get("replicas") == 0 and ready.get("reason") == "Suspended"

    wait_for(suspended, 30, "suspended: zero replicas, Ready=False Suspended")
    apply_spec(kube, "tog", namespace, {**EXTERNAL_REDIS})
    wait_ready(kube, "tog", namespace)


def test_resync_with_nothing_to_change_makes_zero_writes(operator, kube, kubeconfig, namespace, kubelet):
    apply_spec(
        kube,
        "noop",
        namespace,
        {
            "apiServer": {"replicas": 2},
            "queue": {"enabled": True},
            "autoscaling": {"enabled": False},
            "ingress": {"enabled": True, "host": "n.example.com"},
        },
    )
    wait_ready(kube, "noop", namespace)
    # A reconcile of our own, in this process, counting every request its client makes. Its client is
    # its own: the simulated kubelet shares the session's ApiClient and writes (node heartbeats, pod
    # status) and reads on it from its threads, which a spy on that client would count as ours.
    k8s = config.new_client_from_config(str(kubeconfig))
    counting = Kube(k8s)
    methods: list[str] = []
    original = k8s.rest_client.request

    def spy(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        methods.append(method)
        return original(method, url, *args, **kwargs)

    reconciler = Reconciler(counting, OperatorSettings(resync_seconds=3, discovery_seconds=60))
    k8s.rest_client.request = spy
    try:

        def settled() -> bool:  # the first run may still see the operator finishing its own work
            before = counting.writes
            reconciler.reconcile(get_cr(kube, "noop", namespace))
            return counting.writes == before

        wait_for(settled, 30, "a reconcile without writes")
        body = get_cr(kube, "noop", namespace)
        methods.clear()
        before = dict(counting.calls)
        outcome = reconciler.reconcile(body)
    finally:
        k8s.rest_client.request = original
        k8s.close()
    assert outcome.ready and outcome.changed == []
    writes = [m for m in methods if m != "GET"]
    assert writes == [], f"a no-op reconcile wrote: {writes}"
    assert len(methods) >= 8  # it did read everything it compares
    assert counting.calls["GET"] - before.get("GET", 0) == len(methods)


def test_invalid_spec_and_missing_secret_give_degraded_with_events(operator, kube, namespace, kubelet):
    # Kubernetes 1.20 has no CEL: the cross-field rule is checked by the operator, and reported.
    apply_spec(kube, "bad", namespace, {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 2}})

    def invalid() -> dict[str, Any] | None:
        cr = get_cr(kube, "bad", namespace)
        return cr if cond(cr, "Degraded").get("reason") == "InvalidSpec" else None

    cr = wait_for(invalid, 30, "Degraded=InvalidSpec")
    msg = cond(cr, "Degraded")["message"]
    assert "spec.autoscaling" in msg and "maxReplicas (2) is below minReplicas (5)" in msg
    assert cond(cr, "Ready")["status"] == "False"
    assert not _names(kube, "apps/v1", "Deployment", namespace)  # nothing applied from an invalid spec
    assert any(
        e["reason"] == "InvalidSpec" and e["type"] == "Warning" for e in events_for(kube, "bad", namespace)
    )

    # A referenced Secret that does not exist: Degraded saying which, retried until it appears.
    apply_spec(
        kube,
        "nosecret",
        namespace,
        {
            "envFromSecret": "agent-env",
            "database": {"external": {"secretRef": {"name": "pg", "key": "dsn"}}},
            **EXTERNAL_REDIS,
        },
    )

    def missing() -> dict[str, Any] | None:
        cr = get_cr(kube, "nosecret", namespace)
        return cr if cond(cr, "Degraded").get("reason") == "SecretNotFound" else None

    cr = wait_for(missing, 30, "Degraded=SecretNotFound")
    msg = cond(cr, "Degraded")["message"]
    assert "spec.envFromSecret: Secret 'agent-env' not found" in msg
    assert "spec.database.external.secretRef: Secret 'pg' not found" in msg
    assert any(e["reason"] == "SecretNotFound" for e in events_for(kube, "nosecret", namespace))
    _secret(kube, namespace, "agent-env", {"OPENAI_API_KEY": "sk-test"})
    _secret(kube, namespace, "pg", {"dsn": "postgres://u:p@db.example:5432/x"})
    _secret(kube, namespace, "redis-uri", {"uri": "redis://redis.example:6379/0"})
    cr = wait_ready(kube, "nosecret", namespace)
    assert cond(cr, "DatabaseReady")["reason"] == "External"
    assert not _names(kube, "apps/v1", "StatefulSet", namespace)
    # No secret value ever lands in status or events.
    text = str(cr["status"]) + str(events_for(kube, "nosecret", namespace))
    assert "sk-test" not in text and "u:p@" not in text


def test_delete_retains_or_drops_the_database(operator, kube, namespace, kubelet):
    apply_spec(kube, "keep", namespace, {})
    apply_spec(kube, "drop", namespace, {"database": {"managed": {"retainOnDelete": False}}})
    wait_ready(kube, "keep", namespace)
    wait_ready(kube, "drop", namespace)
    pvcs = wait_for(
        lambda: _pvcs(kube, namespace) >= {"data-keep-postgres-0", "data-drop-postgres-0"},
        30,
        "volume claims created by the StatefulSets",
    )
    assert pvcs
    kube.delete("lgp.dev/v1alpha1", "LangGraphPlatform", namespace, "keep")
    kube.delete("lgp.dev/v1alpha1", "LangGraphPlatform", namespace, "drop")

    def children_gone() -> bool:
        return (
            kube.get("lgp.dev/v1alpha1", "LangGraphPlatform", namespace, "keep") is None
            and kube.get("lgp.dev/v1alpha1", "LangGraphPlatform", namespace, "drop") is None
            and not _names(kube, "apps/v1", "Deployment", namespace)
            and not _names(kube, "apps/v1", "StatefulSet", namespace)
            and not _names(kube, "v1", "Service", namespace)
        )

    wait_for(children_gone, 60, "resources deleted and children garbage-collected")
    # retainOnDelete (the default): PVC and password Secret stay, labelled, with an Event.
    pvc = kube.get("v1", "PersistentVolumeClaim", namespace, "data-keep-postgres-0")
    assert pvc is not None and pvc["metadata"]["labels"]["lgp.dev/retained"] == "true"
    secret = kube.get("v1", "Secret", namespace, "keep-postgres")
    assert secret is not None and secret["metadata"]["labels"]["lgp.dev/retained"] == "true"
    retained = [e for e in events_for(kube, "keep", namespace) if e["reason"] == "DatabaseRetained"]
    assert retained and "data-keep-postgres-0" in retained[0]["message"]
    # retainOnDelete: false: both go.
    wait_for(
        lambda: "data-drop-postgres-0" not in _pvcs(kube, namespace), 30, "the dropped database's PVC deleted"
    )
    wait_for(lambda: kube.get("v1", "Secret", namespace, "drop-postgres") is None, 30, "its Secret collected")

    # Recreated with the same name, the retained password is reused, never regenerated.
    old_password = secret["data"]["password"]
    apply_spec(kube, "keep", namespace, {})
    wait_ready(kube, "keep", namespace)
    again = kube.get("v1", "Secret", namespace, "keep-postgres")
    assert again is not None and again["data"]["password"] == old_password
    assert "lgp.dev/retained" not in again["metadata"]["labels"]  # adopted again
    pvc = kube.get("v1", "PersistentVolumeClaim", namespace, "data-keep-postgres-0")
    assert pvc is not None and "lgp.dev/retained" not in pvc["metadata"]["labels"]
    assert any(e["reason"] == "DatabaseAdopted" for e in events_for(kube, "keep", namespace))


def _pvcs(kube: Kube, namespace: str) -> set[str]:
    return {p["metadata"]["name"] for p in kube.list("v1", "PersistentVolumeClaim", namespace)}
