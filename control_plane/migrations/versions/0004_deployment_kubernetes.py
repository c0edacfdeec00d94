"""deployment.kubernetes: Kubernetes settings of what runs, in the custom resource's shape

Labels and annotations of every object, the pods' own ServiceAccount, placement, init containers,
sidecars, volumes and mounts, KEDA settings (``KubernetesSettings``). Null for every deployment made
before: their revisions deploy exactly what they did.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deployment", sa.Column("kubernetes", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("deployment", "kubernetes")
