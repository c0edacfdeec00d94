"""Settings, read from the environment (prefix ``LGP_``) with pydantic-settings.

The database URL and the encryption keys are required. Outside development, placeholder or weak
secrets are refused at start, so a copy-pasted example never reaches production.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that appear in examples and docs: refused outside development.
PLACEHOLDERS = frozenset(
    {"changeme", "change-me", "changethis", "secret", "password", "admin", "test", "example", "placeholder"}
)
# The Fernet key printed in docs/README examples (a real key, therefore public: never use it).
EXAMPLE_ENCRYPTION_KEY = "bGdwLWV4YW1wbGUta2V5LWRvLW5vdC11c2UtMDAwMDA="
MIN_ADMIN_KEY_LENGTH = 32


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False


class Settings(BaseSettings):
    """Every setting of the control plane (environment variable = ``LGP_`` + the upper-case name)."""

    model_config = SettingsConfigDict(env_prefix="LGP_", extra="ignore", frozen=True)

    database_url: str = Field(
        description="PostgreSQL URL (postgresql://user:pass@host:port/db); the psycopg 3 driver is used."
    )
    encryption_keys: SecretStr = Field(
        description="Comma-separated Fernet keys (32 url-safe base64 bytes each). The first encrypts; all "
        "decrypt, so a new key is put first to rotate, then `lgp control-plane rotate-keys` re-encrypts."
    )
    admin_api_key: SecretStr | None = Field(
        default=None,
        description="Bootstrap admin API key (X-Api-Key): manages tenants and the keys of every tenant; acts "
        "in the `default` tenant. At least 32 characters outside development.",
    )
    environment: Literal["development", "production"] = Field(
        default="production",
        description="`development` allows placeholder secrets; anything else refuses them.",
    )
    revision_deploy_timeout_seconds: float = Field(
        default=900, gt=0, description="A revision still DEPLOYING after this long becomes DEPLOY_FAILED."
    )
    long_poll_max_seconds: float = Field(
        default=30,
        gt=0,
        le=300,
        description="Longest wait a listener may ask of the desired-state long-poll.",
    )
    max_request_bytes: int = Field(
        default=1_048_576, gt=0, description="Largest request body accepted (413 above)."
    )
    reaper_interval_seconds: float = Field(
        default=5, gt=0, description="How often deploy deadlines and expired idempotency records are checked."
    )
    idempotency_ttl_seconds: int = Field(
        default=86_400, gt=0, description="How long an Idempotency-Key is kept."
    )
    event_retention_days: float = Field(
        default=30, gt=0, description="Deployment events older than this are deleted (the audit log is kept)."
    )
    listener_offline_after_seconds: float = Field(
        default=90, gt=0, description="A listener without a heartbeat for this long is shown as offline."
    )
    log_wait_seconds: float = Field(
        default=10,
        gt=0,
        le=60,
        description="How long a logs request waits for the listener to read the containers' logs; after "
        "it, the answer has the events only and says why.",
    )
    log_follow_interval_seconds: float = Field(
        default=2, gt=0, le=60, description="How often a followed log stream (follow=true) asks for new lines"
    )
    log_follow_max_seconds: float = Field(
        default=3600, gt=0, description="A followed log stream ends after this long (the client may resume)."
    )
    log_max_pending_per_listener: int = Field(
        default=20,
        gt=0,
        description="Log requests that may wait for one listener at a time (beyond: events only).",
    )
    startup_db_wait_seconds: float = Field(
        default=120, ge=0, description="At start, how long to wait for the database to accept connections."
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply Alembic migrations when the server starts."
    )
    db_pool_size: int = Field(default=10, gt=0, description="Database connections kept per server process.")
    db_connect_timeout_seconds: int = Field(
        default=3,
        gt=0,
        description="Connect timeout; an unreachable database answers 503 after at most this.",
    )
    log_level: str = Field(default="INFO", description="Python log level of the server.")

    @field_validator("database_url")
    @classmethod
    def _driver(cls, v: str) -> str:
        if not v.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("must be a PostgreSQL URL (postgresql://...)")
        for prefix in ("postgresql://", "postgres://"):
            if v.startswith(prefix):
                return "postgresql+psycopg://" + v[len(prefix) :]
        return v

    @field_validator("encryption_keys")
    @classmethod
    def _keys(cls, v: SecretStr) -> SecretStr:
        keys = [k.strip() for k in v.get_secret_value().split(",") if k.strip()]
        if not keys:
            raise ValueError("at least one Fernet key is required")
        for i, key in enumerate(keys):
            if not _is_fernet_key(key):
                raise ValueError(f"key #{i + 1} is not a Fernet key (32 url-safe base64-encoded bytes)")
        return SecretStr(",".join(keys))

    @model_validator(mode="after")
    def _no_placeholders(self) -> Settings:
        if self.environment == "development":
            return self
        keys = self.encryption_key_list
        if EXAMPLE_ENCRYPTION_KEY in keys:
            raise ValueError("LGP_ENCRYPTION_KEYS holds the documented example key: generate your own")
        if len({base64.urlsafe_b64decode(k.encode()) for k in keys}) != len(keys):
            raise ValueError("LGP_ENCRYPTION_KEYS repeats a key")
        for k in keys:
            if len(set(base64.urlsafe_b64decode(k.encode()))) < 8:
                raise ValueError("LGP_ENCRYPTION_KEYS holds a weak key (too few distinct bytes)")
        if self.admin_api_key is not None:
            admin = self.admin_api_key.get_secret_value()
            if admin.lower() in PLACEHOLDERS or any(p in admin.lower() for p in ("changeme", "change-me")):
                raise ValueError("LGP_ADMIN_API_KEY is a placeholder: generate one (openssl rand -hex 32)")
            if len(admin) < MIN_ADMIN_KEY_LENGTH or len(set(admin)) < 8:
                raise ValueError(
                    f"LGP_ADMIN_API_KEY is weak: use at least {MIN_ADMIN_KEY_LENGTH} random characters"
                )
        return self

    @property
    def encryption_key_list(self) -> list[str]:
        return self.encryption_keys.get_secret_value().split(",")


def describe_settings() -> list[tuple[str, str, str]]:
    """(environment variable, default, description) for every setting: for the README and the chart."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = "(required)" if field.is_required() else repr(field.default)
        rows.append((f"LGP_{name.upper()}", default, field.description or ""))
    return rows
