"""Prometheus metrics of one listener (a registry per instance, so tests can run several)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ListenerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.last_good_sync = 0.0  # time.time() of the last desired state fully applied
        self.errors = Counter(
            "lgp_listener_errors_total",
            "Errors by kind (poll, apply, observe, report).",
            ["kind"],
            registry=self.registry,
        )
        self.applies = Counter(
            "lgp_listener_applies_total",
            "Server-side applies made, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.deletes = Counter(
            "lgp_listener_deletes_total",
            "LangGraphPlatform objects deleted for explicit tombstones.",
            registry=self.registry,
        )
        self.reports = Counter(
            "lgp_listener_status_reports_total",
            "Revision status reports sent.",
            ["status"],
            registry=self.registry,
        )
        self.log_requests = Counter(
            "lgp_listener_log_requests_total",
            "Log requests by outcome (answered, error, busy).",
            ["outcome"],
            registry=self.registry,
        )
        self.log_seconds = Histogram(
            "lgp_listener_log_read_seconds",
            "Time to read the logs of one request from the apiserver.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        Gauge(
            "lgp_listener_last_sync_timestamp_seconds",
            "Unix time of the last good sync.",
            registry=self.registry,
        ).set_function(lambda: self.last_good_sync)
        Gauge(
            "lgp_listener_sync_lag_seconds",
            "Seconds since the last good sync (0 before the first).",
            registry=self.registry,
        ).set_function(lambda: time.time() - self.last_good_sync if self.last_good_sync else 0.0)
