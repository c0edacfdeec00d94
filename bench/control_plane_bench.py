"""Benchmark: the control plane on a seeded database (10,000 deployments, 100,000 revisions by default).

Prints reads/s and writes/s with p50/p99 over HTTP against a real `lgp control-plane serve` process
(``--workers 1 2``: once per worker count), then the raw Postgres cost of the very same queries: the
SQL statements each request ran (captured from SQLAlchemy) replayed directly with psycopg, in the same
run, on the same database, and the ratio of the two. "Per request" is the latency of one request at a
time (``--concurrency`` clients measure throughput); the HTTP floor is ``GET /healthz`` (no database).
Then the listener's desired state: a full answer, a change answered as a delta (``delta=true``), and
an unchanged state (304).
Asserts nothing. Run: .venv/bin/python bench/control_plane_bench.py [--deployments 10000] [--seconds 10]
[--concurrency 8] [--workers 1 2] [--py-spy DIR]
"""

from __future__ import annotations

import argparse
import contextlib
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
from control_plane.crud.deployments import encode_cursor
from control_plane.main import create_app
from control_plane.spec import build_settings, build_spec, resolve_resources
from lgp_local import PostgresServer
from lgp_local.procs import free_port

TENANTS = 10
REVISIONS_PER_DEPLOYMENT = 10
ADMIN_KEY = "bench-admin-" + uuid.uuid4().hex


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def seed(url: str, keys: list[str], deployments: int) -> dict[str, Any]:
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
                "count": deployments,
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
        ordered = conn.execute(
            "SELECT created_at, id FROM deployment WHERE tenant_id = %s AND status = 'READY' "
            "ORDER BY created_at DESC, id",
            (tenants[0],),
        ).fetchall()
        # the keyset cursor of every page of 50 (what next_cursor answers), to jump to random pages
        cursors = [encode_cursor(at, ident) for at, ident in ordered[49:-1:50]]
        revs = conn.execute("SELECT count(*) FROM revision").fetchone()
    print(
        f"seeded {deployments} deployments, {revs[0] if revs else 0} revisions, {TENANTS} tenants "
        f"in {time.monotonic() - t0:.1f}s"
    )
    return {
        "tenant": tenants[0],
        "key": tenant_keys[tenants[0]],
        "deployments": [str(i) for i in ids],
        "cursors": cursors,
        "listener_token": "lgpl_bench_token_0",
    }


Scenario = Callable[[httpx.Client, random.Random, int], httpx.Response]


def scenarios(data: dict[str, Any]) -> dict[str, tuple[str, Scenario]]:
    ids, cursors = data["deployments"], data["cursors"]
    return {
        "get deployment": ("read", lambda c, r, i: c.get(f"/v1/deployments/{r.choice(ids)}")),
        "list deployments (50, filtered, with total, offset)": (
            "read",
            lambda c, r, i: c.get(
                "/v1/deployments", params={"limit": 50, "offset": r.randrange(0, 950), "status": "READY"}
            ),
        ),
        "list deployments (50, filtered, with total, keyset cursor)": (
            "read",
            lambda c, r, i: c.get(
                "/v1/deployments", params={"limit": 50, "cursor": r.choice(cursors), "status": "READY"}
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


def run_serial(base: str, key: str, fn: Scenario, n: int) -> list[float]:
    """Latency of ``n`` requests sent one at a time (after a warm-up): the per-request time."""
    out = []
    with httpx.Client(base_url=base, headers={"X-Api-Key": key}, timeout=30) as c:
        rnd = random.Random(1)  # noqa: S311 (load pattern, not security)
        for i in range(n + 20):
            t0 = time.perf_counter()
            fn(c, rnd, 20_000_000 + i)
            if i >= 20:
                out.append(time.perf_counter() - t0)
    return out


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
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
            str(workers),
        ],
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            stop_server(proc)
            raise RuntimeError("the server did not start")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def profiled(out: Path | None, pid: int, name: str, seconds: float) -> subprocess.Popen[bytes] | None:
    """py-spy recording the server (and its worker processes) while a scenario runs, if asked."""
    if out is None:
        return None
    out.mkdir(parents=True, exist_ok=True)
    slug = "".join(ch if ch.isalnum() else "-" for ch in name)[:40]
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--format",
            "raw",
            "--rate",
            "250",
            "--duration",
            str(int(seconds) + 1),
            "--output",
            str(out / f"{slug}.txt"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def desired_state_figures(base: str, data: dict[str, Any], deployments: int, run: int) -> None:
    """The listener's desired state over one kept-alive connection, as the listener polls it."""
    bearer = {"Authorization": f"Bearer {data['listener_token']}"}
    path = "/v1/listener/desired-state"
    with (
        httpx.Client(base_url=base, headers=bearer, timeout=60) as lis,
        httpx.Client(base_url=base, headers={"X-Api-Key": data["key"]}, timeout=30) as user,
    ):
        lat, size, version = [], 0, 0
        for _ in range(10):
            t0 = time.perf_counter()
            r = lis.get(path)
            lat.append(time.perf_counter() - t0)
            size, version = len(r.content), int(r.json()["version"])
        print(
            f"- listener desired state, full answer ({deployments // TENANTS} deployments, "
            f"{size / 1e6:.2f} MB, secrets decrypted): median {statistics.median(lat) * 1000:.0f} ms, "
            f"max {max(lat) * 1000:.0f} ms"
        )
        unchanged = []
        for _ in range(20):
            t0 = time.perf_counter()
            r = lis.get(path, params={"version": version, "delta": "true"})
            unchanged.append(time.perf_counter() - t0)
        print(
            f"- listener desired state, unchanged (HTTP {r.status_code}, {len(r.content)} bytes of body): "
            f"median {statistics.median(unchanged) * 1000:.1f} ms"
        )
        lat, sizes, entries = [], [], 0
        for i in range(20):
            image = f"ghcr.io/acme/agent:3.{run}.{i}"  # a new image in every run: a new revision
            user.patch(f"/v1/deployments/{data['deployments'][i]}", json={"image": image})
            t0 = time.perf_counter()
            r = lis.get(path, params={"version": version, "delta": "true"})
            lat.append(time.perf_counter() - t0)
            if r.status_code != 200 or r.json().get("complete", True):
                print(f"- listener desired state, delta: not answered by this server (HTTP {r.status_code})")
                return
            body = r.json()
            sizes.append(len(r.content))
            entries = max(entries, len(body["deployments"]))
            version = int(body["version"])
        print(
            f"- listener desired state, one deployment changed (delta=true, {entries} entry, "
            f"{statistics.median(sizes):.0f} bytes): median {statistics.median(lat) * 1000:.1f} ms, "
            f"max {max(lat) * 1000:.1f} ms"
        )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--deployments", type=int, default=10_000, help="seeded (10 revisions each)")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--replays", type=int, default=300)
    p.add_argument("--serial", type=int, default=200, help="requests sent one at a time per scenario")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server processes, one run each")
    p.add_argument("--only", help="run only the scenarios whose name contains this")
    p.add_argument("--py-spy", type=Path, help="record the server with py-spy into this directory")
    args = p.parse_args()
    pg = PostgresServer.start()
    proc: subprocess.Popen[bytes] | None = None
    try:
        url = pg.create_database("bench")
        keys = [Fernet.generate_key().decode()]
        migrate(url)
        data = seed(url, keys, args.deployments)
        # two clones of the seeded data: the SQL of each scenario is captured on one (its writes commit
        # there) and replayed, rolled back, on the other, so replays never collide with captured writes
        capture_url, replay_url = pg.create_database("bench_capture"), pg.url("bench_replay")
        pg.drop_database("bench_capture")
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute('CREATE DATABASE "bench_capture" TEMPLATE "bench"')
            conn.execute('CREATE DATABASE "bench_replay" TEMPLATE "bench"')
        settings = Settings.model_validate(
            {
                "database_url": capture_url,
                "encryption_keys": keys[0],
                "environment": "development",
                "migrate_on_start": False,
            }
        )
        chosen = {k: v for k, v in scenarios(data).items() if not args.only or args.only in k}
        captured = {name: capture(settings, data, fn, args.replays) for name, (_, fn) in chosen.items()}
        env = dict(
            os.environ,
            LGP_DATABASE_URL=url,
            LGP_ENCRYPTION_KEYS=keys[0],
            LGP_ADMIN_API_KEY=ADMIN_KEY,
            LGP_ENVIRONMENT="development",
            LGP_LOG_LEVEL="WARNING",
        )
        for workers in args.workers:
            port = free_port()
            proc = start_server(env, port, workers)
            base = f"http://127.0.0.1:{port}"
            print(
                f"\nHTTP: `lgp control-plane serve --workers {workers}`, {args.concurrency} client threads, "
                f"{args.seconds:.0f}s per scenario, on this {os.cpu_count()}-core machine (client, server "
                f"and Postgres share it), {args.deployments} deployments"
            )
            floor = run_serial(base, data["key"], lambda c, r, i: c.get("/healthz"), args.serial)
            print(
                "- HTTP floor (GET /healthz, no database), one at a time: "
                f"mean {statistics.mean(floor) * 1000:.2f} ms"
            )
            rows = []
            for name, (kind, fn) in chosen.items():
                spy = profiled(args.py_spy and args.py_spy / f"w{workers}", proc.pid, name, args.seconds)
                rate, lat, errors = run_http(base, data["key"], fn, args.seconds, args.concurrency)
                if spy is not None:
                    spy.wait()
                serial = run_serial(base, data["key"], fn, args.serial)
                times, stmts = replay(replay_url, captured[name])  # right after: the same load
                rows.append((name, kind, rate, lat, errors))
                per, raw_mean = statistics.mean(serial), statistics.mean(times)
                print(
                    f"- {name} [{kind}]: {rate} req/s, p50 {pct(lat, 0.5) * 1000:.1f} ms, "
                    f"p99 {pct(lat, 0.99) * 1000:.1f} ms ({len(lat)} requests, {errors} errors); one at a "
                    f"time: mean {per * 1000:.2f} ms, p99 {pct(serial, 0.99) * 1000:.2f} ms | raw Postgres "
                    f"for the same {stmts:.1f} statements/request: mean {raw_mean * 1000:.2f} ms, p99 "
                    f"{pct(times, 0.99) * 1000:.2f} ms | per request {per / raw_mean:.1f}x raw"
                )
            if not args.only:
                desired_state_figures(base, data, args.deployments, workers)
            reads = [r for r in rows if r[1] == "read"]
            writes = [r for r in rows if r[1] == "write"]
            print(
                "\nsummary: reads "
                + ", ".join(f"{r[2]}/s" for r in reads)
                + f" (p99 up to {max((pct(r[3], 0.99) for r in reads), default=0) * 1000:.0f} ms); "
                "writes "
                + ", ".join(f"{r[2]}/s" for r in writes)
                + f" (p99 up to {max((pct(r[3], 0.99) for r in writes), default=0) * 1000:.0f} ms)"
            )
            stop_server(proc)
            proc = None
    finally:
        if proc is not None:
            stop_server(proc)
        pg.stop()


if __name__ == "__main__":
    main()
