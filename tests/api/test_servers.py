"""The real Postgres and Redis servers the api tier runs on: reachable, isolated per test, cleaned up."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import psycopg
import sqlalchemy as sa

from lgp_local import PostgresServer, wait_deleted


def test_postgres_url_is_a_fresh_empty_database(postgres_url):
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        assert (
            conn.execute(sa.text("select count(*) from pg_tables where schemaname = 'public'")).scalar() == 0
        )
        conn.execute(sa.text("create table t (id int primary key)"))
        conn.execute(sa.text("insert into t values (1)"))
        assert str(conn.execute(sa.text("select version()")).scalar()).startswith("PostgreSQL")
    engine.dispose()


def test_postgres_runs_on_loopback_only(postgres_server):
    with psycopg.connect(postgres_server.dsn) as conn:
        assert conn.execute("show listen_addresses").fetchone() == ("127.0.0.1",)


def test_a_second_postgres_stops_without_leftovers():
    pg = PostgresServer.start()
    pids, workdir = pg.pids(), pg.group.workdir
    with psycopg.connect(pg.dsn) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    pg.stop()
    wait_deleted([workdir], pids, timeout=15)


def test_redis_answers_ping(redis_server):
    with socket.create_connection(("127.0.0.1", redis_server.port), timeout=5) as s:
        s.sendall(b"PING\r\n")
        assert s.recv(64) == b"+PONG\r\n"


def _shared_memory_files(pid: int) -> set[str]:
    """The dynamic shared memory files one process has mapped (Postgres' DSM segments)."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split()[-1] for line in lines if "PostgreSQL." in line or "pg_dynshmem" in line}


def test_a_killed_postgres_leaves_nothing_in_dev_shm():
    """Judged by the segments this server mapped, not by /dev/shm as a whole: other Postgres servers on
    a shared machine come and go there meanwhile."""
    pg = PostgresServer.start()
    with psycopg.connect(pg.dsn) as conn:  # parallel-capable work allocates dynamic shared memory
        conn.execute("set max_parallel_workers_per_gather = 2; select count(*) from generate_series(1, 1000)")
    pids, workdir = pg.pids(), pg.group.workdir
    postmaster = pg.group.procs["postgres"].pid
    mapped = _shared_memory_files(postmaster)
    assert mapped, "the postmaster maps no dynamic shared memory segment: nothing was checked"
    assert all(f.startswith(str(workdir)) for f in mapped), f"segments outside the work dir: {mapped}"
    os.kill(postmaster, signal.SIGKILL)
    pg.stop()
    wait_deleted([workdir], pids, timeout=15)
    assert not [f for f in mapped if Path(f).exists()]
