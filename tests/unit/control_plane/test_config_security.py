"""Settings (required values, placeholder refusal) and the secret box (sealing, key rotation, credentials)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from control_plane.core.config import EXAMPLE_ENCRYPTION_KEY, Settings, describe_settings
from control_plane.core.security import (
    API_KEY_PREFIX,
    LISTENER_TOKEN_PREFIX,
    SecretBox,
    hash_credential,
    new_credential,
)

STRONG_ADMIN = "Zq8xW3mN7pL2kR9vT4yB6cH1dF5gJ0sA"


def make(**kw: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "postgresql://u@h/db",
        "encryption_keys": Fernet.generate_key().decode(),
    }
    values.update(kw)
    return Settings(**values)


def test_required_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LGP_DATABASE_URL", "LGP_ENCRYPTION_KEYS"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValidationError) as info:
        Settings()  # type: ignore[call-arg]
    missing = {e["loc"][0] for e in info.value.errors()}
    assert missing == {"database_url", "encryption_keys"}


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("LGP_DATABASE_URL", "postgres://u@h:5432/x")
    monkeypatch.setenv("LGP_ENCRYPTION_KEYS", key)
    monkeypatch.setenv("LGP_REVISION_DEPLOY_TIMEOUT_SECONDS", "42")
    s = Settings()  # type: ignore[call-arg]
    assert s.database_url == "postgresql+psycopg://u@h:5432/x"
    assert s.revision_deploy_timeout_seconds == 42
    assert s.encryption_key_list == [key]


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"encryption_keys": EXAMPLE_ENCRYPTION_KEY}, "example key"),
        ({"admin_api_key": "changeme"}, "placeholder"),
        ({"admin_api_key": "short-but-random-1"}, "weak"),
        ({"admin_api_key": "a" * 40}, "weak"),
        ({"encryption_keys": "not-a-key"}, "Fernet"),
        ({"database_url": "mysql://u@h/db"}, "PostgreSQL"),
    ],
)
def test_placeholders_and_weak_secrets_refused_outside_development(kw: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValidationError) as info:
        make(environment="production", **kw)
    assert needle in str(info.value)


def test_development_accepts_placeholders() -> None:
    s = make(environment="development", admin_api_key="changeme", encryption_keys=EXAMPLE_ENCRYPTION_KEY)
    assert s.admin_api_key is not None and s.admin_api_key.get_secret_value() == "changeme"
    assert make(admin_api_key=STRONG_ADMIN).environment == "production"


def test_every_setting_is_described() -> None:
    rows = describe_settings()
    assert {r[0] for r in rows} == {f"LGP_{n.upper()}" for n in Settings.model_fields}
    assert all(desc for _, _, desc in rows)


def test_seal_open_and_rotate() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    value = {"env": {"K": "plaintext-value-123"}}
    sealed = SecretBox([old]).seal(value)
    assert "plaintext-value-123" not in sealed
    rotated_box = SecretBox([new, old])  # new key first: encrypts with new, still reads old
    assert rotated_box.open(sealed) == value
    resealed = rotated_box.reseal(sealed)
    assert SecretBox([new]).open(resealed) == value
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox([old]).open(resealed)


def test_credentials() -> None:
    plaintext, prefix, digest = new_credential(API_KEY_PREFIX)
    assert plaintext.startswith("lgp_") and plaintext.startswith(prefix) and len(prefix) == 12
    assert digest == hash_credential(plaintext) and plaintext not in digest
    token, tprefix, _ = new_credential(LISTENER_TOKEN_PREFIX)
    assert token.startswith("lgpl_") and len(tprefix) == 13
    assert new_credential(API_KEY_PREFIX)[0] != plaintext
