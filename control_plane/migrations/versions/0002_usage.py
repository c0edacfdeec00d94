"""usage records (beacon submissions), one per deployment and hour window

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("tenant", sa.String(length=256), nullable=True),
        sa.Column("deployment_id", sa.Uuid(), nullable=True),
        sa.Column("deployment", sa.String(length=256), nullable=False),
        sa.Column("source_id", sa.String(length=256), nullable=True),
        sa.Column("namespace", sa.String(length=256), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("runs", sa.BigInteger(), nullable=False),
        sa.Column("nodes", sa.BigInteger(), nullable=False),
        sa.Column("license_id", sa.String(length=128), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resends", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_record")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_usage_record_idempotency_key")),
    )
    op.create_index(op.f("ix_usage_record_tenant_id_month"), "usage_record", ["tenant_id", "month"])
    op.create_index(op.f("ix_usage_record_deployment_id_month"), "usage_record", ["deployment_id", "month"])


def downgrade() -> None:
    op.drop_index(op.f("ix_usage_record_deployment_id_month"), table_name="usage_record")
    op.drop_index(op.f("ix_usage_record_tenant_id_month"), table_name="usage_record")
    op.drop_table("usage_record")
