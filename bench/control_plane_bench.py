"""Benchmark: the control plane on a seeded database (10,000 deployments, 100,000 revisions).

Prints reads/s and writes/s with p50/p99 over HTTP against a real `lgp control-plane serve` process,
then the raw Postgres cost of the very same queries: the SQL statements each request ran (captured
from SQLAlchemy) replayed directly with psycopg, in the same run, on the same database.
Asserts nothing. Run: .venv/bin/python bench/control_plane_bench.py [--seconds 10] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psycopg
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from control_plane.core.config import Settings
from control_plane.core.db import libpq_dsn, migrate
from control_plane.core.security import SecretBox, hash_credential
from control_plane.main import create_app
from control_plane.spec import build_settings, build_spec, resolve_resources
from lgp_local import PostgresServer
from lgp_local.procs import free_port

TENANTS = 10
DEPLOYMENTS = 10_000
REVISIONS_PER_DEPLOYMENT = 10
ADMIN_KEY = "bench-admin-" + uuid.uuid4().hex


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def seed(url: str, keys: list[str]) -> dict[str, Any]:
    """Tenants, one listener and one API key per tenant, deployments and revisions, in bulk SQL."""
    box = SecretBox(keys)
    resources = resolve_resources("production", None)
    settings = build_settings(
        image="ghcr.io/acme/agent:1.0.0",
        resources=resources,
        env=[{"name": "LOG_LEVEL", "value": "info"}],
        ingress=None,
        secret_refs=[],
        database_type="managed",
        redis_type="managed",
        secret_names=["OPENAI_API_KEY"],
    )
    spec = build_spec(name="agent", settings=settings, revision_id="seed", revision_number=1).written()
    config = settings.model_dump(mode="json")
    sealed = box.seal({"env": {"OPENAI_API_KEY": "sk-bench"}, "database_uri": None, "redis_uri": None})
    tenant_keys = {}
    t0 = time.monotonic()
    with psycopg.connect(libpq_dsn(url)) as conn:
        tenants = [uuid.uuid4() for _ in range(TENANTS)]
        listeners = [uuid.uuid4() for _ in range(TENANTS)]
        for i, (t, lst) in enumerate(zip(tenants, listeners, strict=True)):
            conn.execute(
                "INSERT INTO tenant (id, name, created_at) VALUES (%s, %s, now())", (t, f"tenant-{i}")
            )
            key = f"lgp_bench{i}_{uuid.uuid4().hex}"
            tenant_keys[t] = key
            conn.execute(
                "INSERT INTO api_key (id, tenant_id, name, prefix, key_hash, created_at) "
                "VALUES (gen_random_uuid(), %s, 'bench', %s, %s, now())",
                (t, key[:12], hash_credential(key)),
            )
            conn.execute(
                "INSERT INTO listener (id, tenant_id, name, namespaces, token_prefix, token_hash, "
                "state_version, info, created_at, updated_at) "
                "VALUES (%s, %s, %s, '[\"bench\"]', %s, %s, 1, '{}', now(), now())",
                (lst, t, f"cluster-{i}", f"lgpl_b{i}", hash_credential(f"lgpl_bench_token_{i}")),
            )
        conn.execute(
            """
            INSERT INTO deployment (id, tenant_id, name, type, image, listener_id, namespace, resources, env,
                secret_refs, database_type, redis_type, secret_names, secrets_sealed, revision_count, status,
                replicas, conditions, created_at, updated_at)
            SELECT gen_random_uuid(), (%(tenants)s::uuid[])[1 + i %% %(n)s], 'd-' || lpad(i::text, 5, '0'),
                'production', 'ghcr.io/acme/agent:1.0.0', (%(listeners)s::uuid[])[1 + i %% %(n)s], 'bench',
                %(resources)s, %(env)s, '[]', 'managed', 'managed', '["OPENAI_API_KEY"]', %(sealed)s,
                %(revs)s, 'READY', '{}', '[]', now() - make_interval(secs => i), now()
            FROM generate_series(1, %(count)s) AS i
            """,
            {
                "tenants": tenants,
                "listeners": listeners,
                "n": TENANTS,
                "resources": psycopg.types.json.Jsonb(resources),
                "env": psycopg.types.json.Jsonb(config["env"]),
                "sealed": sealed,
                "revs": REVISIONS_PER_DEPLOYMENT,
                "count": DEPLOYMENTS,
            },
        )
        conn.execute(
            """
            INSERT INTO revision (id, tenant_id, deployment_id, number, status, status_reason, config,
                spec, secret_names, secrets_sealed, created_by, created_at, updated_at, deploy_started_at,
                finished_at)
            SELECT gen_random_uuid(), d.tenant_id, d.id, n,
                CASE WHEN n = %(last)s THEN 'DEPLOYED' ELSE 'REPLACED' END,
                CASE WHEN n = %(last)s THEN NULL ELSE 'Replaced' END,
                %(config)s, %(spec)s, '["OPENAI_API_KEY"]', %(sealed)s, 'seed',
                now() - make_interval(mins => %(last)s - n), now(), now(), now()
            FROM deployment d CROSS JOIN generate_series(1, %(last)s) AS n
            """,
            {
                "last": REVISIONS_PER_DEPLOYMENT,
                "config": psycopg.types.json.Jsonb(config),
                "spec": psycopg.types.json.Jsonb(spec),
                "sealed": sealed,
            },
        )
        conn.execute(
            "UPDATE deployment d SET latest_revision_id = r.id, active_revision_id = r.id FROM revision r "
            "WHERE r.deployment_id = d.id AND r.number = %s",
            (REVISIONS_PER_DEPLOYMENT,),
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        ids = [r[0] for r in conn.execute("SELECT id FROM deployment WHERE tenant_id = %s", (tenants[0],))]
        revs = conn.execute("SELECT count(*) FROM revision").fetchone()
    print(
        f"seeded {DEPLOYMENTS} deployments, {revs[0] if revs else 0} revisions, {TENANTS} tenants "
        f"in {time.monotonic() - t0:.1f}s"
    )
    return {
        "tenant": tenants[0],
        "key": tenant_keys[tenants[0]],
        "deployments": [str(i) for i in ids],
        "listener_token": "lgpl_bench_token_0",
    }


Scenario = Callable[[httpx.Client, random.Random, int], httpx.Response]


def scenarios(data: dict[str, Any]) -> dict[str, tuple[str, Scenario]]:
    ids = data["deployments"]
    return {
        "get deployment": ("read", lambda c, r, i: c.get(f"/v1/deployments/{r.choice(ids)}")),
        "list deployments (50, filtered, with total)": (
            "read",
            lambda c, r, i: c.get(
                "/v1/deployments", params={"limit": 50, "offset": r.randrange(0, 950), "status": "READY"}
            ),
        ),
        "list revisions of a deployment (20)": (
            "read",
            lambda c, r, i: c.get(f"/v1/deployments/{r.choice(ids)}/revisions", params={"limit": 20}),
        ),
        "update deployment (new revision)": (
            "write",
            lambda c, r, i: c.patch(
                f"/v1/deployments/{r.choice(ids)}", json={"image": f"ghcr.io/acme/agent:2.{i}"}
            ),
        ),
        "create revision": (
            "write",
            lambda c, r, i: c.post(f"/v1/deployments/{r.choice(ids)}/revisions", json={}),
        ),
    }


def run_http(
    base: str, key: str, fn: Scenario, seconds: float, concurrency: int
) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    counter = [0]

    def worker(seed_: int) -> None:
        rnd = random.Random(seed_)  # noqa: S311 (load pattern, not security)
        with httpx.Client(base_url=base, headers={"X-Api-Key": key}, timeout=30) as c:
            while time.monotonic() < stop:
                with lock:
                    counter[0] += 1
                    n = counter[0]
                t0 = time.perf_counter()
                resp = fn(c, rnd, n)
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    if resp.status_code >= 400:
                        errors[0] += 1

    with httpx.Client(base_url=base, headers={"X-Api-Key": key}, timeout=30) as warm:
        rnd = random.Random(0)  # noqa: S311 (load pattern, not security)
        for n in range(20):  # warm-up (connection pools, plan caches): not measured
            fn(warm, rnd, -n - 1)
    stop = time.monotonic() + seconds
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    return int(len(latencies) / elapsed), latencies, errors[0]


def capture(settings: Settings, data: dict[str, Any], fn: Scenario, n: int) -> list[list[tuple[str, Any]]]:
    """The SQL each of ``n`` requests runs, captured in-process from SQLAlchemy."""
    app = create_app(settings)
    current: list[tuple[str, Any]] = []
    captured: list[list[tuple[str, Any]]] = []

    def hook(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        current.append((statement, parameters))

    sa.event.listen(app.state.engine, "before_cursor_execute", hook)
    rnd = random.Random(7)  # noqa: S311 (load pattern, not security)
    with TestClient(app, headers={"X-Api-Key": data["key"]}) as c:
        for i in range(n):
            current.clear()
            fn(c, rnd, 10_000_000 + i)
            captured.append(list(current))
    return captured


def replay(url: str, requests: list[list[tuple[str, Any]]]) -> tuple[list[float], float]:
    """Per request: the time Postgres takes for its statements (one connection, rolled back after each)."""
    times = []
    with psycopg.connect(libpq_dsn(url)) as conn:
        for stmts in requests:
            t0 = time.perf_counter()
            with conn.cursor() as cur:
                for statement, params in stmts:
                    if isinstance(params, list):
                        cur.executemany(statement, params)
                    else:
                        cur.execute(statement, params)
                        if cur.description is not None:
                            cur.fetchall()
            conn.rollback()
            times.append(time.perf_counter() - t0)
    return times, statistics.mean(len(s) for s in requests)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--replays", type=int, default=300)
    args = p.parse_args()
    pg = PostgresServer.start()
    proc: subprocess.Popen[bytes] | None = None
    try:
        url = pg.create_database("bench")
        keys = [Fernet.generate_key().decode()]
        migrate(url)
        data = seed(url, keys)
        # two clones of the seeded data: the SQL of each scenario is captured on one (its writes commit
        # there) and replayed, rolled back, on the other, so replays never collide with captured writes
        capture_url, replay_url = pg.create_database("bench_capture"), pg.url("bench_replay")
        pg.drop_database("bench_capture")
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute('CREATE DATABASE "bench_capture" TEMPLATE "bench"')
            conn.execute('CREATE DATABASE "bench_replay" TEMPLATE "bench"')
        port = free_port()
        env = dict(
            os.environ,
            LGP_DATABASE_URL=url,
            LGP_ENCRYPTION_KEYS=keys[0],
            LGP_ADMIN_API_KEY=ADMIN_KEY,
            LGP_ENVIRONMENT="development",
            LGP_LOG_LEVEL="WARNING",
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "lgp_cli.main", "control-plane", "serve", "--port", str(port)],
            env=env,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)

        settings = Settings.model_validate(
            {
                "database_url": capture_url,
                "encryption_keys": keys[0],
                "environment": "development",
                "migrate_on_start": False,
            }
        )
        print(
            f"\nHTTP: one `lgp control-plane serve` process (1 uvicorn worker), {args.concurrency} client "
            f"threads, {args.seconds:.0f}s per scenario, on this {os.cpu_count()}-core machine (client, "
            "server and Postgres share it)"
        )
        rows = []
        for name, (kind, fn) in scenarios(data).items():
            rate, lat, errors = run_http(base, data["key"], fn, args.seconds, args.concurrency)
            raw, stmts = replay(replay_url, capture(settings, data, fn, args.replays))
            rows.append((name, kind, rate, lat, errors, raw, stmts))
            print(
                f"- {name} [{kind}]: {rate} req/s, p50 {pct(lat, 0.5) * 1000:.1f} ms, "
                f"p99 {pct(lat, 0.99) * 1000:.1f} ms ({len(lat)} requests, {errors} errors) | raw Postgres "
                f"for the same {stmts:.1f} statements/request: "
                f"mean {statistics.mean(raw) * 1000:.2f} ms, p99 {pct(raw, 0.99) * 1000:.2f} ms "
                f"(≈ {1 / statistics.mean(raw):.0f} req/s on one connection)"
            )

        bearer = {"Authorization": f"Bearer {data['listener_token']}"}
        lat = []
        size = 0
        for _ in range(10):
            t0 = time.perf_counter()
            r = httpx.get(f"{base}/v1/listener/desired-state", headers=bearer, timeout=60)
            lat.append(time.perf_counter() - t0)
            size = len(r.content)
        print(
            f"- listener desired state ({DEPLOYMENTS // TENANTS} deployments, {size / 1e6:.1f} MB, secrets "
            f"decrypted): median {statistics.median(lat) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms"
        )
        reads = [r for r in rows if r[1] == "read"]
        writes = [r for r in rows if r[1] == "write"]
        print(
            "\nsummary: reads "
            + ", ".join(f"{r[2]}/s" for r in reads)
            + f" (p99 up to {max(pct(r[3], 0.99) for r in reads) * 1000:.0f} ms); "
            "writes "
            + ", ".join(f"{r[2]}/s" for r in writes)
            + f" (p99 up to {max(pct(r[3], 0.99) for r in writes) * 1000:.0f} ms)"
        )
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        pg.stop()


if __name__ == "__main__":
    main()
