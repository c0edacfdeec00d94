"""The `lgp` user commands against a REAL control plane: `lgp control-plane serve` as a process on a
real Postgres. No cluster runs in the api tier, so tests that need a revision to move play the
listener themselves: they post status reports and deployment reports through the listener protocol
with the listener's own token (`Listener` below), exactly what `lgp listener run` would send."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from lgp_cli.main import main
from lgp_local.control_plane import ControlPlaneProcess
from tests.stream_lines import StreamLines

REPO = Path(__file__).resolve().parents[3]
LGP = [sys.executable, "-m", "lgp_cli.main"]
IMAGE = "registry.example.com/agents/echo:1.0"
_LOGS: list[Path] = []  # the control planes' logs: secret values must not be there either


class ControlPlane(ControlPlaneProcess):
    """`lgp control-plane serve` as a process on its own database; its log is checked for secrets."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        super().__init__(database_url, workdir, {"LGP_DB_CONNECT_TIMEOUT_SECONDS": "2"})
        _LOGS.append(self.log)


@pytest.fixture(scope="session")
def control_plane(postgres_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    name = f"cli_{uuid.uuid4().hex[:10]}"
    url = postgres_server.create_database(name)
    cp = ControlPlane(url, tmp_path_factory.mktemp("cli-cp"))
    try:
        yield cp.start()
    finally:
        cp.stop()
        postgres_server.drop_database(name)


# ------------------------------------------------------------------------------------------ the CLI
@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Guard:
    """Every secret value a test hands the CLI, and everything the CLI printed: checked at the end."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self.printed: list[tuple[str, str]] = []

    def secret(self, prefix: str = "s3cr3t") -> str:
        value = f"{prefix}-{uuid.uuid4().hex}"
        self.values.add(value)
        return value

    def record(self, argv: list[str], text: str) -> None:
        self.printed.append((" ".join(argv)[:200], text))

    def leaks(self) -> list[tuple[str, str]]:
        return [(cmd, v) for cmd, text in self.printed for v in self.values if v in text]


_GUARD = Guard()


@pytest.fixture(scope="session", autouse=True)
def secret_guard() -> Iterator[Guard]:
    yield _GUARD
    assert not _GUARD.leaks(), f"the CLI printed secret values: {_GUARD.leaks()[:5]}"
    assert not _GUARD.values or _GUARD.printed, "the guard saw no output: it cannot have checked anything"
    for log in _LOGS:
        text = log.read_text(errors="replace") if log.exists() else ""
        leaked = [v for v in _GUARD.values if v in text]
        assert not leaked, f"secret values in {log}: {leaked[:3]}"


class Cli:
    """Runs `lgp` as a tenant: in-process through lgp_cli.main.main(argv), or as a subprocess."""

    def __init__(self, cp: ControlPlane, key: str, home: Path) -> None:
        self.cp, self.key, self.home = cp, key, home
        self.config = home / "config.toml"  # does not exist unless a test writes it
        self.env = {"LGP_URL": cp.url, "LGP_API_KEY": key, "LGP_CONFIG": str(self.config)}
        self.http = cp.api(key)
        self.started: list[Running] = []

    def _environ(self, extra: dict[str, str] | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LGP_")}
        env.update(self.env)
        env.update(extra or {})
        return {k: v for k, v in env.items() if v is not None}

    def __call__(self, *argv: str, env: dict[str, str] | None = None) -> Result:
        """In-process: main(argv) with this tenant's environment."""
        with pytest.MonkeyPatch.context() as mp:
            for k in [k for k in os.environ if k.startswith("LGP_")]:
                mp.delenv(k)
            for k, v in self._environ(env).items():
                if k.startswith("LGP_") or k in (env or {}):
                    mp.setenv(k, v)
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = main(list(argv))
        result = Result(code, out.getvalue(), err.getvalue())
        _GUARD.record(list(argv), result.out + result.err)
        return result

    def sub(self, *argv: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
        """As a process: `python -m lgp_cli.main ...`."""
        proc = subprocess.run(
            [*LGP, *argv],
            env=self._environ(env),
            cwd=REPO,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        _GUARD.record(list(argv), result.out + result.err)
        return result

    def start(self, *argv: str, env: dict[str, str] | None = None) -> Running:
        """A subprocess left running (for --wait), its stderr read line by line."""
        proc = subprocess.Popen(
            [*LGP, *argv],
            env=self._environ(env),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        running = Running(proc, list(argv))
        self.started.append(running)
        return running

    def close(self) -> None:
        """Stop what a failed test left running, and the HTTP client."""
        for running in self.started:
            running.kill()
        self.http.close()

    # -------------------------------------------------------------- helpers over the API
    def listener(self, namespaces: list[str] | None = None) -> Listener:
        r = self.http.post("/listeners", json={"name": unique("l"), "namespaces": namespaces or ["agents"]})
        assert r.status_code == 201, r.text
        return Listener(self.cp, r.json())

    def deployment(self, listener: Listener, name: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {
            "name": name or unique("d"),
            "type": "development",
            "image": IMAGE,
            "listener_id": listener.id,
            "namespace": listener.namespaces[0],
            **extra,
        }
        r = self.http.post("/deployments", json=body)
        assert r.status_code == 201, r.text
        d: dict[str, Any] = r.json()
        return d

    def get(self, path: str, **params: Any) -> Any:
        r = self.http.get(path, params=params)
        assert r.status_code == 200, r.text
        return r.json()


class Running:
    def __init__(self, proc: subprocess.Popen[str], argv: list[str]) -> None:
        assert proc.stderr is not None
        self.proc, self.argv = proc, argv
        self.stderr = StreamLines(proc.stderr)

    def wait_line(self, pattern: str, timeout: float = 30) -> str:
        """Block until stderr has a line matching ``pattern`` (a regex)."""
        return self.stderr.wait_line(pattern, timeout)

    def finish(self, timeout: float = 60) -> Result:
        try:
            out = self.proc.stdout.read() if self.proc.stdout else ""
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        result = Result(code, out, self.stderr.join())
        _GUARD.record(self.argv, result.out + result.err)
        return result

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Listener:
    """Plays the listener over the listener protocol with the listener's token (no cluster here)."""

    def __init__(self, cp: ControlPlane, created: dict[str, Any]) -> None:
        self.id: str = created["id"]
        self.name: str = created["name"]
        self.namespaces: list[str] = created["namespaces"]
        self.token: str = created["token"]
        self.http = httpx.Client(
            base_url=cp.url + "/v1/listener",
            headers={"Authorization": f"Bearer {created['token']}"},
            timeout=30,
            trust_env=False,
        )

    def status(
        self, revision_id: str, status: str, reason: str | None = None, message: str | None = None
    ) -> Any:
        body = {"status": status, "reason": reason, "message": message}
        r = self.http.post(f"/revisions/{revision_id}/status", json={k: v for k, v in body.items() if v})
        assert r.status_code == 200, r.text
        return r.json()

    def report(self, deployment_id: str, **body: Any) -> None:
        r = self.http.post(f"/deployments/{deployment_id}/report", json=body)
        assert r.status_code == 202, r.text

    def deleted(self, deployment_id: str) -> None:
        r = self.http.post(f"/deployments/{deployment_id}/deleted")
        assert r.status_code == 204, r.text


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def tenant(control_plane: ControlPlane) -> dict[str, str]:
    """A fresh tenant and an API key for it (made with the admin key): tests do not see each other."""
    with control_plane.api(control_plane.admin_key) as admin:
        t = admin.post("/tenants", json={"name": unique("t")})
        assert t.status_code == 201, t.text
        k = admin.post("/api-keys", json={"name": "cli-tests", "tenant_id": t.json()["id"]})
        assert k.status_code == 201, k.text
    return {"id": t.json()["id"], "key": k.json()["key"], "key_id": k.json()["id"]}


@pytest.fixture
def cli(control_plane: ControlPlane, tenant: dict[str, str], tmp_path: Path) -> Iterator[Cli]:
    c = Cli(control_plane, tenant["key"], tmp_path)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def admin_cli(control_plane: ControlPlane, tmp_path: Path) -> Iterator[Cli]:
    c = Cli(control_plane, control_plane.admin_key, tmp_path)
    try:
        yield c
    finally:
        c.close()
