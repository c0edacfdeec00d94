"""The operator's Prometheus metrics: what a reconcile records (result, reason, durations per resource,
children by action), the queue depth from the coordinator, and /metrics served by prometheus-client."""

from __future__ import annotations

import threading
import urllib.request

from lgp_operator.coordinator import Coordinator
from lgp_operator.health import Health, HealthServer
from lgp_operator.metrics import OperatorMetrics
from lgp_operator.reconcile import Outcome


def value(m: OperatorMetrics, metric: str, **labels: str) -> float:
    got = m.registry.get_sample_value(metric, labels)
    return 0.0 if got is None else got


def test_reconciles_children_and_durations_are_recorded():
    m = OperatorMetrics()
    m.reconciled("ns", "a", 0.2, ready=True, degraded=None)
    m.reconciled("ns", "b", 0.4, ready=False, degraded="ImagePullBackOff")
    m.reconciled("ns", "c", 0.1, ready=False, degraded=None)
    m.failed("ns", "a", 1.5)
    for kind, action in (("Deployment", "created"), ("Deployment", "unchanged"), ("Ingress", "deleted")):
        m.child(kind, action)
    assert value(m, "lgp_operator_reconciles_total", result="ready") == 1
    assert value(m, "lgp_operator_reconciles_total", result="degraded") == 1
    assert value(m, "lgp_operator_reconciles_total", result="progressing") == 1
    assert value(m, "lgp_operator_reconciles_total", result="error") == 1
    assert value(m, "lgp_operator_reconcile_errors_total", reason="ImagePullBackOff") == 1
    assert value(m, "lgp_operator_reconcile_errors_total", reason="Exception") == 1
    assert value(m, "lgp_operator_reconcile_duration_seconds_count") == 4
    assert value(m, "lgp_operator_reconcile_last_duration_seconds", namespace="ns", name="a") == 1.5
    assert value(m, "lgp_operator_children_total", kind="Deployment", action="skipped") == 1
    assert value(m, "lgp_operator_children_total", kind="Ingress", action="deleted") == 1
    m.forget("ns", "a")
    m.forget("ns", "never")
    assert (
        m.registry.get_sample_value(
            "lgp_operator_reconcile_last_duration_seconds", {"namespace": "ns", "name": "a"}
        )
        is None
    )


def test_queue_depth_counts_resources_waiting_for_a_reconcile():
    started, release = threading.Event(), threading.Event()

    def run(namespace: str, name: str) -> Outcome:
        started.set()
        release.wait(10)
        return Outcome(ready=True)

    coordinator = Coordinator(run)
    m = OperatorMetrics()
    m.watch_queue(coordinator.depth)
    worker = threading.Thread(target=coordinator.run, args=("ns", "a"))
    worker.start()
    assert started.wait(10)
    coordinator.run("ns", "a", wait=False)  # arrives while one runs: marked to run again
    assert value(m, "lgp_operator_queue_depth") == 1
    release.set()
    worker.join(10)
    assert value(m, "lgp_operator_queue_depth") == 0


def test_metrics_are_served_beside_the_health_endpoints():
    m = OperatorMetrics()
    m.reconciled("ns", "a", 0.2, ready=True, degraded=None)
    server = HealthServer(Health(), "127.0.0.1", 0, m.registry).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as resp:
            text = resp.read().decode()
            assert resp.headers["Content-Type"].startswith("text/plain; version=")
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=10) as resp:
            assert resp.status == 200
    finally:
        server.stop()
    assert 'lgp_operator_reconciles_total{result="ready"} 1.0' in text
    assert "lgp_operator_queue_depth" in text
