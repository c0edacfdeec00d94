"""The watch-fed cache of the operator's children on a real kube-apiserver: what it answers, what it
leaves to the server (a stranger's object, a deletion's lists), the changes it announces, and a no-op
reconcile through it that neither writes nor reads a cached child from the server."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kubernetes import config
from lgp_operator.k8s.cache import ChildCache, Entry, parse_selector
from lgp_operator.k8s.kube import Kube
from lgp_operator.reconcile import Reconciler
from lgp_operator.settings import OperatorSettings

from .conftest import apply_spec, get_cr, wait_for, wait_ready

OURS = {"app.kubernetes.io/managed-by": "lgp-operator", "app.kubernetes.io/instance": "c"}


def _service(namespace: str, name: str, labels: dict[str, str], port: int = 80) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"ports": [{"port": port, "protocol": "TCP"}]},
    }


@pytest.fixture
def cached(kubeconfig, namespace):
    """A Kube on a client of its own with a ChildCache scoped to the test's namespace, and the changes
    the cache announced."""
    api = config.new_client_from_config(str(kubeconfig))
    kube = Kube(api, record_requests=True)
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def record(event: str, obj: dict[str, Any]) -> None:
        with lock:
            seen.append((event, obj["metadata"]["name"]))

    cache = ChildCache(kube, [namespace], on_change=record).start()
    kube.cache = cache
    assert cache.wait_synced(30)
    try:
        yield kube, cache, seen
    finally:
        cache.stop()
        api.close()


def test_selector_parsing():
    assert parse_selector("a=b,c") == [("a", "b"), ("c", None)]
    assert parse_selector("a!=b") is None
    assert parse_selector("a in (b)") is None
    assert parse_selector("") == []


def test_reads_come_from_the_watch_and_strangers_from_the_server(cached, kube, namespace):
    ckube, cache, seen = cached
    kube.apply(_service(namespace, "ours", OURS))
    kube.apply(_service(namespace, "stranger", {"app.kubernetes.io/instance": "c"}))
    wait_for(lambda: ("ADDED", "ours") in seen, 10, "the watch announced our Service")
    assert all(name != "stranger" for _, name in seen)

    before = ckube.calls["GET"]
    got = ckube.get("v1", "Service", namespace, "ours")
    assert got is not None and got["spec"]["ports"][0]["port"] == 80
    assert "managedFields" not in got["metadata"]
    assert ckube.calls["GET"] == before  # answered by the cache
    # Not ours (no managed-by label): never in the cache, read from the server, and seen there.
    assert ckube.get("v1", "Service", namespace, "stranger") is not None
    assert ckube.calls["GET"] == before + 1
    # A list the cache can answer whole (the selector requires our label) and one it cannot.
    listed = ckube.list("v1", "Service", namespace, "app.kubernetes.io/managed-by=lgp-operator")
    assert [o["metadata"]["name"] for o in listed] == ["ours"]
    assert ckube.calls["GET"] == before + 1
    everything = ckube.list("v1", "Service", namespace, "app.kubernetes.io/instance=c")
    assert {o["metadata"]["name"] for o in everything} == {"ours", "stranger"}
    assert ckube.calls["GET"] == before + 2
    fresh = ckube.list("v1", "Service", namespace, "app.kubernetes.io/managed-by=lgp-operator", fresh=True)
    assert [o["metadata"]["name"] for o in fresh] == ["ours"]
    assert ckube.calls["GET"] == before + 3
    # A change by someone else reaches the cache; a deletion leaves it.
    kube.merge_patch("v1", "Service", namespace, "ours", {"metadata": {"annotations": {"x": "1"}}})
    wait_for(
        lambda: (
            (ckube.get("v1", "Service", namespace, "ours") or {})["metadata"].get("annotations", {}).get("x")
            == "1"
        ),
        10,
        "the annotation in the cache",
    )
    kube.delete("v1", "Service", namespace, "ours")
    wait_for(lambda: ("DELETED", "ours") in seen, 10, "the deletion announced")
    assert cache.get("v1", "Service", namespace, "ours") is None  # now read from the server: 404
    assert ckube.get("v1", "Service", namespace, "ours") is None


def test_our_writes_go_into_the_cache_and_a_relist_announces_what_was_missed(cached, kube, namespace):
    ckube, cache, seen = cached
    applied = ckube.apply(_service(namespace, "written", OURS, port=81))
    # Right after the write, before or after its watch event: the cache holds this version or newer.
    got = cache.get("v1", "Service", namespace, "written")
    assert got is not None
    assert int(got["metadata"]["resourceVersion"]) >= int(applied["metadata"]["resourceVersion"])
    [informer] = cache.informers["Service"]
    # What a watch gap would hide: the store loses an object and holds a stale one; a relist repairs
    # both and announces them.
    kube.apply(_service(namespace, "other", OURS))
    wait_for(
        lambda: cache.get("v1", "Service", namespace, "other") is not None, 10, "the second Service cached"
    )
    with informer.lock:
        informer.store.pop((namespace, "other"))
        stale = informer.store[(namespace, "written")]
        old = stale.object()
        old["metadata"]["resourceVersion"] = "1"
        informer.store[(namespace, "written")] = Entry.of(old, "v1", "Service")
    seen.clear()
    informer.relist()
    assert ("ADDED", "other") in seen and ("MODIFIED", "written") in seen
    assert cache.get("v1", "Service", namespace, "written")["metadata"]["resourceVersion"] != "1"


def test_a_no_op_reconcile_through_the_cache_reads_no_child_and_writes_nothing(
    operator, kube, kubeconfig, namespace, kubelet, cached
):
    ckube, _, _ = cached
    spec = {
        "apiServer": {"replicas": 2},
        "queue": {"enabled": True},
        "ingress": {"enabled": True, "host": "c.example.com"},
    }
    apply_spec(kube, "nocall", namespace, spec)
    wait_ready(kube, "nocall", namespace)
    reconciler = Reconciler(ckube, OperatorSettings(resync_seconds=3, discovery_seconds=60))

    def settled() -> bool:  # the first run prunes (lists from the server) and may see the operator's work
        before = ckube.writes
        reconciler.reconcile(get_cr(kube, "nocall", namespace))
        return ckube.writes == before

    wait_for(settled, 30, "a reconcile without writes")
    body = get_cr(kube, "nocall", namespace)
    ckube.requests.clear()
    outcome = reconciler.reconcile(body)
    assert outcome.ready and outcome.changed == []
    assert [r for r in ckube.requests if r[0] != "GET"] == [], ckube.requests  # no write
    reads = sorted(path for _, path in ckube.requests)
    # What is left: the Secrets it reads by name (no list or watch on Secrets, on purpose) and the
    # PodDisruptionBudget (its API version is discovery's choice: not a cached kind).
    assert reads and all("/secrets/" in p or "/poddisruptionbudgets/" in p for p in reads), reads
