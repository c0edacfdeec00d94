"""/v1/listeners: register clusters. The token is shown once, at creation or rotation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from control_plane.api.common import AUTH_ERRORS, CONFLICT, NOT_FOUND, WRITE_ERRORS, listener_public
from control_plane.api.deps import CurrentPrincipal, Limit, Offset, SessionDep, SettingsDep
from control_plane.models import (
    Listener,
    ListenerCreate,
    ListenerCreated,
    ListenerPublic,
    ListenersPublic,
    ListenerUpdate,
)
from control_plane.services import Caller, listeners

router = APIRouter(prefix="/listeners", tags=["listeners"], responses=AUTH_ERRORS)


def _created(listener: Listener, token: str, offline_after: float) -> ListenerCreated:
    return ListenerCreated(**listener_public(listener, offline_after).model_dump(), token=token)


@router.post("", status_code=201, response_model=ListenerCreated, responses={**CONFLICT, **WRITE_ERRORS})
def create_listener(
    session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep, body: ListenerCreate
) -> ListenerCreated:
    listener, token = listeners.create(Caller(session=session, principal=principal), body)
    return _created(listener, token, settings.listener_offline_after_seconds)


@router.get("", response_model=ListenersPublic)
def list_listeners(
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ListenersPublic:
    rows, count = listeners.find(session, tenant_id=principal.tenant_id, limit=limit, offset=offset)
    return ListenersPublic(
        data=[listener_public(x, settings.listener_offline_after_seconds) for x in rows],
        count=count,
        limit=limit,
        offset=offset,
    )


@router.get("/{listener_id}", response_model=ListenerPublic, responses=NOT_FOUND)
def get_listener(
    session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep, listener_id: uuid.UUID
) -> ListenerPublic:
    listener = listeners.get(session, tenant_id=principal.tenant_id, listener_id=listener_id)
    return listener_public(listener, settings.listener_offline_after_seconds)


@router.patch(
    "/{listener_id}", response_model=ListenerPublic, responses={**NOT_FOUND, **CONFLICT, **WRITE_ERRORS}
)
def update_listener(
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    listener_id: uuid.UUID,
    body: ListenerUpdate,
) -> ListenerPublic:
    listener = listeners.update(Caller(session=session, principal=principal), listener_id, body)
    return listener_public(listener, settings.listener_offline_after_seconds)


@router.delete("/{listener_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT})
def delete_listener(session: SessionDep, principal: CurrentPrincipal, listener_id: uuid.UUID) -> Response:
    """Refused (409) while deployments use it."""
    listeners.delete(Caller(session=session, principal=principal), listener_id)
    return Response(status_code=204)


@router.post("/{listener_id}/token", status_code=201, response_model=ListenerCreated, responses=NOT_FOUND)
def rotate_token(
    session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep, listener_id: uuid.UUID
) -> ListenerCreated:
    """A new token (shown once); the old one stops working at once."""
    listener, token = listeners.rotate_token(Caller(session=session, principal=principal), listener_id)
    return _created(listener, token, settings.listener_offline_after_seconds)
