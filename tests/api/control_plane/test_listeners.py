"""Listeners and their protocol: CRUD, tokens, desired state with secrets for the owner only, ETag and
long-poll (also across two server processes), tombstones and acknowledgement, heartbeat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from lgp_local.procs import free_port
from tests.api.control_plane.conftest import ADMIN_KEY, Api, ListenerApi


def test_listener_crud_and_token_shown_once(api: Api) -> None:
    created = api.listener(name="cluster-a", namespaces=("agents", "agents"))
    assert created["token"].startswith("lgpl_") and created["token"].startswith(created["token_prefix"])
    assert created["namespaces"] == ["agents"] and created["online"] is False
    got = api.get(f"/v1/listeners/{created['id']}").json()
    assert "token" not in got and got["token_prefix"] == created["token_prefix"]
    assert api.get("/v1/listeners").json()["count"] == 1
    r = api.post("/v1/listeners", {"name": "cluster-a", "namespaces": []})
    assert r.status_code == 409
    r = api.patch(f"/v1/listeners/{created['id']}", {"namespaces": ["agents", "more"], "name": "cluster-b"})
    assert (
        r.status_code == 200
        and r.json()["namespaces"] == ["agents", "more"]
        and r.json()["name"] == "cluster-b"
    )
    assert api.patch(f"/v1/listeners/{created['id']}", {"namespaces": ["Bad_NS"]}).status_code == 422
    d = api.deployment(got)
    r = api.patch(f"/v1/listeners/{created['id']}", {"namespaces": ["more"]})
    assert r.status_code == 409 and "agents" in r.json()["detail"]
    assert api.delete(f"/v1/listeners/{created['id']}").status_code == 409
    lis = ListenerApi(api.client, created["token"])
    api.delete(f"/v1/deployments/{d['id']}")
    assert lis.ack_deleted(d["id"]).status_code == 204
    assert api.delete(f"/v1/listeners/{created['id']}").status_code == 204
    assert api.get(f"/v1/listeners/{created['id']}").status_code == 404
    assert lis.desired().status_code == 401


def test_token_rotation(api: Api) -> None:
    created = api.listener()
    r = api.post(f"/v1/listeners/{created['id']}/token")
    assert r.status_code == 201
    assert ListenerApi(api.client, created["token"]).desired().status_code == 401
    assert ListenerApi(api.client, r.json()["token"]).desired().status_code == 200


def test_listener_auth(api: Api) -> None:
    created = api.listener()
    assert api.client.get("/v1/listener/desired-state").status_code == 401
    assert ListenerApi(api.client, "lgpl_nope").desired().status_code == 401
    assert ListenerApi(api.client, api.key).desired().status_code == 401  # an API key is not a listener token
    r = api.client.get("/v1/deployments", headers={"X-Api-Key": created["token"]})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "ApiKey"


def test_desired_state_carries_spec_and_secrets_for_the_owner_only(api: Api) -> None:
    own, other = api.listener(), api.listener()
    token, uri = api.guard.secret(), f"redis://:{api.guard.secret()}@redis.example.com:6379/0"
    d = api.deployment(own, secrets={"OPENAI_API_KEY": token}, redis={"type": "external", "uri": uri})
    lis, stranger = ListenerApi(api.client, own["token"]), ListenerApi(api.client, other["token"])
    r = lis.desired()
    assert r.status_code == 200
    state = r.json()
    assert r.headers["etag"] == f'"{state["version"]}"'
    assert state["listener_id"] == own["id"] and state["namespaces"] == ["agents"]
    [entry] = state["deployments"]
    assert entry["id"] == d["id"] and entry["name"] == d["name"] and entry["namespace"] == "agents"
    assert entry["deleted"] is False
    assert (
        entry["revision"]["id"] == d["latest_revision_id"]
        and entry["revision"]["status"] == "AWAITING_DEPLOY"
    )
    assert entry["revision"]["spec"]["redis"]["external"]["secretRef"] == {
        "name": f"{d['name']}-lgp-secrets",
        "key": "REDIS_URI_CUSTOM",
    }
    assert entry["secret"] == {
        "name": f"{d['name']}-lgp-secrets",
        "data": {"OPENAI_API_KEY": token, "REDIS_URI_CUSTOM": uri},
    }
    theirs = stranger.desired()
    assert theirs.json()["deployments"] == [] and token not in theirs.text and uri not in theirs.text
    api.guard.texts.append(("stranger desired state", theirs.text))


def test_etag_and_long_poll(api: Api) -> None:
    own = api.listener()
    lis = ListenerApi(api.client, own["token"])
    v0 = lis.desired().json()["version"]
    r = lis.desired(version=v0)
    assert r.status_code == 304 and r.headers["etag"] == f'"{v0}"'
    r = api.client.get("/v1/listener/desired-state", headers={**lis.h, "If-None-Match": f'"{v0}"'})
    assert r.status_code == 304
    start = time.monotonic()
    assert lis.desired(version=v0, wait=1).status_code == 304
    assert 0.9 <= time.monotonic() - start < 5

    result: dict[str, Any] = {}

    def poll() -> None:
        r = lis.desired(version=v0, wait=8)
        result["status"], result["at"], result["body"] = r.status_code, time.monotonic(), r.json()

    t = threading.Thread(target=poll)
    t.start()
    hub = api.client.app.state.hub  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5
    while not hub.waiting(uuid.UUID(own["id"])):  # the poll is parked on its wake-up event
        assert time.monotonic() < deadline
        time.sleep(0.01)
    changed_at = time.monotonic()
    d = api.deployment(own)
    t.join(10)
    assert result["status"] == 200 and result["body"]["version"] > v0
    assert [x["id"] for x in result["body"]["deployments"]] == [d["id"]]
    # woken by the change, not by the end of its 8 s wait (a wake-up takes milliseconds)
    took = result["at"] - changed_at
    assert took < 4, f"long-poll returned {took:.2f}s after the change"
    assert lis.desired(version=v0, wait=5).status_code == 200  # already newer: no wait


def test_wait_is_validated(api: Api) -> None:
    lis = ListenerApi(api.client, api.listener()["token"])
    r = lis.desired(wait=-1)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "wait"]


def test_tombstone_until_acknowledged(api: Api) -> None:
    own = api.listener()
    lis = ListenerApi(api.client, own["token"])
    d = api.deployment(own, secrets={"K": api.guard.secret()})
    assert lis.ack_deleted(d["id"]).status_code == 409  # not deleted by a user: never forgotten
    api.delete(f"/v1/deployments/{d['id']}")
    [entry] = lis.desired().json()["deployments"]
    assert entry == {
        "id": d["id"],
        "name": d["name"],
        "namespace": "agents",
        "deleted": True,
        "revision": None,
        "secret": None,
    }
    other = ListenerApi(api.client, api.listener()["token"])
    assert other.ack_deleted(d["id"]).status_code == 404
    assert lis.ack_deleted(d["id"]).status_code == 204
    assert lis.desired().json()["deployments"] == []
    assert api.get(f"/v1/deployments/{d['id']}").status_code == 404
    assert lis.ack_deleted(d["id"]).status_code == 404
    api.deployment(own, name=d["name"])  # the name is free again


def test_heartbeat(api: Api) -> None:
    own = api.listener()
    lis = ListenerApi(api.client, own["token"])
    r = lis.heartbeat(version=1, info={"kubernetes": "v1.20.2", "listener": "0.1.0"})
    assert r.status_code == 200 and r.json()["version"] == own["state_version"]
    got = api.get(f"/v1/listeners/{own['id']}").json()
    assert got["online"] is True and got["last_heartbeat_at"]
    assert lis.heartbeat(info={"x": "y" * 300}).status_code == 422


@pytest.fixture
def two_servers(postgres_url: str, secret_guard: Any) -> Iterator[tuple[str, str]]:
    """Two real `lgp control-plane serve` processes on one database."""
    key = Fernet.generate_key().decode()
    env = dict(
        os.environ,
        LGP_DATABASE_URL=postgres_url,
        LGP_ENCRYPTION_KEYS=key,
        LGP_ADMIN_API_KEY=ADMIN_KEY,
        LGP_LOG_LEVEL="INFO",
    )
    procs, urls, logs = [], [], []
    for _ in range(2):
        port = free_port()
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "lgp_cli.main", "control-plane", "serve", "--port", str(port)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url, proc in zip(urls, procs, strict=True):
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else "exited"
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        yield urls[0], urls[1]
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            if proc.stdout is not None:  # the servers' own log lines go through the secret guard too
                logs.append(proc.stdout.read().decode(errors="replace"))
                secret_guard.texts.append(("server process log", logs[-1]))
        assert "GET /v1/listener/desired-state" in "".join(logs)  # the access log was captured


WAIT = 30  # seconds the parked poll would wait without a wake-up


def test_long_poll_across_server_processes(two_servers: tuple[str, str]) -> None:
    a, b = two_servers
    admin = {"X-Api-Key": ADMIN_KEY}
    listener = httpx.post(
        f"{a}/v1/listeners", json={"name": "x", "namespaces": ["agents"]}, headers=admin
    ).json()
    bearer = {"Authorization": f"Bearer {listener['token']}"}
    v0 = httpx.get(f"{b}/v1/listener/desired-state", headers=bearer).json()["version"]
    result: dict[str, Any] = {}

    def poll() -> None:
        r = httpx.get(
            f"{b}/v1/listener/desired-state",
            params={"version": v0, "wait": WAIT},
            headers=bearer,
            timeout=WAIT + 10,
        )
        result["status"], result["at"] = r.status_code, time.monotonic()

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)  # give the other process's poll time to park: the latency is measured from the change
    changed_at = time.monotonic()
    r = httpx.post(
        f"{a}/v1/deployments",
        headers=admin,
        json={
            "name": "agent",
            "type": "development",
            "image": "agent:1",
            "listener_id": listener["id"],
            "namespace": "agents",
        },
    )
    assert r.status_code == 201, r.text
    t.join(WAIT + 15)
    assert result["status"] == 200
    # woken by the change in the other process, not by the end of its wait: without the cross-process
    # notification the answer comes only when the wait runs out. Half the wait is the line between the
    # two (a wake-up takes milliseconds; a loaded machine stretches that, never to 15 s).
    assert result["at"] - changed_at < WAIT / 2, f"{result['at'] - changed_at:.2f}s"
