"""/v1/listeners: register clusters. The token is shown once, at creation or rotation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from pydantic import BaseModel

from control_plane.api.common import AUTH_ERRORS, CONFLICT, NOT_FOUND, WRITE_ERRORS, listener_public
from control_plane.api.deps import CurrentPrincipal, Limit, Offset, SessionDep, SettingsDep
from control_plane.crud import audit
from control_plane.crud import listeners as crud
from control_plane.models import ListenerCreate, ListenerCreated, ListenerPublic, ListenerUpdate

router = APIRouter(prefix="/listeners", tags=["listeners"], responses=AUTH_ERRORS)


class ListenersPublic(BaseModel):
    data: list[ListenerPublic]
    count: int
    limit: int
    offset: int


@router.post("", status_code=201, response_model=ListenerCreated, responses={**CONFLICT, **WRITE_ERRORS})
def create_listener(
    session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep, body: ListenerCreate
) -> ListenerCreated:
    listener, token = crud.create_listener(session, tenant_id=principal.tenant_id, data=body)
    audit.record(
        session,
        principal=principal,
        action="listener.create",
        resource_type="listener",
        resource_id=listener.id,
        changes=body.model_dump(mode="json"),
    )
    session.commit()
    session.refresh(listener)
    public = listener_public(listener, settings.listener_offline_after_seconds)
    return ListenerCreated(**public.model_dump(), token=token)


@router.get("", response_model=ListenersPublic)
def list_listeners(
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ListenersPublic:
    rows, count = crud.list_listeners(session, tenant_id=principal.tenant_id, limit=limit, offset=offset)
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
    listener = crud.get_listener(session, tenant_id=principal.tenant_id, listener_id=listener_id)
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
    listener = crud.update_listener(
        session, tenant_id=principal.tenant_id, listener_id=listener_id, data=body
    )
    audit.record(
        session,
        principal=principal,
        action="listener.update",
        resource_type="listener",
        resource_id=listener.id,
        changes=body.model_dump(mode="json", exclude_unset=True),
    )
    session.commit()
    session.refresh(listener)
    return listener_public(listener, settings.listener_offline_after_seconds)


@router.delete("/{listener_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT})
def delete_listener(session: SessionDep, principal: CurrentPrincipal, listener_id: uuid.UUID) -> Response:
    """Refused (409) while deployments use it."""
    crud.delete_listener(session, tenant_id=principal.tenant_id, listener_id=listener_id)
    audit.record(
        session,
        principal=principal,
        action="listener.delete",
        resource_type="listener",
        resource_id=listener_id,
    )
    session.commit()
    return Response(status_code=204)


@router.post("/{listener_id}/token", status_code=201, response_model=ListenerCreated, responses=NOT_FOUND)
def rotate_token(
    session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep, listener_id: uuid.UUID
) -> ListenerCreated:
    """A new token (shown once); the old one stops working at once."""
    listener, token = crud.rotate_token(session, tenant_id=principal.tenant_id, listener_id=listener_id)
    audit.record(
        session,
        principal=principal,
        action="listener.rotate_token",
        resource_type="listener",
        resource_id=listener.id,
    )
    session.commit()
    session.refresh(listener)
    public = listener_public(listener, settings.listener_offline_after_seconds)
    return ListenerCreated(**public.model_dump(), token=token)
