"""Real Postgres and Redis servers for tests and ``make dev``, on 127.0.0.1 with throwaway data.

Postgres is Debian's ``postgresql`` package. It refuses to run as root, and CI runs as root, so as
root the data directory belongs to the ``postgres`` system user (created by the package) and the
server runs as that user. Redis is Debian's ``redis-server`` with persistence off.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .procs import ProcessExited, ProcessGroup, free_port, wait_for


def _postgres_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found: install Debian's postgresql (make deps)")
    return Path(candidates[-1])


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class PostgresServer:
    """A real PostgreSQL server; ``url(db)`` gives a SQLAlchemy/psycopg URL for a database."""

    port: int
    user: str
    group: ProcessGroup

    @property
    def dsn(self) -> str:
        """libpq DSN of the maintenance database."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def pids(self) -> list[int]:
        return self.group.pids()

    @classmethod
    def start(
        cls, *, base_dir: Path | None = None, owner_pid: int | None = None, port: int | None = None
    ) -> PostgresServer:
        bindir = _postgres_bindir()
        workdir = Path(tempfile.mkdtemp(prefix="lgp-postgres-", dir=base_dir))
        group = ProcessGroup(workdir, owner_pid=owner_pid)
        group.start_watchdog()
        try:
            run_as: str | None = None
            if os.geteuid() == 0:
                run_as = "postgres"
                pw = pwd.getpwnam(run_as)
                os.chown(workdir, pw.pw_uid, pw.pw_gid)
            data = workdir / "data"
            sockets = workdir / "sock"
            for d in (data, sockets):
                d.mkdir(mode=0o700)
                if run_as:
                    shutil.chown(d, run_as, run_as)
            env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
            subprocess.run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
                check=True,
                capture_output=True,
                user=run_as,
                env=env,
                cwd=workdir,
            )
            port = port or free_port()
            log = workdir / "postgres.log"
            log.touch()
            if run_as:
                shutil.chown(log, run_as, run_as)
            proc = group.spawn(
                "postgres",
                [
                    str(bindir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    str(sockets),
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=300",
                    "-c",
                    "shared_buffers=128MB",
                    # dynamic shared memory in the data directory, not /dev/shm: a killed server
                    # leaves nothing outside the directory the watchdog removes
                    "-c",
                    "dynamic_shared_memory_type=mmap",
                ],
                log=log,
                user=run_as,
                env=env,
                cwd=workdir,
            )

            def ready() -> bool:
                if proc.poll() is not None:
                    raise ProcessExited(f"postgres exited: {log.read_text(errors='replace')[-2000:]}")
                return (
                    _port_open(port)
                    and subprocess.run(
                        [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
                    ).returncode
                    == 0
                )

            wait_for(ready, timeout=60, what="postgres to accept connections")
            return cls(port=port, user="postgres", group=group)
        except BaseException:
            group.stop()
            raise

    def stop(self) -> None:
        self.group.stop()


@dataclass
class RedisServer:
    port: int
    group: ProcessGroup

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls, *, base_dir: Path | None = None, owner_pid: int | None = None) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError("redis-server not found: install Debian's redis-server (make deps)")
        workdir = Path(tempfile.mkdtemp(prefix="lgp-redis-", dir=base_dir))
        group = ProcessGroup(workdir, owner_pid=owner_pid)
        group.start_watchdog()
        try:
            port = free_port()
            proc = group.spawn(
                "redis",
                [
                    binary,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(workdir),
                ],
                log=workdir / "redis.log",
                cwd=workdir,
            )

            def ready() -> bool:
                if proc.poll() is not None:
                    raise ProcessExited("redis-server exited: " + (workdir / "redis.log").read_text()[-2000:])
                return _port_open(port)

            wait_for(ready, timeout=30, what="redis-server to accept connections")
            return cls(port=port, group=group)
        except BaseException:
            group.stop()
            raise

    def stop(self) -> None:
        self.group.stop()
