"""Shared route helpers: documented error responses and table -> public conversions."""

from __future__ import annotations

from typing import Any

from control_plane.crud import listeners as listeners_crud
from control_plane.models import (
    ApiKey,
    ApiKeyPublic,
    BackingServicePublic,
    Deployment,
    DeploymentPublic,
    ErrorResponse,
    KubernetesSettings,
    Listener,
    ListenerPublic,
    Resources,
    Revision,
    RevisionPublic,
)
from lgp_contract.protocol import Replicas

_ERR = {"model": ErrorResponse}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {**_ERR, "description": "Missing or unknown credentials"},
    403: {**_ERR, "description": "Not allowed for this credential"},
    422: {**_ERR, "description": "Invalid input: `loc` names the field"},
    503: {**_ERR, "description": "The database is unavailable: retry after Retry-After seconds"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {**_ERR, "description": "No such object in your tenant"}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {**_ERR, "description": "Duplicate name or refused transition"}
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {**_ERR, "description": "Request body too large"},
}


def deployment_public(d: Deployment) -> DeploymentPublic:
    return DeploymentPublic(
        id=d.id,
        name=d.name,
        type=d.type,
        image=d.image,
        listener_id=d.listener_id,
        namespace=d.namespace,
        resources=Resources.model_validate(d.resources),
        ingress=d.ingress,  # type: ignore[arg-type]
        env=d.env,  # type: ignore[arg-type]
        secret_names=d.secret_names,
        secret_refs=d.secret_refs,
        image_pull_secrets=d.image_pull_secrets,
        database=BackingServicePublic(type=d.database_type),  # type: ignore[arg-type]
        redis=BackingServicePublic(type=d.redis_type),  # type: ignore[arg-type]
        kubernetes=None if d.kubernetes is None else KubernetesSettings.model_validate(d.kubernetes),
        latest_revision_id=d.latest_revision_id,
        active_revision_id=d.active_revision_id,
        status=d.status,  # type: ignore[arg-type]
        endpoint=d.endpoint,
        replicas=Replicas.model_validate(d.replicas),
        conditions=d.conditions,
        created_at=d.created_at,
        updated_at=d.updated_at,
        deleted_at=d.deleted_at,
    )


def revision_public(r: Revision) -> RevisionPublic:
    return RevisionPublic.model_validate(r, from_attributes=True)


def listener_public(listener: Listener, offline_after: float) -> ListenerPublic:
    return ListenerPublic(
        id=listener.id,
        name=listener.name,
        namespaces=listener.namespaces,
        token_prefix=listener.token_prefix,
        state_version=listener.state_version,
        last_heartbeat_at=listener.last_heartbeat_at,
        online=listeners_crud.online(listener, offline_after=offline_after),
        created_at=listener.created_at,
        updated_at=listener.updated_at,
    )


def api_key_public(key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic.model_validate(key, from_attributes=True)
