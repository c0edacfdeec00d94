"""Listeners: one per cluster, a hashed token, the namespaces it may manage, a desired-state version."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from control_plane.core.db import NOTIFY_CHANNEL
from control_plane.core.security import LISTENER_TOKEN_PREFIX, hash_credential, new_credential
from control_plane.errors import Conflict, NotFound
from control_plane.models import Deployment, Listener, ListenerCreate, ListenerUpdate, utcnow


def bump_version(session: Session, *, listener_id: uuid.UUID) -> None:
    """The listener's desired state changed: a new version, and a NOTIFY (sent at commit) to every
    server process so long-polls return at once."""
    session.execute(
        sa.update(Listener)
        .where(col(Listener.id) == listener_id)
        .values(state_version=Listener.state_version + 1)
    )
    session.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, str(listener_id))))


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
