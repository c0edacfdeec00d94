"""/v1/tenants (admin key only) and /v1/api-keys (shown once, stored hashed, revocable)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from control_plane.api.common import AUTH_ERRORS, CONFLICT, NOT_FOUND, WRITE_ERRORS, api_key_public
from control_plane.api.deps import AdminPrincipal, CurrentPrincipal, Limit, Offset, SessionDep
from control_plane.models import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeysPublic,
    TenantCreate,
    TenantPublic,
    TenantsPublic,
)
from control_plane.services import Caller, keys

router = APIRouter(responses=AUTH_ERRORS)


@router.post(
    "/tenants",
    status_code=201,
    response_model=TenantPublic,
    tags=["tenants"],
    responses={**CONFLICT, **WRITE_ERRORS},
)
def create_tenant(session: SessionDep, principal: AdminPrincipal, body: TenantCreate) -> TenantPublic:
    tenant = keys.create_tenant(Caller(session=session, principal=principal), body)
    return TenantPublic.model_validate(tenant, from_attributes=True)


@router.get("/tenants", response_model=TenantsPublic, tags=["tenants"])
def list_tenants(
    session: SessionDep, _: AdminPrincipal, limit: Limit = 100, offset: Offset = 0
) -> TenantsPublic:
    rows, count = keys.list_tenants(session, limit=limit, offset=offset)
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
    key, plaintext = keys.create_api_key(Caller(session=session, principal=principal), body)
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
    rows, count = keys.list_api_keys(
        session, principal, tenant_id=tenant_id, include_revoked=include_revoked, limit=limit, offset=offset
    )
    return ApiKeysPublic(data=[api_key_public(k) for k in rows], count=count, limit=limit, offset=offset)


@router.delete("/api-keys/{key_id}", status_code=204, tags=["api-keys"], responses=NOT_FOUND)
def revoke_api_key(session: SessionDep, principal: CurrentPrincipal, key_id: uuid.UUID) -> Response:
    """Revoke a key: it stops working at once (revoked keys stay listed with ``include_revoked``)."""
    keys.revoke_api_key(Caller(session=session, principal=principal), key_id)
    return Response(status_code=204)
