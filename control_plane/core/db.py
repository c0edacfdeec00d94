"""The database engine (SQLAlchemy on psycopg 3) and Alembic migrations applied at start."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Engine

from control_plane.core.config import Settings

log = logging.getLogger("control_plane.db")
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Serialises migrations when several server processes start at once.
MIGRATION_LOCK_ID = 0x6C6770  # "lgp"
NOTIFY_CHANNEL = "lgp_desired_state"  # payload: a listener id whose desired state changed
LOG_CHANNEL = "lgp_logs"  # payload: a listener id with a new log request, or an answered request's id


def make_engine(settings: Settings) -> Engine:
    return sa.create_engine(
        settings.database_url,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.db_connect_timeout_seconds,
        hide_parameters=True,  # SQL errors never carry bound values (hashes, sealed blobs) into logs
        connect_args={
            "connect_timeout": settings.db_connect_timeout_seconds,
            "application_name": "lgp-control-plane",
        },
    )


def wait_for_database(database_url: str, timeout_seconds: float, connect_timeout: int) -> None:
    """Blocks until the database accepts a connection (it may start after us, e.g. in one helm install)."""
    deadline = time.monotonic() + timeout_seconds
    delay = 0.5
    engine = sa.create_engine(
        database_url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": connect_timeout}
    )
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
                return
            except sa.exc.OperationalError:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("waiting for the database to accept connections")
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
    finally:
        engine.dispose()


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrade to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def libpq_dsn(database_url: str) -> str:
    """The same database as a libpq DSN (for psycopg connections outside SQLAlchemy)."""
    return sa.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
