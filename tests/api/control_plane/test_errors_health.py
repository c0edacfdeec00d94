"""Cross-cutting behaviour: database outage (503 + Retry-After), request size limit, Idempotency-Key,
the 422 shape, health endpoints and metrics, and the secret guard itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from control_plane.core.db import migrate
from control_plane.main import create_app
from lgp_local import PostgresServer
from tests.api.control_plane.conftest import ADMIN_KEY, Api, RecordingClient, SecretGuard, make_settings


def test_health_endpoints(client: RecordingClient) -> None:
    assert client.get("/ok").json() == {"ok": True}
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_metrics(api: Api) -> None:
    listener = api.listener()
    api.deployment(listener)
    api.get("/v1/deployments")
    text = api.client.get("/metrics").text
    assert 'lgp_http_requests_total{method="GET",route="/v1/deployments",status="200"}' in text
    assert 'lgp_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/v1/deployments"}' in text
    assert 'lgp_revisions{status="AWAITING_DEPLOY"} 1.0' in text


def test_request_size_limit(postgres_url: str, secret_guard: SecretGuard) -> None:
    with RecordingClient(create_app(make_settings(postgres_url, max_request_bytes=2048))) as c:
        api = Api(c, ADMIN_KEY, secret_guard)
        r = api.post("/v1/listeners", {"name": "big", "namespaces": ["a"] * 1000})
        assert r.status_code == 413 and "2048" in r.json()["detail"]
        r = c.post(
            "/v1/listeners",
            content=iter([b"{" + b" " * 4096 + b"}"]),
            headers={**api.h, "Content-Type": "application/json"},
        )  # chunked: no Content-Length
        assert r.status_code == 413
        assert api.post("/v1/listeners", {"name": "small", "namespaces": ["a"]}).status_code == 201


def test_idempotency_key_replays_the_first_result(api: Api) -> None:
    body = {"name": "once", "namespaces": ["agents"]}
    first = api.post("/v1/listeners", body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    again = api.post("/v1/listeners", body, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert api.get("/v1/listeners").json()["count"] == 1
    r = api.post("/v1/listeners", {"name": "other", "namespaces": []}, headers={"Idempotency-Key": "k-1"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    # without the key, a retry is a second request (and here a conflict)
    assert api.post("/v1/listeners", body).status_code == 409
    # keys are per credential: another tenant's identical key is independent
    other = api.post("/v1/api-keys", {"name": "second"}).json()["key"]
    r = api.client.post(
        "/v1/listeners",
        json={"name": "theirs", "namespaces": []},
        headers={"X-Api-Key": other, "Idempotency-Key": "k-1"},
    )
    assert r.status_code == 201 and r.json()["name"] == "theirs"
    r = api.post("/v1/listeners", body, headers={"Idempotency-Key": "x" * 300})
    assert r.status_code == 422


def test_idempotent_deployment_create(api: Api) -> None:
    listener = api.listener()
    body = {
        "name": "agent",
        "type": "development",
        "image": "agent:1",
        "listener_id": listener["id"],
        "namespace": "agents",
        "secrets": {"K": api.guard.secret()},
    }
    a = api.post("/v1/deployments", body, headers={"Idempotency-Key": "create-agent"})
    b = api.post("/v1/deployments", body, headers={"Idempotency-Key": "create-agent"})
    assert a.status_code == b.status_code == 201 and a.json()["id"] == b.json()["id"]
    assert api.get(f"/v1/deployments/{a.json()['id']}/revisions").json()["count"] == 1


def test_validation_errors_never_echo_input(api: Api) -> None:
    value = api.guard.secret()
    listener = api.listener()
    r = api.post(
        "/v1/deployments",
        {
            "name": "x",
            "type": "development",
            "image": "agent:1",
            "listener_id": listener["id"],
            "namespace": "agents",
            "secrets": {"bad name": value},
            "database": {"type": "external", "uri": value},
        },
    )
    assert r.status_code == 422
    assert value not in r.text
    assert {tuple(e["loc"][:2]) for e in r.json()["detail"]} >= {("body", "secrets"), ("body", "database")}
    r = api.client.post(
        "/v1/listeners", content=b"{not json", headers={**api.h, "Content-Type": "application/json"}
    )
    assert r.status_code == 422


def test_unknown_routes_and_methods(api: Api) -> None:
    assert api.get("/v1/nothing").status_code == 404
    assert api.client.put("/v1/deployments", headers=api.h).status_code == 405


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


def test_database_outage_gives_503_with_retry_after(
    own_postgres: PostgresServer, secret_guard: SecretGuard
) -> None:
    url = own_postgres.create_database("cp")
    port = own_postgres.port
    with RecordingClient(create_app(make_settings(url, db_connect_timeout_seconds=1))) as c:
        api = Api(c, ADMIN_KEY, secret_guard)
        listener = api.listener()
        tenant_key = api.post("/v1/api-keys", {"name": "k"}).json()["key"]
        own_postgres.stop()

        calls: list[Any] = [
            api.get("/v1/deployments"),
            api.get(f"/v1/listeners/{listener['id']}"),
            api.post("/v1/listeners", {"name": "n", "namespaces": []}),
            api.post("/v1/listeners", {"name": "n", "namespaces": []}, headers={"Idempotency-Key": "i"}),
            c.get("/v1/deployments", headers={"X-Api-Key": tenant_key}),  # the key lookup itself fails
            c.get("/v1/listener/desired-state", headers={"Authorization": f"Bearer {listener['token']}"}),
            c.get("/readyz"),
        ]
        for r in calls:
            assert r.status_code == 503, (r.request.url, r.status_code, r.text)
            assert r.headers["retry-after"].isdigit()
            assert "Traceback" not in r.text and r.json()["detail"]
        assert c.get("/healthz").status_code == 200
        assert c.get("/metrics").status_code == 200

        restarted = PostgresServer.start(port=port)  # same address, empty data: the pool reconnects
        try:
            migrate(restarted.create_database("cp"))
            assert c.get("/readyz").status_code == 200
            assert api.get("/v1/listeners").status_code == 200
        finally:
            restarted.stop()


def test_secret_guard_catches_a_leak(secret_guard: SecretGuard) -> None:
    value = secret_guard.secret("probe")
    marker = f"probe-text-{uuid.uuid4().hex}"
    secret_guard.texts.append((marker, f"oops {value}"))
    try:
        assert (marker, value) in secret_guard.leaks()
    finally:
        secret_guard.texts.remove((marker, f"oops {value}"))
    assert (marker, value) not in secret_guard.leaks()


def test_idempotency_key_in_progress_is_409(api: Api, settings: Any) -> None:
    import hashlib

    import sqlalchemy as sa
    from sqlmodel import Session

    from control_plane.models import IdempotencyRecord

    body = b'{"name": "racing", "namespaces": []}'
    fingerprint = hashlib.sha256(b"\0".join([b"POST", b"/v1/listeners", b"", body])).hexdigest()
    engine = sa.create_engine(settings.database_url)
    try:
        with Session(engine) as session:  # another server process is still working on this key
            session.add(
                IdempotencyRecord(
                    scope=hashlib.sha256(api.key.encode()).hexdigest(), key="busy", request_hash=fingerprint
                )
            )
            session.commit()
    finally:
        engine.dispose()
    headers = {**api.h, "Idempotency-Key": "busy", "Content-Type": "application/json"}
    r = api.client.post("/v1/listeners", content=body, headers=headers)
    assert r.status_code == 409 and r.headers["retry-after"] == "1"
    assert api.get("/v1/listeners").json()["count"] == 0


def test_server_waits_for_the_database_at_start(secret_guard: SecretGuard) -> None:
    import threading
    import time

    from lgp_local.procs import free_port

    port = free_port()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/cp"
    result: dict[str, Any] = {}

    def run() -> None:
        with RecordingClient(create_app(make_settings(url, startup_db_wait_seconds=60))) as c:
            result["ready"] = c.get("/readyz").status_code

    seen = len(secret_guard.texts)
    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    while not any("waiting for the database" in t for _, t in secret_guard.texts[seen:]):
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not wait for the database"
        time.sleep(0.05)
    server = PostgresServer.start(port=port)
    try:
        server.create_database("cp")
        thread.join(60)
        assert result.get("ready") == 200
    finally:
        server.stop()
