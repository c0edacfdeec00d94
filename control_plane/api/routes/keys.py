"""/v1/tenants (admin key only) and /v1/api-keys (shown once, stored hashed, revocable)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel

from control_plane.api.common import AUTH_ERRORS, CONFLICT, NOT_FOUND, WRITE_ERRORS, api_key_public
from control_plane.api.deps import AdminPrincipal, CurrentPrincipal, Limit, Offset, SessionDep
from control_plane.crud import audit
from control_plane.crud import keys as crud
from control_plane.models import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, TenantCreate, TenantPublic

router = APIRouter(responses=AUTH_ERRORS)


class TenantsPublic(BaseModel):
    data: list[TenantPublic]
    count: int
    limit: int
    offset: int


class ApiKeysPublic(BaseModel):
    data: list[ApiKeyPublic]
    count: int
    limit: int
    offset: int


@router.post(
    "/tenants",
    status_code=201,
    response_model=TenantPublic,
    tags=["tenants"],
    responses={**CONFLICT, **WRITE_ERRORS},
)
def create_tenant(session: SessionDep, principal: AdminPrincipal, body: TenantCreate) -> TenantPublic:
    tenant = crud.create_tenant(session, name=body.name)
    audit.record(
        session,
        principal=principal,
        action="tenant.create",
        resource_type="tenant",
        resource_id=tenant.id,
        changes=body.model_dump(),
        tenant_id=tenant.id,
    )
    session.commit()
    session.refresh(tenant)
    return TenantPublic.model_validate(tenant, from_attributes=True)


@router.get("/tenants", response_model=TenantsPublic, tags=["tenants"])
def list_tenants(
    session: SessionDep, _: AdminPrincipal, limit: Limit = 100, offset: Offset = 0
) -> TenantsPublic:
    rows, count = crud.list_tenants(session, limit=limit, offset=offset)
    return TenantsPublic(
        data=[TenantPublic.model_validate(t, from_attributes=True) for t in rows],
        count=count,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/api-keys",
    status_code=201,
    response_model=ApiKeyCreated,
    tags=["api-keys"],
    responses={**NOT_FOUND, **WRITE_ERRORS},
)
def create_api_key(session: SessionDep, principal: CurrentPrincipal, body: ApiKeyCreate) -> ApiKeyCreated:
    """A key for your tenant (the admin key may name another tenant). The key is shown only here."""
    tenant_id = principal.tenant_id
    if body.tenant_id is not None and body.tenant_id != principal.tenant_id:
        if not principal.is_admin:
            raise HTTPException(
                status_code=403, detail="only the admin key may create keys for another tenant"
            )
        tenant_id = crud.get_tenant(session, tenant_id=body.tenant_id).id
    key, plaintext = crud.create_api_key(session, tenant_id=tenant_id, name=body.name)
    audit.record(
        session,
        principal=principal,
        action="api_key.create",
        resource_type="api_key",
        resource_id=key.id,
        changes={"name": body.name, "prefix": key.prefix},
        tenant_id=tenant_id,
    )
    session.commit()
    session.refresh(key)
    return ApiKeyCreated(**api_key_public(key).model_dump(), key=plaintext)


@router.get("/api-keys", response_model=ApiKeysPublic, tags=["api-keys"], responses=NOT_FOUND)
def list_api_keys(
    session: SessionDep,
    principal: CurrentPrincipal,
    include_revoked: bool = False,
    tenant_id: Annotated[
        uuid.UUID | None, Query(description="Admin key only: another tenant's keys.")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ApiKeysPublic:
    scope = principal.tenant_id
    if tenant_id is not None and tenant_id != principal.tenant_id:
        if not principal.is_admin:
            raise HTTPException(status_code=403, detail="only the admin key may list another tenant's keys")
        scope = crud.get_tenant(session, tenant_id=tenant_id).id
    rows, count = crud.list_api_keys(
        session, tenant_id=scope, include_revoked=include_revoked, limit=limit, offset=offset
    )
    return ApiKeysPublic(data=[api_key_public(k) for k in rows], count=count, limit=limit, offset=offset)


@router.delete("/api-keys/{key_id}", status_code=204, tags=["api-keys"], responses=NOT_FOUND)
def revoke_api_key(session: SessionDep, principal: CurrentPrincipal, key_id: uuid.UUID) -> Response:
    """Revoke a key: it stops working at once (revoked keys stay listed with ``include_revoked``)."""
    key = crud.revoke_api_key(
        session, tenant_id=None if principal.is_admin else principal.tenant_id, key_id=key_id
    )
    audit.record(
        session,
        principal=principal,
        action="api_key.revoke",
        resource_type="api_key",
        resource_id=key.id,
        changes={"prefix": key.prefix},
        tenant_id=key.tenant_id,
    )
    session.commit()
    return Response(status_code=204)
