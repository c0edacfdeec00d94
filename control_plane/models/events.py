"""Events of a deployment: what the listener reported and every revision transition."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from .common import timestamp, utcnow


class EventKind(StrEnum):
    REVISION_STATUS = "revision_status"
    CONDITION = "condition"
    KUBERNETES_EVENT = "kubernetes_event"
    REPLICAS = "replicas"
    ENDPOINT = "endpoint"


class EventBase(SQLModel):
    deployment_id: uuid.UUID
    revision_id: uuid.UUID | None = None
    kind: EventKind = Field(sa_type=sa.String(32))
    reason: str | None = Field(default=None, max_length=256)
    message: str | None = Field(default=None, sa_type=sa.Text)
    occurred_at: datetime = timestamp(default_factory=utcnow)
    created_at: datetime = timestamp(default_factory=utcnow)


class DeploymentEvent(EventBase, table=True):
    __tablename__ = "deployment_event"
    __table_args__ = (
        sa.Index("ix_deployment_event_deployment_id_id", "deployment_id", "id"),
        sa.Index("ix_deployment_event_revision_id_id", "revision_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE")
    deployment_id: uuid.UUID = Field(foreign_key="deployment.id", ondelete="CASCADE")
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))


class EventPublic(EventBase):
    id: int
    payload: dict[str, Any]


class EventsPublic(BaseModel):
    data: list[EventPublic]
    count: int
    limit: int
    offset: int
