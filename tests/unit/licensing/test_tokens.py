"""License tokens: issue/verify round trip, and property tests for bit flips, wrong keys, clock skew,
not-before, expiry and the grace period (exact boundaries)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from control_plane.licensing import (
    LicenseState,
    LicenseStatus,
    Reason,
    evaluate_license,
    issue_license,
    key_id,
    verify_license,
)
from control_plane.licensing.keys import embedded_public_key

KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
NBF = datetime(2030, 1, 1, tzinfo=UTC)
EXP = datetime(2031, 1, 1, tzinfo=UTC)
LEEWAY = timedelta(minutes=5)
GRACE = timedelta(days=14)
MID = datetime(2030, 6, 1, tzinfo=UTC)


def _token(key: Ed25519PrivateKey = KEY, /, **kw: object) -> str:
    args: dict[str, object] = {
        "licensee": "Acme Corp",
        "plan": "enterprise",
        "not_before": NBF,
        "expires_at": EXP,
        "max_deployments": 5,
        "features": ["sso", "audit"],
        "issued_at": NBF,
    }
    args.update(kw)
    return issue_license(key, **args)  # type: ignore[arg-type]


TOKEN = _token()


def _eval(token: str | bytes, at: datetime, keys: dict[str, Ed25519PublicKey] = TRUSTED) -> LicenseState:
    return evaluate_license(token, keys, now=at, leeway=LEEWAY, grace=GRACE)


def _reason(state: LicenseState) -> Reason:
    assert state.error is not None, state.status
    return state.error.reason


def _message(state: LicenseState) -> str:
    assert state.error is not None, state.status
    return state.error.message


def test_round_trip_gives_every_claim() -> None:
    state = verify_license(TOKEN, TRUSTED, now=MID)
    assert state.status is LicenseStatus.VALID
    lic = state.license
    assert lic is not None
    assert (lic.licensee, lic.plan, lic.max_deployments) == ("Acme Corp", "enterprise", 5)
    assert lic.features == ("audit", "sso")
    assert (lic.not_before, lic.expires_at, lic.issued_at) == (NBF, EXP, NBF)
    assert lic.key_id == key_id(KEY.public_key())
    assert lic.license_id
    header = json.loads(base64.urlsafe_b64decode(TOKEN.split(".")[0] + "=="))
    assert header == {"alg": "EdDSA", "kid": key_id(KEY.public_key()), "typ": "JWT"}


def test_keys_may_be_given_as_a_list_and_the_embedded_key_is_an_ed25519_key() -> None:
    assert (
        verify_license(TOKEN, [OTHER.public_key(), KEY.public_key()], now=MID).status is LicenseStatus.VALID
    )
    assert len(key_id(embedded_public_key())) == 16


def _flip(token: str, index: int, bit: int) -> bytes:
    raw = bytearray(token.encode("ascii"))
    raw[index] ^= 1 << bit
    return bytes(raw)


@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_any_single_bit_flip_is_refused(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(TOKEN) - 1), label="index")
    bit = data.draw(st.integers(0, 7), label="bit")
    state = _eval(_flip(TOKEN, index, bit), MID)
    assert state.status is LicenseStatus.INVALID
    assert _reason(state) in (Reason.MALFORMED, Reason.TAMPERED, Reason.WRONG_KEY)


def test_every_single_bit_flip_in_the_whole_token_is_refused() -> None:
    """Exhaustive: all 8 bits of every byte. Never accepted. In the payload and signature a flip is
    tampering (or, when it makes a '.', a malformed token); in the header it may also rename the key."""
    header_len = TOKEN.index(".")
    header_reasons: set[Reason] = set()
    body_reasons: set[Reason] = set()
    for index in range(len(TOKEN)):
        for bit in range(8):
            state = _eval(_flip(TOKEN, index, bit), MID)
            assert not state.usable, (index, bit)
            (header_reasons if index < header_len else body_reasons).add(_reason(state))
    assert body_reasons <= {Reason.TAMPERED, Reason.MALFORMED} and Reason.TAMPERED in body_reasons
    assert header_reasons <= {Reason.TAMPERED, Reason.MALFORMED, Reason.WRONG_KEY}
    assert Reason.WRONG_KEY in header_reasons  # a flip inside the kid names an unknown key


def test_flipping_the_unused_low_bits_of_the_last_base64_character_is_refused() -> None:
    sig = TOKEN.rsplit(".", 1)[1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    # 64 bytes -> 86 chars: the last char carries 2 data bits, the low 4 bits are padding
    for pad in range(1, 16):
        twin = TOKEN[:-1] + alphabet[last ^ pad]
        assert base64.urlsafe_b64decode(twin.rsplit(".", 1)[1] + "==") == base64.urlsafe_b64decode(sig + "==")
        state = _eval(twin, MID)
        assert _reason(state) is Reason.TAMPERED


@settings(max_examples=30, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32))
def test_a_token_from_an_untrusted_key_is_refused_as_wrong_key(seed: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    if key_id(key.public_key()) in TRUSTED:
        return
    state = _eval(_token(key), MID)
    assert state.status is LicenseStatus.INVALID
    assert _reason(state) is Reason.WRONG_KEY


def test_a_forged_kid_naming_a_trusted_key_is_tampered_and_no_kid_with_a_wrong_key_is_wrong_key() -> None:
    import jwt

    forged = jwt.encode({"x": 1}, OTHER, algorithm="EdDSA", headers={"kid": key_id(KEY.public_key())})
    assert _reason(_eval(forged, MID)) is Reason.TAMPERED
    anonymous = jwt.encode({"x": 1}, OTHER, algorithm="EdDSA")
    assert _reason(_eval(anonymous, MID)) is Reason.WRONG_KEY


def test_a_token_signed_with_another_algorithm_is_refused() -> None:
    import jwt

    hs = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256", headers={"kid": key_id(KEY.public_key())})
    assert _reason(_eval(hs, MID)) is Reason.TAMPERED
    none = jwt.encode({"sub": "x"}, None, algorithm="none")  # type: ignore[arg-type]
    assert not _eval(none, MID).usable


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", Reason.MISSING),
        ("not a token", Reason.MALFORMED),
        ("a.b", Reason.MALFORMED),
        ("a.b.c.d", Reason.MALFORMED),
        ("!!!.e30.e30", Reason.MALFORMED),
        (b"\xff\xfe.x.y", Reason.MALFORMED),
    ],
)
def test_malformed_input_has_its_own_reason(token: str | bytes, reason: Reason) -> None:
    state = _eval(token, MID)
    assert not state.usable
    assert _reason(state) is reason


@settings(deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_arbitrary_input_never_validates(garbage: str | bytes) -> None:
    assert not _eval(garbage, MID).usable


# ------------------------------------------------------------------ time: skew, not-before, expiry, grace
@settings(max_examples=200, deadline=None)
@given(skew=st.integers(0, int(LEEWAY.total_seconds())))
def test_clock_behind_within_leeway_accepts_a_just_starting_license(skew: int) -> None:
    assert _eval(TOKEN, NBF - timedelta(seconds=skew)).status is LicenseStatus.VALID


@settings(max_examples=200, deadline=None)
@given(beyond=st.integers(1, 10**8))
def test_clock_behind_beyond_leeway_is_not_yet_valid(beyond: int) -> None:
    state = _eval(TOKEN, NBF - LEEWAY - timedelta(seconds=beyond))
    assert state.status is LicenseStatus.NOT_YET_VALID
    assert _reason(state) is Reason.NOT_YET_VALID
    assert state.license is not None


@settings(max_examples=200, deadline=None)
@given(skew=st.integers(0, int(LEEWAY.total_seconds()) - 1))
def test_clock_ahead_within_leeway_keeps_an_expiring_license_valid(skew: int) -> None:
    assert _eval(TOKEN, EXP + timedelta(seconds=skew)).status is LicenseStatus.VALID


def test_expiry_and_grace_boundaries_are_exact() -> None:
    second, micro = timedelta(seconds=1), timedelta(microseconds=1)
    end_valid = EXP + LEEWAY
    end_grace = EXP + LEEWAY + GRACE
    assert _eval(TOKEN, end_valid - micro).status is LicenseStatus.VALID
    assert _eval(TOKEN, end_valid).status is LicenseStatus.IN_GRACE
    assert _eval(TOKEN, end_grace - micro).status is LicenseStatus.IN_GRACE
    expired = _eval(TOKEN, end_grace)
    assert expired.status is LicenseStatus.EXPIRED
    assert _reason(expired) is Reason.EXPIRED
    assert "running servers keep serving" in _message(expired)
    assert _eval(TOKEN, NBF - LEEWAY).status is LicenseStatus.VALID
    assert _eval(TOKEN, NBF - LEEWAY - micro).status is LicenseStatus.NOT_YET_VALID
    assert _eval(TOKEN, NBF - LEEWAY - second).status is LicenseStatus.NOT_YET_VALID


@settings(max_examples=300, deadline=None)
@given(offset=st.integers(-(10**9), 10**9))
def test_status_is_a_function_of_time_alone(offset: int) -> None:
    at = EXP + timedelta(seconds=offset)
    state = _eval(TOKEN, at)
    if at < NBF - LEEWAY:
        expected = LicenseStatus.NOT_YET_VALID
    elif at < EXP + LEEWAY:
        expected = LicenseStatus.VALID
    elif at < EXP + LEEWAY + GRACE:
        expected = LicenseStatus.IN_GRACE
    else:
        expected = LicenseStatus.EXPIRED
    assert state.status is expected
    assert state.usable is (expected in (LicenseStatus.VALID, LicenseStatus.IN_GRACE))


def test_in_grace_carries_a_warning_with_the_dates() -> None:
    state = _eval(TOKEN, EXP + LEEWAY + timedelta(days=1))
    assert state.warning and "grace period ends on" in state.warning
    assert _eval(TOKEN, MID).warning is None


def test_verify_license_raises_with_the_reason() -> None:
    from control_plane.licensing import LicenseError

    with pytest.raises(LicenseError) as e:
        verify_license(TOKEN, TRUSTED, now=EXP + LEEWAY + GRACE)
    assert e.value.reason is Reason.EXPIRED and e.value.http_status == 403
    assert TOKEN not in str(e.value)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"licensee": " "}, "licensee"),
        ({"plan": ""}, "plan"),
        ({"max_deployments": -1}, "max_deployments"),
        ({"expires_at": NBF}, "expires_at"),
        ({"features": [""]}, "features"),
    ],
)
def test_issue_names_the_bad_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        _token(KEY, **kw)


def test_unlimited_deployments_and_no_features() -> None:
    lic = verify_license(_token(max_deployments=None, features=[]), TRUSTED, now=MID).license
    assert lic is not None and lic.max_deployments is None and lic.features == ()
