"""The operator's Prometheus metrics (a registry per instance, so tests can make several), served as
``/metrics`` beside /healthz and /readyz on LGP_OPERATOR_HEALTH_PORT (``health.py``).

- ``lgp_operator_reconciles_total{result}``: reconciles by outcome (ready, progressing, degraded, error).
- ``lgp_operator_reconcile_errors_total{reason}``: Degraded reasons and exceptions.
- ``lgp_operator_reconcile_duration_seconds``: a histogram of all reconciles.
- ``lgp_operator_reconcile_last_duration_seconds{namespace,name}``: the last reconcile of each resource
  (the series goes when the resource is deleted).
- ``lgp_operator_children_total{kind,action}``: children created, updated, skipped (unchanged), deleted
  (pruned) or refused (a stranger's object of that name).
- ``lgp_operator_api_requests_total{verb}``: calls to the kube-apiserver by verb (GET, PATCH,
  PATCH?dryRun, WATCH, ...), kopf's own watches of LangGraphPlatforms aside: reads a watch-fed cache
  answered are not calls.
- ``lgp_operator_queue_depth``: resources waiting for a reconcile (triggers coalesced while one runs,
  delayed runs after child changes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

ACTIONS = {"created": "created", "updated": "updated", "unchanged": "skipped", "deleted": "deleted"}


class OperatorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "lgp_operator_reconciles_total",
            "Reconciles by result: ready, progressing, degraded, error.",
            ["result"],
            registry=self.registry,
        )
        self.errors = Counter(
            "lgp_operator_reconcile_errors_total",
            "Reconciles that ended Degraded (by reason) or raised (reason Exception).",
            ["reason"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "lgp_operator_reconcile_duration_seconds",
            "Time of one reconcile, seconds.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.last_duration = Gauge(
            "lgp_operator_reconcile_last_duration_seconds",
            "Time of the last reconcile of each resource, seconds.",
            ["namespace", "name"],
            registry=self.registry,
        )
        self.children = Counter(
            "lgp_operator_children_total",
            "Children by action: created, updated, skipped (unchanged), deleted (pruned), refused "
            "(a stranger's object).",
            ["kind", "action"],
            registry=self.registry,
        )
        self.api_requests = Counter(
            "lgp_operator_api_requests_total",
            "Calls to the kube-apiserver by verb (kopf's watches of LangGraphPlatforms aside).",
            ["verb"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "lgp_operator_queue_depth", "Resources waiting for a reconcile.", registry=self.registry
        )

    def api_request(self, verb: str) -> None:
        self.api_requests.labels(verb).inc()

    def watch_queue(self, depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(lambda: float(depth()))

    def reconciled(
        self, namespace: str, name: str, seconds: float, *, ready: bool, degraded: str | None
    ) -> None:
        self.duration.observe(seconds)
        self.last_duration.labels(namespace, name).set(seconds)
        result = "ready" if ready else "degraded" if degraded else "progressing"
        self.reconciles.labels(result).inc()
        if degraded:
            self.errors.labels(degraded).inc()

    def failed(self, namespace: str, name: str, seconds: float) -> None:
        self.duration.observe(seconds)
        self.last_duration.labels(namespace, name).set(seconds)
        self.reconciles.labels("error").inc()
        self.errors.labels("Exception").inc()

    def child(self, kind: str, action: str) -> None:
        self.children.labels(kind, ACTIONS.get(action, action)).inc()

    def forget(self, namespace: str, name: str) -> None:
        with contextlib.suppress(KeyError):  # never reconciled by this process
            self.last_duration.remove(namespace, name)


METRICS = OperatorMetrics()
"""The running operator's metrics (handlers record into it, ``serve`` exposes it)."""
