"""The license and usage endpoints: ``POST /v1/beacon/verify`` and ``POST /v1/metadata/submit``
(payload-compatible with LangGraph Platform's beacon), ``GET /v1/usage`` and ``GET /v1/license``.

What they need from the installation (the license configuration, the beacon signing secret, whether
a license is required) is put on ``app.state`` by ``extension.install``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, Security
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from control_plane.api.common import AUTH_ERRORS
from control_plane.api.deps import CurrentPrincipal, SessionDep, SettingsDep, api_key_header, get_principal
from control_plane.models import Deployment
from lgp_contract.names import LABEL_DEPLOYMENT_ID
from lgp_contract.usage import IDEMPOTENCY_HEADER, SUBMIT_PATH, VERIFY_PATH

from .beacon import (
    BeaconVerifyRequest,
    BeaconVerifyResponse,
    MetadataSubmitRequest,
    handle_beacon_verify,
    parse_submission,
)
from .config import LicenseConfig
from .models import UsageRecord
from .tokens import LicenseStatus

log = logging.getLogger("lgp.control_plane.licensing")

RECORDED_STATUSES = (LicenseStatus.VALID, LicenseStatus.IN_GRACE, LicenseStatus.EXPIRED)
router = APIRouter(tags=["license and usage"])


class Refusal(BaseModel):
    reason: str = Field(description="A stable reason, e.g. license_expired, deployment_cap_reached.")
    message: str = Field(description="What a person needs to know.")


class LicenseStatusPublic(BaseModel):
    status: str = Field(description="VALID, IN_GRACE, EXPIRED, NOT_YET_VALID, INVALID or MISSING.")
    required: bool
    enforced: bool = Field(description="Whether new deployments and revisions are checked against it.")
    reason: str | None = None
    message: str | None = None
    warning: str | None = None
    licensee: str | None = None
    plan: str | None = None
    license_id: str | None = None
    not_before: datetime | None = None
    expires_at: datetime | None = None
    max_deployments: int | None = None
    features: list[str] = Field(default_factory=list)
    deployments: int = Field(description="Deployments that exist now, in all tenants.")


class UsageRow(BaseModel):
    deployment: str
    deployment_id: uuid.UUID | None
    tenant_id: uuid.UUID | None
    tenant: str | None
    month: str
    windows: int
    runs: int
    nodes: int


class UsagePublic(BaseModel):
    data: list[UsageRow]
    count: int


def deployment_count(session: Session) -> int:
    """Deployments that exist now (not being deleted), in all tenants."""
    count = session.exec(
        select(sa.func.count()).select_from(Deployment).where(Deployment.deleted_at.is_(None))  # type: ignore[union-attr]
    ).one()
    return int(count)


def get_config(request: Request) -> LicenseConfig:
    config: LicenseConfig = request.app.state.license_config
    return config


ConfigDep = Annotated[LicenseConfig, Depends(get_config)]


@router.post(
    VERIFY_PATH,
    response_model=BeaconVerifyResponse,
    responses={403: {"model": Refusal, "description": "The license is refused; the reason says why."}},
)
def beacon_verify(request: Request, config: ConfigDep, body: BeaconVerifyRequest) -> Any:
    """Exchange a license for a short-lived token (LangGraph Platform's beacon protocol)."""
    code, payload = handle_beacon_verify(body.model_dump(), config, request.app.state.beacon_secret)
    return JSONResponse(payload, status_code=code)


@router.post(
    SUBMIT_PATH,
    status_code=204,
    responses={
        401: {"description": "Neither a trusted license in the body nor a valid X-Api-Key."},
        403: {"description": "The API key's tenant does not own the deployment."},
    },
)
def metadata_submit(
    session: SessionDep,
    settings: SettingsDep,
    config: ConfigDep,
    body: MetadataSubmitRequest,
    key: Annotated[str | None, Security(api_key_header)] = None,
    idempotency_key: Annotated[
        str | None,
        Header(alias=IDEMPOTENCY_HEADER, max_length=200, description="One per deployment window."),
    ] = None,
) -> Response:
    """Usage of one deployment in one window. A resend with the same Idempotency-Key replaces the
    stored window; nothing is counted twice. Authenticated by a license this installation trusts
    (expired ones too: usage is never lost), or by an API key."""
    principal = get_principal(session, settings, key) if key else None
    license_id = None
    if principal is None:
        state = config.evaluate(body.license)
        if state.status not in RECORDED_STATUSES or state.license is None:
            reason = state.error.reason if state.error else "license_missing"
            raise HTTPException(
                status_code=401,
                detail=f"{reason}: send a license this installation trusts or an X-Api-Key",
            )
        license_id = state.license.license_id
    try:
        window = parse_submission(body, idempotency_key)
    except ValueError as e:
        field, _, msg = str(e).partition(": ")
        raise HTTPException(
            status_code=422,
            detail=[{"loc": ["body", *field.split(".")], "msg": msg, "type": "value_error"}],
        ) from None
    dep: Deployment | None = None
    cp_id = body.tags.get(LABEL_DEPLOYMENT_ID)  # set by the listener on every LangGraphPlatform
    try:
        dep = session.get(Deployment, uuid.UUID(str(cp_id))) if cp_id else None
    except ValueError:
        dep = None
    if (
        principal is not None
        and not principal.is_admin
        and dep is not None
        and dep.tenant_id != principal.tenant_id
    ):
        raise HTTPException(status_code=403, detail="this deployment belongs to another tenant")
    tenant_id = dep.tenant_id if dep is not None else (principal.tenant_id if principal else None)
    now = datetime.now(UTC)
    values = {
        "id": uuid.uuid4(),
        "idempotency_key": window.idempotency_key,
        "tenant_id": tenant_id,
        "tenant": window.tenant,
        "deployment_id": dep.id if dep is not None else None,
        "deployment": dep.name if dep is not None else window.deployment,
        "source_id": window.deployment_id,
        "namespace": window.namespace,
        "window_start": window.window_start,
        "window_end": window.window_end,
        "month": window.month,
        "runs": window.runs,
        "nodes": window.nodes,
        "license_id": license_id,
        "received_at": now,
        "updated_at": now,
        "resends": 0,
    }
    table = UsageRecord.__table__  # type: ignore[attr-defined]
    stmt = insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["idempotency_key"],
        set_={
            "runs": stmt.excluded.runs,
            "nodes": stmt.excluded.nodes,
            "updated_at": now,
            "resends": table.c.resends + 1,
            "window_end": stmt.excluded.window_end,
        },
    )
    session.execute(stmt)
    session.commit()
    return Response(status_code=204)


@router.get("/v1/usage", response_model=UsagePublic, responses=AUTH_ERRORS)
def usage(
    session: SessionDep,
    principal: CurrentPrincipal,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")] = None,
    deployment: Annotated[str | None, Query(max_length=256, description="Deployment name or id.")] = None,
    all_tenants: Annotated[bool, Query(description="Admin key only: every tenant.")] = False,
) -> UsagePublic:
    """Usage per deployment, tenant and month (sums of the stored hour windows)."""
    t = UsageRecord.__table__  # type: ignore[attr-defined]
    q = sa.select(
        t.c.deployment_id,
        sa.func.max(t.c.deployment).label("deployment"),
        t.c.tenant_id,
        sa.func.max(t.c.tenant).label("tenant"),
        t.c.month,
        sa.func.count().label("windows"),
        sa.func.coalesce(sa.func.sum(t.c.runs), 0).label("runs"),
        sa.func.coalesce(sa.func.sum(t.c.nodes), 0).label("nodes"),
    )
    if not (principal.is_admin and all_tenants):
        q = q.where(t.c.tenant_id == principal.tenant_id)
    if month:
        q = q.where(t.c.month == month)
    if deployment:
        try:
            q = q.where(t.c.deployment_id == uuid.UUID(deployment))
        except ValueError:
            q = q.where(t.c.deployment == deployment)
    q = q.group_by(
        t.c.deployment_id,
        t.c.tenant_id,
        t.c.month,
        sa.case((t.c.deployment_id.is_(None), t.c.deployment), else_=sa.null()),
    )
    q = q.order_by(t.c.month, sa.literal_column("deployment"))
    rows = [UsageRow.model_validate(dict(r._mapping)) for r in session.execute(q)]
    return UsagePublic(data=rows, count=len(rows))


@router.get("/v1/license", response_model=LicenseStatusPublic, responses=AUTH_ERRORS)
def license_status(
    request: Request, session: SessionDep, config: ConfigDep, _: CurrentPrincipal
) -> LicenseStatusPublic:
    """The installation's license now: what it allows, and why not when it does not."""
    required: bool = request.app.state.license_required
    state = config.state()
    lic = state.license
    enforced = not (state.status == LicenseStatus.MISSING and not required)
    return LicenseStatusPublic(
        status=state.status.name,
        required=required,
        enforced=enforced,
        reason=state.error.reason if state.error else None,
        message=state.error.message if state.error else None,
        warning=state.warning,
        licensee=lic.licensee if lic else None,
        plan=lic.plan if lic else None,
        license_id=lic.license_id if lic else None,
        not_before=lic.not_before if lic else None,
        expires_at=lic.expires_at if lic else None,
        max_deployments=lic.max_deployments if lic else None,
        features=sorted(lic.features) if lic else [],
        deployments=deployment_count(session),
    )
