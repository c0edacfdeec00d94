"""/v1/revisions/{id}: get, redeploy (rollback), interrupt, events."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from control_plane.api.common import AUTH_ERRORS, CONFLICT, NOT_FOUND, admit, revision_public
from control_plane.api.deps import CurrentPrincipal, Limit, Offset, SessionDep
from control_plane.crud import audit
from control_plane.crud import events as events_crud
from control_plane.crud import revisions as crud
from control_plane.models import EventKind, EventPublic, EventsPublic, RevisionPublic

router = APIRouter(prefix="/revisions", tags=["revisions"], responses={**AUTH_ERRORS, **NOT_FOUND})


@router.get("/{revision_id}", response_model=RevisionPublic)
def get_revision(session: SessionDep, principal: CurrentPrincipal, revision_id: uuid.UUID) -> RevisionPublic:
    return revision_public(crud.get_revision(session, tenant_id=principal.tenant_id, revision_id=revision_id))


@router.post("/{revision_id}/redeploy", status_code=201, response_model=RevisionPublic, responses=CONFLICT)
def redeploy(
    request: Request, session: SessionDep, principal: CurrentPrincipal, revision_id: uuid.UUID
) -> RevisionPublic:
    """Roll back: a new revision copying this one's settings and secrets."""
    admit(request, session, principal, "revision.create", revision_id=revision_id)
    rev = crud.redeploy(
        session, tenant_id=principal.tenant_id, revision_id=revision_id, created_by=principal.actor_id
    )
    audit.record(
        session,
        principal=principal,
        action="revision.redeploy",
        resource_type="revision",
        resource_id=rev.id,
        changes={"source_revision_id": str(revision_id), "number": rev.number},
    )
    session.commit()
    session.refresh(rev)
    return revision_public(rev)


@router.post("/{revision_id}/interrupt", response_model=RevisionPublic, responses=CONFLICT)
def interrupt(session: SessionDep, principal: CurrentPrincipal, revision_id: uuid.UUID) -> RevisionPublic:
    """Stop a QUEUED, AWAITING_DEPLOY or DEPLOYING revision (409 otherwise)."""
    rev = crud.interrupt(session, tenant_id=principal.tenant_id, revision_id=revision_id)
    audit.record(
        session,
        principal=principal,
        action="revision.interrupt",
        resource_type="revision",
        resource_id=rev.id,
        changes={"status": rev.status},
    )
    session.commit()
    session.refresh(rev)
    return revision_public(rev)


@router.get("/{revision_id}/events", response_model=EventsPublic, tags=["events"])
def list_events(
    session: SessionDep,
    principal: CurrentPrincipal,
    revision_id: uuid.UUID,
    kind: EventKind | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> EventsPublic:
    rows, count = events_crud.list_events(
        session, tenant_id=principal.tenant_id, revision_id=revision_id, kind=kind, limit=limit, offset=offset
    )
    return EventsPublic(
        data=[EventPublic.model_validate(e, from_attributes=True) for e in rows],
        count=count,
        limit=limit,
        offset=offset,
    )
