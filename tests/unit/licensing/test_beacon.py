"""Beacon protocol helpers: the short-lived token, submit payload validation and idempotency keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from control_plane.licensing import (
    License,
    LicenseConfig,
    derive_beacon_secret,
    handle_beacon_verify,
    issue_beacon_token,
    issue_license,
    key_id,
    parse_submission,
    usage_key,
    verify_beacon_token,
    verify_license,
)
from tests.tamper import flip_signature_byte

KEY = Ed25519PrivateKey.generate()
NOW = datetime(2030, 3, 1, 12, tzinfo=UTC)
SECRET = "s" * 32
_LIC = verify_license(
    issue_license(KEY, licensee="Acme", plan="p", expires_at=NOW + timedelta(days=30), issued_at=NOW),
    [KEY.public_key()],
    now=NOW,
).license
assert _LIC is not None
LICENSE: License = _LIC


def _payload(**kw: object) -> dict[str, object]:
    body: dict[str, object] = {
        "license": "tok",
        "from_timestamp": "2030-03-01T10:00:00+00:00",
        "to_timestamp": "2030-03-01T11:00:00+00:00",
        "tags": {
            "langgraph.platform.deployment": "agent",
            "langgraph.platform.deployment_id": "uid-1",
            "langgraph.platform.namespace": "team-a",
        },
        "measures": {"langgraph.platform.runs": 7, "langgraph.platform.nodes": 21},
        "logs": [],
    }
    body.update(kw)
    return body


def test_beacon_token_round_trip_and_expiry() -> None:
    token = issue_beacon_token(LICENSE, SECRET, ttl=timedelta(minutes=10), now=NOW)
    claims = verify_beacon_token(token, SECRET, now=NOW + timedelta(minutes=9))
    assert claims["sub"] == "Acme" and claims["license_id"] == LICENSE.license_id
    with pytest.raises(jwt.ExpiredSignatureError):
        verify_beacon_token(token, SECRET, now=NOW + timedelta(minutes=10))
    with pytest.raises(jwt.InvalidSignatureError):
        verify_beacon_token(token, "t" * 32, now=NOW)


def test_beacon_token_needs_a_real_secret() -> None:
    with pytest.raises(ValueError, match="signing_key"):
        issue_beacon_token(LICENSE, "short")


def test_submission_is_parsed_into_a_window() -> None:
    w = parse_submission(_payload(), "key-1")
    assert (w.idempotency_key, w.deployment, w.deployment_id, w.namespace) == (
        "key-1",
        "agent",
        "uid-1",
        "team-a",
    )
    assert (w.runs, w.nodes, w.month) == (7, 21, "2030-03")
    assert w.window_start == datetime(2030, 3, 1, 10, tzinfo=UTC)


def test_without_a_header_the_key_is_derived_from_deployment_id_and_window() -> None:
    w = parse_submission(_payload())
    assert w.idempotency_key == usage_key("uid-1", datetime(2030, 3, 1, 10, tzinfo=UTC))
    assert parse_submission(_payload()).idempotency_key == w.idempotency_key


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"from_timestamp": "yesterday"}, "from_timestamp"),
        ({"to_timestamp": "2030-03-01T09:00:00+00:00"}, "to_timestamp"),
        ({"tags": {}}, "tags.langgraph.platform.deployment"),
        ({"measures": {"langgraph.platform.runs": -1}}, "measures"),
    ],
)
def test_bad_submissions_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_submission(_payload(**change))
    assert str(e.value).startswith(field)


def test_usage_key_is_stable_and_distinct() -> None:
    t = datetime(2030, 1, 1, tzinfo=UTC)
    assert usage_key("a", t) == usage_key("a", t.astimezone(UTC))
    assert usage_key("a", t) != usage_key("b", t)
    assert usage_key("a", t) != usage_key("a", t + timedelta(hours=1))
    # pinned: the usage reporter (lgp_operator.usage) computes the same key without importing this module
    assert usage_key("a", t) == "919dac97247ff882e4e73e459ec3a4c19bd27f5b6c03abfa3a64e619cc84ae6f"


def test_handle_beacon_verify_answers_token_refusal_or_field_error() -> None:
    cfg = LicenseConfig(token=None, public_keys={key_id(KEY.public_key()): KEY.public_key()})
    token = issue_license(KEY, licensee="Acme", plan="p", expires_at=NOW + timedelta(days=1), issued_at=NOW)
    secret = derive_beacon_secret("control-plane-secret-key")
    code, body = handle_beacon_verify({"license": token}, cfg, secret, now=NOW)
    assert code == 200 and verify_beacon_token(body["token"], secret, now=NOW)["sub"] == "Acme"
    code, body = handle_beacon_verify({"license": token}, cfg, secret, now=NOW + timedelta(days=2))
    assert code == 200 and "grace period" in body["warning"]
    code, body = handle_beacon_verify({"license": flip_signature_byte(token)}, cfg, secret, now=NOW)
    assert (code, body["reason"]) == (403, "license_tampered")
    code, body = handle_beacon_verify({"licence": token}, cfg, secret, now=NOW)
    assert code == 422 and body["detail"].startswith("license:")
    assert derive_beacon_secret("control-plane-secret-key") == secret != derive_beacon_secret("x" * 16)
    with pytest.raises(ValueError, match="master_secret"):
        derive_beacon_secret("short")
