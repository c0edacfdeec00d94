"""Alembic migrations: up from an empty database, down to nothing and up again (with revisions stored in the
old spec shape); the models match them; `lgp control-plane migrate` and `rotate-keys` work against a
real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlmodel import Session, SQLModel

from control_plane.core.db import downgrade, migrate
from control_plane.core.security import SecretBox
from control_plane.crud import DEFAULT_TENANT_ID
from control_plane.models import Deployment, DeploymentType, Listener
from lgp_contract.resource import LangGraphPlatformSpec

OUR_TABLES = {
    "tenant",
    "api_key",
    "listener",
    "deployment",
    "revision",
    "deployment_event",
    "audit_log",
    "idempotency_record",
}


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_up_down_up(postgres_url: str) -> None:
    assert _tables(postgres_url) == set()
    migrate(postgres_url)
    assert OUR_TABLES | {"alembic_version"} <= _tables(postgres_url)
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT name FROM tenant")).scalars().all() == ["default"]
    finally:
        engine.dispose()
    downgrade(postgres_url, "base")
    assert _tables(postgres_url) == {"alembic_version"}
    migrate(postgres_url)
    assert _tables(postgres_url) >= OUR_TABLES
    migrate(postgres_url)  # idempotent


# Revision specs as 0002 stored them (control_plane/spec.py's snapshot "close to the CR"), and the
# LangGraphPlatform spec the listener made of each (what 0003 must store instead).
OLD_SPECS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {
            "image": "ghcr.io/acme/agent:1.0",
            "revision": {"id": "4e4fa4c3-4697-43f7-a580-8b346617c5e9", "number": 1},
            "env": [{"name": "LOG_LEVEL", "value": "info"}],
            "envFrom": [{"secretRef": {"name": "agent-lgp-secrets"}}, {"secretRef": {"name": "shared"}}],
            "apiServer": {"replicas": 1, "resources": {"requests": {"cpu": "2", "memory": "2Gi"}}},
            "queue": {"enabled": True, "replicas": 1, "jobsPerWorker": 10},
            "autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 10},
            "database": {
                "type": "external",
                "external": {"uriSecretRef": {"name": "agent-lgp-secrets", "key": "POSTGRES_URI_CUSTOM"}},
            },
            "redis": {"type": "managed", "managed": {"resources": {"requests": {"cpu": "500m"}}}},
            "ingress": {"enabled": True, "host": "agent.example.com", "path": "/"},
        },
        {
            "image": "ghcr.io/acme/agent:1.0",
            "revision": {"id": "4e4fa4c3-4697-43f7-a580-8b346617c5e9", "number": 1},
            "env": [{"name": "LOG_LEVEL", "value": "info"}],
            "envFromSecret": "agent-lgp-secrets",
            "envFromSecrets": ["shared"],
            "apiServer": {"replicas": 1, "resources": {"requests": {"cpu": "2", "memory": "2Gi"}}},
            "queue": {"enabled": True, "replicas": 1, "jobsPerWorker": 10},
            "autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 10},
            "database": {
                "external": {"secretRef": {"name": "agent-lgp-secrets", "key": "POSTGRES_URI_CUSTOM"}}
            },
            "redis": {"managed": {"resources": {"requests": {"cpu": "500m"}}}},
            "ingress": {"enabled": True, "host": "agent.example.com", "path": "/"},
        },
    ),
    (
        {
            "image": "ghcr.io/acme/agent:2.0",
            "revision": {"id": "4e4fa4c3-4697-43f7-a580-8b346617c5ea", "number": 2},
            "env": [],
            "envFrom": [],
            "apiServer": {"replicas": 1},
            "queue": {"enabled": False, "replicas": 1, "jobsPerWorker": 10},
            "autoscaling": {"enabled": False, "minReplicas": 1, "maxReplicas": 1},
            "database": {"type": "managed", "managed": {"storage": "10Gi"}},
            "redis": {
                "type": "external",
                "external": {"uriSecretRef": {"name": "agent-lgp-secrets", "key": "REDIS_URI_CUSTOM"}},
            },
            "ingress": {"enabled": False, "host": None, "path": "/"},
        },
        {
            "image": "ghcr.io/acme/agent:2.0",
            "revision": {"id": "4e4fa4c3-4697-43f7-a580-8b346617c5ea", "number": 2},
            "env": [],
            "apiServer": {"replicas": 1},
            "queue": {"enabled": False, "replicas": 1, "jobsPerWorker": 10},
            "autoscaling": {"enabled": False, "minReplicas": 1, "maxReplicas": 1},
            "database": {"managed": {"storage": "10Gi"}},
            "redis": {"external": {"secretRef": {"name": "agent-lgp-secrets", "key": "REDIS_URI_CUSTOM"}}},
            "ingress": {"enabled": False, "path": "/"},
        },
    ),
]


def _specs(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT spec FROM revision ORDER BY number")).scalars())


def test_revision_specs_become_the_resource_spec_and_back(postgres_url: str) -> None:
    migrate(postgres_url, "0002")
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            ids = {k: uuid.uuid4() for k in ("listener", "deployment")}
            conn.execute(
                sa.text(
                    "INSERT INTO listener (id, tenant_id, name, namespaces, token_prefix, token_hash, "
                    "state_version, info, created_at, updated_at) VALUES (:id, :t, 'l', '[]', 'p', 'h', 1, "
                    "'{}', now(), now())"
                ),
                {"id": ids["listener"], "t": DEFAULT_TENANT_ID},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO deployment (id, tenant_id, name, type, image, listener_id, namespace, "
                    "resources, env, secret_refs, database_type, redis_type, secret_names, revision_count, "
                    "status, replicas, conditions, created_at, updated_at) VALUES (:id, :t, 'agent', "
                    "'production', 'a:1', :l, 'agents', '{}', '[]', '[]', 'managed', 'managed', '[]', 2, "
                    "'READY', '{}', '[]', now(), now())"
                ),
                {"id": ids["deployment"], "t": DEFAULT_TENANT_ID, "l": ids["listener"]},
            )
            for number, (old, _) in enumerate(OLD_SPECS, start=1):
                conn.execute(
                    sa.text(
                        "INSERT INTO revision (id, tenant_id, deployment_id, number, status, config, spec, "
                        "secret_names, created_at, updated_at) VALUES (:id, :t, :d, :n, 'DEPLOYED', '{}', "
                        "CAST(:spec AS jsonb), '[]', now(), now())"
                    ),
                    {
                        "id": uuid.uuid4(),
                        "t": DEFAULT_TENANT_ID,
                        "d": ids["deployment"],
                        "n": number,
                        "spec": json.dumps(old),
                    },
                )
        olds, news = [old for old, _ in OLD_SPECS], [new for _, new in OLD_SPECS]
        migrate(postgres_url)
        assert _specs(engine) == news
        for spec in news:  # each is a valid LangGraphPlatform spec, stored as written
            assert LangGraphPlatformSpec.model_validate(spec).written() == spec
        downgrade(postgres_url, "0002")
        assert _specs(engine) == olds
        migrate(postgres_url)
        assert _specs(engine) == news
    finally:
        engine.dispose()


def test_models_match_the_migrations(postgres_url: str) -> None:
    migrate(postgres_url)
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
            )
    finally:
        engine.dispose()
    ours = [d for d in diff if OUR_TABLES & set(str(d).replace("'", " ").split())]
    assert ours == [], f"models and migrations drifted: {ours}"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lgp_cli.main", "control-plane", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_migrate_and_rotate_keys(postgres_url: str) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env = dict(os.environ, LGP_DATABASE_URL=postgres_url, LGP_ENCRYPTION_KEYS=old)
    r = _cli("migrate", env=env)
    assert r.returncode == 0, r.stderr
    assert "migrated to head" in r.stdout
    engine = sa.create_engine(postgres_url)
    try:
        with Session(engine) as session:
            listener = Listener(tenant_id=DEFAULT_TENANT_ID, name="l", token_prefix="p", token_hash="h")
            session.add(listener)
            session.flush()
            session.add(
                Deployment(
                    tenant_id=DEFAULT_TENANT_ID,
                    name="d",
                    type=DeploymentType.DEVELOPMENT,
                    image="a:1",
                    listener_id=listener.id,
                    namespace="ns",
                    secret_names=["K"],
                    secrets_sealed=SecretBox([old]).seal({"env": {"K": "v"}}),
                )
            )
            session.commit()
        r = _cli("rotate-keys", env={**env, "LGP_ENCRYPTION_KEYS": f"{new},{old}"})
        assert r.returncode == 0, r.stderr
        assert "re-encrypted 1" in r.stdout
        with engine.connect() as conn:
            sealed = conn.execute(sa.text("SELECT secrets_sealed FROM deployment")).scalar_one()
        assert SecretBox([new]).open(sealed) == {"env": {"K": "v"}}  # readable with the new key alone
        r = _cli("migrate", "--downgrade", "base", env=env)
        assert r.returncode == 0, r.stderr
    finally:
        engine.dispose()
    assert _tables(postgres_url) == {"alembic_version"}


def test_cli_refuses_bad_settings(postgres_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGP_")}
    r = _cli("migrate", env={**env, "LGP_DATABASE_URL": postgres_url, "LGP_ENCRYPTION_KEYS": "nope"})
    assert r.returncode == 2
    assert "LGP_ENCRYPTION_KEYS" in r.stderr and "Fernet" in r.stderr


def test_cli_create_api_key_bootstraps_without_an_admin_key(postgres_url: str) -> None:
    from fastapi.testclient import TestClient

    from control_plane.core.config import Settings
    from control_plane.main import create_app

    key = Fernet.generate_key().decode()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGP_")}
    env.update(LGP_DATABASE_URL=postgres_url, LGP_ENCRYPTION_KEYS=key)
    assert _cli("migrate", env=env).returncode == 0
    r = _cli("create-api-key", "--tenant", "ops", "--name", "first", env=env)
    assert r.returncode == 0, r.stderr
    plaintext = r.stdout.strip()
    assert plaintext.startswith("lgp_")
    settings = Settings.model_validate({"database_url": postgres_url, "encryption_keys": key})
    with TestClient(create_app(settings)) as c:
        keys = c.get("/v1/api-keys", headers={"X-Api-Key": plaintext}).json()
        assert [(k["name"], k["prefix"]) for k in keys["data"]] == [("first", plaintext[:12])]


def test_cli_serve_with_two_workers(postgres_url: str) -> None:
    import signal
    import time

    import httpx

    from lgp_local.procs import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGP_")}
    env.update(
        LGP_DATABASE_URL=postgres_url,
        LGP_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        LGP_LOG_LEVEL="WARNING",
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lgp_cli.main",
            "control-plane",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "two workers did not start"
            time.sleep(0.2)
        assert _tables(postgres_url) >= OUR_TABLES  # migrated once, under the advisory lock
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
