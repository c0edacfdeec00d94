"""Deployments: create (with its first revision), update (a new revision when what runs changes),
delete (a tombstone until the listener confirms), and the reads with filters and paging."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from control_plane.crud import deployments as crud
from control_plane.crud.deployments import decode_cursor, encode_cursor
from control_plane.crud.deployments import get_deployment as get
from control_plane.crud.events import list_events as events
from control_plane.models import Deployment, DeploymentCreate, DeploymentUpdate, Revision

from . import Caller

__all__ = [
    "Filters",
    "create",
    "decode_cursor",
    "delete",
    "encode_cursor",
    "events",
    "find",
    "get",
    "update",
]


@dataclass(frozen=True)
class Filters:
    """``name_contains``: case-insensitive substring; ``name``: exact name."""

    name_contains: str | None = None
    name: str | None = None
    status: str | None = None
    type: str | None = None
    listener_id: uuid.UUID | None = None


def create(caller: Caller, data: DeploymentCreate) -> tuple[Deployment, Revision]:
    """A new deployment and its first revision (QUEUED, then AWAITING_DEPLOY for the listener)."""
    caller.admit("deployment.create", body=data)
    d, rev = crud.create_deployment(
        caller.session, principal=caller.principal, data=data, box=caller.secrets()
    )
    caller.record(
        "deployment.create", "deployment", d.id, {**data.model_dump(mode="json"), "revision": rev.number}
    )
    caller.commit(d, rev)
    return d, rev


def update(
    caller: Caller, deployment_id: uuid.UUID, data: DeploymentUpdate, *, always_revision: bool = False
) -> tuple[Deployment, Revision | None]:
    """Change settings; a new revision when what runs changed (else None; ``always_revision``: a new
    revision in any case, as a deploy command expects)."""
    caller.admit("deployment.update", deployment_id=deployment_id, body=data)
    d, rev = crud.update_deployment(
        caller.session,
        principal=caller.principal,
        deployment_id=deployment_id,
        data=data,
        box=caller.secrets(),
        always_revision=always_revision,
    )
    changes = data.model_dump(mode="json", exclude_unset=True)
    caller.record(
        "deployment.update", "deployment", d.id, {**changes, "revision": rev.number if rev else None}
    )
    caller.commit(d, *([rev] if rev else []))
    return d, rev


def delete(caller: Caller, deployment_id: uuid.UUID) -> Deployment:
    """Mark it DELETING: the listener deletes its objects and confirms; then it is gone."""
    d = crud.delete_deployment(caller.session, principal=caller.principal, deployment_id=deployment_id)
    caller.record("deployment.delete", "deployment", d.id, {"name": d.name})
    caller.commit(d)
    return d


def find(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    filters: Filters,
    limit: int,
    offset: int,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> tuple[list[Deployment], int]:
    """Newest first, with the total count before limit/offset (``after``: a keyset position)."""
    return crud.list_deployments(
        session,
        tenant_id=tenant_id,
        name=filters.name_contains,
        exact_name=filters.name,
        status=filters.status,
        type_=filters.type,
        listener_id=filters.listener_id,
        limit=limit,
        offset=offset,
        after=after,
    )
