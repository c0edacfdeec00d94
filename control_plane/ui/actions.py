"""The only module of the web UI that reaches into the API: every read and every change the pages make
goes through a function here, so validation, the revision state machine, the audit log and the
admission hooks (the license check) apply exactly as they do over the JSON API.

Changes go through the control plane's service layer (``control_plane.services``), the same units of
work the /v1 routes and the LangGraph-compatible API call; reads use the crud reads the API serves.
An import-linter contract keeps the other UI modules from importing ``control_plane.api``,
``control_plane.crud`` or ``control_plane.services`` themselves.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from fastapi import HTTPException, Request
from sqlmodel import Session, col, select

from control_plane.api.common import deployment_public, listener_public, revision_public
from control_plane.api.deps import SessionDep, SettingsDep, caller, get_box, get_logs_context, get_principal
from control_plane.core.config import Settings
from control_plane.crud import Principal
from control_plane.crud import deployments as deployments_crud
from control_plane.crud import events as events_crud
from control_plane.crud import listeners as listeners_crud
from control_plane.crud import revisions as revisions_crud
from control_plane.errors import Conflict, Forbidden, NotFound
from control_plane.models import (
    Deployment,
    DeploymentCreate,
    DeploymentEvent,
    DeploymentPublic,
    Listener,
    ListenerPublic,
    LogsPublic,
    Revision,
    RevisionCreate,
    RevisionPublic,
)
from control_plane.services import Caller
from control_plane.services import deployments as deployments_service
from control_plane.services import logs as logs_service
from control_plane.services import revisions as revisions_service
from control_plane.spec import FieldError
from control_plane.state_machine import TransitionRefused
from lgp_contract.protocol import LogQuery

__all__ = ["ACTION_ERRORS", "Principal", "SessionDep", "SettingsDep", "revision_public"]

# what a change may raise for a person to read (see ``refusal``); anything else is a server error
ACTION_ERRORS = (
    HTTPException,
    Forbidden,
    NotFound,
    Conflict,
    TransitionRefused,
    FieldError,
    sa.exc.IntegrityError,
    sa.exc.DataError,
)


def principal_for_key(session: Session, settings: Settings, key: str) -> Principal | None:
    """The principal an API key acts as; None when the key is unknown or revoked."""
    try:
        return get_principal(session, settings, key)
    except HTTPException:
        return None


# ------------------------------------------------------------------------------------------- reads
def deployments(
    session: Session, principal: Principal, name: str | None, limit: int
) -> tuple[list[Deployment], int, dict[uuid.UUID, int]]:
    """A page of the tenant's deployments, their total, and the number of each active revision."""
    rows, count = deployments_crud.list_deployments(
        session,
        tenant_id=principal.tenant_id,
        name=name,
        status=None,
        type_=None,
        listener_id=None,
        limit=limit,
        offset=0,
    )
    active_ids = [d.active_revision_id for d in rows if d.active_revision_id]
    numbers: dict[uuid.UUID, int] = {}
    if active_ids:
        found = session.exec(select(Revision.id, Revision.number).where(col(Revision.id).in_(active_ids)))
        numbers = {rid: number for rid, number in found}
    return list(rows), count, numbers


def deployment(session: Session, principal: Principal, deployment_id: uuid.UUID) -> DeploymentPublic:
    """One deployment as the API shows it (secret names, never values); NotFound outside the tenant."""
    return deployment_public(
        deployments_crud.get_deployment(session, tenant_id=principal.tenant_id, deployment_id=deployment_id)
    )


def revisions(session: Session, principal: Principal, deployment_id: uuid.UUID, limit: int) -> list[Revision]:
    rows, _ = revisions_crud.list_revisions(
        session,
        tenant_id=principal.tenant_id,
        deployment_id=deployment_id,
        status=None,
        limit=limit,
        offset=0,
    )
    return list(rows)


def revision_deployment(session: Session, principal: Principal, revision_id: uuid.UUID) -> uuid.UUID:
    """The deployment a revision belongs to; NotFound outside the tenant."""
    return revisions_crud.get_revision(
        session, tenant_id=principal.tenant_id, revision_id=revision_id
    ).deployment_id


def events(
    session: Session, principal: Principal, deployment_id: uuid.UUID, limit: int
) -> list[DeploymentEvent]:
    rows, _ = events_crud.list_events(
        session,
        tenant_id=principal.tenant_id,
        deployment_id=deployment_id,
        revision_id=None,
        kind=None,
        limit=limit,
        offset=0,
    )
    return list(rows)


def listeners(session: Session, principal: Principal) -> list[Listener]:
    rows, _ = listeners_crud.list_listeners(session, tenant_id=principal.tenant_id, limit=500, offset=0)
    return list(rows)


def listeners_public(session: Session, principal: Principal, settings: Settings) -> list[ListenerPublic]:
    return [
        listener_public(x, settings.listener_offline_after_seconds) for x in listeners(session, principal)
    ]


async def deployment_logs(
    request: Request, principal: Principal, deployment_id: uuid.UUID, query: LogQuery
) -> LogsPublic:
    """The deployment's logs, read in the cluster by its listener (events only, and why, when it cannot)."""
    reading = await logs_service.read(get_logs_context(request), principal, deployment_id, query)
    return reading.page


def listener_name(session: Session, principal: Principal, listener_id: uuid.UUID) -> str:
    """The listener's name, or its id when it is not in the tenant any more."""
    try:
        return listeners_crud.get_listener(
            session, tenant_id=principal.tenant_id, listener_id=listener_id
        ).name
    except NotFound:
        return str(listener_id)


# ----------------------------------------------------------------------------------------- changes
# Each commits on success and raises one of ACTION_ERRORS when refused (the caller rolls back).
def create_deployment(
    request: Request, session: Session, principal: Principal, body: DeploymentCreate
) -> DeploymentPublic:
    d, _ = deployments_service.create(caller(request, session, principal, get_box(request)), body)
    return deployment_public(d)


def create_revision(
    request: Request, session: Session, principal: Principal, deployment_id: uuid.UUID, body: RevisionCreate
) -> RevisionPublic:
    rev = revisions_service.create(caller(request, session, principal), deployment_id, image=body.image)
    return revision_public(rev)


def redeploy(
    request: Request, session: Session, principal: Principal, revision_id: uuid.UUID
) -> RevisionPublic:
    return revision_public(revisions_service.redeploy(caller(request, session, principal), revision_id))


def interrupt(session: Session, principal: Principal, revision_id: uuid.UUID) -> RevisionPublic:
    return revision_public(
        revisions_service.interrupt(Caller(session=session, principal=principal), revision_id)
    )


def delete_deployment(session: Session, principal: Principal, deployment_id: uuid.UUID) -> DeploymentPublic:
    return deployment_public(
        deployments_service.delete(Caller(session=session, principal=principal), deployment_id)
    )


def refusal(exc: Exception) -> tuple[int, str]:
    """403 / 404 / 409 / 422 as words a person reads, with the status the page answers."""
    if isinstance(exc, HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "the request was refused"
        if exc.status_code == 403:
            return 403, f"Not allowed: {detail}"
        return exc.status_code, detail
    if isinstance(exc, Forbidden):
        return 403, f"Not allowed: {exc}"
    if isinstance(exc, NotFound):
        return 404, f"Not found: no such {exc} in your tenant"
    if isinstance(exc, TransitionRefused | Conflict):
        return 409, f"Refused: {exc}"
    if isinstance(exc, FieldError):
        return 422, f"Refused: {'.'.join(map(str, exc.loc))}: {exc.msg}"
    if isinstance(exc, sa.exc.IntegrityError):
        return 409, "Refused: the change conflicts with existing data (a concurrent change?); retry."
    if isinstance(exc, sa.exc.DataError):
        return 422, "Refused: a value cannot be stored (NUL characters are not accepted)."
    return 500, "internal error"
