"""`lgp control-plane serve` as a process on its own database, for tests and benchmarks: fixed port
(so it can be stopped and started again), a fresh encryption key and admin key, a log file."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Self

import httpx
from cryptography.fernet import Fernet

from .procs import free_port, wait_for

REPO = Path(__file__).resolve().parents[2]
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
