"""Reporter settings from the environment (prefix ``LGP_USAGE_``); ``lgp usage run`` flags override them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from lgp_contract.names import postgres_name

from .reporter import ReporterConfig
from .targets import ManagedDatabaseSecret


class UsageSettings(BaseSettings):
    """Everything the usage reporter reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="LGP_USAGE_", extra="ignore")

    beacon_url: str | None = Field(
        None,
        description="Base URL of the beacon (the control plane's, or external); /v1/metadata/submit is added",
    )
    license_key: SecretStr | None = Field(None, description="The license token sent with each submission.")
    beacon_api_key: SecretStr | None = Field(
        None, description="Sent as X-Api-Key, when the beacon wants one."
    )
    beacon_ca_file: str | None = Field(
        None, description="CA bundle for an HTTPS beacon (default: system CAs)."
    )
    beacon_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one submission.")
    airgapped_dir: str | None = Field(
        None, description="Air-gapped mode: write signed JSON-lines audit files here instead of submitting."
    )
    audit_signing_key: SecretStr | None = Field(
        None, description="Ed25519 private key (PEM or base64 raw seed) that signs audit lines."
    )
    audit_signing_key_file: str | None = Field(None, description="File holding the audit signing key.")
    buffer_path: str = Field(
        "/var/lib/lgp-usage/buffer.sqlite3",
        description="SQLite buffer of computed, unsent windows; put it on a persistent volume.",
    )
    interval_seconds: float = Field(60.0, gt=0, description="Seconds between loops.")
    window_seconds: int = Field(3600, ge=1, description="Window length (3600: hourly, like the original).")
    settle_seconds: float = Field(
        300.0,
        ge=0,
        description="A window is sealed (or counted) this long after it ends (late commits land first).",
    )
    receiver_host: str = Field(
        "0.0.0.0",  # noqa: S104
        description="Address of the endpoint the LangGraph servers post their own usage reports to.",
    )
    receiver_port: int = Field(
        9109, ge=0, le=65535, description="Port of that endpoint (POST /v1/metadata/submit); 0 turns it off."
    )
    report_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Instead of discovery: comma-separated ID=KEY or ID:NAME=KEY, the credential each"
        " deployment's servers report with (discovery reads it from the <name>-usage Secret).",
    )
    count_from_database: bool = Field(
        False,
        description="Also count runs and step checkpoints in each deployment's Postgres. Not exact: runs"
        " without a thread vanish with their temporary thread, and step checkpoints are not node"
        " executions. Off: the servers' own reports are the counts. On: the reports receiver is off.",
    )
    send_batch: int = Field(500, ge=1, description="Windows attempted per loop.")
    compute_batch_windows: int = Field(168, ge=1, description="Windows counted per query when catching up.")
    max_consecutive_failures: int = Field(3, ge=1, description="Failed sends in a row before backing off.")
    backoff_initial_seconds: float = Field(5.0, ge=0, description="First back-off after a round of failures.")
    backoff_max_seconds: float = Field(300.0, ge=0, description="Longest back-off.")
    keep_sent_days: float = Field(90.0, ge=0, description="Sent windows are kept this long (0: forever).")
    namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated namespaces to discover; empty: all namespaces."
    )
    targets: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Explicit targets instead of discovery: comma-separated ID=URI or ID:NAME=URI.",
    )
    target_namespace: str = Field("", description="Namespace tag of explicit targets.")
    tenant: str | None = Field(None, description="Tenant tag (a resource's lgp.dev/tenant label wins).")
    managed_secret_name: str = Field(
        postgres_name("{name}"),
        description="Name template of the operator's managed-Postgres Secret ({name}).",
    )
    managed_secret_uri_key: str = Field("uri", description="Key of the full URI in that Secret.")
    managed_secret_password_key: str = Field("password", description="Key of the password, when no URI key.")
    managed_host: str = Field(
        postgres_name("{name}") + ".{namespace}.svc",
        description="Host template of the managed Postgres Service.",
    )
    kubeconfig: str | None = Field(
        None, description="Kubeconfig; unset: in-cluster config or ~/.kube/config."
    )
    metrics_host: str = Field("0.0.0.0", description="Address of the /metrics and /healthz server.")  # noqa: S104
    metrics_port: int = Field(
        9108, ge=0, le=65535, description="Port of /metrics and /healthz; 0 turns it off."
    )

    @field_validator("namespaces", "targets", "report_keys", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [n.strip() for n in value.split(",") if n.strip()]
        return value

    @model_validator(mode="after")
    def _mode(self) -> UsageSettings:
        if not self.airgapped_dir and not self.beacon_url:
            raise ValueError("set beacon_url (LGP_USAGE_BEACON_URL), or airgapped_dir for air-gapped mode")
        if self.airgapped_dir and not (self.audit_signing_key or self.audit_signing_key_file):
            raise ValueError(
                "air-gapped mode needs audit_signing_key (LGP_USAGE_AUDIT_SIGNING_KEY)"
                " or audit_signing_key_file"
            )
        return self

    def reporter_config(self) -> ReporterConfig:
        return ReporterConfig(
            window_seconds=self.window_seconds,
            settle=timedelta(seconds=self.settle_seconds),
            send_batch=self.send_batch,
            compute_batch_windows=self.compute_batch_windows,
            max_consecutive_failures=self.max_consecutive_failures,
            backoff_initial=timedelta(seconds=self.backoff_initial_seconds),
            backoff_max=timedelta(seconds=self.backoff_max_seconds),
            keep_sent=timedelta(days=self.keep_sent_days) if self.keep_sent_days else None,
            count_from_database=self.count_from_database,
        )

    def managed_secret(self) -> ManagedDatabaseSecret:
        return ManagedDatabaseSecret(
            name=self.managed_secret_name,
            uri_key=self.managed_secret_uri_key,
            password_key=self.managed_secret_password_key,
            host=self.managed_host,
        )
