"""A background thread: fails revisions past the deploy deadline, drops expired Idempotency-Keys and
events past their retention. Each step is a conditional statement, safe with several server processes."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from control_plane.core.config import Settings
from control_plane.crud import revisions as revisions_crud
from control_plane.models import DeploymentEvent, IdempotencyRecord, utcnow

log = logging.getLogger("control_plane.reaper")


def reap_once(engine: Engine, settings: Settings) -> int:
    with Session(engine) as session:
        n = revisions_crud.expire_overdue(session, timeout_seconds=settings.revision_deploy_timeout_seconds)
        now = utcnow()
        keys = IdempotencyRecord.__table__  # type: ignore[attr-defined]
        session.execute(
            sa.delete(keys).where(
                keys.c.created_at < now - timedelta(seconds=settings.idempotency_ttl_seconds)
            )
        )
        events = DeploymentEvent.__table__  # type: ignore[attr-defined]
        session.execute(
            sa.delete(events).where(events.c.created_at < now - timedelta(days=settings.event_retention_days))
        )
        session.commit()
    return n


class Reaper(threading.Thread):
    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(name="lgp-reaper", daemon=True)
        self._engine, self._settings = engine, settings
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        failing = False
        while not self._stopping.wait(self._settings.reaper_interval_seconds):
            try:
                n = reap_once(self._engine, self._settings)
                if n:
                    log.info("%d revision(s) passed the deploy deadline and failed", n)
                failing = False
            except sa.exc.SQLAlchemyError as e:
                if not failing:
                    log.warning("deadline check failed (%s); retrying", type(e).__name__)
                failing = True
