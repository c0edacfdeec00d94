"""Data models, one module per resource: Base / Create / Update / Public models for the API and one
``table=True`` model per entity that inherits its Base (as in the FastAPI template).

Nested settings (resources, env, ingress, ...) are stored as JSONB on the deployment and snapshotted
into each revision; secret values live only in sealed (encrypted) columns. The listener protocol's
messages are the contract's (``lgp_contract.protocol``).
"""

from .audit import AuditLog, AuditLogPublic, AuditLogsPublic, IdempotencyRecord
from .common import ErrorDetail, ErrorResponse, Image, Strict, utcnow, validation_errors
from .deployments import (
    BackingServicePublic,
    DatabaseConfig,
    Deployment,
    DeploymentCreate,
    DeploymentPublic,
    DeploymentSettings,
    DeploymentsPublic,
    DeploymentStatus,
    DeploymentType,
    DeploymentUpdate,
    EnvVar,
    Ingress,
    KubernetesSettings,
    PostgresResources,
    QueueResources,
    RedisConfig,
    RedisResources,
    Resources,
    ServerResources,
)
from .events import DeploymentEvent, EventKind, EventPublic, EventsPublic
from .listeners import (
    Listener,
    ListenerCreate,
    ListenerCreated,
    ListenerPublic,
    ListenersPublic,
    ListenerUpdate,
)
from .logs import ContainerLogs, LogEntry, LogRequestRecord, LogRequestState, LogsPublic
from .revisions import Revision, RevisionCreate, RevisionPublic, RevisionsPublic
from .tenants import (
    ApiKey,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    ApiKeysPublic,
    Tenant,
    TenantCreate,
    TenantPublic,
    TenantsPublic,
)

__all__ = [
    "ApiKey",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyPublic",
    "ApiKeysPublic",
    "AuditLog",
    "AuditLogPublic",
    "AuditLogsPublic",
    "BackingServicePublic",
    "ContainerLogs",
    "DatabaseConfig",
    "Deployment",
    "DeploymentCreate",
    "DeploymentEvent",
    "DeploymentPublic",
    "DeploymentSettings",
    "DeploymentStatus",
    "DeploymentType",
    "DeploymentUpdate",
    "DeploymentsPublic",
    "EnvVar",
    "ErrorDetail",
    "ErrorResponse",
    "EventKind",
    "EventPublic",
    "EventsPublic",
    "IdempotencyRecord",
    "Image",
    "Ingress",
    "KubernetesSettings",
    "Listener",
    "ListenerCreate",
    "ListenerCreated",
    "ListenerPublic",
    "ListenerUpdate",
    "ListenersPublic",
    "LogEntry",
    "LogRequestRecord",
    "LogRequestState",
    "LogsPublic",
    "PostgresResources",
    "QueueResources",
    "RedisConfig",
    "RedisResources",
    "Resources",
    "Revision",
    "RevisionCreate",
    "RevisionPublic",
    "RevisionsPublic",
    "ServerResources",
    "Strict",
    "Tenant",
    "TenantCreate",
    "TenantPublic",
    "TenantsPublic",
    "utcnow",
    "validation_errors",
]
