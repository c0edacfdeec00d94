"""``/api-host``: the routes langgraph-cli 0.4.x calls (``/v2/deployments...``, ``/v2/listeners...``,
``/v1/projects/{id}/...logs``). Each parses, translates (``translate``), calls the same service as the
/v1 route and translates back. ``X-Api-Key`` is lgp's API key; ``X-Tenant-ID``, when sent, must be
the key's own tenant."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response

from control_plane.api.common import AUTH_ERRORS, CONFLICT, NOT_FOUND, WRITE_ERRORS
from control_plane.api.deps import BoxDep, CurrentPrincipal, LogsDep, SessionDep, SettingsDep, caller
from control_plane.crud import Principal
from control_plane.crud import listeners as listeners_crud
from control_plane.errors import NotFound
from control_plane.models import ErrorResponse, Revision, utcnow
from control_plane.services import Caller, deployments, listeners, logs, revisions
from control_plane.spec import FieldError

from . import translate
from .models import (
    DeploymentCreateIn,
    DeploymentOut,
    DeploymentPatchIn,
    DeploymentsOut,
    ListenerOut,
    ListenersOut,
    LogsIn,
    LogsOut,
    PushTokenIn,
    RevisionOut,
    RevisionsOut,
    UploadUrlIn,
)

BAD_REQUEST: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorResponse,
        "description": "Not something lgp does (a build, an agent); detail says why",
    }
}
PageLimit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
PageOffset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")]


def workspace(
    principal: CurrentPrincipal,
    x_tenant_id: Annotated[
        str | None,
        Header(
            max_length=64, description="Optional (LANGSMITH_TENANT_ID): must be the API key's own tenant."
        ),
    ] = None,
) -> Principal:
    """The API key's principal; a tenant named in X-Tenant-ID must be the key's own."""
    if x_tenant_id and x_tenant_id.strip() != str(principal.tenant_id):
        raise HTTPException(
            status_code=403,
            detail=f"this API key acts in tenant {principal.tenant_id}, not {x_tenant_id.strip()[:64]}: "
            "unset LANGSMITH_TENANT_ID or use a key of that tenant",
        )
    return principal


Workspace = Annotated[Principal, Depends(workspace)]
router = APIRouter(prefix="/api-host", tags=["langgraph-compatible"], responses=AUTH_ERRORS)


# ------------------------------------------------------------------------------------------ deployments
@router.get("/v2/deployments", response_model=DeploymentsOut, responses=BAD_REQUEST)
def list_deployments(
    session: SessionDep,
    principal: Workspace,
    name: Annotated[str | None, Query(max_length=255, description="Exactly this name.")] = None,
    name_contains: Annotated[
        str | None, Query(max_length=255, description="Names containing this (any case).")
    ] = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
    agent_id: Annotated[
        str | None, Query(max_length=255, description="Agent mode: not in lgp (400).")
    ] = None,
    agent_environment: Annotated[
        str | None, Query(max_length=64, description="Agent mode: not in lgp (400).")
    ] = None,
) -> DeploymentsOut:
    """Deployments, newest first (``deploy list``, and the name lookup of ``deploy``)."""
    if agent_id is not None or agent_environment is not None:
        raise translate.bad_request(translate.NO_AGENTS)
    filters = deployments.Filters(name=name or None, name_contains=name_contains or None)
    rows, total = deployments.find(
        session, tenant_id=principal.tenant_id, filters=filters, limit=limit, offset=offset
    )
    return DeploymentsOut(
        resources=[translate.deployment_out(d) for d in rows], offset=offset, limit=limit, total=total
    )


@router.post(
    "/v2/deployments",
    status_code=201,
    response_model=DeploymentOut,
    responses={**BAD_REQUEST, **NOT_FOUND, **CONFLICT, **WRITE_ERRORS},
)
def create_deployment(
    request: Request, session: SessionDep, principal: Workspace, box: BoxDep, body: DeploymentCreateIn
) -> DeploymentOut:
    """Create a deployment of an image from your registry, through a listener, and its first revision.
    Builds (internal_docker, internal_source) are refused: lgp has no registry or build service."""
    listener_id, namespace = translate.create_request(body)
    try:
        listener = listeners.get(session, tenant_id=principal.tenant_id, listener_id=listener_id)
    except NotFound:
        raise translate.invalid("source_config.listener_id: no such listener in this tenant") from None
    data = translate.deployment_create(body, listener, translate.namespace_for(namespace, listener))
    try:
        d, _ = deployments.create(caller(request, session, principal, box), data)
    except FieldError as e:
        raise translate.refusal(e) from None
    return translate.deployment_out(d)


@router.get("/v2/deployments/{deployment_id}", response_model=DeploymentOut, responses=NOT_FOUND)
def get_deployment(session: SessionDep, principal: Workspace, deployment_id: uuid.UUID) -> DeploymentOut:
    return translate.deployment_out(
        deployments.get(session, tenant_id=principal.tenant_id, deployment_id=deployment_id)
    )


@router.patch(
    "/v2/deployments/{deployment_id}",
    response_model=DeploymentOut,
    responses={**BAD_REQUEST, **NOT_FOUND, **CONFLICT, **WRITE_ERRORS},
)
def update_deployment(
    request: Request,
    session: SessionDep,
    principal: Workspace,
    box: BoxDep,
    deployment_id: uuid.UUID,
    body: DeploymentPatchIn,
) -> DeploymentOut:
    """Deploy a new image (always a new revision, newest first in the revisions list); ``secrets`` set
    the values given and keep the others."""
    data, deploys = translate.deployment_update(body)
    try:
        d, _ = deployments.update(
            caller(request, session, principal, box), deployment_id, data, always_revision=deploys
        )
    except FieldError as e:
        raise translate.refusal(e) from None
    return translate.deployment_out(d)


@router.delete("/v2/deployments/{deployment_id}", status_code=204, responses=NOT_FOUND)
def delete_deployment(session: SessionDep, principal: Workspace, deployment_id: uuid.UUID) -> Response:
    """Mark it DELETING: the listener deletes its objects, confirms, and the deployment is gone."""
    deployments.delete(Caller(session=session, principal=principal), deployment_id)
    return Response(status_code=204)


@router.post(
    "/v2/deployments/{deployment_id}/push-token", responses={**BAD_REQUEST, **NOT_FOUND, **WRITE_ERRORS}
)
def push_token(
    session: SessionDep, principal: Workspace, deployment_id: uuid.UUID, body: PushTokenIn
) -> None:
    """Refused (400): lgp has no image registry to push to."""
    deployments.get(session, tenant_id=principal.tenant_id, deployment_id=deployment_id)
    raise translate.bad_request(
        f"push tokens are only available for 'internal_docker' source deployments. {translate.NO_BUILDS}"
    )


@router.post(
    "/v2/deployments/{deployment_id}/upload-url", responses={**BAD_REQUEST, **NOT_FOUND, **WRITE_ERRORS}
)
def upload_url(
    session: SessionDep, principal: Workspace, deployment_id: uuid.UUID, body: UploadUrlIn
) -> None:
    """Refused (400): lgp has no upload store and builds nothing."""
    deployments.get(session, tenant_id=principal.tenant_id, deployment_id=deployment_id)
    raise translate.bad_request(
        f"source uploads are only for 'internal_source' deployments. {translate.NO_BUILDS}"
    )


# ------------------------------------------------------------------------------------------ revisions
@router.get("/v2/deployments/{deployment_id}/revisions", response_model=RevisionsOut, responses=NOT_FOUND)
def list_revisions(
    session: SessionDep,
    principal: Workspace,
    deployment_id: uuid.UUID,
    limit: PageLimit = 10,
    offset: PageOffset = 0,
) -> RevisionsOut:
    """The deployment's revisions, newest first."""
    rows, total = revisions.find(
        session,
        tenant_id=principal.tenant_id,
        deployment_id=deployment_id,
        status=None,
        limit=limit,
        offset=offset,
    )
    return RevisionsOut(
        resources=[translate.revision_out(r) for r in rows], offset=offset, limit=limit, total=total
    )


def _revision(
    session: Any, principal: Principal, deployment_id: uuid.UUID, revision_id: uuid.UUID
) -> Revision:
    rev = revisions.get(session, tenant_id=principal.tenant_id, revision_id=revision_id)
    if rev.deployment_id != deployment_id:
        raise NotFound("revision")
    return rev


@router.get(
    "/v2/deployments/{deployment_id}/revisions/{revision_id}", response_model=RevisionOut, responses=NOT_FOUND
)
def get_revision(
    session: SessionDep, principal: Workspace, deployment_id: uuid.UUID, revision_id: uuid.UUID
) -> RevisionOut:
    return translate.revision_out(_revision(session, principal, deployment_id, revision_id))


# ------------------------------------------------------------------------------------------ listeners
@router.get("/v2/listeners", response_model=ListenersOut)
def list_listeners(
    session: SessionDep,
    principal: Workspace,
    settings: SettingsDep,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> ListenersOut:
    rows, total = listeners.find(session, tenant_id=principal.tenant_id, limit=limit, offset=offset)
    after = settings.listener_offline_after_seconds
    return ListenersOut(
        resources=[translate.listener_out(x, listeners_crud.online(x, offline_after=after)) for x in rows],
        offset=offset,
        limit=limit,
        total=total,
    )


@router.get("/v2/listeners/{listener_id}", response_model=ListenerOut, responses=NOT_FOUND)
def get_listener(
    session: SessionDep, principal: Workspace, settings: SettingsDep, listener_id: uuid.UUID
) -> ListenerOut:
    listener = listeners.get(session, tenant_id=principal.tenant_id, listener_id=listener_id)
    online = listeners_crud.online(listener, offline_after=settings.listener_offline_after_seconds)
    return translate.listener_out(listener, online)


# ------------------------------------------------------------------------------------------ logs
async def _deploy_logs(
    ctx: Any, principal: Principal, project_id: uuid.UUID, revision_id: uuid.UUID | None, body: LogsIn
) -> LogsOut:
    query = translate.log_query(body, revision_id)
    page = (await logs.read(ctx, principal, project_id, query)).page
    return LogsOut(logs=translate.logs_out(page.data, page.notice, query.order, utcnow()))


@router.post("/v1/projects/{project_id}/deploy_logs", response_model=LogsOut, responses=NOT_FOUND)
async def deploy_logs(principal: Workspace, ctx: LogsDep, project_id: uuid.UUID, body: LogsIn) -> LogsOut:
    """The deployment's (``project_id``) server and queue-worker logs and events, newest first
    (order desc); lgp's notice, when container lines are missing, comes as a line of its own."""
    return await _deploy_logs(ctx, principal, project_id, None, body)


@router.post(
    "/v1/projects/{project_id}/revisions/{revision_id}/deploy_logs",
    response_model=LogsOut,
    responses=NOT_FOUND,
)
async def revision_deploy_logs(
    principal: Workspace, ctx: LogsDep, project_id: uuid.UUID, revision_id: uuid.UUID, body: LogsIn
) -> LogsOut:
    """As deploy_logs, for one revision's pods and events."""
    return await _deploy_logs(ctx, principal, project_id, revision_id, body)


@router.post(
    "/v1/projects/{project_id}/revisions/{revision_id}/build_logs",
    response_model=LogsOut,
    responses=NOT_FOUND,
)
def build_logs(
    session: SessionDep, principal: Workspace, project_id: uuid.UUID, revision_id: uuid.UUID, body: LogsIn
) -> LogsOut:
    """lgp builds nothing: one line saying so."""
    deployments.get(session, tenant_id=principal.tenant_id, deployment_id=project_id)
    return LogsOut(logs=translate.build_logs(_revision(session, principal, project_id, revision_id)))
