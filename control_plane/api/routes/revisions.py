"""/v1/revisions/{id}: get, redeploy (rollback), interrupt, events."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from control_plane.api.common import AUTH_ERRORS, CONFLICT, NOT_FOUND, revision_public
from control_plane.api.deps import CurrentPrincipal, Limit, Offset, SessionDep, caller
from control_plane.models import EventKind, EventPublic, EventsPublic, RevisionPublic
from control_plane.services import Caller, deployments, revisions

router = APIRouter(prefix="/revisions", tags=["revisions"], responses={**AUTH_ERRORS, **NOT_FOUND})


@router.get("/{revision_id}", response_model=RevisionPublic)
def get_revision(session: SessionDep, principal: CurrentPrincipal, revision_id: uuid.UUID) -> RevisionPublic:
    return revision_public(revisions.get(session, tenant_id=principal.tenant_id, revision_id=revision_id))


@router.post("/{revision_id}/redeploy", status_code=201, response_model=RevisionPublic, responses=CONFLICT)
def redeploy(
    request: Request, session: SessionDep, principal: CurrentPrincipal, revision_id: uuid.UUID
) -> RevisionPublic:
    """Roll back: a new revision copying this one's settings and secrets."""
    return revision_public(revisions.redeploy(caller(request, session, principal), revision_id))


@router.post("/{revision_id}/interrupt", response_model=RevisionPublic, responses=CONFLICT)
def interrupt(session: SessionDep, principal: CurrentPrincipal, revision_id: uuid.UUID) -> RevisionPublic:
    """Stop a QUEUED, AWAITING_DEPLOY or DEPLOYING revision (409 otherwise)."""
    return revision_public(revisions.interrupt(Caller(session=session, principal=principal), revision_id))


@router.get("/{revision_id}/events", response_model=EventsPublic, tags=["events"])
def list_events(
    session: SessionDep,
    principal: CurrentPrincipal,
    revision_id: uuid.UUID,
    kind: EventKind | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> EventsPublic:
    rows, count = deployments.events(
        session, tenant_id=principal.tenant_id, revision_id=revision_id, kind=kind, limit=limit, offset=offset
    )
    return EventsPublic(
        data=[EventPublic.model_validate(e, from_attributes=True) for e in rows],
        count=count,
        limit=limit,
        offset=offset,
    )
