"""What the e2e tier needs before it starts: a Docker engine (without one the tier is skipped, saying
so), then kind, kubectl and helm (with Docker present, a missing tool fails the run loudly)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping

TOOLS = ("kind", "kubectl", "helm")


class NoDocker(Exception):
    """No Docker engine: the e2e tier cannot run here (skip, with this reason)."""


class MissingTools(Exception):
    """Docker runs but a tool is missing: a broken e2e environment (fail)."""


def docker_running(env: Mapping[str, str] | None = None) -> bool:
    docker = shutil.which("docker", path=None if env is None else env.get("PATH"))
    if docker is None:
        return False
    try:
        proc = subprocess.run(
            [docker, "info"], capture_output=True, timeout=30, env=None if env is None else dict(env)
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def check(
    env: Mapping[str, str] | None = None, docker: Callable[[Mapping[str, str] | None], bool] = docker_running
) -> None:
    """Raise NoDocker or MissingTools; return when the e2e tier can run."""
    if not docker(env):
        raise NoDocker(
            "e2e tier skipped: no Docker engine runs here (docker info failed), so kind cannot start. "
            "Run `make test-e2e` where Docker runs (CI: .github/workflows/e2e.yaml)."
        )
    path = None if env is None else env.get("PATH")
    missing = [t for t in TOOLS if shutil.which(t, path=path) is None]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise MissingTools(
            f"Docker runs but {', '.join(missing)} {verb} not installed: the e2e tier needs kind, "
            "kubectl and helm on PATH (.github/workflows/e2e.yaml installs the pinned versions)"
        )
