"""The listener process: a long-poll sync loop that applies (``apply.py``), a status observer
(``observe.py``), a heartbeat, a log-request loop (``logs.py``, on its own connection and threads, so a
slow or large log never delays the sync), and /healthz + /metrics.

Control plane unreachable: nothing in the cluster changes (no desired state means no action, never
deletion); retries back off exponentially with jitter up to ``backoff_max_seconds``; sync resumes
from the last version it applied. A restart applies the full state again, which writes nothing when
the cluster already matches. Between full answers (at start and every ``resync_seconds``) the sync asks
for deltas: only the deployments that changed since the version it applied, merged into its copy of the
full state (``desired.merge``). Only tombstones delete; a delta never removes anything by omission.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version as dist_version
from typing import Any

from kubernetes import client, config
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from lgp_contract.protocol import Heartbeat
from lgp_operator.k8s.kube import Kube, KubeError

from .apply import Applier
from .client import ControlPlaneClient, Refused, Unavailable
from .desired import FIELD_MANAGER, DeltaMismatch, Desired, UnreadableState, merge, parse
from .logs import ApiServerLogs, LogReader, LogSource, LogWorker
from .metrics import ListenerMetrics
from .observe import Observer
from .settings import ListenerSettings
from .tracking import Context, Deployments, StatusReporter

log = logging.getLogger("lgp.listener")


class Backoff:
    def __init__(self, maximum: float, base: float = 0.5) -> None:
        self.maximum, self.base, self.failures = maximum, base, 0

    def next(self) -> float:
        self.failures += 1
        return float(min(self.maximum, self.base * 2 ** (self.failures - 1)) * random.uniform(0.5, 1.0))  # noqa: S311

    def reset(self) -> None:
        self.failures = 0


class ListenerRunner:
    def __init__(
        self,
        settings: ListenerSettings,
        *,
        api_client: client.ApiClient | None = None,
        log_source: LogSource | None = None,
    ) -> None:
        self.settings = settings
        logs_api = api_client
        if api_client is None:
            api_client, logs_api = _api_client(settings), _api_client(settings)  # logs: their own pool
        self.api = api_client
        self.metrics = ListenerMetrics()
        self.cp = ControlPlaneClient(
            settings.control_plane_url, settings.token.get_secret_value(), verify=settings.ca_bundle or True
        )
        self.kube = Kube(api_client, manager=FIELD_MANAGER)
        self.state = Deployments()
        ctx = Context(
            cp=self.cp,
            kube=self.kube,
            state=self.state,
            reporter=StatusReporter(self.cp, self.metrics),
            metrics=self.metrics,
            namespaces=frozenset(settings.namespaces),
        )
        self.applier = Applier(ctx, apply_concurrency=settings.apply_concurrency)
        self.logs = LogWorker(
            ControlPlaneClient(  # its own connection: a log long-poll never queues behind the sync's
                settings.control_plane_url,
                settings.token.get_secret_value(),
                verify=settings.ca_bundle or True,
            ),
            LogReader(
                ctx,
                log_source or ApiServerLogs(Kube(logs_api, manager=FIELD_MANAGER)),
                tail_lines=settings.log_tail_lines,
                limit_bytes=settings.log_limit_bytes,
            ),
            self.metrics,
            concurrency=settings.log_concurrency,
            poll_wait=settings.poll_wait_seconds,
        )
        self.observer = Observer(ctx, failure_grace_seconds=settings.failure_grace_seconds)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_state: Desired | None = None
        self._dirty = False
        self.http: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> ListenerRunner:
        self.http = ThreadingHTTPServer((self.settings.http_host, self.settings.http_port), self._handler())
        loops: list[tuple[str, Callable[[], None]]] = [
            ("sync", self._sync_loop),
            ("observe", self._observe_loop),
            ("heartbeat", self._heartbeat_loop),
            ("logs", self._logs_loop),
            ("http", self.http.serve_forever),
        ]
        for name, target in loops:
            t = threading.Thread(target=target, name=f"listener-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        log.info(
            "listener started: control plane %s, namespaces %s, /healthz and /metrics on port %d",
            self.settings.control_plane_url,
            ",".join(self.settings.namespaces) or "(any)",
            self.http_port,
        )
        return self

    @property
    def http_port(self) -> int:
        return int(self.http.server_address[1]) if self.http else 0

    def stop(self) -> None:
        self._stop.set()
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
        # The loops are daemon threads waiting on the stop event; a long-poll in flight is abandoned
        # (it only reads), so stopping takes at most a couple of seconds.
        for t in self._threads:
            t.join(timeout=2)
        self.logs.close()

    def healthy(self) -> bool:
        return all(t.is_alive() for t in self._threads) and not self._stop.is_set()

    # ------------------------------------------------------------------ loops
    def _sync_loop(self) -> None:
        backoff = Backoff(self.settings.backoff_max_seconds)
        last_full = 0.0
        while not self._stop.is_set():
            try:
                full = (
                    time.monotonic() - last_full >= self.settings.resync_seconds or self._last_state is None
                )
                retry = bool(self._dirty or self.state.pending_deletions or self.state.needs_apply)
                wait = 2.0 if retry else self.settings.poll_wait_seconds
                # between full answers, ask for deltas: what changed since the version last applied
                raw = self.cp.desired_state(None if full else self.state.version, wait, delta=not full)
                received = parse(raw) if raw is not None else None
                state: Desired | None = None
                if received is not None:
                    try:
                        state = merge(self._last_state, received)
                    except DeltaMismatch as e:
                        log.warning("%s: asking for the full desired state", e)
                        last_full = 0.0
                        continue
                elif retry and self._last_state:
                    state = self._last_state
                if state is not None:
                    self._last_state = state
                    self._dirty = True
                    self.state.needs_apply = False
                    # a delta applies only the deployments it names; a full answer, or any round while
                    # something is left to redo (a failed apply, a deletion not done, a missing object),
                    # applies all of them (unchanged ones are skipped by their digest, without a call)
                    todo = state
                    if received is not None and not received.complete:
                        for gone in received.forgotten:
                            self.state.forget(gone)  # its deletion was acknowledged: bookkeeping only
                        if not retry:
                            todo = received
                    self.applier.apply_state(todo, verify=full)
                    self._dirty = False
                    if full:
                        last_full = time.monotonic()
                self.metrics.last_good_sync = time.time()
                backoff.reset()
            except (Unavailable, Refused, UnreadableState, KubeError) as e:
                kind = "apply" if isinstance(e, KubeError) else "poll"
                self.metrics.errors.labels(kind=kind).inc()
                delay = backoff.next()
                log.warning("sync failed (%s), retrying in %.1fs: %s", kind, delay, e)
                self._stop.wait(delay)
            except Exception:  # a bug must not kill the loop silently; /healthz stays truthful via metrics
                self.metrics.errors.labels(kind="internal").inc()
                log.exception("unexpected error in the sync loop")
                self._stop.wait(backoff.next())

    def _observe_loop(self) -> None:
        while not self._stop.wait(self.settings.observe_interval_seconds):
            try:
                self.observer.observe()
            except (Unavailable, KubeError) as e:
                self.metrics.errors.labels(kind="observe").inc()
                log.warning("status observation failed: %s", e)
            except Exception:
                self.metrics.errors.labels(kind="internal").inc()
                log.exception("unexpected error while observing status")

    def _logs_loop(self) -> None:
        backoff = Backoff(self.settings.backoff_max_seconds)
        while not self._stop.is_set():
            try:
                self.logs.poll_once()
                backoff.reset()
            except (Unavailable, Refused) as e:
                self.metrics.errors.labels(kind="logs").inc()
                delay = backoff.next()
                log.warning("log requests poll failed, retrying in %.1fs: %s", delay, e)
                self._stop.wait(delay)
            except Exception:
                self.metrics.errors.labels(kind="internal").inc()
                log.exception("unexpected error in the log-request loop")
                self._stop.wait(backoff.next())

    def _heartbeat_loop(self) -> None:
        info = {"listener_version": dist_version("lgp")}
        with contextlib.suppress(Exception):  # the server version is a nicety
            info["kubernetes"] = str(self.kube.request("GET", "/version")["gitVersion"])
        while True:
            try:
                self.cp.heartbeat(Heartbeat(version=self.state.version, info=info))
            except (Unavailable, Refused) as e:
                self.metrics.errors.labels(kind="heartbeat").inc()
                log.warning("heartbeat failed: %s", e)
            if self._stop.wait(self.settings.heartbeat_seconds):
                return

    # ------------------------------------------------------------------ http
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        runner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/metrics":
                    body, ctype, code = generate_latest(runner.metrics.registry), CONTENT_TYPE_LATEST, 200
                elif self.path in ("/healthz", "/ok"):
                    ok = runner.healthy()
                    body = json.dumps(
                        {
                            "status": "ok" if ok else "unhealthy",
                            "last_good_sync": runner.metrics.last_good_sync or None,
                            "version": runner.state.version,
                        }
                    ).encode()
                    ctype, code = "application/json", 200 if ok else 503
                else:
                    body, ctype, code = b'{"detail":"not found"}', "application/json", 404
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def _api_client(settings: ListenerSettings) -> client.ApiClient:
    if settings.kubeconfig:
        return config.new_client_from_config(settings.kubeconfig)
    config.load_incluster_config()
    return client.ApiClient()
