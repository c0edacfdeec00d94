"""Wake-ups for the desired-state long-poll across server processes.

Writers bump ``listener.state_version`` and ``NOTIFY lgp_desired_state, '<listener id>'`` in the same
transaction. Each server process keeps one connection LISTENing in a thread and wakes the long-polls
of that listener. Waiters also re-read the version at least once a second, so a lost connection costs
at most a second, never a missed change.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import defaultdict

import psycopg

from control_plane.core.db import NOTIFY_CHANNEL

log = logging.getLogger("control_plane.notify")


Ticket = tuple[asyncio.AbstractEventLoop, asyncio.Event]


class Hub:
    """Per listener id, the asyncio events of the long-polls waiting in this process. Each event is set
    on its own event loop, from the LISTEN thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[uuid.UUID, set[Ticket]] = defaultdict(set)

    def subscribe(self, listener_id: uuid.UUID) -> Ticket:
        ticket = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters[listener_id].add(ticket)
        return ticket

    def unsubscribe(self, listener_id: uuid.UUID, ticket: Ticket) -> None:
        with self._lock:
            waiters = self._waiters.get(listener_id)
            if waiters is not None:
                waiters.discard(ticket)
                if not waiters:
                    del self._waiters[listener_id]

    def waiting(self, listener_id: uuid.UUID) -> int:
        with self._lock:
            return len(self._waiters.get(listener_id, ()))

    def notify_threadsafe(self, listener_id: uuid.UUID) -> None:
        with self._lock:
            tickets = list(self._waiters.get(listener_id, ()))
        for loop, event in tickets:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)


class NotifyListener(threading.Thread):
    """LISTENs on the channel and feeds the hub; reconnects after a database outage."""

    def __init__(self, dsn: str, hub: Hub, connect_timeout: int) -> None:
        super().__init__(name="lgp-notify", daemon=True)
        self._dsn, self._hub, self._timeout = dsn, hub, connect_timeout
        self._stopping = threading.Event()
        self.connected = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=self._timeout) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.connected.set()
                    failures = 0
                    while not self._stopping.is_set():
                        for n in conn.notifies(timeout=0.5):
                            try:
                                self._hub.notify_threadsafe(uuid.UUID(n.payload))
                            except ValueError:
                                continue
            except psycopg.Error as e:
                self.connected.clear()
                failures += 1
                if failures == 1:
                    log.warning("desired-state notifications interrupted (%s); retrying", type(e).__name__)
                self._stopping.wait(min(5.0, 0.5 * failures))
