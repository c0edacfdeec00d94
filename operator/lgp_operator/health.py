"""The operator's /healthz and /readyz (for the kubelet's probes), on LGP_OPERATOR_HEALTH_PORT.

- ``/readyz``: 200 once this replica holds the leader Lease and kopf has started; 503 while it waits.
- ``/healthz``: 200 while waiting for the Lease; once kopf runs, 200 only while kopf's event loop keeps
  beating (a task in that loop calls ``beat`` every few seconds), so a stuck loop gets the pod
  restarted; 503 after ``stale_after`` seconds without a beat.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BEAT_SECONDS = 5.0


class Health:
    """What the two endpoints answer; ``clock`` is injectable for tests."""

    def __init__(self, stale_after: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.stale_after = stale_after
        self.clock = clock
        self.last_beat: float | None = None  # None: kopf has not started (waiting for the Lease)

    def beat(self) -> None:
        self.last_beat = self.clock()

    def ready(self) -> tuple[bool, str]:
        if self.last_beat is None:
            return False, "waiting for the leader Lease"
        return True, "leading: kopf is running"

    def alive(self) -> tuple[bool, str]:
        if self.last_beat is None:
            return True, "waiting for the leader Lease"
        silent = self.clock() - self.last_beat
        if silent > self.stale_after:
            return False, f"kopf's event loop has not run for {silent:.0f} s"
        return True, "kopf's event loop is running"


HEALTH = Health()


class HealthServer:
    """``GET /healthz`` and ``GET /readyz`` over ``health``, in a thread of its own."""

    def __init__(self, health: Health, host: str, port: int) -> None:
        checks = {"/healthz": health.alive, "/readyz": health.ready}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                check = checks.get(self.path)
                if check is None:
                    code, text = 404, "not found"
                else:
                    ok, text = check()
                    code = 200 if ok else 503
                body = f"{text}\n".encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
