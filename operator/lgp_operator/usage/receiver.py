"""The HTTP endpoint the LangGraph servers report their own usage to (``LGP_USAGE_RECEIVER_PORT``).

Each server is pointed here by the operator (``LANGSMITH_AUTH_ENDPOINT`` = this endpoint,
``LANGSMITH_CONTROL_PLANE_API_KEY`` = its deployment's usage credential, from a Secret). The body's
``api_key`` (or ``license_key``) says which deployment a report belongs to; an unknown credential
is refused with 401, and the server keeps its counts and sends them again with its next report.

Answers: 204 stored (or already held), 401 unknown credential, 404 another path, 413 too large,
422 not of the server's shape (the message names the field), 409 a conflicting resend, 503 the
buffer could not be written. The credential is never logged or echoed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .metrics import Metrics
from .reports import (
    LICENSE_SUBMIT_PATH,
    MAX_BODY,
    SUBMIT_PATHS,
    ReportConflict,
    ReportError,
    ReportStore,
    parse_report,
)
from .targets import Target, TargetSource

log = logging.getLogger(__name__)


def credential_digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


class Credentials:
    """Credential digest -> deployment, refreshed from the target source (at most every ``min_refresh`` s
    when an unknown credential arrives, so a new deployment's first report is not refused for long)."""

    def __init__(self, source: TargetSource, min_refresh: float = 5.0) -> None:
        self.source = source
        self.min_refresh = min_refresh
        self._by_digest: dict[str, Target] = {}
        self._lock = threading.Lock()
        self._refreshed = 0.0

    def update(self, targets: list[Target]) -> None:
        table = {credential_digest(t.report_key): t for t in targets if t.report_key}
        with self._lock:
            self._by_digest = table
            self._refreshed = time.monotonic()

    def lookup(self, credential: str) -> Target | None:
        digest = credential_digest(credential)
        with self._lock:
            found = self._by_digest.get(digest)
            stale = time.monotonic() - self._refreshed >= self.min_refresh
        if found is None and stale:
            try:
                self.update(self.source.targets())
            except Exception as e:  # an apiserver blip: refuse this report, the server sends it again
                log.warning("usage: cannot refresh the report credentials: %s", e)
                return None
            with self._lock:
                found = self._by_digest.get(digest)
        return found


class Receiver:
    """A threaded HTTP server accepting the servers' usage reports into a :class:`ReportStore`."""

    def __init__(
        self,
        store: ReportStore,
        credentials: Credentials,
        host: str,
        port: int,
        *,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        outer = self
        self.store = store
        self.credentials = credentials
        self.metrics = metrics
        self.clock = clock

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                code, message = outer.handle(self.path, self.headers.get("Content-Length"), self)
                body = json.dumps({"detail": message}).encode() if message else b""
                try:
                    self.send_response(code)
                    if body:
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def do_GET(self) -> None:
                self.send_response(404 if self.path != "/healthz" else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="usage-receiver", daemon=True)

    def _fail(self, reason: str) -> None:
        if self.metrics:
            self.metrics.failures.labels("receive", reason).inc()

    def handle(self, path: str, length: str | None, request: BaseHTTPRequestHandler) -> tuple[int, str]:
        path = path.split("?", 1)[0]
        if path not in (*SUBMIT_PATHS, LICENSE_SUBMIT_PATH):
            return 404, "not found"
        try:
            n = int(length or "0")
        except ValueError:
            return 422, "Content-Length: not a number"
        if n > MAX_BODY:
            self._fail("too_large")
            return 413, f"body: larger than {MAX_BODY} bytes"
        raw = request.rfile.read(n)
        try:
            report = parse_report(json.loads(raw))
        except ValueError as e:  # JSON errors and ReportError
            field = e.field if isinstance(e, ReportError) else "body"
            self._fail("invalid")
            return 422, str(e) if isinstance(e, ReportError) else f"{field}: not JSON"
        target = self.credentials.lookup(report.credential)
        if target is None:
            self._fail("unknown_credential")
            log.warning("usage: a report with an unknown %s was refused", report.credential_field)
            return 401, f"{report.credential_field}: not a deployment's usage credential"
        try:
            accepted = self.store.accept(
                deployment_id=target.deployment_id,
                deployment=target.name,
                namespace=target.namespace,
                tags=dict(target.tags),
                source=str(request.client_address[0]),
                report=report,
                now=self.clock(),
            )
        except ReportConflict as e:
            self._fail("conflict")
            return 409, f"from_timestamp: {e}"
        except Exception as e:  # the buffer (disk) failed: the server keeps its counts and resends
            self._fail("buffer")
            log.error("usage: cannot store a report of %s/%s: %s", target.namespace, target.name, e)
            return 503, "the usage buffer cannot be written"
        if self.metrics:
            self.metrics.reports.labels("duplicate" if accepted.duplicate else "stored").inc()
        return 204, ""

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
