"""Log requests: stored for the deployment's listener, handed out once, answered, read and deleted.
The events a logs answer merges in are read here too."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from control_plane.core.db import LOG_CHANNEL
from control_plane.errors import NotFound
from control_plane.models import (
    Deployment,
    DeploymentEvent,
    EventKind,
    Listener,
    LogRequestRecord,
    LogRequestState,
)
from lgp_contract.logs import MAX_LINES
from lgp_contract.protocol import LogAnswer, LogQuery

TAKE_AT_ONCE = 20
LOG_EVENT_KINDS = (EventKind.KUBERNETES_EVENT, EventKind.REVISION_STATUS)


def _notify(session: Session, key: uuid.UUID) -> None:
    session.execute(sa.select(sa.func.pg_notify(LOG_CHANNEL, str(key))))


def pending(session: Session, *, listener_id: uuid.UUID, now: datetime) -> int:
    """Requests still waiting for this listener."""
    return session.exec(
        select(sa.func.count())
        .select_from(LogRequestRecord)
        .where(
            LogRequestRecord.listener_id == listener_id,
            col(LogRequestRecord.state).in_((LogRequestState.PENDING, LogRequestState.TAKEN)),
            col(LogRequestRecord.expires_at) > now,
        )
    ).one()


def create_request(
    session: Session, *, deployment: Deployment, query: LogQuery, expires_at: datetime
) -> LogRequestRecord:
    """A request for the deployment's listener; its long-poll is woken at commit."""
    record = LogRequestRecord(
        tenant_id=deployment.tenant_id,
        listener_id=deployment.listener_id,
        deployment_id=deployment.id,
        query=query.model_dump(mode="json", exclude_none=True),
        expires_at=expires_at,
    )
    session.add(record)
    session.flush()
    _notify(session, deployment.listener_id)
    return record


def take(session: Session, *, listener_id: uuid.UUID, now: datetime) -> list[LogRequestRecord]:
    """Hand this listener its waiting requests, each once (several server processes may ask at once:
    the rows are locked and skipped, never handed out twice)."""
    table = LogRequestRecord.__table__  # type: ignore[attr-defined]
    waiting = (
        sa.select(table.c.id)
        .where(
            table.c.listener_id == listener_id,
            table.c.state == LogRequestState.PENDING,
            table.c.expires_at > now,
        )
        .order_by(table.c.created_at)
        .limit(TAKE_AT_ONCE)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    ids = (
        session.execute(
            sa.update(table)
            .where(table.c.id.in_(waiting))
            .values(state=LogRequestState.TAKEN)
            .returning(table.c.id)
        )
        .scalars()
        .all()
    )
    if not ids:
        return []
    rows = session.exec(
        select(LogRequestRecord)
        .where(col(LogRequestRecord.id).in_(ids))
        .order_by(col(LogRequestRecord.created_at))
        .execution_options(populate_existing=True)
    ).all()
    return list(rows)


def answer(
    session: Session, *, listener: Listener, request_id: uuid.UUID, answer: LogAnswer, now: datetime
) -> None:
    """Store the listener's answer and wake the request waiting for it (NotFound: unknown, another
    listener's, already answered, or expired: the person has had an answer without it)."""
    table = LogRequestRecord.__table__  # type: ignore[attr-defined]
    done = session.execute(
        sa.update(table)
        .where(
            table.c.id == request_id,
            table.c.listener_id == listener.id,
            table.c.state.in_((LogRequestState.PENDING, LogRequestState.TAKEN)),
            table.c.expires_at > now,
        )
        .values(
            state=LogRequestState.ANSWERED,
            answer=answer.model_dump(mode="json", exclude_none=True),
            answered_at=now,
        )
        .returning(table.c.id)
    ).first()
    if done is None:
        raise NotFound("log request")
    _notify(session, request_id)


def answered(session: Session, *, request_id: uuid.UUID) -> dict[str, Any] | None:
    """The answer, once there is one."""
    row = session.exec(
        select(LogRequestRecord).where(
            LogRequestRecord.id == request_id, LogRequestRecord.state == LogRequestState.ANSWERED
        )
    ).first()
    return None if row is None else row.answer


def delete(session: Session, *, request_id: uuid.UUID) -> None:
    session.execute(sa.delete(LogRequestRecord).where(col(LogRequestRecord.id) == request_id))


def delete_expired(session: Session, *, now: datetime, grace_seconds: float = 60) -> int:
    """Requests whose waiter is long gone (a server process that died while waiting)."""
    result = session.execute(
        sa.delete(LogRequestRecord).where(
            col(LogRequestRecord.expires_at) < now - timedelta(seconds=grace_seconds)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def events(
    session: Session, *, deployment_id: uuid.UUID, revision_id: uuid.UUID | None, query: LogQuery
) -> list[DeploymentEvent]:
    """The deployment's Kubernetes events and revision transitions in the query's window (at most
    ``MAX_LINES``, at the end of the window the order asks for)."""
    where: list[Any] = [
        col(DeploymentEvent.deployment_id) == deployment_id,
        col(DeploymentEvent.kind).in_(LOG_EVENT_KINDS),
    ]
    if revision_id is not None:
        where.append(col(DeploymentEvent.revision_id) == revision_id)
    if query.since is not None:
        where.append(col(DeploymentEvent.occurred_at) >= query.since)
    if query.until is not None:
        where.append(col(DeploymentEvent.occurred_at) < query.until)
    order = col(DeploymentEvent.occurred_at)
    rows = session.exec(
        select(DeploymentEvent)
        .where(*where)
        .order_by(order.asc() if query.order == "asc" else order.desc(), col(DeploymentEvent.id))
        .limit(MAX_LINES)
    ).all()
    return list(rows)
