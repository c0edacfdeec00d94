"""The UI applies the API's rules (no browser needed): the license admission hook's 403 and a
duplicate name's 409 in plain words, the Secure cookie over https, and no /ui route in the OpenAPI
document."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from control_plane.core.config import Settings
from control_plane.main import create_app

ADMIN = "adm-" + uuid.uuid4().hex
IMAGE = "registry.example.com/agents/support:1.0.0"


def _app(database_url: str) -> Any:
    values: dict[str, Any] = {
        "database_url": database_url,
        "encryption_keys": Fernet.generate_key().decode(),
        "admin_api_key": ADMIN,
        "environment": "production",
        "db_connect_timeout_seconds": 2,
    }
    return create_app(Settings(**values))


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def _signed_in(c: TestClient) -> tuple[str, dict[str, Any]]:
    """A new tenant's key (signed in) and its listener."""
    h = {"X-Api-Key": ADMIN}
    t = c.post("/v1/tenants", json={"name": f"t-{uuid.uuid4().hex[:8]}"}, headers=h).json()
    key = c.post("/v1/api-keys", json={"name": "ui", "tenant_id": t["id"]}, headers=h).json()["key"]
    listener = c.post(
        "/v1/listeners", json={"name": "l", "namespaces": ["agents"]}, headers={"X-Api-Key": key}
    )
    assert listener.status_code == 201, listener.text
    token = _csrf(c.get("/ui/login").text)
    r = c.post("/ui/login", data={"api_key": key, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/deployments", r.text
    return token, listener.json()


def _form(token: str, listener: dict[str, Any], name: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "name": name,
        "type": "development",
        "image": IMAGE,
        "listener_id": listener["id"],
        "namespace": "agents",
        "secrets": "TOKEN=s3cr3t-" + uuid.uuid4().hex,
    }


@pytest.fixture
def client(postgres_url: str) -> Iterator[TestClient]:
    with TestClient(_app(postgres_url)) as c:
        yield c


def test_a_duplicate_name_is_refused_in_plain_words(client: TestClient) -> None:
    token, listener = _signed_in(client)
    form = _form(token, listener, "support")
    r = client.post("/ui/deployments/new", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    r = client.post("/ui/deployments/new", data=form)
    assert r.status_code == 409
    assert "Refused: a deployment named &#39;support&#39; exists" in r.text
    assert form["secrets"].split("=", 1)[1] not in r.text
    assert 'id="secrets" name="secrets" autocomplete="off"></textarea>' in r.text  # never rendered back


def test_the_license_admission_hook_refuses_ui_changes_too(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LGP_LICENSE_REQUIRED", "true")  # and no license configured
    for name in ("LGP_LICENSE_KEY", "LGP_LICENSE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    with TestClient(_app(postgres_url)) as c:
        token, listener = _signed_in(c)
        r = c.post("/ui/deployments/new", data=_form(token, listener, "support"))
        assert r.status_code == 403, r.text
        assert "Not allowed: license_missing" in r.text
        assert c.get("/v1/deployments", headers={"X-Api-Key": ADMIN}).json()["count"] == 0


def test_cookies_are_secure_over_https_and_ui_routes_stay_out_of_openapi(postgres_url: str) -> None:
    app = _app(postgres_url)
    with TestClient(app, base_url="https://testserver") as c:
        _signed_in(c)
        r = c.get("/ui/login")
        assert "lgp_ui_key" in c.cookies
        token = _csrf(r.text)
        r = c.post("/ui/logout", data={"csrf_token": token}, follow_redirects=False)
        assert "Secure" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    with TestClient(app, base_url="https://testserver") as c:
        r = c.get("/ui/login")
        assert "Secure" in r.headers["set-cookie"] and "SameSite=strict" in r.headers["set-cookie"]
        token = _csrf(r.text)
        h = {"X-Api-Key": ADMIN}
        t = c.post("/v1/tenants", json={"name": "sec"}, headers=h).json()
        key = c.post("/v1/api-keys", json={"name": "ui", "tenant_id": t["id"]}, headers=h).json()["key"]
        r = c.post("/ui/login", data={"api_key": key, "csrf_token": token}, follow_redirects=False)
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("lgp_ui_key=") and "Secure" in cookie and "HttpOnly" in cookie
        assert "SameSite=strict" in cookie and "Path=/ui" in cookie
    paths = app.openapi()["paths"]
    assert paths and not [p for p in paths if p == "/" or p.startswith("/ui")]


def test_what_the_listener_reports_shows_in_the_list_and_the_detail(client: TestClient) -> None:
    token, listener = _signed_in(client)
    r = client.post("/ui/deployments/new", data=_form(token, listener, "support"), follow_redirects=False)
    assert r.status_code == 303, r.text
    deployment_id = r.headers["location"].split("/")[3].split("?")[0]
    report = {
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "ImagePullBackOff",
                "message": "pull access denied",
            }
        ],
        "events": [{"type": "Warning", "reason": "Failed", "message": "Back-off pulling image"}],
        "replicas": {"desired": 3, "ready": 1},
        "endpoint": "https://support.example.com",
    }
    r = client.post(
        f"/v1/listener/deployments/{deployment_id}/report",
        json=report,
        headers={"Authorization": f"Bearer {listener['token']}"},
    )
    assert r.status_code < 300, r.text
    page = client.get("/ui/deployments").text
    assert '<a href="https://support.example.com" rel="noreferrer">' in page and "<td>1/3</td>" in page
    detail = client.get(f"/ui/deployments/{deployment_id}").text
    assert "ImagePullBackOff" in detail and "pull access denied" in detail  # conditions: why it is stuck
    assert "Back-off pulling image" in detail  # the latest events
    assert "1 ready of 3" in detail
