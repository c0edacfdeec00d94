"""The e2e tier's kind cluster: created (or reused) by scripts/e2e-kind.sh with KEDA, ingress-nginx and
our two images loaded, and deleted at the end unless LGP_E2E_KEEP_CLUSTER=1."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import preflight

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "e2e-kind.sh"


@dataclass(frozen=True)
class Kind:
    kubeconfig: Path
    control_plane_image: str
    data_plane_image: str
    env: dict[str, str]

    def run(self, *args: str, check: bool = True, timeout: float = 900, input: str | None = None) -> str:
        """Run a tool (kubectl, helm, docker, kind) against this cluster; its output, or a failure that
        shows what it said."""
        proc = subprocess.run(
            args, env=self.env, capture_output=True, text=True, timeout=timeout, input=input
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"`{' '.join(args)}` exited {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )
        return proc.stdout

    def kubectl(self, *args: str, check: bool = True, timeout: float = 300) -> str:
        return self.run("kubectl", *args, check=check, timeout=timeout)


@pytest.fixture(scope="session")
def kind_cluster() -> Iterator[Kind]:
    try:
        preflight.check()
    except preflight.NoDocker as e:
        pytest.skip(str(e))
    except preflight.MissingTools as e:
        pytest.fail(str(e), pytrace=False)
    subprocess.run(["bash", str(SCRIPT), "up"], check=True, timeout=1800)  # streams its progress
    values = dict(
        line.split("=", 1)
        for line in subprocess.run(
            ["bash", str(SCRIPT), "env"], check=True, capture_output=True, text=True
        ).stdout.splitlines()
    )
    env = {**os.environ, "KUBECONFIG": values["KUBECONFIG"]}
    try:
        yield Kind(
            kubeconfig=Path(values["KUBECONFIG"]),
            control_plane_image=values["LGP_E2E_CONTROL_PLANE_IMAGE"],
            data_plane_image=values["LGP_E2E_DATA_PLANE_IMAGE"],
            env=env,
        )
    finally:
        if os.environ.get("LGP_E2E_KEEP_CLUSTER") != "1":
            subprocess.run(["bash", str(SCRIPT), "down"], check=False, timeout=300)
