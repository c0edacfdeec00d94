"""/v1/deployments: create, list, get, update, delete; their revisions, events and logs.

The busiest routes are ``async`` and run their whole operation in one worker-thread call: a sync route
costs FastAPI a second thread hop to validate its answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse

from control_plane.api.common import (
    AUTH_ERRORS,
    CONFLICT,
    NOT_FOUND,
    WRITE_ERRORS,
    deployment_public,
    revision_public,
)
from control_plane.api.deps import (
    BoxDep,
    CurrentPrincipal,
    Limit,
    LogsDep,
    Offset,
    SessionDep,
    caller,
    in_thread,
)
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
    LogsPublic,
    RevisionCreate,
    RevisionPublic,
    RevisionsPublic,
)
from control_plane.services import Caller, deployments, logs, revisions
from lgp_contract.logs import MAX_LINES, Level
from lgp_contract.protocol import LogQuery
from lgp_contract.statuses import RevisionStatus

router = APIRouter(prefix="/deployments", tags=["deployments"], responses=AUTH_ERRORS)


@router.post(
    "", status_code=201, response_model=DeploymentPublic, responses={**NOT_FOUND, **CONFLICT, **WRITE_ERRORS}
)
async def create_deployment(
    request: Request, session: SessionDep, principal: CurrentPrincipal, box: BoxDep, body: DeploymentCreate
) -> DeploymentPublic:
    """Create a deployment and its first revision (QUEUED, then AWAITING_DEPLOY for the listener)."""

    def work() -> DeploymentPublic:
        d, _ = deployments.create(caller(request, session, principal, box), body)
        return deployment_public(d)

    return await in_thread(session, work)


@router.get("", response_model=DeploymentsPublic)
async def list_deployments(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 100,
    offset: Offset = 0,
    name: Annotated[str | None, Query(max_length=53, description="Name contains (case-insensitive).")] = None,
    status: DeploymentStatus | None = None,
    type: DeploymentType | None = None,
    listener_id: uuid.UUID | None = None,
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="`next_cursor` of the previous page (instead of `offset`)."),
    ] = None,
) -> DeploymentsPublic:
    """Newest first. Page with `next_cursor` (keyset) or with `offset`; `count` is the total either way."""
    filters = deployments.Filters(name_contains=name, status=status, type=type, listener_id=listener_id)
    after = None
    if cursor is not None:
        problem = "cannot be combined with offset" if offset else None
        try:
            after = deployments.decode_cursor(cursor)
        except ValueError as e:
            problem = str(e)
        if problem:
            raise RequestValidationError(
                [{"loc": ("query", "cursor"), "msg": problem, "type": "value_error"}]
            )

    def work() -> DeploymentsPublic:
        rows, count = deployments.find(
            session,
            tenant_id=principal.tenant_id,
            filters=filters,
            limit=limit + 1,
            offset=offset,
            after=after,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return DeploymentsPublic(
            data=[deployment_public(d) for d in rows],
            count=count,
            limit=limit,
            offset=offset,
            next_cursor=deployments.encode_cursor(rows[-1].created_at, rows[-1].id) if more else None,
        )

    return await in_thread(session, work)


@router.get("/{deployment_id}", response_model=DeploymentPublic, responses=NOT_FOUND)
async def get_deployment(
    session: SessionDep, principal: CurrentPrincipal, deployment_id: uuid.UUID
) -> DeploymentPublic:
    def work() -> DeploymentPublic:
        return deployment_public(
            deployments.get(session, tenant_id=principal.tenant_id, deployment_id=deployment_id)
        )

    return await in_thread(session, work)


@router.patch(
    "/{deployment_id}", response_model=DeploymentPublic, responses={**NOT_FOUND, **CONFLICT, **WRITE_ERRORS}
)
async def update_deployment(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    box: BoxDep,
    deployment_id: uuid.UUID,
    body: DeploymentUpdate,
) -> DeploymentPublic:
    """Change settings. When what runs changes, a new revision is created (``latest_revision_id``)."""

    def work() -> DeploymentPublic:
        d, _ = deployments.update(caller(request, session, principal, box), deployment_id, body)
        return deployment_public(d)

    return await in_thread(session, work)


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
async def create_revision(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    deployment_id: uuid.UUID,
    body: RevisionCreate,
) -> RevisionPublic:
    """Deploy the current settings again (optionally with a new image) as a new revision."""

    def work() -> RevisionPublic:
        rev = revisions.create(caller(request, session, principal), deployment_id, image=body.image)
        return revision_public(rev)

    return await in_thread(session, work)


@router.get(
    "/{deployment_id}/revisions", response_model=RevisionsPublic, responses=NOT_FOUND, tags=["revisions"]
)
async def list_revisions(
    session: SessionDep,
    principal: CurrentPrincipal,
    deployment_id: uuid.UUID,
    status: RevisionStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> RevisionsPublic:

    def work() -> RevisionsPublic:
        rows, count = revisions.find(
            session,
            tenant_id=principal.tenant_id,
            deployment_id=deployment_id,
            status=status,
            limit=limit,
            offset=offset,
        )
        return RevisionsPublic(
            data=[revision_public(r) for r in rows], count=count, limit=limit, offset=offset
        )

    return await in_thread(session, work)


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


def log_query(
    revision_id: uuid.UUID | None,
    since: datetime | None,
    until: datetime | None,
    level: Level | None,
    q: str | None,
    limit: int,
    order: Literal["asc", "desc"],
) -> LogQuery:
    """The query parameters as the listener protocol's ``LogQuery`` (422 when the window is empty)."""
    if since is not None and until is not None and until <= since:
        raise RequestValidationError(
            [{"loc": ("query", "until"), "msg": "must be later than since", "type": "value_error"}]
        )
    return LogQuery(
        revision_id=revision_id,
        since=since,
        until=until,
        level=level,
        text=q or None,
        limit=limit,
        order=order,
    )


@router.get(
    "/{deployment_id}/logs",
    response_model=LogsPublic,
    responses={
        **NOT_FOUND,
        200: {
            "description": "The lines (JSON); with follow=true a stream of LogEntry objects, one JSON a line",
            "content": {"application/x-ndjson": {"schema": {"$ref": "#/components/schemas/LogEntry"}}},
        },
    },
    tags=["logs"],
)
async def read_logs(
    principal: CurrentPrincipal,
    ctx: LogsDep,
    deployment_id: uuid.UUID,
    revision_id: Annotated[
        uuid.UUID | None, Query(description="Only this revision's pods and events.")
    ] = None,
    since: Annotated[datetime | None, Query(description="Lines at or after this time (RFC 3339).")] = None,
    until: Annotated[datetime | None, Query(description="Lines before this time (RFC 3339).")] = None,
    level: Annotated[Level | None, Query(description="This level or a more severe one.")] = None,
    q: Annotated[str | None, Query(max_length=256, description="Lines containing this (any case).")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LINES, description="Most lines.")] = 100,
    order: Annotated[
        Literal["asc", "desc"], Query(description="desc: the newest lines; asc: the oldest from since on.")
    ] = "desc",
    follow: Annotated[
        bool, Query(description="Stream the newest lines, then new ones as they come (NDJSON, oldest first).")
    ] = False,
) -> Any:
    """The deployment's logs: its api-server and queue-worker containers' lines, read in the cluster by
    its listener when asked (secret values redacted), with its Kubernetes events and revision
    transitions. When the listener is offline or slow, the answer has the events only and ``notice``
    says why."""
    query = log_query(revision_id, since, until, level, q, limit, order)
    if follow:
        if until is not None:
            raise RequestValidationError(
                [{"loc": ("query", "until"), "msg": "follow takes no until", "type": "value_error"}]
            )
        await logs.check(ctx, principal, deployment_id, revision_id)  # a 404 before the stream starts

        async def lines() -> Any:
            async for entry in logs.follow(ctx, principal, deployment_id, query):
                yield entry.model_dump_json() + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")
    return (await logs.read(ctx, principal, deployment_id, query)).page
