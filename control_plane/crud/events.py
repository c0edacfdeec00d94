"""Events: what the listener saw (conditions, Kubernetes events, replicas, endpoint) and every revision
transition, per deployment and per revision, so "why is it stuck" has an answer."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from control_plane.errors import NotFound
from control_plane.models import Deployment, DeploymentEvent, EventKind, Listener, Revision, utcnow
from lgp_contract.protocol import DeploymentReport


def add_report(
    session: Session, *, listener: Listener, deployment_id: uuid.UUID, report: DeploymentReport
) -> int:
    d = session.get(Deployment, deployment_id)
    if d is None or d.listener_id != listener.id:
        raise NotFound("deployment")
    if report.revision_id is not None:
        rev = session.get(Revision, report.revision_id)
        if rev is None or rev.deployment_id != d.id:
            raise NotFound("revision")
    now = utcnow()
    rows: list[DeploymentEvent] = []

    def add(
        kind: EventKind, reason: str | None, message: str | None, payload: dict[str, Any], at: Any = None
    ) -> None:
        rows.append(
            DeploymentEvent(
                tenant_id=d.tenant_id,
                deployment_id=d.id,
                revision_id=report.revision_id,
                kind=kind,
                reason=reason,
                message=message,
                payload=payload,
                occurred_at=at or now,
            )
        )

    for c in report.conditions:
        add(EventKind.CONDITION, c.reason, c.message, c.model_dump(mode="json"), c.last_transition_time)
    for e in report.events:
        add(EventKind.KUBERNETES_EVENT, e.reason, e.message, e.model_dump(mode="json"), e.timestamp)
    if report.replicas is not None:
        replicas = report.replicas.model_dump(exclude_none=True)
        if replicas != d.replicas:
            add(EventKind.REPLICAS, "Replicas", ", ".join(f"{k}={v}" for k, v in replicas.items()), replicas)
        d.replicas = replicas
    if report.conditions:
        d.conditions = [c.model_dump(mode="json") for c in report.conditions]
    if report.endpoint is not None and report.endpoint != d.endpoint:
        add(EventKind.ENDPOINT, "Endpoint", report.endpoint, {"endpoint": report.endpoint})
        d.endpoint = report.endpoint
    session.add(d)
    session.add_all(rows)
    return len(rows)


def list_events(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    deployment_id: uuid.UUID | None = None,
    revision_id: uuid.UUID | None = None,
    kind: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[DeploymentEvent], int]:
    where: list[Any] = [col(DeploymentEvent.tenant_id) == tenant_id]
    if deployment_id is not None:
        d = session.get(Deployment, deployment_id)
        if d is None or d.tenant_id != tenant_id:
            raise NotFound("deployment")
        where.append(col(DeploymentEvent.deployment_id) == deployment_id)
    if revision_id is not None:
        rev = session.get(Revision, revision_id)
        if rev is None or rev.tenant_id != tenant_id:
            raise NotFound("revision")
        where.append(col(DeploymentEvent.revision_id) == revision_id)
    if kind:
        where.append(col(DeploymentEvent.kind) == kind)
    count = session.exec(select(sa.func.count()).select_from(DeploymentEvent).where(*where)).one()
    rows = session.exec(
        select(DeploymentEvent)
        .where(*where)
        .order_by(col(DeploymentEvent.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), count
