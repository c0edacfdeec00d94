"""The images lgp builds with no registry: what each one is made of.

| image            | default name                       | user (uid:gid)   | writable paths           |
|------------------|------------------------------------|------------------|--------------------------|
| Python base      | localhost/lgp/python:3.11-bookworm | lgp 1000:1000    | /tmp                     |
| Postgres         | localhost/lgp/postgres:15-bookworm | postgres 999:999 | (1) /var/run/postgresql /tmp |
| Redis            | localhost/lgp/redis:7.0-bookworm   | redis 999:999    | /data /tmp               |
| LangGraph server | lgp build -t NAME:TAG              | lgp 1000:1000    | /tmp                     |

(1) PGDATA's volume, mounted at /var/lib/postgresql/data (the operator's PGDATA is a subdirectory).

Every image runs as that fixed, numeric, non-root user (so ``runAsNonRoot`` can be verified) and
works with a read-only root filesystem when those paths are writable mounts (emptyDir; PGDATA's
volume must be writable by 999, e.g. ``fsGroup: 999``). The integration test runs each image that
way. Postgres must run as 999 (postgres looks its user up in /etc/passwd).

- **Python base**: Debian bookworm's python3 (3.11), ca-certificates and libstdc++6.
- **Postgres**: Debian's ``postgresql-15``, env-compatible with the official ``postgres`` image as
  the operator uses it (``POSTGRES_USER``/``POSTGRES_PASSWORD``/``POSTGRES_DB``/``PGDATA``, initdb
  on an empty PGDATA, arguments such as ``-c max_connections=N``, listening on 5432, ``pg_isready``
  and ``psql`` on PATH, SIGINT to stop). The pgvector extension is NOT included: bookworm has no
  ``postgresql-15-pgvector`` package (it arrives with trixie), and the open LangGraph runtime does
  not need it.
- **Redis**: Debian's ``redis-server`` 7.0, called like the official ``redis`` image (arguments go
  to redis-server, protected mode off, ``redis-cli`` on PATH).
- **LangGraph server** from a ``langgraph.json`` project: the Python base's Debian layer, the stock
  ``langgraph-api`` with the MIT Postgres runtime ``langgraph-runtime-pg`` at the proven versions
  (``files/server-constraints.txt``) plus the project's dependencies, and the project under
  ``/deps/...`` as ``langgraph build`` lays it out. The api process (entrypoint
  ``/storage/entrypoint.sh``) listens on ``$PORT`` (8000) and answers ``GET /ok``; the queue worker
  is ``/storage/queue_entrypoint.sh`` (the official image's path; health on ``$PORT``).
  ``LANGGRAPH_RUNTIME_EDITION=pg`` and ``LANGSERVE_GRAPHS`` are set in the image; it needs
  ``DATABASE_URI`` (or ``POSTGRES_URI``, copied to it) and ``REDIS_URI`` at run time.
"""

from __future__ import annotations

from pathlib import Path

from .builder import ImageSpec
from .layers import SITE, DebianRootfs, Files, PipPackages, User
from .oci import Entry, ImageConfig
from .project import Project, load_project, project_files, tree_digest

FILES = Path(__file__).resolve().parent / "files"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

LGP_USER = User("lgp", 1000, 1000, "/home/lgp", gecos="lgp")
POSTGRES_USER = User("postgres", 999, 999, "/var/lib/postgresql", "/bin/bash", "PostgreSQL administrator")
REDIS_USER = User("redis", 999, 999, "/var/lib/redis", gecos="Redis")

PYTHON_NAME = "localhost/lgp/python:3.11-bookworm"
POSTGRES_NAME = "localhost/lgp/postgres:15-bookworm"
REDIS_NAME = "localhost/lgp/redis:7.0-bookworm"

SERVER_REQUIREMENTS = ("langgraph-api==0.11.1", "langgraph-runtime-pg==0.11.1.post1")
# The pending-runs query this runtime needs (its table is ``runs``; the operator's default, the official
# chart's, reads ``run``): a deployment of a server image built here sets it as
# spec.autoscaling.keda.pendingRunsQuery (the dev stack does, for the example agent).
PENDING_RUNS_QUERY = "SELECT COUNT(*) FROM runs WHERE status = 'pending'"
PG_MAJOR = "15"


def _uid(user: User) -> str:
    return f"{user.uid}:{user.gid}"


def _file(name: str, path: str, mode: int = 0o755) -> Entry:
    return Entry(path, mode=mode, data=(FILES / name).read_bytes())


# libstdc++6: C++ extension wheels (grpcio, which langgraph-api imports) link it, as the official
# python images provide it
PYTHON_ROOTFS = DebianRootfs(packages=("python3", "ca-certificates", "libstdc++6"), users=(LGP_USER,))
HOME_LAYER = Files((Entry("/home/lgp", mode=0o755, uid=1000, gid=1000),), "home of the lgp user (1000)")


def python_base() -> ImageSpec:
    return ImageSpec(
        layers=(PYTHON_ROOTFS, HOME_LAYER),
        config=ImageConfig(
            user=_uid(LGP_USER),
            env={"PATH": PATH, "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"},
            cmd=("python3",),
        ),
        description="Python base (Debian bookworm python3)",
    )


def postgres() -> ImageSpec:
    rootfs = DebianRootfs(
        packages=(f"postgresql-{PG_MAJOR}",),
        users=(POSTGRES_USER,),
        remove=(
            # the cluster postgresql-common's maintainer script creates: the entrypoint makes its own
            f"/var/lib/postgresql/{PG_MAJOR}",
            f"/etc/postgresql/{PG_MAJOR}",
            # the optional JIT provider and what only it links (LLVM, z3: 130 MB); without it
            # postgres disables JIT compilation by itself
            f"/usr/lib/postgresql/{PG_MAJOR}/lib/llvmjit*",
            f"/usr/lib/postgresql/{PG_MAJOR}/lib/bitcode",
            "/usr/lib/x86_64-linux-gnu/libLLVM-*",
            "/usr/lib/x86_64-linux-gnu/libz3.so*",
        ),
    )
    files = Files(
        (
            _file("postgres-entrypoint.sh", "/usr/local/bin/docker-entrypoint.sh"),
            Entry("/docker-entrypoint-initdb.d", mode=0o755),
            Entry("/run/postgresql", mode=0o3777, uid=999, gid=999),
            Entry("/var/lib/postgresql/data", mode=0o1777, uid=999, gid=999),
        ),
        "postgres entrypoint and directories",
    )
    return ImageSpec(
        layers=(rootfs, files),
        config=ImageConfig(
            user=_uid(POSTGRES_USER),
            env={
                "PATH": f"/usr/lib/postgresql/{PG_MAJOR}/bin:{PATH}",
                "LANG": "C.UTF-8",
                "PG_MAJOR": PG_MAJOR,
                "PGDATA": "/var/lib/postgresql/data",
            },
            entrypoint=("docker-entrypoint.sh",),
            cmd=("postgres",),
            stop_signal="SIGINT",
            exposed_ports=("5432/tcp",),
        ),
        description=f"Postgres {PG_MAJOR} (Debian postgresql-{PG_MAJOR})",
    )


def redis() -> ImageSpec:
    rootfs = DebianRootfs(packages=("redis-server",), users=(REDIS_USER,))
    files = Files(
        (
            _file("redis-entrypoint.sh", "/usr/local/bin/docker-entrypoint.sh"),
            Entry("/data", mode=0o755, uid=999, gid=999),
        ),
        "redis entrypoint and /data",
    )
    return ImageSpec(
        layers=(rootfs, files),
        config=ImageConfig(
            user=_uid(REDIS_USER),
            env={"PATH": PATH, "LANG": "C.UTF-8"},
            entrypoint=("docker-entrypoint.sh",),
            cmd=("redis-server",),
            working_dir="/data",
            exposed_ports=("6379/tcp",),
        ),
        description="Redis 7.0 (Debian redis-server)",
    )


def _project_layer(project: Project) -> Files:
    entries: list[Entry] = [Entry("/deps", mode=0o755)]
    for root, dest in project.trees:
        parts = dest.strip("/").split("/")
        entries += [Entry("/" + "/".join(parts[:i]), mode=0o755) for i in range(2, len(parts) + 1)]
        for path in project_files(root):
            target = f"{dest}/{path.relative_to(root).as_posix()}"
            # parents of files inside the tree (project_files lists files only)
            rel_parts = path.relative_to(root).parts[:-1]
            entries += [
                Entry(f"{dest}/{'/'.join(rel_parts[:i])}", mode=0o755) for i in range(1, len(rel_parts) + 1)
            ]
            if path.is_symlink():
                entries.append(Entry(target, mode=0o777, link=str(path.readlink())))
            else:
                entries.append(Entry(target, mode=(path.stat().st_mode & 0o777) | 0o444, source=path))
    if project.import_paths:
        pth = "".join(f"{p}\n" for p in project.import_paths).encode()
        entries.append(Entry(f"{SITE}/lgp-project.pth", mode=0o644, data=pth))
    unique = {e.path: e for e in entries}
    return Files(tuple(unique.values()), f"project {project.config_path.parent.name}")


def server(config_path: Path) -> ImageSpec:
    """The LangGraph server image of the project whose langgraph.json is ``config_path`` (or the
    directory holding it). Raises ``ProjectError`` naming what is wrong with the project."""
    project = load_project(config_path)
    packages = PipPackages(
        requirements=(*SERVER_REQUIREMENTS, *project.pypi_deps),
        constraints=(FILES / "server-constraints.txt").read_text(),
        requirement_files=tuple((p.name, p.read_text()) for p in project.requirement_files),
        local_packages=tuple((p, tree_digest(p)) for p in project.real_packages),
        pip_config=project.pip_config.read_text() if project.pip_config else None,
        label="langgraph-api, langgraph-runtime-pg and the project's dependencies",
    )
    storage = Files(
        (
            Entry("/storage", mode=0o755),
            _file("server-entrypoint.sh", "/storage/entrypoint.sh"),
            _file("queue-entrypoint.sh", "/storage/queue_entrypoint.sh"),
            Entry("/api", mode=0o755),
            _file("server-constraints.txt", "/api/constraints.txt", 0o644),
        ),
        "server entrypoints (/storage/entrypoint.sh, /storage/queue_entrypoint.sh)",
    )
    env = {
        "PATH": PATH,
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PORT": "8000",
        "LANGGRAPH_RUNTIME_EDITION": "pg",
        **project.env,
    }
    return ImageSpec(
        layers=(PYTHON_ROOTFS, HOME_LAYER, packages, storage, _project_layer(project)),
        config=ImageConfig(
            user=_uid(LGP_USER),
            env=env,
            entrypoint=("/storage/entrypoint.sh",),
            working_dir=project.working_dir or "/",
            exposed_ports=("8000/tcp",),
            labels={"dev.lgp.langgraph-api": SERVER_REQUIREMENTS[0].split("==")[1]},
        ),
        description=f"LangGraph server ({project.config_path})",
    )
