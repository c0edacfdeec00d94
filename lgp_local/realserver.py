"""The real LangGraph server as plain processes (no container, no kubelet), for tests and benchmarks.

``server_python()`` is a virtualenv with the stock ``langgraph-api`` and the MIT Postgres runtime
``langgraph-runtime-pg`` from PyPI, pinned exactly as in lgp's server image
(``images/files/server-constraints.txt``), built once into the cache.

``ContainerProcess.start()`` runs one container of a pod template as a process, the way a container
runtime would: the image's environment (``recipes.server``'s, with the project's graphs), then the
container's ``env`` and ``envFrom`` (``secretKeyRef`` and ``secretRef`` resolved from Secrets given as
plain data), and its ``command``/``args``, or the image's entrypoint. The image's own entrypoint scripts
(``/storage/entrypoint.sh``, ``/storage/queue_entrypoint.sh``, from ``images/files/``) are run from a
directory standing in for ``/storage``. What differs from a pod, and only that: a ``rewrite`` maps
cluster addresses (``<service>.<namespace>.svc:<port>``) in variable values to the servers the caller
runs, ``PORT`` is a free port of this host (pods have a network namespace each; these processes share
the host's), and the server listens on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import cache_root
from .images.recipes import FILES, SERVER_REQUIREMENTS
from .procs import ProcessExited, free_port, wait_for

CONSTRAINTS = FILES / "server-constraints.txt"
STORAGE = "/storage/"
IMAGE_SITE = "/usr/local/lib/python3.11/dist-packages/"  # where the image's entrypoint finds logging.json


def server_python() -> Path:
    """The python of a virtualenv with the real server (SERVER_REQUIREMENTS under the image's
    constraints), built once per set of pins into ``<cache>/realserver/<digest>``."""
    pins = "\n".join(SERVER_REQUIREMENTS) + "\n" + CONSTRAINTS.read_text()
    digest = hashlib.sha256(pins.encode()).hexdigest()[:12]
    home = cache_root() / "realserver" / f"langgraph-api-{digest}"
    python = home / "venv" / "bin" / "python"
    if (home / ".installed").exists():
        return python
    work = home.with_name(home.name + f".tmp{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
    pip = [str(work / "venv" / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-c", str(CONSTRAINTS), *SERVER_REQUIREMENTS], check=True, timeout=1800)
    subprocess.run([str(work / "venv" / "bin" / "python"), "-c", "import langgraph_api"], check=True)
    (work / ".installed").write_text(pins)
    try:  # commands are run as `python -m` or through bin/ by absolute path: the venv can move into place
        work.rename(home)
    except OSError:  # another run put one there meanwhile
        shutil.rmtree(work, ignore_errors=True)
    return python


def stop_all(procs: list[subprocess.Popen[bytes]], grace: float = 30) -> None:
    """SIGTERM to every process at once, then wait for each, SIGKILL after ``grace`` seconds (server
    processes a test started by hand: the api server and its queue worker stop side by side)."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


def secret_value(secrets: Mapping[str, Mapping[str, str]], ref: Mapping[str, Any]) -> str:
    """The value of a ``secretKeyRef`` from Secrets given as ``{name: {key: value}}``."""
    try:
        return secrets[ref["name"]][ref["key"]]
    except KeyError:
        raise KeyError(f"Secret {ref.get('name')!r} key {ref.get('key')!r} was not given") from None


@dataclass
class ContainerProcess:
    """One server container of a pod template, run as a process (see the module's docstring)."""

    container: Mapping[str, Any]
    python: Path
    workdir: Path
    image_env: Mapping[str, str]
    secrets: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    rewrite: Callable[[str], str] = lambda value: value
    cwd: Path | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def name(self) -> str:
        return str(self.container["name"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def environment(self) -> dict[str, str]:
        """The process's environment: the image's, the container's envFrom, then its env (as Kubernetes
        orders them), values rewritten; PORT and the listen address for this host."""
        env: dict[str, str] = {
            "PATH": f"{self.python.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.workdir),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
        }
        env.update(self.image_env)
        for source in self.container.get("envFrom") or []:
            name = source["secretRef"]["name"]
            env.update(self.secrets[name])
        for var in self.container.get("env") or []:
            if "value" in var:
                env[var["name"]] = var["value"]
            else:
                env[var["name"]] = secret_value(self.secrets, var["valueFrom"]["secretKeyRef"])
        env = {k: self.rewrite(v) for k, v in env.items()}
        env["PORT"] = str(self.port)  # a pod's port is its own; here every process shares the host's
        env["LANGGRAPH_SERVER_HOST"] = "127.0.0.1"
        return env

    def argv(self) -> list[str]:
        """command + args, or the image's entrypoint + args; image paths under /storage/ mapped."""
        command = list(self.container.get("command") or [f"{STORAGE}entrypoint.sh"])
        args = list(self.container.get("args") or [])
        storage = self._storage()
        return [str(storage / a[len(STORAGE) :]) if a.startswith(STORAGE) else a for a in command] + args

    def _storage(self) -> Path:
        """The image's /storage: its entrypoint scripts, pointed at this virtualenv's site-packages."""
        storage = self.workdir / "storage"
        if not storage.exists():
            storage.mkdir(parents=True)
            site = str(self._site_packages())
            for source, target in (
                ("server-entrypoint.sh", "entrypoint.sh"),
                ("queue-entrypoint.sh", "queue_entrypoint.sh"),
            ):
                text = (FILES / source).read_text().replace(IMAGE_SITE, site.rstrip("/") + "/")
                (storage / target).write_text(text)
                (storage / target).chmod(0o755)
        return storage

    def _site_packages(self) -> Path:
        (found,) = (self.python.parent.parent / "lib").glob("python3*/site-packages")
        return found

    def start(self) -> ContainerProcess:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts}: {' '.join(self.argv())}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                self.argv(),
                env=self.environment(),
                cwd=self.cwd or self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ok(self, timeout: float = 120) -> None:
        """Until ``GET /ok`` answers 200; the log's tail in the error if the process exits or times out."""
        import httpx

        def ok() -> bool:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                raise ProcessExited(f"{self.name} exited ({code}):\n{self.tail()}")
            try:
                return httpx.get(f"{self.url}/ok", timeout=2, trust_env=False).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_for(ok, timeout=timeout, what=f"{self.name} GET /ok", interval=0.2)
        except TimeoutError as e:
            raise TimeoutError(f"{e}\n{self.tail()}") from None

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def send(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self, grace: float = 30) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds (to the process's own session)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def exit_seconds(self, sig: int = signal.SIGTERM, timeout: float = 60) -> float:
        """Send ``sig`` and return the seconds until the process exited."""
        start = time.monotonic()
        self.send(sig)
        self.wait_exit(timeout)
        return time.monotonic() - start


def project_image(config_path: Path) -> tuple[dict[str, str], Path]:
    """The environment and working directory of the server image ``lgp build`` makes of the project at
    ``config_path`` (``recipes.server``), with the image's project folder mapped to the one on this host."""
    from .images import recipes

    config = recipes.server(config_path).config
    folder = config_path.resolve().parent if config_path.is_file() else config_path.resolve()
    inside = config.working_dir or "/"
    env = {k: v.replace(inside, str(folder)) for k, v in config.env.items() if k != "PATH"}
    return env, folder
