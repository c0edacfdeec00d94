"""Deployments: their settings in the API's shape (what runs), the table, and the API models.

A deployment's settings are stored on its row and snapshotted, in the same shape, into each revision
(``Revision.config``: what a rollback restores). The custom resource's spec a revision deploys is
built from them by ``control_plane.spec.build_spec``: these two are the only shapes of a deployment.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictInt,
    StringConstraints,
    WrapSerializer,
    model_validator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from lgp_contract import resource as cr
from lgp_contract.names import MAX_NAME
from lgp_contract.protocol import Replicas

from .common import (
    Cpu,
    DeploymentName,
    EnvName,
    HostName,
    Image,
    Memory,
    Name,
    Namespace,
    Path,
    PostgresUri,
    RedisUri,
    SecretRefName,
    SecretValue,
    Strict,
    timestamp,
    utcnow,
)


class DeploymentType(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class DeploymentStatus(StrEnum):
    """PENDING: a revision waits for the listener; DEPLOYING: the listener rolls it out; READY: the latest
    revision runs; FAILED / INTERRUPTED: the latest revision did not make it (the active one, if any, still
    runs); DELETING: deleted, until the listener confirms the objects are gone."""

    PENDING = "PENDING"
    DEPLOYING = "DEPLOYING"
    READY = "READY"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"
    DELETING = "DELETING"


# ----------------------------------------------------------------------------------------- settings
class ServerResources(Strict):
    """The API server: a fixed ``replicas`` count, or ``min_replicas``/``max_replicas`` to autoscale."""

    replicas: StrictInt | None = Field(default=None, ge=1, le=100)
    min_replicas: StrictInt | None = Field(default=None, ge=1, le=100)
    max_replicas: StrictInt | None = Field(default=None, ge=1, le=100)
    cpu: Cpu | None = None
    memory: Memory | None = None


class QueueResources(Strict):
    """Queue workers: pods that run background runs (``enabled: false``: the API server runs them).
    ``min_replicas``/``max_replicas``: their own autoscaling bounds when the API server autoscales
    (default: the API server's)."""

    enabled: StrictBool | None = None
    replicas: StrictInt | None = Field(default=None, ge=1, le=100)
    min_replicas: StrictInt | None = Field(default=None, ge=1, le=100)
    max_replicas: StrictInt | None = Field(default=None, ge=1, le=100)
    jobs_per_worker: StrictInt | None = Field(default=None, ge=1, le=1000)
    cpu: Cpu | None = None
    memory: Memory | None = None


class PostgresResources(Strict):
    storage: Memory | None = None
    cpu: Cpu | None = None
    memory: Memory | None = None


class RedisResources(Strict):
    cpu: Cpu | None = None
    memory: Memory | None = None


class Resources(Strict):
    """Omitted fields take the deployment type's defaults on create and keep their value on update."""

    server: ServerResources = Field(default_factory=ServerResources)
    queue: QueueResources = Field(default_factory=QueueResources)
    postgres: PostgresResources = Field(default_factory=PostgresResources)
    redis: RedisResources = Field(default_factory=RedisResources)


class EnvVar(Strict):
    name: EnvName
    value: Annotated[str, StringConstraints(max_length=32_768)] = ""


class Ingress(Strict):
    host: HostName | None = None
    path: Path = "/"


class KubernetesSettings(cr.Model):
    """Kubernetes settings of what runs, in the custom resource's own shape (camelCase, as
    ``kubectl explain langgraphplatform.spec`` documents them): labels and annotations of every object,
    the pods' own ServiceAccount, placement (priorityClassName, topologySpreadConstraints, nodeSelector,
    tolerations, affinity), init containers, sidecars, volumes and mounts per Deployment, KEDA settings.
    Only what is given is written into the resource."""

    labels: cr.LabelMap = Field(default_factory=dict)
    annotations: cr.AnnotationMap = Field(default_factory=dict)
    service_account: cr.ServiceAccount | None = None
    placement: cr.Placement | None = None
    api_server: cr.Workload | None = None
    queue: cr.Workload | None = None
    keda: cr.Keda | None = None

    @model_validator(mode="after")
    def _one_account(self) -> KubernetesSettings:
        creates = bool(self.service_account and self.service_account.create)
        if creates and self.placement and self.placement.service_account_name:
            raise ValueError("serviceAccount.create and placement.serviceAccountName: set one")
        return self

    def stored(self) -> dict[str, Any]:
        """As a deployment stores it: the resource's shape, without what is empty or default."""
        return self.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True, mode="json")


def _as_stored(value, handler):  # no annotations: pydantic then keeps the model's schema
    return value.stored()


KubernetesShown = Annotated[KubernetesSettings, WrapSerializer(_as_stored, when_used="json")]
"""Kubernetes settings as JSON (the API's answers, a revision's snapshot): only what was given."""


class DatabaseConfig(Strict):
    """``managed``: a Postgres run for the deployment; ``external``: ``uri`` (write-only, kept encrypted)."""

    type: Literal["managed", "external"] = "managed"
    uri: PostgresUri | None = None


class RedisConfig(Strict):
    """``managed``: a Redis run for the deployment; ``external``: ``uri`` (write-only, kept encrypted)."""

    type: Literal["managed", "external"] = "managed"
    uri: RedisUri | None = None


class BackingServicePublic(BaseModel):
    type: Literal["managed", "external"]


class DeploymentSettings(BaseModel):
    """What runs, as the API shows it (no secret values): what a revision snapshots, a rollback restores."""

    image: str
    resources: Resources
    env: list[EnvVar]
    ingress: Ingress | None
    secret_refs: list[str]
    database: BackingServicePublic
    redis: BackingServicePublic
    secret_names: list[str] = Field(description="Names of the secret variables (values are never returned).")
    image_pull_secrets: list[str] = Field(
        default_factory=list, description="Secrets in the namespace the image is pulled with."
    )
    kubernetes: KubernetesShown | None = None


# ----------------------------------------------------------------------------------------- deployments
class DeploymentBase(SQLModel):
    name: Name = Field(
        max_length=53, description="DNS-1123 label, unique in the tenant; names the Kubernetes objects."
    )
    type: DeploymentType = Field(
        sa_type=sa.String(16), description="development or production; fixes the resource defaults."
    )
    image: Image = Field(max_length=512, description="Image repository with a tag or a digest.")
    listener_id: uuid.UUID = Field(description="The listener (cluster) that runs it. Immutable.")
    namespace: Namespace = Field(
        max_length=63, description="Kubernetes namespace, one the listener may manage. Immutable."
    )


class Deployment(DeploymentBase, table=True):
    __tablename__ = "deployment"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "name"),
        sa.Index("ix_deployment_tenant_id_created_at", "tenant_id", "created_at"),
        sa.Index("ix_deployment_listener_id_state_version", "listener_id", "state_version"),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE")
    listener_id: uuid.UUID = Field(foreign_key="listener.id", index=True, ondelete="RESTRICT")
    resources: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    env: list[dict[str, str]] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    ingress: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONB, nullable=True))
    secret_refs: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    image_pull_secrets: list[str] = Field(
        default_factory=list, sa_column=sa.Column(JSONB, nullable=False, server_default="[]")
    )
    database_type: str = Field(default="managed", max_length=16)
    redis_type: str = Field(default="managed", max_length=16)
    secret_names: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    kubernetes: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONB, nullable=True))
    secrets_sealed: str | None = Field(default=None, sa_type=sa.Text)
    latest_revision_id: uuid.UUID | None = None
    active_revision_id: uuid.UUID | None = None
    revision_count: int = 0
    state_version: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
    """The listener's desired-state version at which this deployment's entry last changed."""
    status: str = Field(default=DeploymentStatus.PENDING, max_length=16, index=True)
    endpoint: str | None = Field(default=None, max_length=2048)
    replicas: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    conditions: list[dict[str, Any]] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    deleted_at: datetime | None = timestamp(default=None)
    created_at: datetime = timestamp(default_factory=utcnow)
    updated_at: datetime = timestamp(default_factory=utcnow)

    def settings(self) -> DeploymentSettings:
        """What runs, in the API's shape."""
        return DeploymentSettings(
            image=self.image,
            resources=Resources.model_validate(self.resources),
            env=[EnvVar.model_validate(e) for e in self.env],
            ingress=None if self.ingress is None else Ingress.model_validate(self.ingress),
            secret_refs=list(self.secret_refs),
            database=BackingServicePublic(type=self.database_type),  # type: ignore[arg-type]
            redis=BackingServicePublic(type=self.redis_type),  # type: ignore[arg-type]
            secret_names=sorted(self.secret_names),
            image_pull_secrets=list(self.image_pull_secrets),
            kubernetes=None
            if self.kubernetes is None
            else KubernetesSettings.model_validate(self.kubernetes),
        )

    def restore(self, settings: DeploymentSettings) -> None:
        """Take an earlier revision's settings (a rollback; secret values travel separately)."""
        snapshot = settings.model_dump(mode="json")
        self.image, self.resources, self.env = settings.image, snapshot["resources"], snapshot["env"]
        self.ingress, self.secret_refs = snapshot["ingress"], list(settings.secret_refs)
        self.database_type, self.redis_type = settings.database.type, settings.redis.type
        self.secret_names = list(settings.secret_names)
        self.image_pull_secrets = list(settings.image_pull_secrets)
        self.kubernetes = None if settings.kubernetes is None else settings.kubernetes.stored()


class DeploymentCreate(DeploymentBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]
    # the operator names children after the deployment (``-api-server`` and a StatefulSet's pods add
    # suffixes): a new deployment's name is held to the operator's limit here, where a 422 names it
    name: DeploymentName = Field(
        description=f"DNS-1123 label of at most {MAX_NAME} characters, unique in the tenant; names the "
        "Kubernetes objects.",
    )
    resources: Resources = Field(default_factory=Resources)
    ingress: Ingress | None = None
    env: list[EnvVar] = Field(
        default_factory=list, max_length=500, description="Plain environment variables."
    )
    secrets: dict[EnvName, SecretValue] = Field(
        default_factory=dict, max_length=500, description="Secret environment variables (write-only)."
    )
    secret_refs: list[SecretRefName] = Field(
        default_factory=list,
        max_length=50,
        description="Existing Kubernetes Secrets in the namespace (envFrom).",
    )
    image_pull_secrets: list[SecretRefName] = Field(
        default_factory=list,
        max_length=20,
        description="Existing Secrets in the namespace (type kubernetes.io/dockerconfigjson) to pull the "
        "image from a private registry with.",
    )
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    kubernetes: KubernetesSettings | None = Field(
        default=None, description="Kubernetes settings, in the custom resource's shape (camelCase)."
    )


class DeploymentUpdate(SQLModel):
    """Only the fields sent change. ``secrets`` merges: a value sets, ``null`` removes. ``env`` and
    ``secret_refs`` and ``image_pull_secrets`` replace the whole list. name, type, listener_id and
    namespace cannot change."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]
    name: Name | None = None
    type: DeploymentType | None = None
    listener_id: uuid.UUID | None = None
    namespace: Namespace | None = None
    image: Image | None = None
    resources: Resources | None = None
    ingress: Ingress | None = None
    env: list[EnvVar] | None = Field(default=None, max_length=500)
    secrets: dict[EnvName, SecretValue | None] | None = Field(default=None, max_length=500)
    secret_refs: list[SecretRefName] | None = Field(default=None, max_length=50)
    image_pull_secrets: list[SecretRefName] | None = Field(default=None, max_length=20)
    database: DatabaseConfig | None = None
    redis: RedisConfig | None = None
    kubernetes: KubernetesSettings | None = Field(
        default=None, description="Replaces the whole block; null removes it."
    )


class DeploymentPublic(DeploymentBase):
    id: uuid.UUID
    resources: Resources
    ingress: Ingress | None
    env: list[EnvVar]
    secret_names: list[str] = Field(description="Names of the secret variables (values are never returned).")
    secret_refs: list[str]
    image_pull_secrets: list[str]
    database: BackingServicePublic
    redis: BackingServicePublic
    kubernetes: KubernetesShown | None = None
    latest_revision_id: uuid.UUID | None
    active_revision_id: uuid.UUID | None
    status: DeploymentStatus
    endpoint: str | None
    replicas: Replicas
    conditions: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class DeploymentsPublic(BaseModel):
    data: list[DeploymentPublic]
    count: int = Field(description="Total matching the filters (before limit/offset).")
    limit: int
    offset: int
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` for the next page (keyset paging: as fast on page 100 as on page 1, "
        "and stable while deployments are created); null on the last page.",
    )
