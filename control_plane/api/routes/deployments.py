"""/v1/deployments: create, list, get, update, delete; their revisions and events."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from control_plane.api.common import (
    AUTH_ERRORS,
    CONFLICT,
    NOT_FOUND,
    WRITE_ERRORS,
    deployment_public,
    revision_public,
)
from control_plane.api.deps import BoxDep, CurrentPrincipal, Limit, Offset, SessionDep, caller
from control_plane.models import (
    DeploymentCreate,
    DeploymentPublic,
    DeploymentsPublic,
    DeploymentStatus,
    DeploymentType,
    DeploymentUpdate,
    EventKind,
    EventPublic,
    EventsPublic,
    RevisionCreate,
    RevisionPublic,
    RevisionsPublic,
)
from control_plane.services import Caller, deployments, revisions
from lgp_contract.statuses import RevisionStatus

router = APIRouter(prefix="/deployments", tags=["deployments"], responses=AUTH_ERRORS)


@router.post(
    "", status_code=201, response_model=DeploymentPublic, responses={**NOT_FOUND, **CONFLICT, **WRITE_ERRORS}
)
def create_deployment(
    request: Request, session: SessionDep, principal: CurrentPrincipal, box: BoxDep, body: DeploymentCreate
) -> DeploymentPublic:
    """Create a deployment and its first revision (QUEUED, then AWAITING_DEPLOY for the listener)."""
    d, _ = deployments.create(caller(request, session, principal, box), body)
    return deployment_public(d)


@router.get("", response_model=DeploymentsPublic)
def list_deployments(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 100,
    offset: Offset = 0,
    name: Annotated[str | None, Query(max_length=53, description="Name contains (case-insensitive).")] = None,
    status: DeploymentStatus | None = None,
    type: DeploymentType | None = None,
    listener_id: uuid.UUID | None = None,
) -> DeploymentsPublic:
    filters = deployments.Filters(name_contains=name, status=status, type=type, listener_id=listener_id)
    rows, count = deployments.find(
        session, tenant_id=principal.tenant_id, filters=filters, limit=limit, offset=offset
    )
    return DeploymentsPublic(
        data=[deployment_public(d) for d in rows], count=count, limit=limit, offset=offset
    )


@router.get("/{deployment_id}", response_model=DeploymentPublic, responses=NOT_FOUND)
def get_deployment(
    session: SessionDep, principal: CurrentPrincipal, deployment_id: uuid.UUID
) -> DeploymentPublic:
    return deployment_public(
        deployments.get(session, tenant_id=principal.tenant_id, deployment_id=deployment_id)
    )


@router.patch(
    "/{deployment_id}", response_model=DeploymentPublic, responses={**NOT_FOUND, **CONFLICT, **WRITE_ERRORS}
)
def update_deployment(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    box: BoxDep,
    deployment_id: uuid.UUID,
    body: DeploymentUpdate,
) -> DeploymentPublic:
    """Change settings. When what runs changes, a new revision is created (``latest_revision_id``)."""
    d, _ = deployments.update(caller(request, session, principal, box), deployment_id, body)
    return deployment_public(d)


@router.delete("/{deployment_id}", status_code=202, response_model=DeploymentPublic, responses=NOT_FOUND)
def delete_deployment(
    session: SessionDep, principal: CurrentPrincipal, deployment_id: uuid.UUID
) -> DeploymentPublic:
    """Mark it DELETING: the listener deletes its objects, confirms, and the deployment is gone."""
    return deployment_public(deployments.delete(Caller(session=session, principal=principal), deployment_id))


@router.post(
    "/{deployment_id}/revisions",
    status_code=201,
    response_model=RevisionPublic,
    responses={**NOT_FOUND, **CONFLICT, **WRITE_ERRORS},
    tags=["revisions"],
)
def create_revision(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    deployment_id: uuid.UUID,
    body: RevisionCreate,
) -> RevisionPublic:
    """Deploy the current settings again (optionally with a new image) as a new revision."""
    rev = revisions.create(caller(request, session, principal), deployment_id, image=body.image)
    return revision_public(rev)


@router.get(
    "/{deployment_id}/revisions", response_model=RevisionsPublic, responses=NOT_FOUND, tags=["revisions"]
)
def list_revisions(
    session: SessionDep,
    principal: CurrentPrincipal,
    deployment_id: uuid.UUID,
    status: RevisionStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> RevisionsPublic:
    rows, count = revisions.find(
        session,
        tenant_id=principal.tenant_id,
        deployment_id=deployment_id,
        status=status,
        limit=limit,
        offset=offset,
    )
    return RevisionsPublic(data=[revision_public(r) for r in rows], count=count, limit=limit, offset=offset)


@router.get("/{deployment_id}/events", response_model=EventsPublic, responses=NOT_FOUND, tags=["events"])
def list_events(
    session: SessionDep,
    principal: CurrentPrincipal,
    deployment_id: uuid.UUID,
    revision_id: uuid.UUID | None = None,
    kind: EventKind | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> EventsPublic:
    """What the listener reported and every revision transition, newest first."""
    rows, count = deployments.events(
        session,
        tenant_id=principal.tenant_id,
        deployment_id=deployment_id,
        revision_id=revision_id,
        kind=kind,
        limit=limit,
        offset=offset,
    )
    return EventsPublic(
        data=[EventPublic.model_validate(e, from_attributes=True) for e in rows],
        count=count,
        limit=limit,
        offset=offset,
    )
