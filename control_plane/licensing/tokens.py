"""License tokens: JWTs signed with Ed25519 (JWS ``alg: EdDSA``), issued and verified here.

Header: ``{"alg": "EdDSA", "typ": "JWT", "kid": <key id>}``. Claims:

========================  ==================================================================
``iss``                   ``"lgp"``
``jti``                   the license id (random UUID, or given)
``sub`` / ``licensee``    who the license is for (both hold the same string)
``plan``                  plan name, e.g. ``enterprise``
``iat`` / ``nbf`` / ``exp`` issued-at, not-before, expiry (integer Unix seconds)
``max_deployments``       integer cap on deployments, or ``null`` for no cap
``features``              list of feature names
``ver``                   claim schema version (1)
========================  ==================================================================

Time rules, with ``leeway`` the tolerated clock skew and ``grace`` the period after expiry:

- ``now < nbf - leeway``                        -> refused, reason ``not_yet_valid``
- ``now < exp + leeway``                        -> ``VALID``
- ``exp + leeway <= now < exp + leeway + grace`` -> ``IN_GRACE`` (works, with a warning)
- ``now >= exp + leeway + grace``               -> refused, reason ``expired``

Every token is checked byte for byte: each base64url segment must be in canonical form, so no
change to the token text (not even in the unused bits of the last base64 character) is accepted.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .keys import key_id, keyring

ISSUER = "lgp"
CLAIMS_VERSION = 1
DEFAULT_LEEWAY = timedelta(minutes=5)
DEFAULT_GRACE = timedelta(days=14)


class LicenseStatus(enum.StrEnum):
    VALID = "valid"
    IN_GRACE = "in_grace"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    INVALID = "invalid"
    MISSING = "missing"


class Reason(enum.StrEnum):
    """Why a token was refused (or an entitlement denied): stable codes for APIs and logs."""

    MISSING = "license_missing"
    MALFORMED = "license_malformed"
    TAMPERED = "license_tampered"
    WRONG_KEY = "license_wrong_key"
    EXPIRED = "license_expired"
    NOT_YET_VALID = "license_not_yet_valid"
    DEPLOYMENT_CAP = "deployment_cap_reached"
    FEATURE_NOT_LICENSED = "feature_not_licensed"


class LicenseError(Exception):
    """A refused license or entitlement. ``reason`` is a :class:`Reason`, ``message`` says why in words.

    ``http_status`` is what an API should answer (403), ``license`` the claims when the signature was
    good (an expired license still says whose it was). The message never contains the token.
    """

    def __init__(
        self,
        reason: Reason,
        message: str,
        *,
        http_status: int = 403,
        license: License | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.http_status = http_status
        self.license = license

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason.value, "message": self.message}

    def __repr__(self) -> str:
        return f"LicenseError({self.reason.value!r}, {self.message!r})"


@dataclass(frozen=True)
class License:
    """The verified claims of a license token."""

    license_id: str
    licensee: str
    plan: str
    issued_at: datetime
    not_before: datetime
    expires_at: datetime
    max_deployments: int | None
    features: tuple[str, ...]
    key_id: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def has_feature(self, feature: str) -> bool:
        return feature in self.features

    def to_dict(self) -> dict[str, Any]:
        return {
            "license_id": self.license_id,
            "licensee": self.licensee,
            "plan": self.plan,
            "issued_at": self.issued_at.isoformat(),
            "not_before": self.not_before.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "max_deployments": self.max_deployments,
            "features": list(self.features),
            "key_id": self.key_id,
        }


@dataclass(frozen=True)
class LicenseState:
    """The outcome of checking the configured license at a point in time; never raises.

    ``license`` is set when the signature verified (also for EXPIRED / NOT_YET_VALID),
    ``error`` when the status is not VALID / IN_GRACE, ``grace_ends_at`` for a verified license.
    """

    status: LicenseStatus
    license: License | None = None
    error: LicenseError | None = None
    checked_at: datetime | None = None
    grace_ends_at: datetime | None = None

    @property
    def usable(self) -> bool:
        """True when new deployments and revisions are allowed by time (VALID or IN_GRACE)."""
        return self.status in (LicenseStatus.VALID, LicenseStatus.IN_GRACE)

    @property
    def warning(self) -> str | None:
        if self.status is LicenseStatus.IN_GRACE and self.license and self.grace_ends_at:
            return (
                f"the license expired on {self.license.expires_at.isoformat()}; new deployments and "
                f"revisions are refused after the grace period ends on {self.grace_ends_at.isoformat()}"
            )
        return None

    @classmethod
    def missing(cls, now: datetime | None = None) -> LicenseState:
        err = LicenseError(Reason.MISSING, "no license is configured")
        return cls(LicenseStatus.MISSING, error=err, checked_at=now)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "license": self.license.to_dict() if self.license else None,
            "reason": self.error.reason.value if self.error else None,
            "message": self.error.message if self.error else self.warning,
            "grace_ends_at": self.grace_ends_at.isoformat() if self.grace_ends_at else None,
        }


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


def _ts(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return int(dt.timestamp())


def _dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def issue_license(
    private_key: Ed25519PrivateKey,
    *,
    licensee: str,
    plan: str,
    expires_at: datetime,
    not_before: datetime | None = None,
    max_deployments: int | None = None,
    features: Iterable[str] = (),
    license_id: str | None = None,
    issued_at: datetime | None = None,
) -> str:
    """A signed license token. Raises ValueError naming the field for bad input."""
    if not licensee.strip():
        raise ValueError("licensee: must not be empty")
    if not plan.strip():
        raise ValueError("plan: must not be empty")
    if max_deployments is not None and (isinstance(max_deployments, bool) or max_deployments < 0):
        raise ValueError("max_deployments: must be a non-negative integer or None")
    iat = _now(issued_at)
    nbf = not_before or iat
    if _ts(expires_at) <= _ts(nbf):
        raise ValueError("expires_at: must be after not_before")
    feats = sorted(set(features))
    if any(not isinstance(f, str) or not f.strip() for f in feats):
        raise ValueError("features: each feature must be a non-empty string")
    claims = {
        "iss": ISSUER,
        "jti": license_id or str(uuid.uuid4()),
        "sub": licensee,
        "licensee": licensee,
        "plan": plan,
        "iat": _ts(iat),
        "nbf": _ts(nbf),
        "exp": _ts(expires_at),
        "max_deployments": max_deployments,
        "features": feats,
        "ver": CLAIMS_VERSION,
    }
    kid = key_id(private_key.public_key())
    return jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid, "typ": "JWT"})


def _b64url_decode_strict(segment: str) -> bytes:
    """Decode one base64url segment, refusing any non-canonical spelling."""
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != segment:
        raise ValueError("not canonical base64url")
    return raw


def _claims_to_license(claims: Mapping[str, Any], kid: str) -> License:
    def need(name: str, typ: type | tuple[type, ...]) -> Any:
        value = claims.get(name)
        if not isinstance(value, typ) or isinstance(value, bool):
            raise ValueError(f"claim {name!r} is missing or has the wrong type")
        return value

    licensee = claims.get("licensee", claims.get("sub"))
    if not isinstance(licensee, str) or not licensee:
        raise ValueError("claim 'licensee' (or 'sub') is missing")
    max_dep = claims.get("max_deployments")
    if max_dep is not None and (not isinstance(max_dep, int) or isinstance(max_dep, bool) or max_dep < 0):
        raise ValueError("claim 'max_deployments' must be a non-negative integer or null")
    features = claims.get("features", [])
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise ValueError("claim 'features' must be a list of strings")
    known = {
        "iss",
        "jti",
        "sub",
        "licensee",
        "plan",
        "iat",
        "nbf",
        "exp",
        "max_deployments",
        "features",
        "ver",
    }
    return License(
        license_id=need("jti", str),
        licensee=licensee,
        plan=need("plan", str),
        issued_at=_dt(need("iat", int)),
        not_before=_dt(need("nbf", int)),
        expires_at=_dt(need("exp", int)),
        max_deployments=max_dep,
        features=tuple(features),
        key_id=kid,
        extra={k: v for k, v in claims.items() if k not in known},
    )


def _decode(
    token: str | bytes, public_keys: Mapping[str, Ed25519PublicKey] | Iterable[Ed25519PublicKey]
) -> License:
    """Signature and shape checks only (no time rules). Raises LicenseError."""
    keys = dict(public_keys) if isinstance(public_keys, Mapping) else keyring(list(public_keys))
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise LicenseError(Reason.MALFORMED, "the license token is not ASCII text") from None
    token = token.strip()
    if not token:
        raise LicenseError(Reason.MISSING, "no license token was given")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise LicenseError(
            Reason.MALFORMED, "the license token is not a JWS compact token (three dot-separated parts)"
        )
    try:
        header = json.loads(_b64url_decode_strict(parts[0]))
    except ValueError:
        raise LicenseError(
            Reason.MALFORMED, "the license token header is not base64url-encoded JSON"
        ) from None
    if not isinstance(header, dict):
        raise LicenseError(Reason.MALFORMED, "the license token header is not a JSON object")
    try:
        _b64url_decode_strict(parts[1])
        _b64url_decode_strict(parts[2])
    except ValueError:
        # The signature covers the text of header and payload; a non-canonical payload or
        # signature segment can only come from a change after signing.
        raise LicenseError(Reason.TAMPERED, "the license token was altered after signing") from None
    if header.get("alg") != "EdDSA":
        raise LicenseError(Reason.TAMPERED, "the license token is not signed with EdDSA (Ed25519)")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise LicenseError(Reason.MALFORMED, "the license token's key id (kid) is not a string")
    if kid is not None:
        key = keys.get(kid)
        if key is None:
            raise LicenseError(
                Reason.WRONG_KEY,
                f"the license is signed with a key this installation does not trust (key id {kid}); "
                "set LGP_LICENSE_PUBLIC_KEYS for a self-issued key",
            )
        candidates = [(kid, key)]
    else:
        candidates = list(keys.items())
    claims: Any = None
    used_kid = ""
    for cand_kid, key in candidates:
        try:
            payload = jwt.PyJWS().decode(token, key, algorithms=["EdDSA"])
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError:
            raise LicenseError(Reason.TAMPERED, "the license token was altered after signing") from None
        try:
            claims = json.loads(payload)
        except ValueError:
            raise LicenseError(Reason.MALFORMED, "the license token's claims are not JSON") from None
        used_kid = cand_kid
        break
    else:
        if kid is not None:
            raise LicenseError(Reason.TAMPERED, "the license token's signature does not match its content")
        raise LicenseError(Reason.WRONG_KEY, "the license signature matches none of the trusted keys")
    if not isinstance(claims, dict):
        raise LicenseError(Reason.MALFORMED, "the license token's claims are not a JSON object")
    try:
        return _claims_to_license(claims, used_kid)
    except ValueError as e:
        raise LicenseError(Reason.MALFORMED, f"the license token's claims are invalid: {e}") from None


def evaluate_license(
    token: str | bytes | None,
    public_keys: Mapping[str, Ed25519PublicKey] | Iterable[Ed25519PublicKey],
    *,
    now: datetime | None = None,
    leeway: timedelta = DEFAULT_LEEWAY,
    grace: timedelta = DEFAULT_GRACE,
) -> LicenseState:
    """Check a token at ``now`` and say what it allows. Never raises for a bad token."""
    at = _now(now)
    if token is None or (isinstance(token, str | bytes) and not token.strip()):
        return LicenseState.missing(at)
    try:
        lic = _decode(token, public_keys)
    except LicenseError as e:
        status = LicenseStatus.MISSING if e.reason is Reason.MISSING else LicenseStatus.INVALID
        return LicenseState(status, error=e, checked_at=at)
    grace_end = lic.expires_at + leeway + grace
    if at < lic.not_before - leeway:
        err = LicenseError(
            Reason.NOT_YET_VALID,
            f"the license is not valid before {lic.not_before.isoformat()}",
            license=lic,
        )
        return LicenseState(LicenseStatus.NOT_YET_VALID, lic, err, at, grace_end)
    if at < lic.expires_at + leeway:
        return LicenseState(LicenseStatus.VALID, lic, None, at, grace_end)
    if at < grace_end:
        return LicenseState(LicenseStatus.IN_GRACE, lic, None, at, grace_end)
    err = LicenseError(
        Reason.EXPIRED,
        f"the license expired on {lic.expires_at.isoformat()} and its grace period ended on "
        f"{grace_end.isoformat()}; running servers keep serving, but new deployments and revisions "
        "need a renewed license",
        license=lic,
    )
    return LicenseState(LicenseStatus.EXPIRED, lic, err, at, grace_end)


def verify_license(
    token: str | bytes,
    public_keys: Mapping[str, Ed25519PublicKey] | Iterable[Ed25519PublicKey],
    *,
    now: datetime | None = None,
    leeway: timedelta = DEFAULT_LEEWAY,
    grace: timedelta = DEFAULT_GRACE,
) -> LicenseState:
    """Like :func:`evaluate_license`, but raises :class:`LicenseError` unless VALID or IN_GRACE."""
    state = evaluate_license(token, public_keys, now=now, leeway=leeway, grace=grace)
    if state.error is not None:
        raise state.error
    return state
