"""desired-state deltas: the version at which each deployment's entry changed, acknowledged deletions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "deployment", sa.Column("state_version", sa.BigInteger(), nullable=False, server_default="0")
    )
    op.create_index(
        "ix_deployment_listener_id_state_version",
        "deployment",
        ["listener_id", "state_version"],
        unique=False,
    )
    op.add_column("listener", sa.Column("delta_since", sa.BigInteger(), nullable=False, server_default="0"))
    # versions handed out before this migration did not stamp deployments: deltas start from now on
    op.execute("UPDATE listener SET delta_since = state_version")
    op.create_table(
        "forgotten_deployment",
        sa.Column("listener_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("state_version", sa.BigInteger(), nullable=False),
        sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["listener_id"],
            ["listener.id"],
            name=op.f("fk_forgotten_deployment_listener_id_listener"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("listener_id", "deployment_id", name=op.f("pk_forgotten_deployment")),
    )
    op.create_index(
        "ix_forgotten_deployment_listener_id_state_version",
        "forgotten_deployment",
        ["listener_id", "state_version"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_forgotten_deployment_listener_id_state_version", table_name="forgotten_deployment")
    op.drop_table("forgotten_deployment")
    op.drop_column("listener", "delta_since")
    op.drop_index("ix_deployment_listener_id_state_version", table_name="deployment")
    op.drop_column("deployment", "state_version")
