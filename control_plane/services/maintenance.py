"""Housekeeping the reaper thread runs (``core/reaper.py``): fail revisions past the deploy deadline,
drop expired Idempotency-Keys, events past their retention, log requests whose waiter is gone and
acknowledged-deletion records as old as the events.
Each step is a conditional statement, safe with several server processes."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from control_plane.core.config import Settings
from control_plane.crud import listeners as listeners_crud
from control_plane.crud import logs as logs_crud
from control_plane.crud import revisions as revisions_crud
from control_plane.models import DeploymentEvent, IdempotencyRecord, utcnow


def reap_once(engine: Engine, settings: Settings) -> int:
    """One round; returns how many revisions failed their deadline."""
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
        logs_crud.delete_expired(session, now=now)
        listeners_crud.prune_forgotten(session, before=now - timedelta(days=settings.event_retention_days))
        session.commit()
    return n
