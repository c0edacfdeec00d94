"""Logs: the control plane asks (a log request, taken over its own long-poll), the listener reads the
deployment's api-server and queue-worker containers' logs (``pods/log``) and answers with the matching
lines, its secret values redacted.

Bounds, so that a slow or large log never delays the desired-state sync or grows without limit:
- its own thread, HTTP connection and worker threads (``log_concurrency``); up to ``QUEUE_FACTOR`` times
  that many requests wait for a worker, more are answered "busy" at once;
- per container at most ``log_tail_lines`` lines and ``log_limit_bytes`` bytes, read with the apiserver's
  ``tailLines``/``limitBytes``/``sinceTime``; per answer at most the request's limit and
  ``MAX_ANSWER_BYTES``;
- every call to the apiserver within the request's ``answer_within_seconds``: what is read by then is
  sent, marked truncated.

Reading is split in pure functions (what to read, how to parse and choose lines) and ``LogReader``,
which does the calls through a ``LogSource``: the apiserver's ``pods/log`` in a cluster. Tests on the
simulated kubelet (no containers) plug in a fake source, named as such.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from lgp_contract.logs import (
    MAX_ANSWER_BYTES,
    Redactor,
    at_least,
    clip,
    detect_level,
    matches,
    parse_timestamped,
    strip_ansi,
)
from lgp_contract.names import ANNOTATION_REVISION, postgres_name, server_pods_selector
from lgp_contract.protocol import LogAnswer, LogLine, LogQuery, LogRequest
from lgp_operator.k8s.kube import Kube, KubeError, resource_path

from .client import ControlPlaneClient, Refused, Unavailable
from .metrics import ListenerMetrics
from .tracking import Context

log = logging.getLogger("lgp.listener")
MIN_CALL_SECONDS = 0.5  # a call with less time left than this is not started
QUEUE_FACTOR = 4  # requests held per worker (running or waiting for one) before answering "busy"


# ------------------------------------------------------------------------------------------ pure
@dataclass(frozen=True)
class ContainerLog:
    """One container log to read: a pod's container, its current run or the one before (``previous``)."""

    pod: str
    container: str
    previous: bool
    revision_id: str | None


def containers_to_read(pods: Iterable[dict[str, Any]], revision_id: str | None) -> list[ContainerLog]:
    """Every container of these pods (of one revision's pods, when given), and the previous run of each
    one that restarted: its last words before a crash are often the answer to "why"."""
    out = []
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        meta = pod.get("metadata") or {}
        rev = (meta.get("annotations") or {}).get(ANNOTATION_REVISION)
        if revision_id is not None and rev != revision_id:
            continue
        restarts = {
            cs.get("name"): int(cs.get("restartCount") or 0)
            for cs in (pod.get("status") or {}).get("containerStatuses") or []
        }
        for c in (pod.get("spec") or {}).get("containers") or []:
            out.append(ContainerLog(meta["name"], c["name"], False, rev))
            if restarts.get(c["name"], 0) > 0:
                out.append(ContainerLog(meta["name"], c["name"], True, rev))
    return out


def _rfc3339_seconds(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_params(
    query: LogQuery, container: ContainerLog, *, tail_lines: int, limit_bytes: int
) -> dict[str, Any]:
    """The ``pods/log`` query for one container: timestamps on; from ``since`` (to the second: the
    lines are filtered exactly afterwards); the newest ``limit`` lines (``tail_lines`` when a filter
    may drop some), or, for ``asc``, everything from ``since`` on up to ``limit_bytes``."""
    params: dict[str, Any] = {
        "container": container.container,
        "timestamps": "true",
        "limitBytes": limit_bytes,
    }
    if container.previous:
        params["previous"] = "true"
    if query.since is not None:
        params["sinceTime"] = _rfc3339_seconds(query.since)
    if query.order == "desc":
        filtered = query.level is not None or bool(query.text) or query.until is not None
        params["tailLines"] = tail_lines if filtered else min(query.limit, tail_lines)
    return params


def parse_lines(
    text: str, container: ContainerLog, query: LogQuery, redact: Redactor, now: datetime
) -> list[LogLine]:
    """A container's log (``timestamps=true``) as lines, redacted and filtered by the query."""
    out = []
    for raw in text.splitlines():
        when, message = parse_timestamped(raw)
        message = redact(strip_ansi(message.rstrip("\r")))
        when = when or now
        if query.since is not None and when < query.since:
            continue
        if query.until is not None and when >= query.until:
            continue
        level = detect_level(message)
        if not at_least(level, query.level) or not matches(message, query.text):
            continue
        out.append(
            LogLine(
                timestamp=when,
                pod=container.pod[:256],
                container=container.container[:256],
                previous=container.previous,
                revision_id=container.revision_id,
                level=level,
                message=clip(message),
            )
        )
    return out


def choose(
    lines: list[LogLine], query: LogQuery, max_bytes: int = MAX_ANSWER_BYTES
) -> tuple[list[LogLine], bool]:
    """The query's ``limit`` lines (the newest for desc, the oldest for asc) within ``max_bytes`` of
    messages, and whether any matching line was left out."""
    ordered = sorted(lines, key=lambda x: (x.timestamp, x.pod, x.container), reverse=query.order == "desc")
    kept, size = [], 0
    for x in ordered[: query.limit]:
        size += len(x.message.encode())
        if size > max_bytes:
            break
        kept.append(x)
    return kept, len(kept) < len(ordered)


# ------------------------------------------------------------------------------------------ reading
class LogSource(Protocol):
    """Where container logs and pods come from: the apiserver in a cluster."""

    def pods(self, namespace: str, selector: str, timeout: float) -> list[dict[str, Any]]: ...

    def read(self, namespace: str, pod: str, params: dict[str, Any], timeout: float) -> str: ...

    def secret_values(self, namespace: str, name: str, timeout: float) -> list[str]: ...


class ApiServerLogs:
    """The apiserver: pods (list), their logs (``pods/log``), a Secret's values (get)."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def pods(self, namespace: str, selector: str, timeout: float) -> list[dict[str, Any]]:
        return self.kube.list("v1", "Pod", namespace, selector, timeout=timeout)

    def read(self, namespace: str, pod: str, params: dict[str, Any], timeout: float) -> str:
        path = resource_path("v1", "Pod", namespace, pod, "log")
        text: str = self.kube.request("GET", path, query=params, timeout=timeout, as_text=True)
        return text

    def secret_values(self, namespace: str, name: str, timeout: float) -> list[str]:
        try:
            secret = self.kube.request("GET", resource_path("v1", "Secret", namespace, name), timeout=timeout)
        except KubeError as e:
            if e.status in (403, 404):
                return []
            raise
        data = (secret or {}).get("data") or {}
        return [base64.b64decode(v).decode(errors="replace") for v in data.values()]


class LogReader:
    """Answers one log request from what the listener tracks and the source."""

    def __init__(
        self,
        ctx: Context,
        source: LogSource,
        *,
        tail_lines: int = 5000,
        limit_bytes: int = 2 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx, self.source, self.clock = ctx, source, clock
        self.tail_lines, self.limit_bytes = tail_lines, limit_bytes

    def answer(self, request: LogRequest) -> LogAnswer:
        deadline = self.clock() + request.answer_within_seconds
        with self.ctx.state.lock:
            tr = self.ctx.state.tracked.get(str(request.deployment_id))
        if tr is None:
            return LogAnswer(error=f"this listener does not run deployment {request.deployment_id} (yet)")
        if not self.ctx.allowed(tr.namespace):
            return LogAnswer(error=f"namespace {tr.namespace!r} is not managed by this listener")
        query, now = request.query, datetime.now(UTC)

        def left() -> float:
            return deadline - self.clock()

        if left() < MIN_CALL_SECONDS:  # it waited for a worker too long: the person has had an answer
            return LogAnswer(error="the listener was busy until the request's time ran out")

        try:
            managed_db = self.source.secret_values(tr.namespace, postgres_name(tr.name), max(left(), 0.1))
            pods = self.source.pods(tr.namespace, server_pods_selector(tr.name), max(left(), 0.1))
        except KubeError as e:
            return LogAnswer(error=_why(e, tr.namespace))
        redact = Redactor((*tr.secret_values, *managed_db))
        todo = containers_to_read(pods, str(query.revision_id) if query.revision_id else None)
        lines: list[LogLine] = []
        truncated = False
        for container in todo:
            if left() < MIN_CALL_SECONDS:
                truncated = True
                break
            params = read_params(query, container, tail_lines=self.tail_lines, limit_bytes=self.limit_bytes)
            try:
                text = self.source.read(tr.namespace, container.pod, params, min(left(), 10.0))
            except KubeError as e:
                if e.status == 403:
                    return LogAnswer(error=_why(e, tr.namespace))
                if not container.previous:  # e.g. "container ... is waiting to start: ContainerCreating"
                    lines += parse_lines(_unreadable(now, e), container, query, redact, now)
                continue
            if len(text.encode()) >= self.limit_bytes:
                truncated = True
            lines += parse_lines(text, container, query, redact, now)
        chosen, cut = choose(lines, query)
        return LogAnswer(lines=chosen, truncated=truncated or cut)


def _unreadable(now: datetime, e: KubeError) -> str:
    """The apiserver's reason a container's log cannot be read, as a line of that container."""
    return f"{now.isoformat()} [lgp] WARNING no log to read: {' '.join(str(e.message).split())[:1000]}"


def _why(e: KubeError, namespace: str) -> str:
    if e.status == 403:
        return (
            f"the listener may not read pods or pods/log in namespace {namespace!r} (its RBAC): "
            f"{' '.join(str(e.message).split())[:500]}"
        )
    return f"the apiserver answered {e.status} {e.reason}: {' '.join(str(e.message).split())[:500]}"


# ------------------------------------------------------------------------------------------ the loop
class LogWorker:
    """Takes log requests over its own long-poll and answers them on ``concurrency`` threads."""

    def __init__(
        self,
        cp: ControlPlaneClient,
        reader: LogReader,
        metrics: ListenerMetrics,
        *,
        concurrency: int = 4,
        poll_wait: float = 30.0,
    ) -> None:
        self.cp, self.reader, self.metrics = cp, reader, metrics
        self.poll_wait = poll_wait
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="logs")
        self.slots = threading.BoundedSemaphore(concurrency * QUEUE_FACTOR)

    def poll_once(self) -> int:
        """One long-poll; each request taken is answered (in the pool, or 'busy' now). The number taken."""
        taken = self.cp.log_requests(self.poll_wait)
        for request in taken.requests:
            if self.slots.acquire(blocking=False):
                self.pool.submit(self._answer, request)
            else:
                self.metrics.log_requests.labels(outcome="busy").inc()
                self._post(request, LogAnswer(error="the listener is busy reading other logs: try again"))
        return len(taken.requests)

    def _answer(self, request: LogRequest) -> None:
        started = time.monotonic()
        try:
            answer = self.reader.answer(request)
        except Exception as e:  # a bug must not kill a worker; the person gets the reason
            log.exception("reading logs for deployment %s failed", request.deployment_id)
            answer = LogAnswer(error=f"the listener failed to read the logs ({type(e).__name__})")
        finally:
            self.slots.release()
        self.metrics.log_seconds.observe(time.monotonic() - started)
        self.metrics.log_requests.labels(outcome="error" if answer.error else "answered").inc()
        self._post(request, answer)

    def _post(self, request: LogRequest, answer: LogAnswer) -> None:
        try:
            self.cp.answer_log_request(str(request.id), answer)
        except Refused as e:  # 404: too late, the person already had an answer without these lines
            log.info("log answer for request %s dropped: %s", request.id, e.detail)
        except Unavailable as e:
            log.warning("could not deliver a log answer: %s", e)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
