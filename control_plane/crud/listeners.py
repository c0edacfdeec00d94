"""Listeners: one per cluster, a hashed token, the namespaces it may manage, a desired-state version."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from control_plane.core.db import NOTIFY_CHANNEL
from control_plane.core.security import LISTENER_TOKEN_PREFIX, hash_credential, new_credential
from control_plane.errors import Conflict, NotFound
from control_plane.models import (
    Deployment,
    ForgottenDeployment,
    Listener,
    ListenerCreate,
    ListenerUpdate,
    utcnow,
)


def bump_version(session: Session, *, listener_id: uuid.UUID, deployment_id: uuid.UUID | None = None) -> int:
    """The listener's desired state changed: a new version (stamped on ``deployment_id``'s row, so a
    delta since an older version includes it), and a NOTIFY (sent at commit) to every server process
    so long-polls return at once. The listener row stays locked until commit, so versions are
    committed in the order they are handed out."""
    version: int = session.execute(
        sa.update(Listener)
        .where(col(Listener.id) == listener_id)
        .values(state_version=Listener.state_version + 1)
        .returning(col(Listener.state_version))
    ).scalar_one()
    if deployment_id is not None:
        session.execute(
            sa.update(Deployment).where(col(Deployment.id) == deployment_id).values(state_version=version)
        )
    session.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, str(listener_id))))
    return version


def forget(session: Session, *, listener_id: uuid.UUID, deployment_id: uuid.UUID) -> None:
    """The listener acknowledged the deletion of ``deployment_id`` (its row is deleted in this unit of
    work): a new version, and a record that deltas since an older version name it as forgotten."""
    version = bump_version(session, listener_id=listener_id)
    session.execute(
        insert(ForgottenDeployment)
        .values(
            listener_id=listener_id, deployment_id=deployment_id, state_version=version, forgotten_at=utcnow()
        )
        .on_conflict_do_update(
            index_elements=["listener_id", "deployment_id"],
            set_={"state_version": version, "forgotten_at": utcnow()},
        )
    )


def prune_forgotten(session: Session, *, before: datetime) -> None:
    """Drop acknowledged-deletion records older than ``before``; a listener whose version is older than
    what was dropped gets a full answer instead of a delta (``delta_since``). One statement: safe with
    several server processes."""
    table = ForgottenDeployment.__table__  # type: ignore[attr-defined]
    listeners = Listener.__table__  # type: ignore[attr-defined]
    gone = (
        sa.delete(table)
        .where(table.c.forgotten_at < before)
        .returning(table.c.listener_id, table.c.state_version)
        .cte("gone")
    )
    newest = (
        sa.select(gone.c.listener_id, sa.func.max(gone.c.state_version).label("version"))
        .group_by(gone.c.listener_id)
        .subquery("newest")
    )
    session.execute(
        sa.update(listeners)
        .where(listeners.c.id == newest.c.listener_id)
        .values(delta_since=sa.func.greatest(listeners.c.delta_since, newest.c.version))
    )


def create_listener(session: Session, *, tenant_id: uuid.UUID, data: ListenerCreate) -> tuple[Listener, str]:
    if session.exec(
        select(Listener).where(Listener.tenant_id == tenant_id, Listener.name == data.name)
    ).first():
        raise Conflict(f"a listener named {data.name!r} exists")
    plaintext, prefix, digest = new_credential(LISTENER_TOKEN_PREFIX)
    listener = Listener(
        tenant_id=tenant_id,
        name=data.name,
        namespaces=sorted(set(data.namespaces)),
        token_prefix=prefix,
        token_hash=digest,
    )
    session.add(listener)
    session.flush()
    return listener, plaintext


def get_listener(session: Session, *, tenant_id: uuid.UUID, listener_id: uuid.UUID) -> Listener:
    listener = session.get(Listener, listener_id)
    if listener is None or listener.tenant_id != tenant_id:
        raise NotFound("listener")
    return listener


def list_listeners(
    session: Session, *, tenant_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Listener], int]:
    where = col(Listener.tenant_id) == tenant_id
    count = session.exec(select(sa.func.count()).select_from(Listener).where(where)).one()
    rows = session.exec(
        select(Listener).where(where).order_by(col(Listener.created_at)).limit(limit).offset(offset)
    ).all()
    return list(rows), count


def update_listener(
    session: Session, *, tenant_id: uuid.UUID, listener_id: uuid.UUID, data: ListenerUpdate
) -> Listener:
    listener = get_listener(session, tenant_id=tenant_id, listener_id=listener_id)
    if data.name is not None and data.name != listener.name:
        if session.exec(
            select(Listener).where(Listener.tenant_id == tenant_id, Listener.name == data.name)
        ).first():
            raise Conflict(f"a listener named {data.name!r} exists")
        listener.name = data.name
    if data.namespaces is not None:
        wanted = set(data.namespaces)
        used = set(
            session.exec(
                select(Deployment.namespace).where(Deployment.listener_id == listener.id).distinct()
            ).all()
        )
        if used - wanted:
            raise Conflict(f"namespaces still used by deployments: {', '.join(sorted(used - wanted))}")
        listener.namespaces = sorted(wanted)
        bump_version(session, listener_id=listener.id)
    listener.updated_at = utcnow()
    session.add(listener)
    session.flush()
    session.refresh(listener)
    return listener


def delete_listener(session: Session, *, tenant_id: uuid.UUID, listener_id: uuid.UUID) -> None:
    listener = get_listener(session, tenant_id=tenant_id, listener_id=listener_id)
    n = session.exec(
        select(sa.func.count()).select_from(Deployment).where(Deployment.listener_id == listener.id)
    ).one()
    if n:
        raise Conflict(f"the listener still has {n} deployment(s): delete them first")
    session.delete(listener)


def rotate_token(session: Session, *, tenant_id: uuid.UUID, listener_id: uuid.UUID) -> tuple[Listener, str]:
    listener = get_listener(session, tenant_id=tenant_id, listener_id=listener_id)
    plaintext, prefix, digest = new_credential(LISTENER_TOKEN_PREFIX)
    listener.token_prefix, listener.token_hash, listener.updated_at = prefix, digest, utcnow()
    session.add(listener)
    session.flush()
    return listener, plaintext


def online(listener: Listener, *, offline_after: float, now: datetime | None = None) -> bool:
    """Heard from (a heartbeat) within ``offline_after`` seconds."""
    beat = listener.last_heartbeat_at
    return beat is not None and ((now or utcnow()) - beat).total_seconds() < offline_after


def authenticate_listener(session: Session, *, token: str) -> Listener | None:
    return session.exec(select(Listener).where(Listener.token_hash == hash_credential(token))).first()


def heartbeat(session: Session, *, listener: Listener, version: int | None, info: dict[str, Any]) -> Listener:
    listener.last_heartbeat_at = utcnow()
    listener.reported_version = version
    if info:
        listener.info = info
    session.add(listener)
    return listener
