"""The beacon protocol, as pure code the control plane's endpoints call.

``POST /v1/beacon/verify``   ``{"license": <token>}`` -> ``{"token": <short-lived JWT>}``
``POST /v1/metadata/submit`` ``{license, from_timestamp, to_timestamp, tags{...}, measures{...}, logs[]}``
-> 204; the usage is stored per deployment and window under an idempotency key, so a resend
replaces instead of adding.

The short-lived token is an HS256 JWT signed with a secret of the control plane (derive it from
its settings); it names the license and licensee and expires after ``ttl``.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lgp_contract.usage import (
    IDEMPOTENCY_HEADER,
    MEASURE_NODES,
    MEASURE_RUNS,
    TAG_DEPLOYMENT,
    TAG_DEPLOYMENT_ID,
    TAG_NAMESPACE,
    TAG_TENANT,
    usage_key,
)

from .config import LicenseConfig
from .tokens import License

BEACON_AUDIENCE = "lgp-beacon"
DEFAULT_BEACON_TTL = timedelta(minutes=15)


def issue_beacon_token(
    license: License,
    signing_key: str | bytes,
    *,
    ttl: timedelta = DEFAULT_BEACON_TTL,
    now: datetime | None = None,
) -> str:
    """A short-lived HS256 JWT for a verified license."""
    if len(signing_key) < 32:
        raise ValueError("signing_key: must be at least 32 bytes")
    at = now or datetime.now(UTC)
    claims = {
        "iss": "lgp-control-plane",
        "aud": BEACON_AUDIENCE,
        "sub": license.licensee,
        "license_id": license.license_id,
        "plan": license.plan,
        "iat": int(at.timestamp()),
        "exp": int((at + ttl).timestamp()),
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, signing_key, algorithm="HS256")


def verify_beacon_token(
    token: str, signing_key: str | bytes, *, now: datetime | None = None
) -> dict[str, Any]:
    """The claims of a beacon token; raises jwt.PyJWTError if it is invalid or expired."""
    at = now or datetime.now(UTC)
    claims: dict[str, Any] = jwt.decode(
        token,
        signing_key,
        algorithms=["HS256"],
        audience=BEACON_AUDIENCE,
        options={
            "verify_exp": False,
            "verify_iat": False,
            "verify_nbf": False,
            "require": ["exp", "sub", "license_id"],
        },
    )
    if int(at.timestamp()) >= int(claims["exp"]):
        raise jwt.ExpiredSignatureError("the beacon token has expired")
    return claims


class BeaconVerifyRequest(BaseModel):
    license: str = Field(min_length=1)


class BeaconVerifyResponse(BaseModel):
    token: str


class MetadataSubmitRequest(BaseModel):
    """The ``/v1/metadata/submit`` payload, as the LangGraph server and our reporter send it."""

    model_config = ConfigDict(extra="allow")

    license: str | None = None
    from_timestamp: datetime
    to_timestamp: datetime
    tags: dict[str, Any] = Field(default_factory=dict)
    measures: dict[str, float | int] = Field(default_factory=dict)
    logs: list[Any] = Field(default_factory=list)

    @field_validator("from_timestamp", "to_timestamp")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        return v if v.tzinfo else v.replace(tzinfo=UTC)

    @field_validator("measures")
    @classmethod
    def _non_negative(cls, v: dict[str, float | int]) -> dict[str, float | int]:
        for k, n in v.items():
            if n < 0:
                raise ValueError(f"measure {k!r} must not be negative")
        return v


class UsageWindow(BaseModel):
    """One deployment's usage in one window, ready to upsert by ``idempotency_key``."""

    idempotency_key: str
    deployment: str
    deployment_id: str | None
    namespace: str | None
    tenant: str | None
    window_start: datetime
    window_end: datetime
    runs: int
    nodes: int
    month: str  # "YYYY-MM" of window_start (UTC): the summary bucket


def parse_submission(payload: Any, idempotency_key: str | None = None) -> UsageWindow:
    """Validate a submit payload and turn it into a :class:`UsageWindow`.

    Raises ``ValueError`` naming the field. Without an Idempotency-Key header, the key is derived
    from the deployment (id, else name) and window start, so a resend of the same window still
    replaces the earlier one.
    """
    try:
        req = (
            payload
            if isinstance(payload, MetadataSubmitRequest)
            else MetadataSubmitRequest.model_validate(payload)
        )
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValueError(f"{loc}: {first['msg']}") from None
    if req.to_timestamp <= req.from_timestamp:
        raise ValueError("to_timestamp: must be after from_timestamp")
    deployment = req.tags.get(TAG_DEPLOYMENT) or req.tags.get(TAG_DEPLOYMENT_ID)
    if not deployment or not isinstance(deployment, str):
        raise ValueError(f"tags.{TAG_DEPLOYMENT}: required (the deployment's name or id)")
    dep_id = req.tags.get(TAG_DEPLOYMENT_ID)
    start = req.from_timestamp.astimezone(UTC)
    key = (
        idempotency_key.strip()
        if idempotency_key and idempotency_key.strip()
        else usage_key(str(dep_id or deployment), start)
    )
    if len(key) > 200:
        raise ValueError(f"{IDEMPOTENCY_HEADER}: at most 200 characters")
    runs = req.measures.get(MEASURE_RUNS, 0)
    nodes = req.measures.get(MEASURE_NODES, 0)
    return UsageWindow(
        idempotency_key=key,
        deployment=deployment,
        deployment_id=str(dep_id) if dep_id else None,
        namespace=str(req.tags[TAG_NAMESPACE]) if req.tags.get(TAG_NAMESPACE) else None,
        tenant=str(req.tags[TAG_TENANT]) if req.tags.get(TAG_TENANT) else None,
        window_start=start,
        window_end=req.to_timestamp.astimezone(UTC),
        runs=int(runs),
        nodes=int(nodes),
        month=start.strftime("%Y-%m"),
    )


class UsageSummary(BaseModel):
    """Usage of one deployment (and tenant) in one month: what the summary API returns per row."""

    deployment: str
    deployment_id: str | None
    tenant: str | None
    month: str
    windows: int
    runs: int
    nodes: int


def summarize_usage(windows: Iterable[UsageWindow]) -> list[UsageSummary]:
    """Sum stored windows per (deployment id or name, tenant, month). Each window must appear once
    (the store keeps one row per idempotency key), so the sums count nothing twice."""
    rows: dict[tuple[str, str | None, str], UsageSummary] = {}
    for w in windows:
        key = (w.deployment_id or w.deployment, w.tenant, w.month)
        row = rows.get(key)
        if row is None:
            row = rows[key] = UsageSummary(
                deployment=w.deployment,
                deployment_id=w.deployment_id,
                tenant=w.tenant,
                month=w.month,
                windows=0,
                runs=0,
                nodes=0,
            )
        row.windows += 1
        row.runs += w.runs
        row.nodes += w.nodes
    return sorted(rows.values(), key=lambda r: (r.month, r.tenant or "", r.deployment))


def derive_beacon_secret(master_secret: str | bytes) -> bytes:
    """A key for beacon tokens derived from one of the control plane's secrets (HMAC-SHA256 with a
    fixed label), so no extra setting is needed and the master secret itself never signs tokens."""
    raw = master_secret.encode() if isinstance(master_secret, str) else master_secret
    if len(raw) < 16:
        raise ValueError("master_secret: must be at least 16 bytes")
    return hmac.new(raw, b"lgp-beacon-token/v1", hashlib.sha256).digest()


def handle_beacon_verify(
    payload: Any,
    config: LicenseConfig,
    signing_key: str | bytes,
    *,
    ttl: timedelta = DEFAULT_BEACON_TTL,
    now: datetime | None = None,
) -> tuple[int, dict[str, Any]]:
    """``POST /v1/beacon/verify`` as a pure function: ``(status code, JSON body)``.

    200 ``{"token": ...}`` for a usable license (VALID or IN_GRACE, the latter with ``"warning"``),
    403 ``{"reason", "message"}`` for a refused one, 422 ``{"detail": "<field>: <reason>"}`` for a bad body.
    """
    try:
        req = BeaconVerifyRequest.model_validate(payload)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "body"
        return 422, {"detail": f"{loc}: {first['msg']}"}
    state = config.evaluate(req.license, now=now)
    if not state.usable or state.license is None:
        assert state.error is not None
        return 403, state.error.to_dict()
    body: dict[str, Any] = {"token": issue_beacon_token(state.license, signing_key, ttl=ttl, now=now)}
    if state.warning:
        body["warning"] = state.warning
    return 200, body
