"""Prometheus metrics: requests, latency, and revisions by status (read from the database at scrape)."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine


class RevisionsByStatus(Collector):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("lgp_revisions", "Revisions by status (all tenants).", labels=["status"])
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT status, count(*) FROM revision GROUP BY status")).all()
        except sa.exc.SQLAlchemyError:
            return  # database unavailable: /readyz says so; the scrape still answers
        for status, count in rows:
            family.add_metric([status], count)
        yield family


class Metrics:
    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "lgp_http_requests",
            "HTTP requests handled.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lgp_http_request_duration_seconds",
            "HTTP request latency.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.registry.register(RevisionsByStatus(engine))
