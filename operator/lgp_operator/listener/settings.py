"""Listener settings, from the environment (prefix LGP_LISTENER_) or `lgp listener run` flags."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ListenerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LGP_LISTENER_", extra="ignore")

    control_plane_url: str = Field(description="Base URL of the control plane, e.g. https://lgp.example.com.")
    token: SecretStr = Field(description="This listener's token (shown once when the listener was created).")
    listener_id: str | None = Field(default=None, description="This listener's id (for logs and heartbeats).")
    namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Namespaces this listener may manage (comma-separated). Deployments aimed elsewhere are "
        "refused and the refusal is reported. Empty: any namespace its RBAC allows.",
    )
    kubeconfig: str | None = Field(default=None, description="Kubeconfig path; unset: in-cluster config.")
    poll_wait_seconds: float = Field(default=30, gt=0, le=300, description="Long-poll wait per request.")
    observe_interval_seconds: float = Field(default=2, gt=0, description="How often CR status is read.")
    heartbeat_seconds: float = Field(default=15, gt=0, description="Heartbeat period.")
    resync_seconds: float = Field(
        default=300, gt=0, description="Re-apply the whole desired state this often (repairs drift)."
    )
    failure_grace_seconds: float = Field(
        default=10,
        ge=0,
        description="How long Degraded must hold before a revision is reported DEPLOY_FAILED.",
    )
    apply_concurrency: int = Field(
        default=8, ge=1, le=64, description="Deployments applied side by side when many change at once."
    )
    backoff_max_seconds: float = Field(default=30, gt=0, description="Longest wait between retries.")
    log_concurrency: int = Field(
        default=4,
        ge=1,
        le=32,
        description="Log requests read at the same time (4 times as many may wait; more are answered "
        "'busy' at once). Logs are read on their own connection and threads: a slow or large log never "
        "delays the sync.",
    )
    log_tail_lines: int = Field(
        default=5000,
        ge=1,
        le=100_000,
        description="Most lines read from one container's log when a filter (level, text, end time) "
        "may drop some (else the request's limit).",
    )
    log_limit_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        description="Most bytes read from one container's log per request (pods/log limitBytes).",
    )
    http_host: str = Field(default="0.0.0.0", description="Address of /healthz and /metrics.")  # noqa: S104
    http_port: int = Field(
        default=9090, ge=0, le=65535, description="Port of /healthz and /metrics (0: any)."
    )
    ca_bundle: str | None = Field(default=None, description="CA bundle to verify the control plane's TLS.")

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            return [s.strip() for s in v.split(",") if s.strip()]
        return v
