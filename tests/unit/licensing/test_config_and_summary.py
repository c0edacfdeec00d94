"""The installation's license from the environment (token, key file, grace, leeway) and the monthly
usage summary per deployment and tenant."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from control_plane.licensing import (
    LicenseConfig,
    LicenseStatus,
    Reason,
    UsageWindow,
    issue_license,
    parse_submission,
    summarize_usage,
)
from control_plane.licensing.keys import raw_public_bytes

KEY = Ed25519PrivateKey.generate()
PUB = base64.b64encode(raw_public_bytes(KEY.public_key())).decode()
EXP = datetime(2031, 1, 1, tzinfo=UTC)
TOKEN = issue_license(KEY, licensee="A", plan="p", expires_at=EXP, not_before=EXP - timedelta(days=365))


def test_from_env_with_a_self_issued_key_and_custom_grace(tmp_path: Path) -> None:
    cfg = LicenseConfig.from_env(
        {
            "LGP_LICENSE_KEY": TOKEN,
            "LGP_LICENSE_PUBLIC_KEYS": PUB,
            "LGP_LICENSE_GRACE_DAYS": "2",
            "LGP_LICENSE_LEEWAY_SECONDS": "0",
        }
    )
    assert cfg.state(EXP - timedelta(seconds=1)).status is LicenseStatus.VALID
    assert cfg.state(EXP + timedelta(days=1)).status is LicenseStatus.IN_GRACE
    assert cfg.state(EXP + timedelta(days=2)).status is LicenseStatus.EXPIRED
    (tmp_path / "lic").write_text(TOKEN + "\n")
    cfg = LicenseConfig.from_env(
        {"LGP_LICENSE_KEY_FILE": str(tmp_path / "lic"), "LGP_LICENSE_PUBLIC_KEYS": PUB}
    )
    assert cfg.token == TOKEN and TOKEN not in repr(cfg)


def test_no_license_and_untrusted_key_states() -> None:
    assert LicenseConfig.from_env({}).state().status is LicenseStatus.MISSING
    state = LicenseConfig.from_env({"LGP_LICENSE_KEY": TOKEN}).state(EXP - timedelta(days=1))
    assert state.error is not None and state.error.reason is Reason.WRONG_KEY


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"LGP_LICENSE_GRACE_DAYS": "soon"}, "LGP_LICENSE_GRACE_DAYS"),
        ({"LGP_LICENSE_LEEWAY_SECONDS": "-1"}, "must not be negative"),
        ({"LGP_LICENSE_KEY_FILE": "/nonexistent/lic"}, "LGP_LICENSE_KEY_FILE: cannot read"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LicenseConfig.from_env(env)


def _window(dep: str, tenant: str | None, start: datetime, runs: int) -> UsageWindow:
    tags = {"langgraph.platform.deployment": dep, "langgraph.platform.deployment_id": f"id-{dep}"}
    if tenant:
        tags["langgraph.platform.tenant"] = tenant
    return parse_submission(
        {
            "from_timestamp": start.isoformat(),
            "to_timestamp": (start + timedelta(hours=1)).isoformat(),
            "tags": tags,
            "measures": {"langgraph.platform.runs": runs, "langgraph.platform.nodes": 2 * runs},
        }
    )


def test_summary_per_deployment_tenant_and_month() -> None:
    may, june = datetime(2030, 5, 31, 23, tzinfo=UTC), datetime(2030, 6, 1, tzinfo=UTC)
    rows = summarize_usage(
        [
            _window("a", "acme", may, 1),
            _window("a", "acme", may - timedelta(hours=1), 2),
            _window("a", "acme", june, 4),
            _window("b", None, june, 8),
        ]
    )
    assert [(r.month, r.deployment, r.tenant, r.windows, r.runs, r.nodes) for r in rows] == [
        ("2030-05", "a", "acme", 2, 3, 6),
        ("2030-06", "b", None, 1, 8, 16),
        ("2030-06", "a", "acme", 1, 4, 8),
    ]
