"""Trusted key settings (embedded, env, key file) and the `lgp license` keygen, issue and verify commands."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from control_plane.licensing import KeyLoadError, key_id, load_trusted_keys
from control_plane.licensing.cli import main
from control_plane.licensing.keys import embedded_public_key, public_key_pem, raw_public_bytes
from tests.tamper import flip_signature_byte

K1, K2 = Ed25519PrivateKey.generate().public_key(), Ed25519PrivateKey.generate().public_key()
EMBEDDED = key_id(embedded_public_key())


def test_embedded_key_is_trusted_by_default_and_can_be_turned_off() -> None:
    assert set(load_trusted_keys({})) == {EMBEDDED}
    assert load_trusted_keys({"LGP_LICENSE_TRUST_EMBEDDED_KEY": "false"}) == {}


def test_env_accepts_pem_and_base64_raw_keys(tmp_path: Path) -> None:
    env = {
        "LGP_LICENSE_PUBLIC_KEYS": public_key_pem(K1).decode()
        + ","
        + base64.b64encode(raw_public_bytes(K2)).decode()
    }
    assert set(load_trusted_keys(env)) == {EMBEDDED, key_id(K1), key_id(K2)}
    f = tmp_path / "keys.pem"
    f.write_bytes(public_key_pem(K2))
    assert set(load_trusted_keys({"LGP_LICENSE_PUBLIC_KEYS_FILE": str(f)})) == {EMBEDDED, key_id(K2)}


@pytest.mark.parametrize("value", ["not-base64!", base64.b64encode(b"short").decode()])
def test_a_bad_key_setting_names_the_setting(value: str) -> None:
    with pytest.raises(KeyLoadError, match="LGP_LICENSE_PUBLIC_KEYS: item #1"):
        load_trusted_keys({"LGP_LICENSE_PUBLIC_KEYS": value})


def test_cli_keygen_issue_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LGP_LICENSE_PUBLIC_KEYS", raising=False)
    monkeypatch.delenv("LGP_LICENSE_PUBLIC_KEYS_FILE", raising=False)
    assert main(["keygen", "--out", str(tmp_path / "k")]) == 0
    assert (tmp_path / "k" / "private.pem").stat().st_mode & 0o077 == 0
    assert main(["keygen", "--out", str(tmp_path / "k")]) == 1  # never overwrites silently
    capsys.readouterr()
    args = [
        "issue",
        "--private-key",
        str(tmp_path / "k" / "private.pem"),
        "--licensee",
        "Acme",
        "--plan",
        "team",
    ]
    assert (
        main([*args, "--days", "30", "--max-deployments", "3", "--feature", "sso", "--feature", "audit"]) == 0
    )
    token = capsys.readouterr().out.strip()

    assert main(["verify", token]) == 1  # only the embedded key is trusted
    assert "license_wrong_key" in capsys.readouterr().err
    assert main(["verify", token, "--public-key", str(tmp_path / "k" / "public.pem")]) == 0
    out = capsys.readouterr().out
    assert '"licensee": "Acme"' in out and '"max_deployments": 3' in out and '"status": "valid"' in out
    monkeypatch.setenv("LGP_LICENSE_PUBLIC_KEYS_FILE", str(tmp_path / "k" / "public.pem"))
    assert main(["verify", flip_signature_byte(token)]) == 1
    assert "license_tampered" in capsys.readouterr().err


def test_cli_issue_in_the_past_is_expired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["keygen", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("LGP_LICENSE_PUBLIC_KEYS_FILE", str(tmp_path / "public.pem"))
    args = [
        "issue",
        "--private-key",
        str(tmp_path / "private.pem"),
        "--licensee",
        "A",
        "--plan",
        "p",
        "--days",
        "1",
    ]
    assert main([*args, "--not-before", "2001-01-01"]) == 0
    token = capsys.readouterr().out.strip()
    assert main(["verify", token]) == 1
    assert "license_expired" in capsys.readouterr().err
    assert main(["verify", token, "--grace-days", "100000"]) == 0


def test_cli_reports_bad_key_file_and_bad_days(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.pem").write_text("nonsense")
    base = ["issue", "--licensee", "A", "--plan", "p"]
    assert main([*base, "--private-key", str(tmp_path / "bad.pem"), "--days", "1"]) == 2
    assert "not an Ed25519 private key" in capsys.readouterr().err
    assert main([*base, "--private-key", str(tmp_path / "missing.pem"), "--days", "1"]) == 2
    assert main([*base, "--private-key", str(tmp_path / "bad.pem"), "--days", "0"]) == 2
    assert "--days" in capsys.readouterr().err
