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
    admit,
    deployment_public,
    revision_public,
)
from control_plane.api.deps import BoxDep, CurrentPrincipal, Limit, Offset, SessionDep
from control_plane.crud import audit
from control_plane.crud import deployments as crud
from control_plane.crud import events as events_crud
from control_plane.crud import revisions as revisions_crud
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
from control_plane.state_machine import RevisionStatus

router = APIRouter(prefix="/deployments", tags=["deployments"], responses=AUTH_ERRORS)


@router.post(
    "", status_code=201, response_model=DeploymentPublic, responses={**NOT_FOUND, **CONFLICT, **WRITE_ERRORS}
)
def create_deployment(
    request: Request, session: SessionDep, principal: CurrentPrincipal, box: BoxDep, body: DeploymentCreate
) -> DeploymentPublic:
    """Create a deployment and its first revision (QUEUED, then AWAITING_DEPLOY for the listener)."""
    admit(request, session, principal, "deployment.create", body=body)
    d, rev = crud.create_deployment(session, principal=principal, data=body, box=box)
    audit.record(
        session,
        principal=principal,
        action="deployment.create",
        resource_type="deployment",
        resource_id=d.id,
        changes={**body.model_dump(mode="json"), "revision": rev.number},
    )
    session.commit()
    session.refresh(d)
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
    rows, count = crud.list_deployments(
        session,
        tenant_id=principal.tenant_id,
        name=name,
        status=status,
        type_=type,
        listener_id=listener_id,
        limit=limit,
        offset=offset,
    )
    return DeploymentsPublic(
        data=[deployment_public(d) for d in rows], count=count, limit=limit, offset=offset
    )


@router.get("/{deployment_id}", response_model=DeploymentPublic, responses=NOT_FOUND)
def get_deployment(
    session: SessionDep, principal: CurrentPrincipal, deployment_id: uuid.UUID
) -> DeploymentPublic:
    return deployment_public(
        crud.get_deployment(session, tenant_id=principal.tenant_id, deployment_id=deployment_id)
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
    admit(request, session, principal, "deployment.update", deployment_id=deployment_id, body=body)
    d, rev = crud.update_deployment(
        session, principal=principal, deployment_id=deployment_id, data=body, box=box
    )
    changes = body.model_dump(mode="json", exclude_unset=True)
    audit.record(
        session,
        principal=principal,
        action="deployment.update",
        resource_type="deployment",
        resource_id=d.id,
        changes={**changes, "revision": rev.number if rev else None},
    )
    session.commit()
    session.refresh(d)
    return deployment_public(d)


@router.delete("/{deployment_id}", status_code=202, response_model=DeploymentPublic, responses=NOT_FOUND)
def delete_deployment(
    session: SessionDep, principal: CurrentPrincipal, deployment_id: uuid.UUID
) -> DeploymentPublic:
    """Mark it DELETING: the listener deletes its objects, confirms, and the deployment is gone."""
    d = crud.delete_deployment(session, principal=principal, deployment_id=deployment_id)
    audit.record(
        session,
        principal=principal,
        action="deployment.delete",
        resource_type="deployment",
        resource_id=d.id,
        changes={"name": d.name},
    )
    session.commit()
    session.refresh(d)
    return deployment_public(d)


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
    admit(request, session, principal, "revision.create", deployment_id=deployment_id)
    rev = revisions_crud.new_revision(
        session,
        tenant_id=principal.tenant_id,
        deployment_id=deployment_id,
        image=body.image,
        created_by=principal.actor_id,
    )
    audit.record(
        session,
        principal=principal,
        action="revision.create",
        resource_type="revision",
        resource_id=rev.id,
        changes={
            **body.model_dump(exclude_none=True),
            "number": rev.number,
            "deployment_id": str(deployment_id),
        },
    )
    session.commit()
    session.refresh(rev)
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
    rows, count = revisions_crud.list_revisions(
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
    rows, count = events_crud.list_events(
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
