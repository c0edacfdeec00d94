"""The shapes of LangGraph's control-plane API that langgraph-cli 0.4.x sends and reads.

Requests ignore fields they do not know (a newer CLI may add some; lgp reads only what it can act
on); answers carry what the CLI reads (``resources`` envelope, ``source``, ``source_config.custom_url``,
a revision's ``status``, a listener's ``compute_id`` and ``compute_config.k8s_namespaces``) and lgp's
own words beside them (``lgp_status``, ``status_message``). Secret values are write-only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["external_docker", "internal_docker", "internal_source"]
Order = Literal["asc", "desc"]


class Loose(BaseModel):
    """A request part: unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")


# ------------------------------------------------------------------------------------------ requests
class SecretIn(Loose):
    name: str = Field(max_length=128, description="The environment variable's name.")
    value: str = Field(max_length=32_768, description="Its value (write-only: never returned).")


class NameRef(Loose):
    name: str = Field(max_length=253)


class ResourceSpec(Loose):
    image_pull_secrets: list[NameRef] | None = Field(
        default=None,
        max_length=20,
        description="Secrets in the namespace (type kubernetes.io/dockerconfigjson) to pull the image with.",
    )


class ListenerConfig(Loose):
    k8s_namespace: str | None = Field(
        default=None, max_length=63, description="The namespace; omitted: the listener's only one."
    )


class SourceConfig(Loose):
    listener_id: uuid.UUID | None = Field(default=None, description="The listener (cluster) that runs it.")
    listener_config: ListenerConfig | None = None
    resource_spec: ResourceSpec | None = None
    deployment_type: str | None = Field(
        default=None, max_length=32, description="dev or dev_zero: development; prod: production."
    )
    install_command: str | None = Field(default=None, max_length=4096, description="Builds only: refused.")
    build_command: str | None = Field(default=None, max_length=4096, description="Builds only: refused.")


class SourceRevisionConfig(Loose):
    image_uri: str | None = Field(
        default=None, max_length=512, description="The image to deploy, e.g. repo/img@sha256:<digest>."
    )
    source_tarball_path: str | None = Field(
        default=None, max_length=4096, description="Builds only: refused."
    )
    langgraph_config_path: str | None = Field(
        default=None, max_length=4096, description="Builds only: refused."
    )


class DeploymentCreateIn(Loose):
    """``langgraph deploy --image-uri ... --listener-id ... --k8s-namespace ...`` creating a deployment."""

    name: str | None = Field(default=None, max_length=255)
    source: Source
    source_config: SourceConfig = Field(default_factory=SourceConfig)
    source_revision_config: SourceRevisionConfig = Field(default_factory=SourceRevisionConfig)
    secrets: list[SecretIn] = Field(default_factory=list, max_length=500)
    agent: dict[str, str] | None = Field(default=None, description="Agent mode: not supported by lgp.")


class DeploymentPatchIn(Loose):
    """``langgraph deploy`` updating a deployment: a new image and the project's secrets (the full
    list each time; lgp sets the values given and keeps the others, so ``[]`` removes nothing)."""

    source_revision_config: SourceRevisionConfig | None = None
    secrets: list[SecretIn] | None = Field(default=None, max_length=500)
    revision_source: Source | None = None
    source_config: SourceConfig | None = None
    tracked_packages: list[str] | None = Field(
        default=None, max_length=1000, description="Ignored: lgp does not track packages."
    )


class PushTokenIn(Loose):
    supports_registry_username: bool | None = None


class UploadUrlIn(Loose):
    supports_upload_headers: bool | None = None


class LogsIn(Loose):
    """What ``langgraph deploy logs`` sends."""

    limit: int = Field(default=100, ge=1, le=1000)
    order: Order = "desc"
    level: str | None = Field(
        default=None, max_length=16, description="DEBUG, INFO, WARNING, ERROR or CRITICAL: it and worse."
    )
    query: str | None = Field(default=None, max_length=256, description="Lines containing this (any case).")
    start_time: str | float | None = Field(
        default=None, description="ISO 8601 time, or epoch milliseconds: lines at or after it."
    )
    end_time: str | float | None = Field(
        default=None, description="ISO 8601 time, or epoch milliseconds: lines before it."
    )
    offset: int | None = Field(default=None, ge=0, description="Build logs: ignored (lgp builds nothing).")


# ------------------------------------------------------------------------------------------ answers
class SecretName(BaseModel):
    name: str


class ListenerConfigOut(BaseModel):
    k8s_namespace: str


class ResourceSpecOut(BaseModel):
    image_pull_secrets: list[SecretName]


class SourceConfigOut(BaseModel):
    listener_id: uuid.UUID
    listener_config: ListenerConfigOut
    resource_spec: ResourceSpecOut
    custom_url: str | None = Field(description="The URL the deployment answers on (once reported).")
    deployment_type: Literal["dev", "prod"]


class SourceRevisionConfigOut(BaseModel):
    image_uri: str


class DeploymentOut(BaseModel):
    id: uuid.UUID
    name: str
    tenant_id: uuid.UUID
    source: Literal["external_docker"] = Field(description="lgp deploys images from your registry only.")
    source_config: SourceConfigOut
    source_revision_config: SourceRevisionConfigOut
    secrets: list[SecretName] = Field(description="Names only: values are never returned.")
    status: str = Field(description="lgp's deployment status (PENDING, DEPLOYING, READY, FAILED, ...).")
    latest_revision_id: uuid.UUID | None
    active_revision_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class DeploymentsOut(BaseModel):
    resources: list[DeploymentOut]
    offset: int
    limit: int
    total: int


class RevisionOut(BaseModel):
    id: uuid.UUID
    deployment_id: uuid.UUID
    number: int
    status: str = Field(
        description="As the CLI knows them: INTERRUPTED shows as DEPLOY_FAILED, REPLACED as DEPLOYED "
        "(lgp_status has lgp's own)."
    )
    lgp_status: str = Field(description="lgp's revision status.")
    status_reason: str | None
    status_message: str | None
    source: Literal["external_docker"]
    source_revision_config: SourceRevisionConfigOut
    created_at: datetime
    updated_at: datetime


class RevisionsOut(BaseModel):
    resources: list[RevisionOut]
    offset: int
    limit: int
    total: int


class ComputeConfig(BaseModel):
    k8s_namespaces: list[str]


class ListenerOut(BaseModel):
    id: uuid.UUID
    name: str
    compute_id: str = Field(description="The listener's name in lgp.")
    compute_config: ComputeConfig
    online: bool
    created_at: datetime
    updated_at: datetime


class ListenersOut(BaseModel):
    resources: list[ListenerOut]
    offset: int
    limit: int
    total: int


class LogOut(BaseModel):
    id: str
    timestamp: str = Field(description="RFC 3339.")
    level: str | None
    message: str


class LogsOut(BaseModel):
    logs: list[LogOut] = Field(description="Newest first (order desc) or oldest first (order asc).")
    next_offset: int | None = None
