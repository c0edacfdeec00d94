"""Fixtures for the control plane's API tests: a fresh database and app per test, a client that records
every response, and a session-wide guard that fails if a secret value ever appears in a response or a
log record."""

from __future__ import annotations

import logging
import secrets as pysecrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from control_plane.core.config import Settings
from control_plane.main import create_app

ADMIN_KEY = "adm-" + pysecrets.token_hex(24)
# Responses allowed to carry secret values: the listener's own desired state (checked separately).
EXEMPT_PATHS = ("/v1/listener/desired-state",)


class SecretGuard(logging.Handler):
    """Remembers secret values and everything said: responses and log records."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.values: set[str] = set()
        self.texts: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a broken log call must not hide a leak: keep what we can
            text = f"{record.msg!r} {record.args!r}"
        self.texts.append((f"log {record.name}", text))

    def secret(self, prefix: str = "s3cr3t") -> str:
        value = f"{prefix}-{uuid.uuid4().hex}"
        self.values.add(value)
        return value

    def leaks(self) -> list[tuple[str, str]]:
        return [(where, v) for where, text in self.texts for v in self.values if v in text]


_GUARD = SecretGuard()
_GUARD.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))


@pytest.fixture(scope="session", autouse=True)
def secret_guard() -> Iterator[SecretGuard]:
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(_GUARD)
    root.setLevel(logging.DEBUG)
    try:
        yield _GUARD
    finally:
        root.removeHandler(_GUARD)
        root.setLevel(old_level)
    leaks = _GUARD.leaks()
    assert not leaks, f"secret values leaked: {leaks[:5]}"
    assert not _GUARD.values or _GUARD.texts, "the guard recorded nothing: it cannot have checked anything"


class RecordingClient(TestClient):
    """A TestClient that hands every response (body and headers) to the secret guard."""

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().request(method, url, *args, **kwargs)
        path = str(url)
        if not path.startswith(EXEMPT_PATHS):
            _GUARD.texts.append(
                (f"{method} {path} -> {response.status_code}", response.text + str(response.headers))
            )
        return response


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "encryption_keys": Fernet.generate_key().decode(),
        "admin_api_key": ADMIN_KEY,
        "environment": "production",
        "reaper_interval_seconds": 0.2,
        "long_poll_max_seconds": 10,
        "db_connect_timeout_seconds": 2,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(postgres_url: str) -> Settings:
    return make_settings(postgres_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[RecordingClient]:
    with RecordingClient(create_app(settings)) as c:
        yield c


class Api:
    """Small helpers over the HTTP API, as one tenant."""

    def __init__(self, client: TestClient, key: str, guard: SecretGuard) -> None:
        self.client, self.key, self.guard = client, key, guard

    @property
    def h(self) -> dict[str, str]:
        return {"X-Api-Key": self.key}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=self.h, **kw)

    def post(self, url: str, json: Any = None, **kw: Any) -> Any:
        headers = {**self.h, **kw.pop("headers", {})}
        return self.client.post(url, json=json, headers=headers, **kw)

    def patch(self, url: str, json: Any = None) -> Any:
        return self.client.patch(url, json=json, headers=self.h)

    def delete(self, url: str) -> Any:
        return self.client.delete(url, headers=self.h)

    def listener(self, name: str | None = None, namespaces: tuple[str, ...] = ("agents",)) -> dict[str, Any]:
        r = self.post(
            "/v1/listeners", {"name": name or f"l-{uuid.uuid4().hex[:8]}", "namespaces": list(namespaces)}
        )
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def deployment(self, listener: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body = {
            "name": f"d-{uuid.uuid4().hex[:8]}",
            "type": "development",
            "image": "registry.example.com/agents/support:1.0.0",
            "listener_id": listener["id"],
            "namespace": listener["namespaces"][0],
            **fields,
        }
        r = self.post("/v1/deployments", body)
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out


class ListenerApi:
    """The listener's side of the protocol."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.token = client, token

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def desired(self, **params: Any) -> Any:
        return self.client.get("/v1/listener/desired-state", params=params, headers=self.h)

    def status(self, revision_id: str, status: str, **kw: Any) -> Any:
        return self.client.post(
            f"/v1/listener/revisions/{revision_id}/status", json={"status": status, **kw}, headers=self.h
        )

    def report(self, deployment_id: str, **body: Any) -> Any:
        return self.client.post(f"/v1/listener/deployments/{deployment_id}/report", json=body, headers=self.h)

    def ack_deleted(self, deployment_id: str) -> Any:
        return self.client.post(f"/v1/listener/deployments/{deployment_id}/deleted", headers=self.h)

    def heartbeat(self, **body: Any) -> Any:
        return self.client.post("/v1/listener/heartbeat", json=body, headers=self.h)


@pytest.fixture
def admin(client: RecordingClient, secret_guard: SecretGuard) -> Api:
    return Api(client, ADMIN_KEY, secret_guard)


def new_tenant(admin: Api, name: str | None = None) -> Api:
    r = admin.post("/v1/tenants", {"name": name or f"t-{uuid.uuid4().hex[:8]}"})
    assert r.status_code == 201, r.text
    k = admin.post("/v1/api-keys", {"name": "ci", "tenant_id": r.json()["id"]})
    assert k.status_code == 201, k.text
    return Api(admin.client, k.json()["key"], admin.guard)


@pytest.fixture
def api(admin: Api) -> Api:
    """A fresh tenant's key."""
    return new_tenant(admin)
