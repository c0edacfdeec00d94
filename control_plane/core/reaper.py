"""A background thread that runs a housekeeping round every ``reaper_interval_seconds`` (the round
itself is ``control_plane.services.maintenance.reap_once``, handed in by the app factory: core never
calls up into the layers above it)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa

log = logging.getLogger("control_plane.reaper")


class Reaper(threading.Thread):
    def __init__(self, round_: Callable[[], int], interval_seconds: float) -> None:
        super().__init__(name="lgp-reaper", daemon=True)
        self._round, self._interval = round_, interval_seconds
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        failing = False
        while not self._stopping.wait(self._interval):
            try:
                n = self._round()
                if n:
                    log.info("%d revision(s) passed the deploy deadline and failed", n)
                failing = False
            except sa.exc.SQLAlchemyError as e:
                if not failing:
                    log.warning("deadline check failed (%s); retrying", type(e).__name__)
                failing = True
