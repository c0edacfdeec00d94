"""The reporter loop: discover deployments, seal their closed windows once, send what is unsent.

A window's counts come from the servers' own usage reports, accepted by :mod:`.receiver` into the
deployment's open window (:mod:`.reports`); a window is sealed once it ended ``settle`` ago. Counting
rows in each deployment's database (``count_from_database``) is off by default: it is not exact
(runs without a thread are deleted with their temporary thread, and step checkpoints are not node
executions).

Exactly-once counting comes from three pieces together:

- only *closed* windows are sealed or counted (ended at least ``settle`` ago); reports never land
  in a sealed window, and database rows of a closed window cannot change;
- the buffer stores each window once, atomically with the deployment's high-water mark, and marks
  it sent only after the receiver accepted it (:mod:`.buffer`);
- every send carries an idempotency key per (deployment id, window start), so a resend after a
  crash or a lost answer replaces the stored window instead of adding to it.

The clock is injected (``clock``), so tests drive time with :meth:`Reporter.tick` without sleeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .buffer import Buffer, BufferConflict
from .counting import DatabaseUnavailable, SchemaNotReady, connect, count_windows, earliest_activity
from .metrics import Metrics
from .receiver import Credentials
from .reports import ReportStore
from .sinks import Sink, SubmitError
from .targets import Target, TargetSource
from .windows import Window, epoch, floor_window, from_epoch, last_closed_end

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReporterConfig:
    window_seconds: int = 3600
    settle: timedelta = timedelta(minutes=5)
    compute_batch_windows: int = 24 * 7  # windows counted per query when catching up
    send_batch: int = 500  # windows attempted per tick
    max_consecutive_failures: int = 3  # then back off until the next attempt
    backoff_initial: timedelta = timedelta(seconds=5)
    backoff_max: timedelta = timedelta(minutes=5)
    db_timeout: float = 10.0
    keep_sent: timedelta | None = timedelta(days=90)  # sent windows kept this long (None: forever)
    count_from_database: bool = False  # count rows in each deployment's Postgres (not exact)


@dataclass
class TickResult:
    computed: int = 0
    sent: int = 0
    failed: int = 0
    pending: int = 0


class Reporter:
    def __init__(
        self,
        source: TargetSource,
        buffer: Buffer,
        sink: Sink,
        *,
        config: ReporterConfig | None = None,
        metrics: Metrics | None = None,
        clock: Clock = system_clock,
        reports: ReportStore | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.source = source
        self.reports = reports
        self.credentials = credentials
        self.buffer = buffer
        self.sink = sink
        self.config = config or ReporterConfig()
        self.metrics = metrics or Metrics()
        self.clock = clock
        self._next_send_at: datetime | None = None
        self._failed_rounds = 0
        self.last_tick: datetime | None = None

    # ----------------------------------------------------------------- counting
    def compute(self, target: Target, now: datetime) -> int:
        """Count and buffer every closed, not yet counted window of one deployment."""
        w = self.config.window_seconds
        closed_end = last_closed_end(now, w, self.config.settle)
        mark = self.buffer.next_window_start(target.deployment_id)
        if mark is not None and mark >= closed_end:
            return 0
        stored = 0
        with connect(target.database_uri, timeout=self.config.db_timeout) as conn:
            if mark is None:
                earliest = earliest_activity(conn)
                start = min(floor_window(earliest, w), closed_end) if earliest else closed_end
                mark = self.buffer.start_mark(target.deployment_id, start)
                log.info("usage: %s/%s counted from %s", target.namespace, target.name, mark.isoformat())
            while mark < closed_end:
                end = min(closed_end, from_epoch(epoch(mark) + w * self.config.compute_batch_windows))
                counts = count_windows(conn, mark, end, w)
                windows = [
                    Window(
                        deployment_id=target.deployment_id,
                        deployment=target.name,
                        namespace=target.namespace,
                        window_start=start,
                        window_end=from_epoch(epoch(start) + w),
                        runs=runs,
                        nodes=nodes,
                        tags=dict(target.tags),
                    )
                    for start, (runs, nodes) in sorted(counts.items())
                ]
                stored += self.buffer.record(target.deployment_id, mark, windows, end)
                self.metrics.computed.inc(len(windows))
                mark = end
        return stored

    # ----------------------------------------------------------------- sending
    def send(self, now: datetime) -> tuple[int, int]:
        if self._next_send_at is not None and now < self._next_send_at:
            return 0, 0
        sent = failed = streak = 0
        for window in self.buffer.pending(self.config.send_batch):
            try:
                self.sink.submit(window)
            except SubmitError as e:
                failed += 1
                streak += 1
                self.metrics.failures.labels("submit", e.reason).inc()
                self.buffer.mark_failed(window, str(e))
                log.warning(
                    "usage: %s/%s window %s not sent: %s",
                    window.namespace,
                    window.deployment,
                    window.window_start.isoformat(),
                    e,
                )
                if streak >= self.config.max_consecutive_failures:
                    break
                continue
            streak = 0
            self.buffer.mark_sent(window, now)
            self.metrics.sent.inc()
            sent += 1
        if failed and not sent:
            self._failed_rounds += 1
            delay = min(
                self.config.backoff_max,
                self.config.backoff_initial * (2 ** min(self._failed_rounds - 1, 20)),
            )
            self._next_send_at = now + delay
        else:
            self._failed_rounds = 0
            self._next_send_at = None
        return sent, failed

    # ----------------------------------------------------------------- loop
    def tick(self) -> TickResult:
        now = self.clock()
        result = TickResult()
        try:
            targets = self.source.targets()
        except Exception as e:  # an apiserver blip must not stop the sending of buffered windows
            self.metrics.failures.labels("discover", type(e).__name__).inc()
            log.warning("usage: discovery failed: %s", e)
            targets = None
        if targets is not None and self.credentials is not None:
            self.credentials.update(targets)
        if self.reports is not None and not self.config.count_from_database:
            try:
                closed = last_closed_end(now, self.config.window_seconds, self.config.settle)
                sealed = self.reports.seal(closed)
                result.computed += sealed
                self.metrics.computed.inc(sealed)
                if self.config.keep_sent is not None:
                    self.reports.prune(now - self.config.keep_sent)
            except Exception as e:
                self.metrics.failures.labels("buffer", type(e).__name__).inc()
                log.error("usage: cannot seal the closed windows: %s", e)
        for target in (targets or []) if self.config.count_from_database else []:
            try:
                result.computed += self.compute(target, now)
            except SchemaNotReady as e:
                self.metrics.failures.labels("database", "schema_missing").inc()
                log.info("usage: %s/%s not counted yet: %s", target.namespace, target.name, e)
            except DatabaseUnavailable as e:
                self.metrics.failures.labels("database", "unavailable").inc()
                log.warning("usage: %s/%s not counted: %s", target.namespace, target.name, e)
            except BufferConflict as e:
                self.metrics.failures.labels("buffer", "conflict").inc()
                log.error("usage: %s", e)
        result.sent, result.failed = self.send(now)
        if self.config.keep_sent is not None:
            self.buffer.prune_sent(now - self.config.keep_sent)
        result.pending = self.update_gauges(now)
        self.last_tick = now
        self.metrics.last_tick.set(now.timestamp())
        return result

    def update_gauges(self, now: datetime) -> int:
        pending = self.buffer.pending_count()
        self.metrics.buffered.set(pending)
        for name, ns, last_sent, oldest_unsent in self.buffer.lag_points().values():
            ref = last_sent if last_sent is not None else oldest_unsent
            if ref is not None:
                self.metrics.lag.labels(name, ns).set(max(0.0, now.timestamp() - ref))
        return pending

    def healthy(self, interval: float) -> bool:
        if self.last_tick is None:
            return True  # starting
        return (self.clock() - self.last_tick).total_seconds() <= max(3 * interval, 60.0)

    def run(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("usage: the loop failed; retrying")
                self.metrics.failures.labels("loop", "exception").inc()
            stop.wait(interval)
