"""Tenants (admin key only) and API keys (shown once, stored hashed, revocable)."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from control_plane.crud import Principal
from control_plane.crud import keys as crud
from control_plane.crud.keys import list_tenants
from control_plane.errors import Forbidden
from control_plane.models import ApiKey, ApiKeyCreate, Tenant, TenantCreate

from . import Caller

__all__ = ["create_api_key", "create_tenant", "list_api_keys", "list_tenants", "revoke_api_key"]


def create_tenant(caller: Caller, data: TenantCreate) -> Tenant:
    tenant = crud.create_tenant(caller.session, name=data.name)
    caller.record("tenant.create", "tenant", tenant.id, data.model_dump(), tenant_id=tenant.id)
    caller.commit(tenant)
    return tenant


def _scope(session: Session, principal: Principal, tenant_id: uuid.UUID | None, refusal: str) -> uuid.UUID:
    """The caller's own tenant, or (admin key only) the one named."""
    if tenant_id is None or tenant_id == principal.tenant_id:
        return principal.tenant_id
    if not principal.is_admin:
        raise Forbidden(refusal)
    return crud.get_tenant(session, tenant_id=tenant_id).id


def create_api_key(caller: Caller, data: ApiKeyCreate) -> tuple[ApiKey, str]:
    """A key for the caller's tenant (the admin key may name another). The plaintext is returned once."""
    tenant_id = _scope(
        caller.session,
        caller.principal,
        data.tenant_id,
        "only the admin key may create keys for another tenant",
    )
    key, plaintext = crud.create_api_key(caller.session, tenant_id=tenant_id, name=data.name)
    caller.record(
        "api_key.create", "api_key", key.id, {"name": data.name, "prefix": key.prefix}, tenant_id=tenant_id
    )
    caller.commit(key)
    return key, plaintext


def list_api_keys(
    session: Session,
    principal: Principal,
    *,
    tenant_id: uuid.UUID | None,
    include_revoked: bool,
    limit: int,
    offset: int,
) -> tuple[list[ApiKey], int]:
    scope = _scope(session, principal, tenant_id, "only the admin key may list another tenant's keys")
    return crud.list_api_keys(
        session, tenant_id=scope, include_revoked=include_revoked, limit=limit, offset=offset
    )


def revoke_api_key(caller: Caller, key_id: uuid.UUID) -> ApiKey:
    """It stops working at once (the admin key may revoke any tenant's key)."""
    principal = caller.principal
    key = crud.revoke_api_key(
        caller.session, tenant_id=None if principal.is_admin else principal.tenant_id, key_id=key_id
    )
    caller.record("api_key.revoke", "api_key", key.id, {"prefix": key.prefix}, tenant_id=key.tenant_id)
    caller.commit()
    return key
