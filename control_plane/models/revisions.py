"""Revisions: immutable snapshots of what runs, and the custom resource's spec each one deploys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from lgp_contract.resource import WrittenSpec
from lgp_contract.statuses import IN_FLIGHT, RevisionStatus

from .common import Image, Strict, timestamp, utcnow
from .deployments import DeploymentSettings

_IN_FLIGHT_SQL = "status IN (" + ", ".join(f"'{s.value}'" for s in sorted(IN_FLIGHT)) + ")"


class RevisionBase(SQLModel):
    number: int
    status: RevisionStatus = Field(default=RevisionStatus.QUEUED, sa_type=sa.String(16))
    status_reason: str | None = Field(default=None, max_length=256)
    status_message: str | None = Field(default=None, sa_type=sa.Text)
    source_revision_id: uuid.UUID | None = None
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = timestamp(default_factory=utcnow)
    updated_at: datetime = timestamp(default_factory=utcnow)
    deploy_started_at: datetime | None = timestamp(default=None)
    finished_at: datetime | None = timestamp(default=None)


class Revision(RevisionBase, table=True):
    __tablename__ = "revision"
    __table_args__ = (
        sa.UniqueConstraint("deployment_id", "number"),
        sa.Index("ix_revision_deployment_id_status", "deployment_id", "status"),
        sa.Index("ix_revision_tenant_id_status", "tenant_id", "status"),
        sa.Index("ix_revision_status_deploy_started_at", "status", "deploy_started_at"),
        # one revision in flight per deployment, enforced by the database too
        sa.Index(
            "uq_revision_in_flight", "deployment_id", unique=True, postgresql_where=sa.text(_IN_FLIGHT_SQL)
        ),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE")
    deployment_id: uuid.UUID = Field(foreign_key="deployment.id", ondelete="CASCADE")
    config: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    """``DeploymentSettings``: the deployment's settings at this revision."""
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    """The LangGraphPlatform spec, as written (``LangGraphPlatformSpec.written()``)."""
    secret_names: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    secrets_sealed: str | None = Field(default=None, sa_type=sa.Text)


class RevisionCreate(Strict):
    image: Image | None = Field(
        default=None, description="Deploy this image (also becomes the deployment's)."
    )


class RevisionPublic(RevisionBase):
    id: uuid.UUID
    deployment_id: uuid.UUID
    config: DeploymentSettings = Field(
        description="The deployment's settings at this revision (no secret values)."
    )
    spec: WrittenSpec = Field(description="The LangGraphPlatform spec deployed (no secret values).")
    secret_names: list[str]


class RevisionsPublic(BaseModel):
    data: list[RevisionPublic]
    count: int
    limit: int
    offset: int
