"""The receiver of the servers' own usage reports, over real HTTP, with payloads of the shapes the
real server sends (copied from ``shared/realserver/beacon_captured.jsonl``: langgraph-api 0.11.1)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from lgp_operator.usage.buffer import Buffer
from lgp_operator.usage.receiver import Credentials, Receiver
from lgp_operator.usage.reporter import Reporter, ReporterConfig
from lgp_operator.usage.reports import ReportStore
from lgp_operator.usage.sinks import AuditFileSink, HttpSink, summarize_audit, verify_audit_dir
from lgp_operator.usage.targets import StaticTargets, Target

from .conftest import FlakySink

KEY = "usage-key-of-agent"
# One real report, as captured from the stock server (api_key shape, /v1/metadata/submit).
CAPTURED: dict[str, Any] = {
    "from_timestamp": "2026-12-01T15:28:03.427710+00:00",
    "to_timestamp": "2026-12-01T15:33:03.502354+00:00",
    "tags": {
        "langgraph.python.version": "1.2.24",
        "langgraph_api.version": "0.11.1",
        "langgraph.platform.revision": "",
        "langgraph.platform.variant": "",
        "langgraph.platform.host": "self-hosted",
        "langgraph.platform.tenant_id": "",
        "langgraph.platform.project_id": "",
        "langgraph.platform.plan": "enterprise",
        "user_app.uses_indexing": "",
        "user_app.uses_custom_app": "",
        "user_app.uses_custom_auth": "",
        "user_app.uses_thread_ttl": "",
        "user_app.uses_store_ttl": "",
        "langgraph.platform.uses_custom_auth": "False",
        "langgraph.platform.uses_js_custom_auth": "False",
        "langgraph.platform.uses_js_proxy_middleware": "False",
    },
    "measures": {
        "langgraph.platform.runs": 20,
        "langgraph.platform.nodes": 55,
        "langgraph.platform.py_graphs": 4,
        "langgraph.platform.js_graphs": 0,
    },
    "logs": [],
    "api_key": KEY,
}
T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def report(runs: int, nodes: int, *, to: str | None = None, **over: Any) -> dict[str, Any]:
    body = copy.deepcopy(CAPTURED)
    body["measures"]["langgraph.platform.runs"] = runs
    body["measures"]["langgraph.platform.nodes"] = nodes
    if to:
        body["to_timestamp"] = to
    body.update(over)
    return body


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[dict[str, Any]]:
    path = str(tmp_path / "buffer.sqlite3")
    buffer = Buffer(path)
    store = ReportStore(path, 3600)
    clock = Clock(T0 + timedelta(minutes=30))
    source = StaticTargets(
        [Target("uid-1", "agent", "team-a", tags={"lgp.dev/deployment-id": "d1"}, report_key=KEY)]
    )
    credentials = Credentials(source)
    receiver = Receiver(store, credentials, "127.0.0.1", 0, clock=clock).start()
    try:
        yield {
            "url": f"http://127.0.0.1:{receiver.port}",
            "buffer": buffer,
            "store": store,
            "clock": clock,
            "source": source,
            "credentials": credentials,
        }
    finally:
        receiver.stop()
        store.close()
        buffer.close()


def test_reports_of_both_shapes_are_counted_once_and_resends_add_only_what_is_new(
    setup: dict[str, Any],
) -> None:
    url, store = setup["url"], setup["store"]
    assert httpx.post(url + "/v1/metadata/submit", json=report(20, 55)).status_code == 204
    # the same report again (its answer was lost): nothing added
    assert httpx.post(url + "/v1/metadata/submit", json=report(20, 55)).status_code == 204
    # the server's merged retry: same from_timestamp, later to_timestamp, the earlier counts included
    merged = report(23, 61, to="2026-12-01T15:38:03.502354+00:00")
    assert httpx.post(url + "/v1/metadata/submit", json=merged).status_code == 204
    assert store.open_totals() == {"uid-1": (23, 61)}
    # the license_key shape, at the beacon path; an endpoint configured with /api/v1
    lic = report(2, 4, from_timestamp="2026-12-01T15:40:00+00:00", to="2026-12-01T15:45:00+00:00")
    del lic["api_key"]
    lic["license_key"] = KEY
    assert httpx.post(url + "/v1/beacon/metadata/submit", json=lic).status_code == 204
    nxt = report(1, 1, from_timestamp="2026-12-01T15:45:00+00:00", to="2026-12-01T15:50:00+00:00")
    assert httpx.post(url + "/api/v1/metadata/submit", json=nxt).status_code == 204
    assert store.open_totals() == {"uid-1": (26, 66)}


def test_bad_reports_are_refused_with_the_field_named_and_the_key_never_echoed(
    setup: dict[str, Any],
) -> None:
    url = setup["url"]
    unknown = httpx.post(url + "/v1/metadata/submit", json=report(1, 1, api_key="not-a-known-key"))
    assert unknown.status_code == 401
    assert "not-a-known-key" not in unknown.text and "api_key" in unknown.text
    for body, field in [
        (report(1, 1, from_timestamp="yesterday"), "from_timestamp"),
        ({**report(1, 1), "measures": {"langgraph.platform.runs": -1}}, "langgraph.platform.runs"),
        ({k: v for k, v in report(1, 1).items() if k != "api_key"}, "api_key"),
        (report(1, 1, tags=[]), "tags"),
    ]:
        r = httpx.post(url + "/v1/metadata/submit", json=body)
        assert r.status_code == 422, (field, r.text)
        assert field in r.json()["detail"]
        assert KEY not in r.text
    assert httpx.post(url + "/v1/metadata/submit", content=b"{not json").status_code == 422
    assert httpx.post(url + "/other", json=report(1, 1)).status_code == 404
    # a "resend" with smaller counts is not a resend of the stored report
    assert httpx.post(url + "/v1/metadata/submit", json=report(5, 5)).status_code == 204
    smaller = report(4, 9, to="2026-12-01T15:59:00+00:00")
    assert httpx.post(url + "/v1/metadata/submit", json=smaller).status_code == 409
    assert setup["store"].open_totals() == {"uid-1": (5, 5)}


def test_sealed_windows_are_relayed_once_and_later_reports_go_to_the_open_window(
    setup: dict[str, Any], sink: FlakySink
) -> None:
    url, clock, buffer, store = setup["url"], setup["clock"], setup["buffer"], setup["store"]
    assert httpx.post(url + "/v1/metadata/submit", json=report(20, 55)).status_code == 204
    reporter = Reporter(
        setup["source"],
        buffer,
        HttpSink(sink.url, "lic"),
        config=ReporterConfig(settle=timedelta(minutes=5)),
        clock=clock,
        reports=store,
        credentials=setup["credentials"],
    )
    clock.now = T0 + timedelta(hours=1, minutes=4)  # the hour ended, not settled yet
    assert reporter.tick().sent == 0
    # a merged resend arriving now: what it adds lands in the hour it arrived in (16:00)
    merged = report(21, 58, to="2026-12-01T16:03:00+00:00")
    assert httpx.post(url + "/v1/metadata/submit", json=merged).status_code == 204
    clock.now = T0 + timedelta(hours=1, minutes=6)
    assert reporter.tick().sent == 1
    (payload,) = sink.windows().values()
    assert payload["measures"] == {"langgraph.platform.runs": 20, "langgraph.platform.nodes": 55}
    assert payload["from_timestamp"] == T0.isoformat()
    assert payload["tags"]["lgp.dev/deployment-id"] == "d1"
    # the same report once more, after its window was sealed and relayed: nothing added anywhere
    assert httpx.post(url + "/v1/metadata/submit", json=merged).status_code == 204
    # a new report goes to the open hour (16:00) too, never into the sealed one
    later = report(3, 3, from_timestamp="2026-12-01T16:03:00+00:00", to="2026-12-01T16:06:00+00:00")
    assert httpx.post(url + "/v1/metadata/submit", json=later).status_code == 204
    clock.now = T0 + timedelta(hours=2, minutes=6)
    assert reporter.tick().sent == 1
    got = {start: p["measures"] for (_, start), p in sink.windows().items()}
    assert got == {
        T0: {"langgraph.platform.runs": 20, "langgraph.platform.nodes": 55},
        T0 + timedelta(hours=1): {"langgraph.platform.runs": 1 + 3, "langgraph.platform.nodes": 3 + 3},
    }


def test_air_gapped_the_servers_reports_go_to_signed_audit_files(
    setup: dict[str, Any], tmp_path: Path
) -> None:
    url, clock = setup["url"], setup["clock"]
    assert httpx.post(url + "/v1/metadata/submit", json=report(20, 55)).status_code == 204
    assert httpx.post(url + "/v1/metadata/submit", json=report(20, 55)).status_code == 204  # resent
    key = Ed25519PrivateKey.generate()
    reporter = Reporter(
        setup["source"],
        setup["buffer"],
        AuditFileSink(tmp_path / "audit", key),
        config=ReporterConfig(settle=timedelta(minutes=5)),
        clock=clock,
        reports=setup["store"],
        credentials=setup["credentials"],
    )
    clock.now = T0 + timedelta(hours=1, minutes=6)
    assert reporter.tick().sent == 1
    (record,) = summarize_audit(verify_audit_dir(tmp_path / "audit", key.public_key())).values()
    assert (record.deployment_id, record.from_timestamp, record.runs, record.nodes) == ("uid-1", T0, 20, 55)
