"""Prometheus metrics of the reporter and the small HTTP server for /metrics and /healthz."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    """One registry per reporter (so tests can run several)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.lag = Gauge(
            "lgp_usage_lag_seconds",
            "Seconds between now and the end of the newest window the receiver has accepted "
            "(or, before the first, the start of the oldest window waiting).",
            ["deployment", "namespace"],
            registry=r,
        )
        self.failures = Counter(
            "lgp_usage_failures_total",
            "Failures by stage (discover, database, receive, submit) and reason.",
            ["stage", "reason"],
            registry=r,
        )
        self.sent = Counter("lgp_usage_windows_sent_total", "Windows accepted by the receiver.", registry=r)
        self.computed = Counter(
            "lgp_usage_windows_computed_total", "Windows counted and buffered.", registry=r
        )
        self.buffered = Gauge(
            "lgp_usage_buffered_windows", "Windows computed but not yet accepted.", registry=r
        )
        self.reports = Counter(
            "lgp_usage_reports_total",
            "Usage reports of the LangGraph servers received, by outcome (stored, duplicate).",
            ["outcome"],
            registry=r,
        )
        self.last_tick = Gauge(
            "lgp_usage_last_tick_timestamp_seconds", "Unix time of the last completed loop.", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsServer:
    """``GET /metrics`` (Prometheus text) and ``GET /healthz`` (200 while the loop is alive)."""

    def __init__(
        self,
        metrics: Metrics,
        healthy: Callable[[], bool],
        host: str = "0.0.0.0",  # noqa: S104 (a pod's metrics port)
        port: int = 9108,
    ) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    body, ctype, code = outer.metrics.render(), CONTENT_TYPE_LATEST, 200
                elif self.path == "/healthz":
                    ok = outer.healthy()
                    body, ctype, code = (b"ok\n" if ok else b"stalled\n"), "text/plain", 200 if ok else 503
                else:
                    body, ctype, code = b"not found\n", "text/plain", 404
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.metrics = metrics
        self.healthy = healthy
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="usage-metrics", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
