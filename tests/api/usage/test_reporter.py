"""The usage reporter in process against real Postgres (LangGraph-shaped tables made by the fixtures):
exact counts per closed hour, the payload and idempotency key, durable buffering while the beacon is
down, metrics, and air-gapped signed audit files."""

from __future__ import annotations

import json
import random
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lgp_operator.usage.buffer import Buffer
from lgp_operator.usage.cli import main
from lgp_operator.usage.metrics import Metrics, MetricsServer
from lgp_operator.usage.reporter import Reporter, ReporterConfig
from lgp_operator.usage.sinks import (
    AuditError,
    AuditFileSink,
    HttpSink,
    summarize_audit,
    verify_audit_dir,
    verify_audit_file,
)
from lgp_operator.usage.targets import StaticTargets, Target

from lgp_contract.usage import usage_key

from .conftest import FlakySink, create_langgraph_tables, libpq, seed_usage

T0 = datetime(2030, 5, 1, 0, 0, tzinfo=UTC)
CONFIG = ReporterConfig(
    settle=timedelta(minutes=5), backoff_initial=timedelta(seconds=30), count_from_database=True
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _reporter(
    url: str, buffer: Buffer, sink: object, clock: Clock, dep: str = "dep-1", **kw: object
) -> Reporter:
    target = Target(
        deployment_id=dep, name=f"agent-{dep}", namespace="team-a", database_uri=url, tags={"x": "y"}
    )
    return Reporter(StaticTargets([target]), buffer, sink, config=CONFIG, clock=clock, **kw)  # type: ignore[arg-type]


def _metric(metrics: Metrics, name: str, labels: dict[str, str] | None = None) -> float:
    value = metrics.registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


def test_counts_every_closed_hour_exactly_and_sends_the_original_payload(
    make_langgraph_db: Callable[[], str], sink: FlakySink, tmp_path: Path
) -> None:
    url = make_langgraph_db()
    truth = seed_usage(url, random.Random(1), T0, T0 + timedelta(hours=30))
    clock = Clock(T0 + timedelta(hours=30, minutes=2))  # the last hour ended 2 min ago: not settled
    buffer = Buffer(tmp_path / "b.sqlite3")
    reporter = _reporter(url, buffer, HttpSink(sink.url, "LICENSE-TOKEN"), clock)

    result = reporter.tick()
    got = {
        start: (p["measures"]["langgraph.platform.runs"], p["measures"]["langgraph.platform.nodes"])
        for (_, start), p in sink.windows().items()
    }
    assert got == truth.closed(T0 + timedelta(hours=29))
    assert len(got) == 29 and result.sent == 29 and result.pending == 0
    assert sum(r for r, _ in got.values()) > 0 and sum(n for _, n in got.values()) > 0

    clock.now += timedelta(minutes=4)  # now settled: the 30th hour is counted, nothing is sent twice
    assert reporter.tick().sent == 1
    assert len(sink.stored) == 30 and sink.resends_of_stored == 0
    assert sink.bad == []

    payload = sink.windows()[("dep-1", T0)]
    assert payload == {
        "license": "LICENSE-TOKEN",
        "from_timestamp": "2030-05-01T00:00:00+00:00",
        "to_timestamp": "2030-05-01T01:00:00+00:00",
        "tags": {
            "x": "y",
            "langgraph.platform.deployment": "agent-dep-1",
            "langgraph.platform.deployment_id": "dep-1",
            "langgraph.platform.namespace": "team-a",
            "lgp.usage.reporter": "lgp-usage/1",
        },
        "measures": {
            "langgraph.platform.runs": truth.windows[T0][0],
            "langgraph.platform.nodes": truth.windows[T0][1],
        },
        "logs": [],
    }
    assert usage_key("dep-1", T0) in sink.stored
    # one function for both planes (lgp_contract.usage), pinned here and in tests/unit/licensing
    assert usage_key("a", datetime(2030, 1, 1, tzinfo=UTC)) == (
        "919dac97247ff882e4e73e459ec3a4c19bd27f5b6c03abfa3a64e619cc84ae6f"
    )


def test_new_rows_in_later_hours_are_counted_as_time_advances(
    make_langgraph_db: Callable[[], str], sink: FlakySink, tmp_path: Path
) -> None:
    url = make_langgraph_db()
    rng = random.Random(2)
    truth = seed_usage(url, rng, T0, T0 + timedelta(hours=2))
    clock = Clock(T0 + timedelta(hours=2, minutes=10))
    reporter = _reporter(url, Buffer(tmp_path / "b.sqlite3"), HttpSink(sink.url, None), clock)
    reporter.tick()
    assert len(sink.stored) == 2
    for hour in range(2, 6):
        seed_usage(url, rng, T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1), truth)
        clock.now += timedelta(hours=1)
        reporter.tick()
    got = {
        s: (p["measures"]["langgraph.platform.runs"], p["measures"]["langgraph.platform.nodes"])
        for (_, s), p in sink.windows().items()
    }
    assert got == truth.closed(T0 + timedelta(hours=6))


def test_an_empty_database_starts_at_the_current_hour_and_sends_zero_windows(
    make_langgraph_db: Callable[[], str], sink: FlakySink, tmp_path: Path
) -> None:
    url = make_langgraph_db()
    clock = Clock(T0 + timedelta(minutes=30))
    reporter = _reporter(url, Buffer(tmp_path / "b.sqlite3"), HttpSink(sink.url, None), clock)
    assert reporter.tick().sent == 0
    clock.now += timedelta(hours=2)
    reporter.tick()
    assert sorted(s for _, s in sink.windows()) == [T0, T0 + timedelta(hours=1)]
    assert all(p["measures"]["langgraph.platform.runs"] == 0 for p in sink.windows().values())


def test_a_database_without_the_server_tables_is_not_counted_until_migrated(
    make_langgraph_db: Callable[..., str], sink: FlakySink, tmp_path: Path
) -> None:
    url = make_langgraph_db(with_tables=False)
    clock = Clock(T0 + timedelta(hours=3))
    buffer = Buffer(tmp_path / "b.sqlite3")
    reporter = _reporter(url, buffer, HttpSink(sink.url, None), clock)
    reporter.tick()
    assert buffer.next_window_start("dep-1") is None and not sink.stored
    assert (
        _metric(
            reporter.metrics, "lgp_usage_failures_total", {"stage": "database", "reason": "schema_missing"}
        )
        == 1
    )
    create_langgraph_tables(url)
    truth = seed_usage(url, random.Random(3), T0, T0 + timedelta(hours=2))
    reporter.tick()
    assert {s for _, s in sink.windows()} == set(truth.closed(T0 + timedelta(hours=2)))


def test_unreachable_database_is_a_failure_metric_and_never_a_crash(tmp_path: Path, sink: FlakySink) -> None:
    clock = Clock(T0)
    reporter = _reporter(
        "postgresql://nobody@127.0.0.1:1/none",
        Buffer(tmp_path / "b.sqlite3"),
        HttpSink(sink.url, None),
        clock,
    )
    reporter.tick()
    assert (
        _metric(reporter.metrics, "lgp_usage_failures_total", {"stage": "database", "reason": "unavailable"})
        == 1
    )


def test_windows_are_buffered_durably_while_the_beacon_is_down(
    make_langgraph_db: Callable[[], str], tmp_path: Path
) -> None:
    url = make_langgraph_db()
    truth = seed_usage(url, random.Random(4), T0, T0 + timedelta(hours=12))
    clock = Clock(T0 + timedelta(hours=12, minutes=6))
    path = tmp_path / "b.sqlite3"
    with FlakySink(1.0) as down:  # every request fails: half refused, half stored-then-500
        buffer = Buffer(path)
        reporter = _reporter(url, buffer, HttpSink(down.url, None), clock)
        result = reporter.tick()
        assert (result.computed, result.sent, result.failed, result.pending) == (12, 0, 3, 12)
        assert _metric(reporter.metrics, "lgp_usage_buffered_windows") == 12
        assert (
            _metric(reporter.metrics, "lgp_usage_failures_total", {"stage": "submit", "reason": "http_503"})
            + _metric(reporter.metrics, "lgp_usage_failures_total", {"stage": "submit", "reason": "http_500"})
            == 3
        )
        lag = _metric(
            reporter.metrics, "lgp_usage_lag_seconds", {"deployment": "agent-dep-1", "namespace": "team-a"}
        )
        assert lag == (clock.now - T0).total_seconds()
        clock.now += timedelta(seconds=10)
        assert reporter.tick().failed == 0  # backing off: no request within 30 s
        buffer.close()
    # the beacon port is now closed: unreachable
    clock.now += timedelta(minutes=1)
    buffer = Buffer(path)
    reporter = _reporter(url, buffer, HttpSink(down.url, None, timeout=2), clock)
    assert reporter.tick().failed == 3
    assert (
        _metric(reporter.metrics, "lgp_usage_failures_total", {"stage": "submit", "reason": "unreachable"})
        == 3
    )
    buffer.close()
    # a new process, the same buffer file: everything computed earlier is still there and gets sent
    with FlakySink(0.0) as up:
        buffer = Buffer(path)
        reporter = _reporter(url, buffer, HttpSink(up.url, None), clock)
        result = reporter.tick()
        assert (result.computed, result.sent, result.pending) == (0, 12, 0)
        got = {
            s: (p["measures"]["langgraph.platform.runs"], p["measures"]["langgraph.platform.nodes"])
            for (_, s), p in up.windows().items()
        }
        assert got == truth.closed(T0 + timedelta(hours=12))
        assert _metric(reporter.metrics, "lgp_usage_windows_sent_total") == 12
        lag = _metric(
            reporter.metrics, "lgp_usage_lag_seconds", {"deployment": "agent-dep-1", "namespace": "team-a"}
        )
        assert lag == (clock.now - (T0 + timedelta(hours=12))).total_seconds()


def test_metrics_and_healthz_endpoints(
    make_langgraph_db: Callable[[], str], sink: FlakySink, tmp_path: Path
) -> None:
    url = make_langgraph_db()
    seed_usage(url, random.Random(5), T0, T0 + timedelta(hours=3))
    clock = Clock(T0 + timedelta(hours=3, minutes=10))
    reporter = _reporter(url, Buffer(tmp_path / "b.sqlite3"), HttpSink(sink.url, None), clock)
    server = MetricsServer(reporter.metrics, lambda: reporter.healthy(60), "127.0.0.1", 0).start()
    try:
        reporter.tick()
        base = f"http://127.0.0.1:{server.port}"
        text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()  # noqa: S310
        assert "lgp_usage_windows_sent_total 3.0" in text
        assert "lgp_usage_buffered_windows 0.0" in text
        assert 'lgp_usage_lag_seconds{deployment="agent-dep-1",namespace="team-a"} 600.0' in text
        assert urllib.request.urlopen(base + "/healthz", timeout=5).status == 200  # noqa: S310
        clock.now += timedelta(hours=1)  # no loop for an hour: stalled
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(base + "/healthz", timeout=5)  # noqa: S310
        assert e.value.code == 503
    finally:
        server.stop()


# ------------------------------------------------------------------------------------ air-gapped mode
def test_airgapped_mode_writes_signed_audit_files_that_verify(
    make_langgraph_db: Callable[[], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_langgraph_db()
    truth = seed_usage(url, random.Random(6), T0 - timedelta(hours=3), T0 + timedelta(hours=3))  # two months
    key = Ed25519PrivateKey.generate()
    audit = tmp_path / "audit"
    clock = Clock(T0 + timedelta(hours=3, minutes=6))
    reporter = _reporter(url, Buffer(tmp_path / "b.sqlite3"), AuditFileSink(audit, key), clock)
    assert reporter.tick().sent == 6
    files = sorted(p.name for p in audit.iterdir())
    assert files == ["usage-2030-04.jsonl", "usage-2030-05.jsonl"]
    records = summarize_audit(verify_audit_dir(audit, key.public_key()))
    got = {r.from_timestamp: (r.runs, r.nodes) for r in records.values()}
    assert got == truth.closed(clock.now)
    assert "LICENSE" not in (audit / files[1]).read_text()

    with pytest.raises(AuditError, match="bad signature"):
        verify_audit_file(audit / files[1], Ed25519PrivateKey.generate().public_key())

    # the commands an auditor and an operator run
    pub = tmp_path / "audit.pub"
    pub.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    assert main(["verify-audit", str(audit), "--public-key", str(pub)]) == 0
    totals = json.loads(capsys.readouterr().out)
    closed = truth.closed(clock.now).values()
    expected = {"windows": 6, "runs": sum(r for r, _ in closed), "nodes": sum(n for _, n in closed)}
    assert totals == {"team-a/agent-dep-1": expected}
    assert main(["status", "--buffer-path", str(tmp_path / "b.sqlite3")]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 6 and all(r["sent"] for r in rows)
    edited = (audit / files[0]).read_text().replace('"namespace":"team-a"', '"namespace":"team-b"', 1)
    (audit / files[0]).write_text(edited)
    assert main(["verify-audit", str(audit), "--public-key", str(pub)]) == 1
    assert "bad signature" in capsys.readouterr().err


def test_audit_files_refuse_edits_and_removed_lines_and_survive_a_torn_write(tmp_path: Path) -> None:
    from lgp_operator.usage.windows import Window

    key = Ed25519PrivateKey.generate()
    sink = AuditFileSink(tmp_path, key)
    windows = [
        Window("d", "agent", "ns", T0 + timedelta(hours=h), T0 + timedelta(hours=h + 1), h, 2 * h)
        for h in range(4)
    ]
    for w in windows:
        sink.submit(w)
    sink.submit(windows[3])  # written twice (killed before it was marked sent): counted once
    path = tmp_path / "usage-2030-05.jsonl"
    assert len(verify_audit_file(path, key.public_key())) == 5
    assert len(summarize_audit(verify_audit_file(path, key.public_key()))) == 4
    lines = path.read_bytes().splitlines(keepends=True)

    path.write_bytes(b"".join(lines).replace(b'"langgraph.platform.runs":2', b'"langgraph.platform.runs":20'))
    with pytest.raises(AuditError, match="line 3 has a bad signature"):
        verify_audit_file(path, key.public_key())
    path.write_bytes(b"".join(lines[:1] + lines[2:]))
    with pytest.raises(AuditError, match="line 2 does not follow line 1"):
        verify_audit_file(path, key.public_key())

    path.write_bytes(b"".join(lines) + lines[0][:40])  # a torn, unacknowledged last write
    with pytest.raises(AuditError, match="incomplete"):
        verify_audit_file(path, key.public_key())
    AuditFileSink(tmp_path, key).submit(windows[0])  # a restarted writer cuts the torn tail first
    assert len(verify_audit_file(path, key.public_key())) == 6


def test_timestamps_are_read_from_the_checkpoint_itself(
    make_langgraph_db: Callable[[], str], tmp_path: Path, sink: FlakySink
) -> None:
    """Checkpoints have no created_at: their time is checkpoint->>'ts'; junk ts values are skipped."""
    url = make_langgraph_db()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for i, (ts, source) in enumerate(
            [
                ("2030-05-01T00:10:00.123456+00:00", "loop"),
                ("2030-05-01T00:59:59.999999+00:00", "loop"),
                ("2030-05-01T01:00:00+00:00", "loop"),
                ("2030-05-01T00:20:00+00:00", "input"),
                ("not a time", "loop"),
            ]
        ):
            conn.execute(
                "INSERT INTO checkpoints (thread_id, checkpoint_id, checkpoint, metadata) VALUES"
                " ('t', %s, jsonb_build_object('ts', %s::text), jsonb_build_object('source', %s::text))",
                (str(i), ts, source),
            )
    clock = Clock(T0 + timedelta(hours=2, minutes=6))
    _reporter(url, Buffer(tmp_path / "b.sqlite3"), HttpSink(sink.url, None), clock).tick()
    nodes = {s: p["measures"]["langgraph.platform.nodes"] for (_, s), p in sink.windows().items()}
    assert nodes == {T0: 2, T0 + timedelta(hours=1): 1}


def test_a_deployment_the_beacon_keeps_refusing_does_not_hold_back_the_others(
    make_langgraph_db: Callable[[], str], sink: FlakySink, tmp_path: Path
) -> None:
    url_a, url_b = make_langgraph_db(), make_langgraph_db()
    seed_usage(url_a, random.Random(7), T0, T0 + timedelta(hours=10))
    seed_usage(url_b, random.Random(8), T0, T0 + timedelta(hours=10))
    targets = StaticTargets(
        [
            Target(deployment_id="a", name="a", namespace="n", database_uri=url_a),
            Target(deployment_id="b", name="b", namespace="n", database_uri=url_b),
        ]
    )
    clock = Clock(T0 + timedelta(hours=10, minutes=6))
    config = ReporterConfig(
        send_batch=4,
        max_consecutive_failures=3,
        backoff_initial=timedelta(seconds=1),
        count_from_database=True,
    )
    buffer = Buffer(tmp_path / "b.sqlite3")
    reporter = Reporter(targets, buffer, HttpSink(sink.url, None), config=config, clock=clock)
    sink.reject_deployment = "a"  # e.g. the beacon answers 422 for one deployment
    for _ in range(10):
        reporter.tick()
        clock.now += timedelta(seconds=2)
    assert {s for d, s in sink.windows() if d == "b"} == {T0 + timedelta(hours=h) for h in range(10)}
    assert not [d for d, _ in sink.windows() if d == "a"]
    # refused windows are kept (never dropped) and go out once the beacon accepts them
    assert buffer.pending_count() == 10
    sink.reject_deployment = None
    clock.now += timedelta(minutes=10)
    for _ in range(4):
        reporter.tick()
    assert buffer.pending_count() == 0 and len(sink.windows()) == 20
