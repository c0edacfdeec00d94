"""The usage table: one row per deployment and hour window, keyed by the submission's idempotency key,
so a resend replaces the row and nothing is ever counted twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def _utcnow() -> datetime:
    return datetime.now(UTC)


class UsageRecord(SQLModel, table=True):
    __tablename__ = "usage_record"
    __table_args__ = (
        sa.UniqueConstraint("idempotency_key"),
        sa.Index("ix_usage_record_tenant_id_month", "tenant_id", "month"),
        sa.Index("ix_usage_record_deployment_id_month", "deployment_id", "month"),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    idempotency_key: str = Field(max_length=200)
    tenant_id: uuid.UUID | None = Field(default=None, description="The control plane's tenant, when known.")
    tenant: str | None = Field(default=None, max_length=256, description="The tenant tag as submitted.")
    deployment_id: uuid.UUID | None = Field(default=None, description="The control plane's deployment id.")
    deployment: str = Field(max_length=256, description="Deployment name (or id) as submitted.")
    source_id: str | None = Field(default=None, max_length=256, description="The submitter's deployment id.")
    namespace: str | None = Field(default=None, max_length=256)
    window_start: datetime = Field(sa_type=sa.DateTime(timezone=True))
    window_end: datetime = Field(sa_type=sa.DateTime(timezone=True))
    month: str = Field(max_length=7)
    runs: int = Field(sa_type=sa.BigInteger)
    nodes: int = Field(sa_type=sa.BigInteger)
    license_id: str | None = Field(default=None, max_length=128)
    received_at: datetime = Field(default_factory=_utcnow, sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=_utcnow, sa_type=sa.DateTime(timezone=True))
    resends: int = Field(default=0, description="How often this window was submitted again (replaced).")
