"""Entitlement checks: the deployment cap, the grace period warning, refusals after grace, features."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from control_plane.licensing import (
    LicenseError,
    LicenseState,
    Reason,
    check_can_create_deployment,
    check_can_create_revision,
    check_feature,
    evaluate_license,
    issue_license,
)

KEY = Ed25519PrivateKey.generate()
NBF = datetime(2030, 1, 1, tzinfo=UTC)
EXP = datetime(2031, 1, 1, tzinfo=UTC)
GRACE = timedelta(days=7)


def _state(
    at: datetime, max_deployments: int | None = 2, features: tuple[str, ...] = ("sso",)
) -> LicenseState:
    token = issue_license(
        KEY,
        licensee="Acme",
        plan="team",
        not_before=NBF,
        expires_at=EXP,
        max_deployments=max_deployments,
        features=features,
    )
    return evaluate_license(token, [KEY.public_key()], now=at, leeway=timedelta(0), grace=GRACE)


VALID = _state(datetime(2030, 6, 1, tzinfo=UTC))
IN_GRACE = _state(EXP + timedelta(days=1))
EXPIRED = _state(EXP + GRACE)
EARLY = _state(NBF - timedelta(days=1))


def test_below_the_cap_is_allowed_without_warning() -> None:
    assert check_can_create_deployment(VALID, 0) is None
    assert check_can_create_deployment(VALID, 1) is None


def test_at_the_cap_is_refused_with_403_and_says_why() -> None:
    with pytest.raises(LicenseError) as e:
        check_can_create_deployment(VALID, 2)
    assert e.value.reason is Reason.DEPLOYMENT_CAP
    assert e.value.http_status == 403
    assert "at most 2 deployment(s) and 2 exist" in e.value.message
    assert e.value.to_dict() == {"reason": "deployment_cap_reached", "message": e.value.message}


def test_no_cap_means_unlimited() -> None:
    state = _state(datetime(2030, 6, 1, tzinfo=UTC), max_deployments=None)
    assert check_can_create_deployment(state, 10_000) is None


def test_in_grace_allows_new_deployments_and_revisions_with_a_warning() -> None:
    warning = check_can_create_deployment(IN_GRACE, 0)
    assert warning and "expired" in warning
    assert check_can_create_revision(IN_GRACE) == warning


def test_in_grace_still_enforces_the_cap() -> None:
    with pytest.raises(LicenseError) as e:
        check_can_create_deployment(IN_GRACE, 2)
    assert e.value.reason is Reason.DEPLOYMENT_CAP


@pytest.mark.parametrize(("state", "reason"), [(EXPIRED, Reason.EXPIRED), (EARLY, Reason.NOT_YET_VALID)])
def test_after_grace_or_before_start_new_deployments_and_revisions_are_refused(
    state: LicenseState, reason: Reason
) -> None:
    for call in (lambda: check_can_create_deployment(state, 0), lambda: check_can_create_revision(state)):
        with pytest.raises(LicenseError) as e:
            call()
        assert e.value.reason is reason and e.value.http_status == 403
        assert e.value.message.startswith("creating a")


def test_missing_and_invalid_licenses_are_refused_with_their_reason() -> None:
    with pytest.raises(LicenseError) as e:
        check_can_create_deployment(LicenseState.missing(), 0)
    assert e.value.reason is Reason.MISSING
    bad = evaluate_license("x.y.z", [KEY.public_key()])
    with pytest.raises(LicenseError) as e:
        check_can_create_revision(bad)
    assert e.value.reason is Reason.MALFORMED


def test_features() -> None:
    assert check_feature(VALID, "sso") is None
    with pytest.raises(LicenseError) as e:
        check_feature(VALID, "rbac")
    assert e.value.reason is Reason.FEATURE_NOT_LICENSED and "'rbac'" in e.value.message


def test_negative_count_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="current_count"):
        check_can_create_deployment(VALID, -1)
