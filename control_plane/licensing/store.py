"""Where usage lives: one row per deployment and window, upserted by its idempotency key, so a resend
replaces the row and nothing is counted twice; and the monthly sums the usage API shows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from control_plane.models import Deployment

from .beacon import UsageWindow
from .models import UsageRecord


def record_window(
    session: Session,
    window: UsageWindow,
    *,
    deployment: Deployment | None,
    tenant_id: uuid.UUID | None,
    license_id: str | None,
) -> None:
    """Store one window (replacing an earlier send of the same window) and commit."""
    dep = deployment
    now = datetime.now(UTC)
    values = {
        "id": uuid.uuid4(),
        "idempotency_key": window.idempotency_key,
        "tenant_id": tenant_id,
        "tenant": window.tenant,
        "deployment_id": dep.id if dep is not None else None,
        "deployment": dep.name if dep is not None else window.deployment,
        "source_id": window.deployment_id,
        "namespace": window.namespace,
        "window_start": window.window_start,
        "window_end": window.window_end,
        "month": window.month,
        "runs": window.runs,
        "nodes": window.nodes,
        "license_id": license_id,
        "received_at": now,
        "updated_at": now,
        "resends": 0,
    }
    table = UsageRecord.__table__  # type: ignore[attr-defined]
    stmt = insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["idempotency_key"],
        set_={
            "runs": stmt.excluded.runs,
            "nodes": stmt.excluded.nodes,
            "updated_at": now,
            "resends": table.c.resends + 1,
            "window_end": stmt.excluded.window_end,
        },
    )
    session.execute(stmt)
    session.commit()


def usage_summary(
    session: Session, *, tenant_id: uuid.UUID | None, month: str | None, deployment: str | None
) -> list[dict[str, Any]]:
    """Sums per deployment, tenant and month (``tenant_id`` None: every tenant); ``deployment`` is a
    deployment's id or name."""
    t = UsageRecord.__table__  # type: ignore[attr-defined]
    q = sa.select(
        t.c.deployment_id,
        sa.func.max(t.c.deployment).label("deployment"),
        t.c.tenant_id,
        sa.func.max(t.c.tenant).label("tenant"),
        t.c.month,
        sa.func.count().label("windows"),
        sa.func.coalesce(sa.func.sum(t.c.runs), 0).label("runs"),
        sa.func.coalesce(sa.func.sum(t.c.nodes), 0).label("nodes"),
    )
    if tenant_id is not None:
        q = q.where(t.c.tenant_id == tenant_id)
    if month:
        q = q.where(t.c.month == month)
    if deployment:
        try:
            q = q.where(t.c.deployment_id == uuid.UUID(deployment))
        except ValueError:
            q = q.where(t.c.deployment == deployment)
    q = q.group_by(
        t.c.deployment_id,
        t.c.tenant_id,
        t.c.month,
        sa.case((t.c.deployment_id.is_(None), t.c.deployment), else_=sa.null()),
    )
    q = q.order_by(t.c.month, sa.literal_column("deployment"))
    return [dict(r._mapping) for r in session.execute(q)]


def deployment_count(session: Session) -> int:
    """Deployments that exist now (not being deleted), in all tenants."""
    count = session.exec(
        select(sa.func.count()).select_from(Deployment).where(Deployment.deleted_at.is_(None))  # type: ignore[union-attr]
    ).one()
    return int(count)
