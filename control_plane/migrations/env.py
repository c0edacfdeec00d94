"""Alembic environment: migrations for SQLModel.metadata, under a Postgres advisory lock."""

from __future__ import annotations

import importlib
import importlib.util

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import control_plane.models  # noqa: F401  (registers the tables)
from control_plane.core.db import MIGRATION_LOCK_ID

# Packages that add tables of their own (optional; present in full builds).
for extra in ("control_plane.licensing.models",):
    if importlib.util.find_spec(extra.rsplit(".", 1)[0]) and importlib.util.find_spec(extra):
        importlib.import_module(extra)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = sa.create_engine(
            config.get_main_option("sqlalchemy.url") or "", poolclass=sa.pool.NullPool
        )
    with connectable.connect() as connection:
        connection.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()
        try:
            context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
