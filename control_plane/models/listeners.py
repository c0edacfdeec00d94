"""Listeners: one per cluster, with a hashed token and the namespaces it may manage."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from .common import Name, Namespace, timestamp, utcnow


class ListenerBase(SQLModel):
    name: Name = Field(max_length=53)
    namespaces: list[Namespace] = Field(
        default_factory=list, max_length=200, description="Namespaces its deployments may use."
    )


class Listener(ListenerBase, table=True):
    __tablename__ = "listener"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True, ondelete="CASCADE")
    namespaces: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    token_prefix: str = Field(max_length=32)
    token_hash: str = Field(max_length=64, unique=True)
    state_version: int = Field(default=1, sa_type=sa.BigInteger)
    delta_since: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
    """The oldest version a desired-state delta can start from (older: a full answer)."""
    last_heartbeat_at: datetime | None = timestamp(default=None)
    reported_version: int | None = Field(default=None, sa_type=sa.BigInteger)
    info: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    created_at: datetime = timestamp(default_factory=utcnow)
    updated_at: datetime = timestamp(default_factory=utcnow)


class ForgottenDeployment(SQLModel, table=True):
    """A deployment whose deletion the listener acknowledged (its row is gone): desired-state deltas
    name it so the listener drops it from its copy. Pruned with the events (``delta_since`` moves)."""

    __tablename__ = "forgotten_deployment"
    __table_args__ = (
        sa.Index("ix_forgotten_deployment_listener_id_state_version", "listener_id", "state_version"),
    )
    listener_id: uuid.UUID = Field(foreign_key="listener.id", primary_key=True, ondelete="CASCADE")
    deployment_id: uuid.UUID = Field(primary_key=True)
    state_version: int = Field(sa_type=sa.BigInteger)
    forgotten_at: datetime = timestamp(default_factory=utcnow)


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


class ListenersPublic(BaseModel):
    data: list[ListenerPublic]
    count: int
    limit: int
    offset: int
