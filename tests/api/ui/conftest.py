"""Fixtures for the web UI's browser tests: the control plane as a real uvicorn server on real
Postgres, a tenant with a listener, and Debian's chromium driven by playwright."""

from __future__ import annotations

import logging
import os
import secrets as pysecrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet

from control_plane.core.config import Settings
from control_plane.main import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class LogRecorder(logging.Handler):
    """Everything the server logs, to prove no secret value is ever logged."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.texts.append(self.format(record))
        except Exception:
            self.texts.append(f"{record.msg!r} {record.args!r}")


@dataclass
class Server:
    url: str
    admin_key: str
    logs: LogRecorder

    def api(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url + "/v1", headers={"X-Api-Key": key}, timeout=30, trust_env=False
        )


@dataclass
class Tenant:
    """A fresh tenant: its API key and one listener (with the listener's token)."""

    key: str
    listener: dict[str, Any]
    server: Server
    pages: list[str] = field(default_factory=list)

    @property
    def http(self) -> httpx.Client:
        return self.server.api(self.key)

    def listener_status(self, revision_id: str, status: str, **kw: Any) -> httpx.Response:
        with httpx.Client(base_url=self.server.url, timeout=30, trust_env=False) as c:
            return c.post(
                f"/v1/listener/revisions/{revision_id}/status",
                json={"status": status, **kw},
                headers={"Authorization": f"Bearer {self.listener['token']}"},
            )


@pytest.fixture(scope="module")
def ui_server(postgres_server: Any) -> Iterator[Server]:
    db = f"ui_{uuid.uuid4().hex[:10]}"
    database_url = postgres_server.create_database(db)
    admin_key = "adm-" + pysecrets.token_hex(24)
    values: dict[str, Any] = {
        "database_url": database_url,
        "encryption_keys": Fernet.generate_key().decode(),
        "admin_api_key": admin_key,
        "environment": "production",
        "reaper_interval_seconds": 0.2,
        "long_poll_max_seconds": 10,
        "db_connect_timeout_seconds": 2,
    }
    settings = Settings(**values)
    recorder = LogRecorder()
    recorder.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    # uvicorn's own loggers too: a uvicorn started earlier in this process with its default logging
    # config leaves them with propagate=False, so the root logger alone would miss the access log
    loggers = [root, logging.getLogger("uvicorn.access"), logging.getLogger("uvicorn.error")]
    for lg in loggers:
        lg.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="info", access_log=True, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="ui-uvicorn", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if not thread.is_alive():
            raise RuntimeError("the control plane server exited")
        try:
            return httpx.get(url + "/readyz", timeout=2, trust_env=False).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, 60, "the control plane's /readyz")
        yield Server(url=url, admin_key=admin_key, logs=recorder)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        for lg in loggers:
            lg.removeHandler(recorder)
        root.setLevel(old_level)
        postgres_server.drop_database(db)


@pytest.fixture
def tenant(ui_server: Server) -> Tenant:
    with ui_server.api(ui_server.admin_key) as admin:
        t = admin.post("/tenants", json={"name": f"t-{uuid.uuid4().hex[:8]}"})
        assert t.status_code == 201, t.text
        k = admin.post("/api-keys", json={"name": "ui", "tenant_id": t.json()["id"]})
        assert k.status_code == 201, k.text
    key = k.json()["key"]
    with ui_server.api(key) as api:
        r = api.post(
            "/listeners", json={"name": f"l-{uuid.uuid4().hex[:8]}", "namespaces": ["agents", "staging"]}
        )
        assert r.status_code == 201, r.text
    return Tenant(key=key, listener=r.json(), server=ui_server)


# Package scope, not session: playwright's sync API keeps an asyncio loop running in the main thread
# while it is open, and every later test's asyncio.run() would fail ("cannot be called from a running
# event loop").
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make deps installs it)")
    from playwright.sync_api import expect, sync_playwright

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    expect.set_options(timeout=15_000)  # a detail page refreshes itself every 3 s; 2 CPUs are shared
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, ui_server: Server) -> Iterator[Any]:
    context = browser.new_context(base_url=ui_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()
