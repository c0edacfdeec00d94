"""The audit log (who changed what) and the Idempotency-Key records of replayable requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from .common import timestamp, utcnow


class AuditLogBase(SQLModel):
    actor_type: str = Field(max_length=16)
    actor_id: str = Field(max_length=64)
    action: str = Field(max_length=64)
    resource_type: str = Field(max_length=32)
    resource_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = timestamp(default_factory=utcnow)


class AuditLog(AuditLogBase, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_tenant_id_id", "tenant_id", "id"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE")
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))


class AuditLogPublic(AuditLogBase):
    id: int
    changes: dict[str, Any]


class AuditLogsPublic(BaseModel):
    data: list[AuditLogPublic]
    count: int
    limit: int
    offset: int


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    scope: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None
    body_sealed: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = timestamp(default_factory=utcnow, index=True)
