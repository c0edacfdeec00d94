"""Data models: Base / Create / Update / Public models for the API and one ``table=True`` model per entity.

Nested configuration (resources, env, database, ...) is stored as JSONB on the deployment and copied,
resolved, into each revision; secret values live only in sealed (encrypted) columns.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StringConstraints
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from control_plane.state_machine import RevisionStatus

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# ----------------------------------------------------------------------------------------- formats
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# [registry[:port]/]repository then :tag, @sha256:digest or both: a bare repository is refused
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE = (
    rf"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(?:@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$"
)
CPU = r"^(?:[0-9]+(?:\.[0-9]{1,3})?|[0-9]+m)$"
MEMORY = r"^[0-9]+(?:\.[0-9]+)?(?:Ki|Mi|Gi|Ti|k|M|G|T)?$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"

Name = Annotated[str, StringConstraints(min_length=1, max_length=53, pattern=DNS_LABEL)]
Namespace = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=DNS_LABEL)]
Image = Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=IMAGE)]
Cpu = Annotated[str, StringConstraints(max_length=16, pattern=CPU)]
Memory = Annotated[str, StringConstraints(max_length=16, pattern=MEMORY)]
EnvName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=ENV_NAME)]
SecretValue = Annotated[str, StringConstraints(max_length=32_768)]
SecretRefName = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN)]
HostName = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN)]
Path = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
]
PostgresUri = Annotated[str, StringConstraints(max_length=2048, pattern=r"^postgres(?:ql)?://\S+$")]
RedisUri = Annotated[str, StringConstraints(max_length=2048, pattern=r"^rediss?://\S+$")]
ShortText = Annotated[str, StringConstraints(max_length=256)]
LongText = Annotated[str, StringConstraints(max_length=4096)]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kw: Any) -> Any:
    return Field(sa_type=sa.DateTime(timezone=True), **kw)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


# ----------------------------------------------------------------------------------------- configuration
class ServerResources(Strict):
    """The API server: a fixed ``replicas`` count, or ``min_replicas``/``max_replicas`` to autoscale."""

    replicas: StrictInt | None = Field(default=None, ge=1, le=100)
    min_replicas: StrictInt | None = Field(default=None, ge=1, le=100)
    max_replicas: StrictInt | None = Field(default=None, ge=1, le=100)
    cpu: Cpu | None = None
    memory: Memory | None = None


class QueueResources(Strict):
    """Queue workers: pods that run background runs (``enabled: false``: the API server runs them)."""

    enabled: StrictBool | None = None
    replicas: StrictInt | None = Field(default=None, ge=1, le=100)
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


# ----------------------------------------------------------------------------------------- tenants
class TenantBase(SQLModel):
    name: Name


class Tenant(TenantBase, table=True):
    __tablename__ = "tenant"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=53, unique=True)
    created_at: datetime = _ts(default_factory=utcnow)


class TenantCreate(TenantBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class TenantPublic(TenantBase):
    id: uuid.UUID
    created_at: datetime


# ----------------------------------------------------------------------------------------- API keys
class ApiKeyBase(SQLModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ApiKey(ApiKeyBase, table=True):
    __tablename__ = "api_key"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True, ondelete="CASCADE")
    prefix: str = Field(max_length=32)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts(default_factory=utcnow)
    last_used_at: datetime | None = _ts(default=None)
    revoked_at: datetime | None = _ts(default=None)


class ApiKeyCreate(ApiKeyBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]
    tenant_id: uuid.UUID | None = Field(
        default=None, description="Admin key only: the tenant the new key belongs to (default: the caller's)."
    )


class ApiKeyPublic(ApiKeyBase):
    id: uuid.UUID
    tenant_id: uuid.UUID
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The key itself: shown this once, stored only as a hash.")


# ----------------------------------------------------------------------------------------- listeners
class ListenerBase(SQLModel):
    name: Name
    namespaces: list[Namespace] = Field(
        default_factory=list, max_length=200, description="Namespaces its deployments may use."
    )


class Listener(SQLModel, table=True):
    __tablename__ = "listener"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=53)
    namespaces: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    token_prefix: str = Field(max_length=32)
    token_hash: str = Field(max_length=64, unique=True)
    state_version: int = Field(default=1, sa_type=sa.BigInteger)
    last_heartbeat_at: datetime | None = _ts(default=None)
    reported_version: int | None = Field(default=None, sa_type=sa.BigInteger)
    info: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class ListenerCreate(ListenerBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class ListenerUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]
    name: Name | None = None
    namespaces: list[Namespace] | None = Field(default=None, max_length=200)


class ListenerPublic(ListenerBase):
    id: uuid.UUID
    token_prefix: str
    state_version: int
    last_heartbeat_at: datetime | None
    online: bool
    created_at: datetime
    updated_at: datetime


class ListenerCreated(ListenerPublic):
    token: str = Field(description="The listener's bearer token: shown this once, stored only as a hash.")


# ----------------------------------------------------------------------------------------- deployments
class DeploymentBase(SQLModel):
    name: Name = Field(description="DNS-1123 label, unique in the tenant; names the Kubernetes objects.")
    type: DeploymentType = Field(description="development or production; fixes the resource defaults.")
    image: Image = Field(description="Image repository with a tag or a digest.")
    listener_id: uuid.UUID = Field(description="The listener (cluster) that runs it. Immutable.")
    namespace: Namespace = Field(description="Kubernetes namespace, one the listener may manage. Immutable.")


class Deployment(SQLModel, table=True):
    __tablename__ = "deployment"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "name"),
        sa.Index("ix_deployment_tenant_id_created_at", "tenant_id", "created_at"),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE")
    name: str = Field(max_length=53)
    type: str = Field(max_length=16)
    image: str = Field(max_length=512)
    listener_id: uuid.UUID = Field(foreign_key="listener.id", index=True, ondelete="RESTRICT")
    namespace: str = Field(max_length=63)
    resources: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    env: list[dict[str, str]] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    ingress: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONB, nullable=True))
    secret_refs: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    database_type: str = Field(default="managed", max_length=16)
    redis_type: str = Field(default="managed", max_length=16)
    secret_names: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    secrets_sealed: str | None = Field(default=None, sa_type=sa.Text)
    latest_revision_id: uuid.UUID | None = None
    active_revision_id: uuid.UUID | None = None
    revision_count: int = 0
    status: str = Field(default=DeploymentStatus.PENDING, max_length=16, index=True)
    endpoint: str | None = Field(default=None, max_length=2048)
    replicas: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    conditions: list[dict[str, Any]] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    deleted_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class DeploymentCreate(DeploymentBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]
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
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)


class DeploymentUpdate(SQLModel):
    """Only the fields sent change. ``secrets`` merges: a value sets, ``null`` removes. ``env`` and
    ``secret_refs`` replace the whole list. name, type, listener_id and namespace cannot change."""

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
    database: DatabaseConfig | None = None
    redis: RedisConfig | None = None


class Replicas(BaseModel):
    desired: StrictInt | None = Field(default=None, ge=0)
    ready: StrictInt | None = Field(default=None, ge=0)
    available: StrictInt | None = Field(default=None, ge=0)
    updated: StrictInt | None = Field(default=None, ge=0)


class DeploymentPublic(DeploymentBase):
    id: uuid.UUID
    resources: Resources
    ingress: Ingress | None
    env: list[EnvVar]
    secret_names: list[str] = Field(description="Names of the secret variables (values are never returned).")
    secret_refs: list[str]
    database: BackingServicePublic
    redis: BackingServicePublic
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


# ----------------------------------------------------------------------------------------- revisions
class Revision(SQLModel, table=True):
    __tablename__ = "revision"
    __table_args__ = (
        sa.UniqueConstraint("deployment_id", "number"),
        sa.Index("ix_revision_deployment_id_status", "deployment_id", "status"),
        sa.Index("ix_revision_tenant_id_status", "tenant_id", "status"),
        sa.Index("ix_revision_status_deploy_started_at", "status", "deploy_started_at"),
        # one revision in flight per deployment, enforced by the database too
        sa.Index(
            "uq_revision_in_flight",
            "deployment_id",
            unique=True,
            postgresql_where=sa.text("status IN ('AWAITING_DEPLOY', 'DEPLOYING')"),
        ),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE")
    deployment_id: uuid.UUID = Field(foreign_key="deployment.id", ondelete="CASCADE")
    number: int
    status: str = Field(default=RevisionStatus.QUEUED, max_length=16)
    status_reason: str | None = Field(default=None, max_length=256)
    status_message: str | None = Field(default=None, sa_type=sa.Text)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    secret_names: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    secrets_sealed: str | None = Field(default=None, sa_type=sa.Text)
    source_revision_id: uuid.UUID | None = None
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)
    deploy_started_at: datetime | None = _ts(default=None)
    finished_at: datetime | None = _ts(default=None)


class RevisionCreate(Strict):
    image: Image | None = Field(
        default=None, description="Deploy this image (also becomes the deployment's)."
    )


class RevisionPublic(BaseModel):
    id: uuid.UUID
    deployment_id: uuid.UUID
    number: int
    status: RevisionStatus
    status_reason: str | None
    status_message: str | None
    config: dict[str, Any] = Field(
        description="The deployment's settings at this revision (no secret values)."
    )
    spec: dict[str, Any] = Field(description="The LangGraphPlatform spec deployed (no secret values).")
    secret_names: list[str]
    source_revision_id: uuid.UUID | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    deploy_started_at: datetime | None
    finished_at: datetime | None


class RevisionsPublic(BaseModel):
    data: list[RevisionPublic]
    count: int
    limit: int
    offset: int


# ----------------------------------------------------------------------------------------- events
class DeploymentEvent(SQLModel, table=True):
    __tablename__ = "deployment_event"
    __table_args__ = (
        sa.Index("ix_deployment_event_deployment_id_id", "deployment_id", "id"),
        sa.Index("ix_deployment_event_revision_id_id", "revision_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE")
    deployment_id: uuid.UUID = Field(foreign_key="deployment.id", ondelete="CASCADE")
    revision_id: uuid.UUID | None = None
    kind: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=256)
    message: str | None = Field(default=None, sa_type=sa.Text)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    occurred_at: datetime = _ts(default_factory=utcnow)
    created_at: datetime = _ts(default_factory=utcnow)


class EventKind(StrEnum):
    REVISION_STATUS = "revision_status"
    CONDITION = "condition"
    KUBERNETES_EVENT = "kubernetes_event"
    REPLICAS = "replicas"
    ENDPOINT = "endpoint"


class EventPublic(BaseModel):
    id: int
    deployment_id: uuid.UUID
    revision_id: uuid.UUID | None
    kind: EventKind
    reason: str | None
    message: str | None
    payload: dict[str, Any]
    occurred_at: datetime
    created_at: datetime


class EventsPublic(BaseModel):
    data: list[EventPublic]
    count: int
    limit: int
    offset: int


# ----------------------------------------------------------------------------------------- audit
class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_tenant_id_id", "tenant_id", "id"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE")
    actor_type: str = Field(max_length=16)
    actor_id: str = Field(max_length=64)
    action: str = Field(max_length=64)
    resource_type: str = Field(max_length=32)
    resource_id: str | None = Field(default=None, max_length=64)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    created_at: datetime = _ts(default_factory=utcnow)


class AuditLogPublic(BaseModel):
    id: int
    actor_type: str
    actor_id: str
    action: str
    resource_type: str
    resource_id: str | None
    changes: dict[str, Any]
    created_at: datetime


class AuditLogsPublic(BaseModel):
    data: list[AuditLogPublic]
    count: int
    limit: int
    offset: int


# ----------------------------------------------------------------------------------------- idempotency
class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    scope: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None
    body_sealed: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _ts(default_factory=utcnow, index=True)


# ----------------------------------------------------------------------------------------- errors
class ErrorDetail(BaseModel):
    loc: list[str | int] = Field(default_factory=list)
    msg: str
    type: str


class ErrorResponse(BaseModel):
    detail: str | list[ErrorDetail]


# ----------------------------------------------------------------------------------------- listener protocol
class StatusReport(Strict):
    """A revision transition observed by the listener (docs/listener-protocol.md)."""

    status: Literal["DEPLOYING", "DEPLOYED", "DEPLOY_FAILED"]
    reason: ShortText | None = Field(default=None, description="CamelCase reason, e.g. ImagePullBackOff.")
    message: LongText | None = None


class ConditionReport(Strict):
    type: ShortText
    status: Literal["True", "False", "Unknown"]
    reason: ShortText | None = None
    message: LongText | None = None
    last_transition_time: datetime | None = None


class KubernetesEventReport(Strict):
    type: Literal["Normal", "Warning"] = "Normal"
    reason: ShortText
    message: LongText | None = None
    object: ShortText | None = Field(
        default=None, description="kind/name of the object, e.g. Pod/agent-api-0."
    )
    count: StrictInt | None = Field(default=None, ge=0)
    timestamp: datetime | None = None


class DeploymentReport(Strict):
    """What the listener saw of one deployment: any subset of the fields."""

    revision_id: uuid.UUID | None = None
    conditions: list[ConditionReport] = Field(default_factory=list, max_length=50)
    events: list[KubernetesEventReport] = Field(default_factory=list, max_length=200)
    replicas: Replicas | None = None
    endpoint: Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://\S+$")] | None = None


class ReportAccepted(BaseModel):
    accepted: int = Field(description="Events recorded.")


class Heartbeat(Strict):
    version: StrictInt | None = Field(
        default=None, ge=0, description="The desired-state version the listener applied."
    )
    info: dict[str, Annotated[str, StringConstraints(max_length=256)]] = Field(
        default_factory=dict,
        max_length=20,
        description="Free-form facts, e.g. cluster version, listener version.",
    )


class HeartbeatAck(BaseModel):
    server_time: datetime
    version: int = Field(description="The current desired-state version.")


class DesiredRevision(BaseModel):
    id: uuid.UUID
    number: int
    status: RevisionStatus
    spec: dict[str, Any]


class DesiredSecret(BaseModel):
    name: str = Field(description="The Kubernetes Secret to write in the deployment's namespace.")
    data: dict[str, str] = Field(description="Its key/values, decrypted for this listener only.")


class DesiredDeployment(BaseModel):
    id: uuid.UUID
    name: str
    namespace: str
    deleted: bool = Field(description="Tombstone: delete the objects, then acknowledge.")
    revision: DesiredRevision | None
    secret: DesiredSecret | None


class DesiredState(BaseModel):
    version: int
    listener_id: uuid.UUID
    namespaces: list[str]
    deployments: list[DesiredDeployment]
