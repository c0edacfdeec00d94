"""Listeners: register a cluster (its token shown once), change its namespaces, rotate its token,
delete it (refused while deployments use it)."""

from __future__ import annotations

import uuid

from control_plane.crud import listeners as crud
from control_plane.crud.listeners import get_listener as get
from control_plane.crud.listeners import list_listeners as find
from control_plane.models import Listener, ListenerCreate, ListenerUpdate

from . import Caller

__all__ = ["create", "delete", "find", "get", "rotate_token", "update"]


def create(caller: Caller, data: ListenerCreate) -> tuple[Listener, str]:
    """The new listener and its token (to show once)."""
    listener, token = crud.create_listener(caller.session, tenant_id=caller.principal.tenant_id, data=data)
    caller.record("listener.create", "listener", listener.id, data.model_dump(mode="json"))
    caller.commit(listener)
    return listener, token


def update(caller: Caller, listener_id: uuid.UUID, data: ListenerUpdate) -> Listener:
    listener = crud.update_listener(
        caller.session, tenant_id=caller.principal.tenant_id, listener_id=listener_id, data=data
    )
    caller.record(
        "listener.update", "listener", listener.id, data.model_dump(mode="json", exclude_unset=True)
    )
    caller.commit(listener)
    return listener


def delete(caller: Caller, listener_id: uuid.UUID) -> None:
    crud.delete_listener(caller.session, tenant_id=caller.principal.tenant_id, listener_id=listener_id)
    caller.record("listener.delete", "listener", listener_id)
    caller.commit()


def rotate_token(caller: Caller, listener_id: uuid.UUID) -> tuple[Listener, str]:
    """A new token (to show once); the old one stops working at once."""
    listener, token = crud.rotate_token(
        caller.session, tenant_id=caller.principal.tenant_id, listener_id=listener_id
    )
    caller.record("listener.rotate_token", "listener", listener.id)
    caller.commit(listener)
    return listener, token
