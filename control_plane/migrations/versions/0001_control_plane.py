"""control plane: tenants, keys, listeners, deployments, revisions, events, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-22 00:13:47.650159
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_record",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body_sealed", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_record")),
    )
    op.create_index(
        op.f("ix_idempotency_record_created_at"), "idempotency_record", ["created_at"], unique=False
    )
    op.create_table(
        "tenant",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=53), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant")),
        sa.UniqueConstraint("name", name=op.f("uq_tenant_name")),
    )
    # the tenant the bootstrap admin key acts in
    op.execute(
        "INSERT INTO tenant (id, name, created_at) "
        "VALUES ('00000000-0000-0000-0000-000000000001', 'default', now())"
    )
    op.create_table(
        "api_key",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_api_key_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_key_key_hash")),
    )
    op.create_index(op.f("ix_api_key_tenant_id"), "api_key", ["tenant_id"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_audit_log_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_tenant_id_id", "audit_log", ["tenant_id", "id"], unique=False)
    op.create_table(
        "listener",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=53), nullable=False),
        sa.Column("namespaces", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("token_prefix", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("state_version", sa.BigInteger(), nullable=False),
        sa.Column("last_heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_version", sa.BigInteger(), nullable=True),
        sa.Column("info", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_listener_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listener")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_listener_tenant_id_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_listener_token_hash")),
    )
    op.create_index(op.f("ix_listener_tenant_id"), "listener", ["tenant_id"], unique=False)
    op.create_table(
        "deployment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=53), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("image", sa.String(length=512), nullable=False),
        sa.Column("listener_id", sa.Uuid(), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("resources", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("env", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("ingress", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("secret_refs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("database_type", sa.String(length=16), nullable=False),
        sa.Column("redis_type", sa.String(length=16), nullable=False),
        sa.Column("secret_names", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("secrets_sealed", sa.Text(), nullable=True),
        sa.Column("latest_revision_id", sa.Uuid(), nullable=True),
        sa.Column("active_revision_id", sa.Uuid(), nullable=True),
        sa.Column("revision_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("endpoint", sa.String(length=2048), nullable=True),
        sa.Column("replicas", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("conditions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["listener_id"],
            ["listener.id"],
            name=op.f("fk_deployment_listener_id_listener"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_deployment_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_deployment_tenant_id_name")),
    )
    op.create_index(op.f("ix_deployment_listener_id"), "deployment", ["listener_id"], unique=False)
    op.create_index(op.f("ix_deployment_status"), "deployment", ["status"], unique=False)
    op.create_index(
        "ix_deployment_tenant_id_created_at", "deployment", ["tenant_id", "created_at"], unique=False
    )
    op.create_table(
        "deployment_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("revision_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployment.id"],
            name=op.f("fk_deployment_event_deployment_id_deployment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_deployment_event_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_event")),
    )
    op.create_index(
        "ix_deployment_event_deployment_id_id", "deployment_event", ["deployment_id", "id"], unique=False
    )
    op.create_index(
        "ix_deployment_event_revision_id_id", "deployment_event", ["revision_id", "id"], unique=False
    )
    op.create_table(
        "revision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=256), nullable=True),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("spec", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("secret_names", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("secrets_sealed", sa.Text(), nullable=True),
        sa.Column("source_revision_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deploy_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployment.id"],
            name=op.f("fk_revision_deployment_id_deployment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_revision_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revision")),
        sa.UniqueConstraint("deployment_id", "number", name=op.f("uq_revision_deployment_id_number")),
    )
    op.create_index("ix_revision_deployment_id_status", "revision", ["deployment_id", "status"], unique=False)
    op.create_index(
        "ix_revision_status_deploy_started_at", "revision", ["status", "deploy_started_at"], unique=False
    )
    op.create_index("ix_revision_tenant_id_status", "revision", ["tenant_id", "status"], unique=False)
    # one revision in flight per deployment, enforced by the database as well as by the code
    op.create_index(
        "uq_revision_in_flight",
        "revision",
        ["deployment_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('AWAITING_DEPLOY', 'DEPLOYING')"),
    )


def downgrade() -> None:
    op.drop_index("uq_revision_in_flight", table_name="revision")
    op.drop_index("ix_revision_tenant_id_status", table_name="revision")
    op.drop_index("ix_revision_status_deploy_started_at", table_name="revision")
    op.drop_index("ix_revision_deployment_id_status", table_name="revision")
    op.drop_table("revision")
    op.drop_index("ix_deployment_event_revision_id_id", table_name="deployment_event")
    op.drop_index("ix_deployment_event_deployment_id_id", table_name="deployment_event")
    op.drop_table("deployment_event")
    op.drop_index("ix_deployment_tenant_id_created_at", table_name="deployment")
    op.drop_index(op.f("ix_deployment_status"), table_name="deployment")
    op.drop_index(op.f("ix_deployment_listener_id"), table_name="deployment")
    op.drop_table("deployment")
    op.drop_index(op.f("ix_listener_tenant_id"), table_name="listener")
    op.drop_table("listener")
    op.drop_index("ix_audit_log_tenant_id_id", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_api_key_tenant_id"), table_name="api_key")
    op.drop_table("api_key")
    op.drop_table("tenant")
    op.drop_index(op.f("ix_idempotency_record_created_at"), table_name="idempotency_record")
    op.drop_table("idempotency_record")
