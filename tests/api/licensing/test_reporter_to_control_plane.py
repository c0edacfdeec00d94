"""The usage reporter submitting to the real control plane (a process on real Postgres), not a test
sink: the stored sums equal what the LangGraph-shaped database holds (tables created here), and a
full resend from a lost buffer replaces rows instead of adding to them."""

from __future__ import annotations

import os
import random
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from lgp_local.control_plane import LGP, ControlPlane
from tests.api.usage.conftest import create_langgraph_tables, floor_hour, seed_usage

REPO = Path(__file__).resolve().parents[3]


def _run_reporter(cp: ControlPlane, target: str, buffer: Path) -> subprocess.CompletedProcess[str]:
    # counted from the database (opt-in, not exact): this test is about what the control plane stores
    env = dict(os.environ, LGP_USAGE_BEACON_API_KEY=cp.admin_key, LGP_USAGE_COUNT_FROM_DATABASE="true")
    return subprocess.run(
        [
            *LGP,
            "usage",
            "run",
            "--once",
            "--beacon-url",
            cp.url,
            "--target",
            target,
            "--buffer-path",
            str(buffer),
            "--metrics-port",
            "0",
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_reporter_totals_arrive_once_in_the_control_plane(postgres_server: Any, tmp_path: Path) -> None:
    cp_db = f"cp_{uuid.uuid4().hex[:8]}"
    lg_db = f"lg_{uuid.uuid4().hex[:8]}"
    cp = ControlPlane(postgres_server.create_database(cp_db), tmp_path)
    lg_url = postgres_server.create_database(lg_db)
    try:
        create_langgraph_tables(lg_url)
        now = datetime.now(UTC)
        start = floor_hour(now - timedelta(hours=30))
        truth = seed_usage(lg_url, random.Random(7), start, floor_hour(now - timedelta(hours=2)))
        expected = truth.closed(floor_hour(now) - timedelta(hours=1))
        cp.start()
        uri = lg_url.replace("postgresql+psycopg://", "postgresql://")
        target = f"dep-usage-1:agent={uri}"
        first = _run_reporter(cp, target, tmp_path / "buffer-1.sqlite")
        assert first.returncode == 0, first.stdout + first.stderr

        def totals() -> tuple[int, int, int]:
            rows = cp.call("GET", "/usage", params={"deployment": "agent", "all_tenants": "true"})["data"]
            return (
                sum(r["runs"] for r in rows),
                sum(r["nodes"] for r in rows),
                sum(r["windows"] for r in rows),
            )

        runs, nodes, windows = totals()
        assert runs == sum(v[0] for v in expected.values()) > 0
        assert nodes == sum(v[1] for v in expected.values()) > 0
        # the buffer is lost (a new volume): everything is sent again, and replaces instead of adding
        second = _run_reporter(cp, target, tmp_path / "buffer-2.sqlite")
        assert second.returncode == 0, second.stdout + second.stderr
        assert totals() == (runs, nodes, windows)
        # one row per window: the resends were answered from the Idempotency-Key record (API key) or
        # replaced the row (license auth, see test_license_and_beacon); none was added
        with psycopg.connect(postgres_server.dsn.rsplit("/", 1)[0] + f"/{cp_db}") as conn:
            stored = conn.execute("select count(*) from usage_record").fetchone()
        assert stored is not None and stored[0] == windows  # empty hours are reported too
    finally:
        cp.stop()
        cp.http.close()
        postgres_server.drop_database(cp_db)
        postgres_server.drop_database(lg_db)
