"""The web UI's Logs panel in a real browser (chromium) against a real control plane: the deployment's
container lines (read by its listener, played here over the listener protocol: no cluster in this tier)
merged with its events, newest first, filtered by level, text and revision, followed as new lines come,
the secret values redacted, the reason shown when the listener is offline; and image pull secrets in the
new-deployment form."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.played_listener import PlayedListener, lines_since, log_line

from .conftest import Tenant, wait_until
from .test_ui import sign_in

IMAGE = "registry.example.com/agents/support:1.0.0"


class LogBook:
    """The lines the played listener (tests/played_listener.py) answers with: those from ``since`` on."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self.queries: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def write(self, message: str, level: str | None, at: datetime | None = None) -> None:
        with self.lock:
            self.lines.append(
                log_line(at or datetime.now(UTC), message, level=level, pod="support-api-server-0")
            )

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        self.queries.append(request["query"])
        with self.lock:
            return {"lines": lines_since(self.lines, request)}


def played(tenant: Tenant, book: LogBook) -> PlayedListener:
    client = httpx.Client(base_url=tenant.server.url, timeout=30, trust_env=False)
    return PlayedListener(client, tenant.listener["token"], book.answer)


def test_logs_panel_filters_follows_and_redacts(page: Any, tenant: Tenant) -> None:
    secret = f"sk-{uuid.uuid4().hex}"
    with tenant.http as api:
        r = api.post(
            "/deployments",
            json={
                "name": f"logs-{uuid.uuid4().hex[:6]}",
                "type": "development",
                "image": IMAGE,
                "listener_id": tenant.listener["id"],
                "namespace": "agents",
                "secrets": {"OPENAI_API_KEY": secret},
            },
        )
        assert r.status_code == 201, r.text
        d = r.json()
    now = datetime.now(UTC)
    lis = LogBook()
    with played(tenant, lis):
        # after the deployment's first events, a second apart
        lis.write("Application started up in 0.861s", "INFO", now + timedelta(seconds=1))
        lis.write(f"using key {secret}", "WARNING", now + timedelta(seconds=2))  # the control plane redacts
        lis.write("database is unreachable", "ERROR", now + timedelta(seconds=3))
        sign_in(page, tenant.key)
        page.goto(f"/ui/deployments/{d['id']}")
        page.click("#logs-link")
        expect(page).to_have_url(re.compile(rf"/ui/deployments/{d['id']}/logs$"))
        rows = page.locator("#log-lines tbody tr")
        expect(rows.first).to_contain_text("database is unreachable")  # newest first
        expect(page.locator("#log-lines")).to_contain_text("using key [redacted]")
        expect(page.locator("#log-lines")).to_contain_text("Application started up")
        expect(page.locator("#log-lines")).to_contain_text("AWAITING_DEPLOY")  # an event, merged in
        assert secret not in page.content()

        page.select_option("#log-level", "ERROR")
        page.click("#log-apply")
        expect(page).to_have_url(re.compile(r"level=ERROR"))
        expect(page.locator("#log-lines tbody tr.container")).to_have_count(1)
        expect(page.locator("#log-lines")).to_contain_text("database is unreachable")

        page.select_option("#log-level", "")
        page.fill("#log-q", "started up")
        page.select_option("#log-revision", d["latest_revision_id"])
        page.click("#log-apply")
        expect(page.locator("#log-lines tbody tr")).to_have_count(1)
        expect(page.locator("#log-lines")).to_contain_text("Application started up")
        assert lis.queries[-1]["text"] == "started up"
        assert lis.queries[-1]["revision_id"] == d["latest_revision_id"]

        page.fill("#log-q", "")
        page.select_option("#log-revision", "")
        page.check("#log-follow")
        page.click("#log-apply")
        expect(page.locator("#following")).to_be_visible()
        lis.write("a line written while following", "INFO", datetime.now(UTC) + timedelta(seconds=5))
        expect(page.locator("#log-lines tbody tr").first).to_contain_text(
            "a line written while following", timeout=20_000
        )  # the page refreshed itself
        assert secret not in page.content()
    assert not [t for t in tenant.server.logs.texts if secret in t]


def test_logs_panel_says_why_when_the_listener_is_offline(page: Any, tenant: Tenant) -> None:
    with tenant.http as api:
        away = api.post("/listeners", json={"name": f"away-{uuid.uuid4().hex[:6]}", "namespaces": ["agents"]})
        d = api.post(
            "/deployments",
            json={
                "name": f"quiet-{uuid.uuid4().hex[:6]}",
                "type": "development",
                "image": IMAGE,
                "listener_id": away.json()["id"],
                "namespace": "agents",
            },
        ).json()
    sign_in(page, tenant.key)
    page.goto(f"/ui/deployments/{d['id']}/logs")
    expect(page.locator("#log-notice")).to_contain_text("has not been heard from yet")
    expect(page.locator("#log-lines")).to_contain_text("AWAITING_DEPLOY")  # the events still show


def test_image_pull_secrets_in_the_new_deployment_form(page: Any, tenant: Tenant) -> None:
    sign_in(page, tenant.key)
    page.goto("/ui/deployments/new")
    name = f"pull-{uuid.uuid4().hex[:6]}"
    page.fill("#name", name)
    page.fill("#image", IMAGE)
    page.fill("#image_pull_secrets", "Bad_Name")
    page.click("#create")
    expect(page.locator("#error-image_pull_secrets")).to_contain_text("must be a Secret's name")
    page.fill("#name", name)
    page.fill("#image", IMAGE)
    page.fill("#image_pull_secrets", "regcred, ghcr-pull")
    page.click("#create")
    expect(page.locator("#image-pull-secrets")).to_have_text("regcred, ghcr-pull")
    with tenant.http as api:
        found = wait_until(
            lambda: [
                x for x in api.get("/deployments", params={"name": name}).json()["data"] if x["name"] == name
            ],
            10,
            "the deployment in the API",
        )
    assert found[0]["image_pull_secrets"] == ["regcred", "ghcr-pull"]
