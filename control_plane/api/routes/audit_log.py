"""/v1/audit-log: every mutating call of your tenant, newest first (secret values never recorded)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from control_plane.api.common import AUTH_ERRORS
from control_plane.api.deps import CurrentPrincipal, Limit, Offset, SessionDep
from control_plane.models import AuditLogPublic, AuditLogsPublic
from control_plane.services import audit_log

router = APIRouter(prefix="/audit-log", tags=["audit"], responses=AUTH_ERRORS)


@router.get("", response_model=AuditLogsPublic)
def list_audit_log(
    session: SessionDep,
    principal: CurrentPrincipal,
    resource_type: Annotated[str | None, Query(max_length=32)] = None,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AuditLogsPublic:
    rows, count = audit_log.find(
        session,
        tenant_id=principal.tenant_id,
        resource_type=resource_type,
        resource_id=resource_id,
        action=action,
        limit=limit,
        offset=offset,
    )
    return AuditLogsPublic(
        data=[AuditLogPublic.model_validate(r, from_attributes=True) for r in rows],
        count=count,
        limit=limit,
        offset=offset,
    )
