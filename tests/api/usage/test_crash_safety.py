"""The usage reporter as a real process, SIGKILLed 10 times mid-run and restarted, sending to a beacon
that fails 30% of requests (half refused, half stored-then-500): 0 windows lost, 0 counted twice.
The deployments' databases hold LangGraph-shaped tables created by the conftest fixtures."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from lgp_operator.usage.buffer import Buffer

from lgp_contract.usage import usage_key

from .conftest import FlakySink, Truth, floor_hour, seed_usage

HOURS = 120
DEPLOYMENTS = 3
KILLS = 10


def _env(sink: FlakySink, targets: list[str], buffer: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGP_USAGE_")}
    env.update(
        LGP_USAGE_BEACON_URL=sink.url,
        LGP_USAGE_LICENSE_KEY="test-license",
        LGP_USAGE_TARGETS=",".join(targets),
        LGP_USAGE_TARGET_NAMESPACE="team-a",
        LGP_USAGE_BUFFER_PATH=str(buffer),
        LGP_USAGE_INTERVAL_SECONDS="0.02",
        LGP_USAGE_SETTLE_SECONDS="0",
        LGP_USAGE_SEND_BATCH="15",
        LGP_USAGE_COMPUTE_BATCH_WINDOWS="4",
        LGP_USAGE_MAX_CONSECUTIVE_FAILURES="3",
        LGP_USAGE_BACKOFF_INITIAL_SECONDS="0.02",
        LGP_USAGE_BACKOFF_MAX_SECONDS="0.1",
        LGP_USAGE_BEACON_TIMEOUT_SECONDS="5",
        LGP_USAGE_METRICS_PORT="0",
        LGP_USAGE_RECEIVER_PORT="0",
        LGP_USAGE_COUNT_FROM_DATABASE="true",
    )
    return env


def _computed(buffer: Path) -> int:
    """How many windows the reporter has counted so far (read-only look at its SQLite buffer)."""
    if not buffer.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{buffer}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM windows").fetchone()[0])
    except sqlite3.OperationalError:  # created but no schema yet
        return 0


def _wait(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _computed_at_least(buffer: Path, n: int) -> bool:
    return _computed(buffer) >= n


def _requests_at_least(sink: FlakySink, n: int) -> bool:
    return sink.requests >= n


def _kill_when(cond: Callable[[], bool], kill: Callable[[], None]) -> None:
    """Kill as soon as ``cond`` holds (polled every 10 ms from a thread)."""

    def watch() -> None:
        _wait(cond, 60, "the kill condition")
        kill()

    threading.Thread(target=watch, daemon=True).start()


def test_killed_ten_times_with_a_flaky_beacon_loses_nothing_and_counts_nothing_twice(
    make_langgraph_db: Callable[[], str], tmp_path: Path
) -> None:
    rng = random.Random(20301)
    now = datetime.now(UTC)
    first = floor_hour(now) - timedelta(hours=HOURS)
    truths: dict[str, Truth] = {}
    targets = []
    for i in range(DEPLOYMENTS):
        url = make_langgraph_db()
        dep = f"uid-{i}"
        # the past HOURS hours, and rows in the current (open) hour that must wait for it to close
        truths[dep] = seed_usage(url, rng, first, now)
        targets.append(f"{dep}:agent-{i}={url}")
    buffer = tmp_path / "buffer.sqlite3"
    log = (tmp_path / "reporter.log").open("ab")
    cmd = [sys.executable, "-m", "lgp_operator.usage.cli", "run"]

    with FlakySink(failure_rate=0.3, seed=7) as sink:
        env = _env(sink, targets, buffer)
        expected_min = DEPLOYMENTS * HOURS
        kills: list[tuple[str, int, int]] = []  # (how, windows at the beacon, windows counted) at each kill

        procs: list[subprocess.Popen[bytes]] = []
        try:
            for n in range(KILLS):
                proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, cwd=Path(__file__).parents[3])
                procs.append(proc)
                killed = threading.Event()

                def kill(proc: subprocess.Popen[bytes] = proc, killed: threading.Event = killed) -> None:
                    if not killed.is_set() and proc.poll() is None:
                        os.kill(proc.pid, signal.SIGKILL)
                        killed.set()

                how = "counting" if n == 0 else ("in-request", "after-request", "timer")[n % 3]
                target = sink.requests + rng.randint(1, 15)
                if how == "counting":
                    # killed while it writes counted windows into its buffer, before any send
                    goal = rng.randint(20, expected_min // 2)
                    _kill_when(partial(_computed_at_least, buffer, goal), kill)
                elif how == "in-request":
                    # killed while the beacon holds the window but before it answers: it must be resent
                    sink.hook = lambda i, t=target, k=kill: k() if i >= t else None
                elif how == "after-request":
                    _kill_when(partial(_requests_at_least, sink, target), kill)
                else:
                    # a random moment: during start-up, counting, buffer writes or sending
                    threading.Timer(rng.uniform(0.3, 0.7), kill).start()
                _wait(killed.is_set, 60, f"kill #{n + 1} ({how})")
                assert proc.wait(timeout=30) == -signal.SIGKILL
                sink.hook = None
                kills.append((how, len(sink.stored), _computed(buffer)))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

        # every kill happened mid-run: windows were still missing at the beacon
        assert len(kills) == KILLS
        assert all(stored < expected_min for _, stored, _ in kills), kills
        assert kills[0][2] < expected_min, kills  # the first kill landed while it was still counting

        # restart and let it finish: `run --once` until nothing is left unsent
        drain = {**env, "LGP_USAGE_SEND_BATCH": "1000", "LGP_USAGE_MAX_CONSECUTIVE_FAILURES": "1000"}
        for _ in range(200):
            before = datetime.now(UTC)
            done = (
                subprocess.run([*cmd, "--once"], env=drain, stdout=log, stderr=log, timeout=120).returncode
                == 0
            )
            after = datetime.now(UTC)
            if done and floor_hour(before) == floor_hour(after):
                break
        else:
            raise AssertionError("the reporter did not drain its buffer")
        closed_end = floor_hour(after)

        # ---- 0 lost: every (deployment, hour) from the first data hour to the last closed hour is there
        got = sink.windows()
        expected = {
            (dep, first + timedelta(hours=h))
            for dep in truths
            for h in range(int((closed_end - first).total_seconds()) // 3600)
        }
        assert set(got) == expected
        assert set(sink.stored) == {usage_key(dep, start) for dep, start in expected}
        # ---- 0 counted twice: each window holds exactly the database's count, windows do not overlap,
        # and the totals equal what was inserted
        for (dep, start), payload in got.items():
            runs, nodes = truths[dep].windows.get(start, [0, 0])
            measures = payload["measures"]
            assert measures == {"langgraph.platform.runs": runs, "langgraph.platform.nodes": nodes}, start
            assert datetime.fromisoformat(payload["to_timestamp"]) - start == timedelta(hours=1)
        for dep, dep_truth in truths.items():
            sent_runs = sum(p["measures"]["langgraph.platform.runs"] for (d, _), p in got.items() if d == dep)
            assert sent_runs == sum(r for r, _ in dep_truth.closed(closed_end).values())
        # the failure modes really happened: resends of windows the beacon already held (which an
        # adding receiver would have counted twice), refusals, and kills inside a request
        assert sink.resends_of_stored > 0 and sink.refused > 0 and sink.failed_after_store > 0
        assert {how for how, _, _ in kills} == {"counting", "in-request", "after-request", "timer"}
        assert sink.bad == []
        print(
            f"kills (how, windows at beacon, windows counted): {kills}; requests {sink.requests}, "
            f"refused {sink.refused}, stored-then-500 {sink.failed_after_store}, resends of held windows "
            f"{sink.resends_of_stored}, windows {len(expected)}"
        )

    # the reporter's own buffer agrees: every window stored once, all sent
    buf = Buffer(buffer)
    try:
        rows = buf.all_windows()
        assert len(rows) == len(expected) and all(sent for _, sent in rows)
        assert {(w.deployment_id, w.window_start) for w, _ in rows} == expected
    finally:
        buf.close()
    log.close()
