"""Logs through the listener protocol on real Postgres: a log request reaches the listener's long-poll at
once and is handed out once, the answer is merged with the deployment's events, redacted again, filtered
and ordered; an offline, busy or late listener gives events only and says why; follow streams new lines;
the LangGraph-compatible logs endpoints answer the CLI's bodies. The listener is played here over the
protocol with its own token (no cluster in the api tier)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from control_plane.main import create_app
from control_plane.models import LogRequestRecord
from control_plane.services import maintenance
from tests.api.control_plane.conftest import (
    ADMIN_KEY,
    Api,
    ListenerApi,
    RecordingClient,
    SecretGuard,
    make_settings,
)
from tests.played_listener import Answer, PlayedListener, lines_since, log_line

T0 = datetime(2026, 3, 8, 12, 0, 0, tzinfo=UTC)
WAIT = 5.0  # LGP_LOG_WAIT_SECONDS in these tests


@pytest.fixture
def logs_api(postgres_url: str, secret_guard: SecretGuard) -> Iterator[Api]:
    settings = make_settings(postgres_url, log_wait_seconds=WAIT, log_follow_interval_seconds=0.3)
    with RecordingClient(create_app(settings)) as c:
        admin = Api(c, ADMIN_KEY, secret_guard)
        r = admin.post("/v1/tenants", {"name": f"t-{uuid.uuid4().hex[:8]}"})
        k = admin.post("/v1/api-keys", {"name": "logs", "tenant_id": r.json()["id"]})
        yield Api(c, k.json()["key"], secret_guard)


line = log_line


class FakeListener(PlayedListener):
    """The played listener (tests/played_listener.py) on the test client, with its ListenerApi."""

    def __init__(self, api: Api, created: dict[str, Any], answer: Answer) -> None:
        super().__init__(api.client, created["token"], answer)
        self.lis = ListenerApi(api.client, created["token"])


def test_an_offline_listener_gives_events_only_and_says_why(logs_api: Api) -> None:
    listener = logs_api.listener(name="edge")
    d = logs_api.deployment(listener)
    start = time.monotonic()
    r = logs_api.get(f"/v1/deployments/{d['id']}/logs")
    assert r.status_code == 200 and time.monotonic() - start < WAIT  # no waiting for a listener that is away
    page = r.json()
    assert page["containers"] == "unavailable"
    assert "listener 'edge'" in page["notice"] and "not been heard from yet" in page["notice"]
    assert [e["source"] for e in page["data"]] and {e["source"] for e in page["data"]} == {"event"}
    assert any("QUEUED -> AWAITING_DEPLOY" in e["message"] for e in page["data"])
    assert LogRequestRecord.__tablename__ not in str(page)


def test_the_listener_answers_and_lines_merge_with_events(logs_api: Api) -> None:
    listener = logs_api.listener()
    secret = logs_api.guard.secret()
    d = logs_api.deployment(listener, secrets={"OPENAI_API_KEY": secret})
    lis = ListenerApi(logs_api.client, listener["token"])
    lis.report(
        d["id"],
        events=[
            {
                "type": "Warning",
                "reason": "BackOff",
                "message": "Back-off restarting",
                "object": "Pod/x",
                "timestamp": (T0 + timedelta(seconds=5)).isoformat(),
            }
        ],
    )

    def answer(req: dict[str, Any]) -> dict[str, Any]:
        return {
            "lines": [
                line(T0, "INFO:     Application startup complete.", level="INFO"),
                line(
                    T0 + timedelta(seconds=1), f"connecting with key {secret}", level="WARNING"
                ),  # not redacted here
                line(T0 + timedelta(seconds=2), "Traceback (most recent call last):"),
            ]
        }

    with FakeListener(logs_api, listener, answer) as fake:
        window = {"since": T0.isoformat(), "until": (T0 + timedelta(minutes=1)).isoformat()}
        r = logs_api.get(f"/v1/deployments/{d['id']}/logs", params=window)
        assert r.status_code == 200, r.text
    page = r.json()
    assert page["containers"] == "complete" and page["notice"] is None
    messages = [e["message"] for e in page["data"]]
    # newest first: the event (T0+5), then the three lines
    assert messages[0].startswith("[event] Pod/x: BackOff") and page["data"][0]["level"] == "WARNING"
    assert messages[1:] == [
        "Traceback (most recent call last):",
        "connecting with key [redacted]",  # the control plane redacts again, whatever the listener sent
        "INFO:     Application startup complete.",
    ]
    assert secret not in r.text
    [req] = fake.requests
    assert req["deployment_id"] == d["id"] and req["query"]["since"].startswith("2026-03-08T12:00:00")
    assert 0 < req["answer_within_seconds"] < WAIT and fake.answers == [204]
    ids = [e["id"] for e in page["data"]]
    assert len(set(ids)) == len(ids)
    with logs_api.client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        assert conn.exec_driver_sql("SELECT count(*) FROM log_request").scalar() == 0  # read, then deleted


def test_filters_order_and_limit(logs_api: Api) -> None:
    listener = logs_api.listener()
    d = logs_api.deployment(listener)
    lines = [
        line(T0 + timedelta(seconds=n), text, level=level)
        for n, (text, level) in enumerate(
            [
                ("debug detail", "DEBUG"),
                ("served GET /ok", "INFO"),
                ("slow query", "WARNING"),
                ("db down", "ERROR"),
            ]
        )
    ]
    with FakeListener(logs_api, listener, lambda req: {"lines": lines}) as fake:
        got = logs_api.get(
            f"/v1/deployments/{d['id']}/logs",
            params={
                "level": "WARNING",
                "since": T0.isoformat(),
                "until": (T0 + timedelta(seconds=10)).isoformat(),
            },
        ).json()
        assert [e["message"] for e in got["data"] if e["source"] == "container"] == ["db down", "slow query"]
        got = logs_api.get(
            f"/v1/deployments/{d['id']}/logs", params={"q": "GET /OK", "since": T0.isoformat()}
        ).json()
        assert [e["message"] for e in got["data"]] == ["served GET /ok"]
        got = logs_api.get(
            f"/v1/deployments/{d['id']}/logs", params={"order": "asc", "limit": 2, "since": T0.isoformat()}
        ).json()
        assert [e["message"] for e in got["data"]] == ["debug detail", "served GET /ok"]
    queries = [r["query"] for r in fake.requests]
    assert (
        queries[0]["level"] == "WARNING" and queries[1]["text"] == "GET /OK" and queries[2]["order"] == "asc"
    )


def test_a_revision_filter_is_passed_on_and_checked(logs_api: Api, admin: Api) -> None:
    listener = logs_api.listener()
    d = logs_api.deployment(listener)
    other = logs_api.deployment(listener)
    with FakeListener(logs_api, listener, lambda req: {"lines": []}) as fake:
        r = logs_api.get(f"/v1/deployments/{d['id']}/logs", params={"revision_id": d["latest_revision_id"]})
        assert r.status_code == 200
    assert fake.requests[0]["query"]["revision_id"] == d["latest_revision_id"]
    r = logs_api.get(f"/v1/deployments/{d['id']}/logs", params={"revision_id": other["latest_revision_id"]})
    assert r.status_code == 404 and r.json()["detail"] == "revision not found"
    assert logs_api.get(f"/v1/deployments/{uuid.uuid4()}/logs").status_code == 404


def test_bad_queries_are_422_naming_the_parameter(logs_api: Api) -> None:
    d = logs_api.deployment(logs_api.listener())
    url = f"/v1/deployments/{d['id']}/logs"
    for params, where in (
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, ["query", "until"]),
        ({"limit": 1001}, ["query", "limit"]),
        ({"level": "LOUD"}, ["query", "level"]),
        ({"follow": "true", "until": "2026-01-01T00:00:00Z"}, ["query", "until"]),
        ({"grep": "x"}, ["query", "grep"]),
    ):
        r = logs_api.get(url, params=params)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == where, (params, r.text)


def test_a_late_listener_gives_events_only_and_its_answer_is_dropped(logs_api: Api) -> None:
    listener = logs_api.listener(name="slow")
    d = logs_api.deployment(listener)
    with FakeListener(logs_api, listener, lambda req: None) as fake:  # takes the request, never answers
        start = time.monotonic()
        page = logs_api.get(f"/v1/deployments/{d['id']}/logs").json()
        waited = time.monotonic() - start
    assert WAIT - 0.1 <= waited < WAIT + 10, waited  # the wait is bounded by the setting
    assert page["containers"] == "unavailable" and "did not answer within 5 s" in page["notice"]
    [req] = fake.requests
    assert fake.post_answer(req["id"], {"lines": []}).status_code == 404


def test_an_error_from_the_listener_is_said(logs_api: Api) -> None:
    listener = logs_api.listener(name="edge")
    d = logs_api.deployment(listener)
    with FakeListener(logs_api, listener, lambda req: {"error": "pods/log is forbidden"}):
        page = logs_api.get(f"/v1/deployments/{d['id']}/logs").json()
    assert page["containers"] == "unavailable"
    assert page["notice"] == "listener 'edge' could not read the logs: pods/log is forbidden"


def test_a_request_reaches_the_long_poll_at_once_and_is_handed_out_once(logs_api: Api) -> None:
    listener = logs_api.listener()
    d = logs_api.deployment(listener)
    lis = ListenerApi(logs_api.client, listener["token"])
    assert lis.heartbeat().status_code == 200
    got: list[tuple[float, list[dict[str, Any]]]] = []

    def poll() -> None:
        r = lis.client.get("/v1/listener/log-requests", params={"wait": 8}, headers=lis.h)
        got.append((time.monotonic(), r.json()["requests"]))

    pollers = [threading.Thread(target=poll) for _ in range(2)]
    for p in pollers:
        p.start()
    hub = logs_api.client.app.state.log_hub  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5
    while hub.waiting(uuid.UUID(listener["id"])) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    asked_at = time.monotonic()
    page = logs_api.get(f"/v1/deployments/{d['id']}/logs").json()  # nobody answers: events only after WAIT
    for p in pollers:
        p.join(15)
    handed = [reqs for _, reqs in got if reqs]
    assert len(handed) == 1 and len(handed[0]) == 1  # once, to one poller
    first_at = min(at for at, reqs in got if reqs)
    # woken by the request, not by the end of the pollers' wait (a wake-up takes milliseconds)
    took = first_at - asked_at
    assert took < WAIT / 2, f"the long-poll returned {took:.2f}s after the request"
    assert page["containers"] == "unavailable"
    r = lis.client.get("/v1/listener/log-requests", params={"wait": 0}, headers=lis.h)
    assert r.status_code == 200 and r.json() == {"requests": []}


def test_too_many_waiting_requests_give_events_only(postgres_url: str, secret_guard: SecretGuard) -> None:
    settings = make_settings(postgres_url, log_wait_seconds=WAIT, log_max_pending_per_listener=1)
    with RecordingClient(create_app(settings)) as c:
        api = Api(c, ADMIN_KEY, secret_guard)
        listener = api.listener(name="busy")
        d = api.deployment(listener)
        assert ListenerApi(c, listener["token"]).heartbeat().status_code == 200
        first: dict[str, Any] = {}
        t = threading.Thread(target=lambda: first.update(api.get(f"/v1/deployments/{d['id']}/logs").json()))
        t.start()
        deadline = time.monotonic() + 5
        with c.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
            while not conn.exec_driver_sql("SELECT count(*) FROM log_request").scalar():
                assert time.monotonic() < deadline
                time.sleep(0.02)
        start = time.monotonic()
        second = api.get(f"/v1/deployments/{d['id']}/logs").json()
        assert time.monotonic() - start < WAIT / 2  # answered at once, not after waiting for the listener
        assert "listener 'busy' has 1 log requests waiting" in second["notice"]
        t.join(15)
        assert first["containers"] == "unavailable"


def test_the_reaper_deletes_requests_whose_waiter_is_gone(logs_api: Api) -> None:
    listener = logs_api.listener()
    d = logs_api.deployment(listener)
    engine = logs_api.client.app.state.engine  # type: ignore[attr-defined]
    settings = logs_api.client.app.state.settings  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO log_request (id, tenant_id, listener_id, deployment_id, query, state, created_at,"
            " expires_at) SELECT %s, tenant_id, listener_id, id, '{}', 'taken', now() - interval '1 hour',"
            " now() - interval '1 hour' FROM deployment WHERE id = %s",
            (str(uuid.uuid4()), d["id"]),
        )
    maintenance.reap_once(engine, settings)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM log_request").scalar() == 0


def test_follow_streams_new_lines(logs_api: Api) -> None:
    listener = logs_api.listener()
    d = logs_api.deployment(listener)
    now = datetime.now(UTC)
    written = [line(now - timedelta(seconds=1), "first")]

    def answer(req: dict[str, Any]) -> dict[str, Any]:
        return {"lines": lines_since(written, req)}

    received: list[dict[str, Any]] = []
    with (
        FakeListener(logs_api, listener, answer) as fake,
        logs_api.client.stream(
            "GET", f"/v1/deployments/{d['id']}/logs", params={"follow": "true"}, headers=logs_api.h
        ) as r,
    ):
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        for raw in r.iter_lines():
            entry = json.loads(raw)
            received.append(entry)
            if entry["message"] == "first":
                written.append(line(datetime.now(UTC), "second"))
            if entry["message"] == "second":
                break
    containers = [e["message"] for e in received if e["source"] == "container"]
    assert containers == ["first", "second"]  # each once, oldest first
    assert any(r["query"]["order"] == "asc" and r["query"].get("since") for r in fake.requests)


def test_follow_ends_when_the_listener_is_offline(logs_api: Api) -> None:
    d = logs_api.deployment(logs_api.listener())
    r = logs_api.get(f"/v1/deployments/{d['id']}/logs", params={"follow": "true"})
    assert r.status_code == 200
    entries = [json.loads(x) for x in r.text.splitlines()]
    assert entries[-1]["source"] == "notice" and "listener is offline" in entries[-1]["message"]


def test_langgraph_deploy_logs_endpoints(logs_api: Api) -> None:
    listener = logs_api.listener()
    d = logs_api.deployment(listener)
    lines = [line(T0, "started", level="INFO"), line(T0 + timedelta(seconds=1), "boom", level="ERROR")]
    host = {"X-Api-Key": logs_api.key}
    with FakeListener(logs_api, listener, lambda req: {"lines": lines}) as fake:
        r = logs_api.client.post(
            f"/api-host/v1/projects/{d['id']}/deploy_logs",
            json={
                "limit": 100,
                "order": "desc",
                "level": "ERROR",
                "query": "bo",
                "start_time": "2026-03-08T00:00:00Z",
            },
            headers=host,
        )
        assert r.status_code == 200, r.text
        assert [(x["level"], x["message"]) for x in r.json()["logs"]] == [("ERROR", "boom")]
        assert r.json()["logs"][0]["timestamp"].startswith("2026-03-08T12:00:01")
        r = logs_api.client.post(
            f"/api-host/v1/projects/{d['id']}/revisions/{d['latest_revision_id']}/deploy_logs",
            json={
                "limit": 100,
                "order": "asc",
                "start_time": 1772971200000,
            },  # epoch ms: 2026-03-08T12:00:00Z
            headers=host,
        )
        assert r.status_code == 200 and [x["message"] for x in r.json()["logs"]][:2] == ["started", "boom"]
    asked = fake.requests[0]["query"]
    assert (asked["level"], asked["text"], asked["limit"], asked["order"]) == ("ERROR", "bo", 100, "desc")
    assert asked["since"].startswith("2026-03-08T00:00:00")
    assert fake.requests[1]["query"]["revision_id"] == d["latest_revision_id"]
    r = logs_api.client.post(
        f"/api-host/v1/projects/{d['id']}/deploy_logs", json={"start_time": "yesterday"}, headers=host
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("start_time: not an ISO 8601 time")
    # nobody answers now: the notice comes as the newest line (the CLI shows lines only)
    r = logs_api.client.post(
        f"/api-host/v1/projects/{d['id']}/deploy_logs", json={"order": "desc"}, headers=host
    )
    first = r.json()["logs"][0]
    assert first["level"] == "WARNING" and first["message"].startswith("[lgp] ")
