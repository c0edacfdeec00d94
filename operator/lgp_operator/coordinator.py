"""One reconcile at a time per resource: triggers that arrive while one runs are coalesced into one rerun,
and child changes that come in bursts are served by one delayed run."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .reconcile import Outcome

log = logging.getLogger(__name__)


class Coordinator:
    """One reconcile at a time per resource; triggers that arrive meanwhile are coalesced into one rerun."""

    def __init__(self, run: Callable[[str, str], Outcome | None]) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._scheduled: set[tuple[str, str]] = set()

    def _key_lock(self, key: tuple[str, str]) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def run(self, namespace: str, name: str, *, wait: bool = True) -> Outcome | None:
        """Reconcile now (``wait``) or, when one is running, mark it to run again and return None."""
        key = (namespace, name)
        lock = self._key_lock(key)
        outcome = None
        while True:
            if not lock.acquire(blocking=wait):
                with self._lock:
                    self._dirty.add(key)
                if lock.acquire(blocking=False):  # the holder finished meanwhile: run it ourselves
                    lock.release()
                    continue
                return outcome
            try:
                with self._lock:
                    self._dirty.discard(key)
                outcome = self._run(namespace, name)
            finally:
                lock.release()
            with self._lock:
                if key not in self._dirty:
                    return outcome
            wait = False  # a trigger arrived while running: run again unless someone else already does

    def run_soon(self, namespace: str, name: str, delay: float = 0.5) -> None:
        """Reconcile after ``delay`` seconds; triggers meanwhile join that one run. Children change in
        bursts (one apply creates several objects, a rollout moves many pods): one reconcile serves them."""
        key = (namespace, name)
        with self._lock:
            if key in self._scheduled:
                return
            self._scheduled.add(key)

        def fire() -> None:
            with self._lock:
                self._scheduled.discard(key)
            try:
                self.run(namespace, name, wait=False)
            except Exception as e:  # the timer and the next child event retry
                log.warning("%s/%s: reconcile after a child change failed: %s", namespace, name, e)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        timer.start()
