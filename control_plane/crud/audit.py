"""The audit log: who changed what, when, with secret values replaced by their names."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from control_plane.crud import Principal
from control_plane.models import AuditLog

SECRET_KEYS = frozenset({"uri", "key", "token", "value_sealed"})


def redact(value: Any) -> Any:
    """A copy fit for the audit log: ``secrets`` become names, URIs and credentials become "***"."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k == "secrets" and isinstance(v, dict):
                out[k] = {name: ("set" if val is not None else "removed") for name, val in v.items()}
            elif k in SECRET_KEYS and v is not None:
                out[k] = "***"
            else:
                out[k] = redact(v)
        return out
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def record(
    session: Session,
    *,
    principal: Principal,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None,
    changes: dict[str, Any] | None = None,
    tenant_id: uuid.UUID | None = None,
) -> None:
    session.add(
        AuditLog(
            tenant_id=tenant_id or principal.tenant_id,
            actor_type=principal.actor_type,
            actor_id=principal.actor_id,
            action=action,
            resource_type=resource_type,
            resource_id=None if resource_id is None else str(resource_id),
            changes=redact(changes or {}),
        )
    )


def list_entries(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    resource_type: str | None,
    resource_id: str | None,
    action: str | None,
    limit: int,
    offset: int,
) -> tuple[list[AuditLog], int]:
    where = [col(AuditLog.tenant_id) == tenant_id]
    if resource_type:
        where.append(col(AuditLog.resource_type) == resource_type)
    if resource_id:
        where.append(col(AuditLog.resource_id) == resource_id)
    if action:
        where.append(col(AuditLog.action) == action)
    count = session.exec(select(sa.func.count()).select_from(AuditLog).where(*where)).one()
    rows = session.exec(
        select(AuditLog).where(*where).order_by(col(AuditLog.id).desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), count
