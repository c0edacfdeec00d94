"""The license and usage endpoints: ``POST /v1/beacon/verify`` and ``POST /v1/metadata/submit``
(payload-compatible with LangGraph Platform's beacon), ``GET /v1/usage`` and ``GET /v1/license``.

What they need from the installation (the license configuration, the beacon signing secret, whether
a license is required) is put on ``app.state`` by ``extension.install``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, Security
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from control_plane.api.common import AUTH_ERRORS
from control_plane.api.deps import CurrentPrincipal, SessionDep, SettingsDep, api_key_header, get_principal
from control_plane.models import Deployment
from lgp_contract.names import LABEL_DEPLOYMENT_ID
from lgp_contract.usage import IDEMPOTENCY_HEADER, SUBMIT_PATH, VERIFY_PATH

from . import store
from .beacon import (
    BeaconVerifyRequest,
    BeaconVerifyResponse,
    MetadataSubmitRequest,
    handle_beacon_verify,
    parse_submission,
)
from .config import LicenseConfig
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
    store.record_window(session, window, deployment=dep, tenant_id=tenant_id, license_id=license_id)
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
    tenant_id = None if principal.is_admin and all_tenants else principal.tenant_id
    found = store.usage_summary(session, tenant_id=tenant_id, month=month, deployment=deployment)
    rows = [UsageRow.model_validate(r) for r in found]
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
        deployments=store.deployment_count(session),
    )
