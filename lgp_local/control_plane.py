"""`lgp control-plane serve` as a process on its own database, for tests and benchmarks: fixed port
(so it can be stopped and started again), a fresh encryption key and admin key, a log file. Also the
data-plane processes (`lgp operator run`, `lgp listener run`) as restartable processes, and the API
calls the listener tests and benchmarks make."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Self

import httpx
from cryptography.fernet import Fernet

from .procs import free_port, wait_for

REPO = Path(__file__).resolve().parents[1]
LGP = [sys.executable, "-m", "lgp_cli.main"]


class ControlPlaneProcess:
    def __init__(self, database_url: str, workdir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_key = "lgp-admin-" + secrets.token_urlsafe(24)
        self.log = workdir / f"control-plane-{self.port}.log"
        self.env = dict(
            os.environ,
            LGP_DATABASE_URL=database_url,
            LGP_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
            LGP_ADMIN_API_KEY=self.admin_key,
            LGP_ENVIRONMENT="development",
            **(extra_env or {}),
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*LGP, "control-plane", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"control plane exited:\n{self.log.read_text(errors='replace')[-3000:]}")
            return httpx.get(self.url + "/readyz", timeout=2, trust_env=False).status_code == 200

        wait_for(ready, timeout=60, what="control plane /readyz")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def api(self, key: str) -> httpx.Client:
        """An HTTP client for /v1 acting with this API key."""
        return httpx.Client(
            base_url=self.url + "/v1", headers={"X-Api-Key": key}, timeout=30, trust_env=False
        )


class ControlPlane(ControlPlaneProcess):
    """The control plane process, with the API calls the listener tests and the benchmarks make."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        super().__init__(database_url, workdir, {"LGP_LONG_POLL_MAX_SECONDS": "30"})
        self.http = self.api(self.admin_key)

    def call(self, method: str, path: str, **kw: Any) -> Any:
        r = self.http.request(method, path, **kw)
        assert r.status_code < 400, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def create_listener(self, namespaces: list[str]) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", "/listeners", json={"name": f"l-{uuid.uuid4().hex[:8]}", "namespaces": namespaces}
        )
        return result

    def revisions(self, deployment_id: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.call("GET", f"/deployments/{deployment_id}/revisions")["data"]
        return data

    def revision(self, revision_id: str) -> dict[str, Any]:
        data: dict[str, Any] = self.call("GET", f"/revisions/{revision_id}")
        return data

    def wait_revision(self, revision_id: str, statuses: set[str], timeout: float = 90) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            rev = self.revision(revision_id)
            return rev if rev["status"] in statuses else None

        try:
            return wait_for(
                done, timeout=timeout, what=f"revision {revision_id} to reach {statuses}", interval=0.2
            )
        except TimeoutError as e:
            raise AssertionError(f"{e}; it is {self.revision(revision_id)['status']}") from None


def listener_argv(
    control_plane_url: str, token_file: Path, kubeconfig: Path | str, namespaces: list[str]
) -> list[str]:
    """``lgp listener run`` for these namespaces, its HTTP server on a free loopback port."""
    argv = [
        *LGP,
        "listener",
        "run",
        "--control-plane-url",
        control_plane_url,
        "--token-file",
        str(token_file),
    ]
    argv += ["--kubeconfig", str(kubeconfig), "--http-port", "0", "--http-host", "127.0.0.1"]
    for ns in namespaces:
        argv += ["--namespace", ns]
    return argv


class Process:
    """A data-plane process (operator or listener) that can be killed and started again."""

    def __init__(self, name: str, argv: list[str], workdir: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.argv, self.workdir = name, argv, workdir
        self.env = env or dict(os.environ)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with open(self.workdir / f"{self.name}.log", "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return (self.workdir / f"{self.name}.log").read_text(errors="replace")
