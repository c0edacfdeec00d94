"""Wake-ups across server processes: the desired-state long-poll, the listener's log-request long-poll
and the requests waiting for a listener's log answer.

Writers ``NOTIFY <channel>, '<uuid>'`` in the same transaction as their change (delivered at commit).
Each server process keeps one connection LISTENing on every channel in a thread and wakes the waiters
of that id in the channel's hub. Waiters also re-check their condition at least once a second, so a
lost connection costs at most a second, never a missed change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import psycopg

log = logging.getLogger("control_plane.notify")

T = TypeVar("T")
Ticket = tuple[asyncio.AbstractEventLoop, asyncio.Event]


class Hub:
    """Per id, the asyncio events of the waiters in this process. Each event is set on its own event
    loop, from the LISTEN thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[uuid.UUID, set[Ticket]] = defaultdict(set)

    def subscribe(self, key: uuid.UUID) -> Ticket:
        ticket = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters[key].add(ticket)
        return ticket

    def unsubscribe(self, key: uuid.UUID, ticket: Ticket) -> None:
        with self._lock:
            waiters = self._waiters.get(key)
            if waiters is not None:
                waiters.discard(ticket)
                if not waiters:
                    del self._waiters[key]

    def waiting(self, key: uuid.UUID) -> int:
        with self._lock:
            return len(self._waiters.get(key, ()))

    def notify_threadsafe(self, key: uuid.UUID) -> None:
        with self._lock:
            tickets = list(self._waiters.get(key, ()))
        for loop, event in tickets:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    async def wait_for(
        self,
        key: uuid.UUID,
        check: Callable[[], Awaitable[T | None]],
        timeout: float,
        recheck_seconds: float = 1.0,
    ) -> T | None:
        """``check()``'s first answer that is not None, re-checked on every notification for ``key`` and at
        least every ``recheck_seconds``; None once ``timeout`` passed. Subscribed before each check, so
        a notification between the check and the wait is never lost."""
        deadline = time.monotonic() + timeout
        while True:
            ticket = self.subscribe(key)
            try:
                found = await check()
                remaining = deadline - time.monotonic()
                if found is not None or remaining <= 0:
                    return found
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ticket[1].wait(), timeout=min(remaining, recheck_seconds))
            finally:
                self.unsubscribe(key, ticket)


class NotifyListener(threading.Thread):
    """LISTENs on each channel and feeds its hub; reconnects after a database outage."""

    def __init__(self, dsn: str, hubs: Mapping[str, Hub], connect_timeout: int) -> None:
        super().__init__(name="lgp-notify", daemon=True)
        self._dsn, self._hubs, self._timeout = dsn, dict(hubs), connect_timeout
        self._stopping = threading.Event()
        self.connected = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=self._timeout) as conn:
                    for channel in self._hubs:
                        conn.execute(f"LISTEN {channel}")
                    self.connected.set()
                    failures = 0
                    while not self._stopping.is_set():
                        for n in conn.notifies(timeout=0.5):
                            hub = self._hubs.get(n.channel)
                            try:
                                key = uuid.UUID(n.payload)
                            except ValueError:
                                continue
                            if hub is not None:
                                hub.notify_threadsafe(key)
            except psycopg.Error as e:
                self.connected.clear()
                failures += 1
                if failures == 1:
                    log.warning("notifications interrupted (%s); retrying", type(e).__name__)
                self._stopping.wait(min(5.0, 0.5 * failures))
