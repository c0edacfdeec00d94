"""Fixtures for the operator's integration tests: the CRD installed, an admin client, the operator as a
subprocess (so a test can kill -9 it), and helpers to wait on conditions with a deadline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from lgp_operator.api.crd import build_crd
from lgp_operator.k8s.kube import Kube

ROOT = Path(__file__).resolve().parents[3]
DATA = Path(__file__).parent / "data"
LGP = "lgp.dev/v1alpha1"
KIND = "LangGraphPlatform"
T = TypeVar("T")


def wait_for(
    fn: Callable[[], T | None], timeout: float = 60, what: str = "condition", interval: float = 0.25
) -> T:
    """Poll ``fn`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = fn()
        except AssertionError as e:
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


@pytest.fixture(scope="session")
def kube(k8s: Any) -> Kube:
    return Kube(k8s, manager="lgp-test")


@pytest.fixture(scope="session")
def crd(kube: Kube) -> dict[str, Any]:
    """The generated CRD, applied to the real apiserver (which checks that it is structural)."""
    obj = build_crd()
    kube.apply(obj)

    def established() -> bool:
        live = kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, obj["metadata"]["name"])
        conds = {c["type"]: c["status"] for c in ((live or {}).get("status") or {}).get("conditions") or []}
        return conds.get("Established") == "True"

    wait_for(established, 30, "the LangGraphPlatform CRD to be established")
    return obj


class OperatorProcess:
    """`python -m lgp_operator run` with a given environment; its log goes to a file."""

    def __init__(self, kubeconfig: Path, log_dir: Path, **env: str) -> None:
        self.log_path = log_dir / f"operator-{uuid.uuid4().hex[:6]}.log"
        self.env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "LGP_OPERATOR_RESYNC_SECONDS": "3",
            "LGP_OPERATOR_DISCOVERY_SECONDS": "2",
            "LGP_OPERATOR_LEASE_SECONDS": "4",
            "LGP_OPERATOR_LEADER_ELECTION_NAMESPACE": "default",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lgp_operator", "run"],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def operator_factory(
    kubeconfig: Path, crd: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., OperatorProcess]]:
    started: list[OperatorProcess] = []
    log_dir = tmp_path_factory.mktemp("operator-logs")

    def make(kubeconfig_path: Path | None = None, **env: str) -> OperatorProcess:
        op = OperatorProcess(kubeconfig_path or kubeconfig, log_dir, **env)
        started.append(op)
        return op

    try:
        yield make
    finally:
        for op in started:
            op.stop()
        for op in started:  # shown when a test failed
            print(f"---- {op.log_path}\n{op.log()[-4000:]}")


@pytest.fixture(scope="module")
def operator(operator_factory: Callable[..., OperatorProcess]) -> OperatorProcess:
    """One operator for the module, watching all namespaces, with a lease of its own."""
    return operator_factory(LGP_OPERATOR_LEADER_ELECTION_NAME=f"lgp-test-{uuid.uuid4().hex[:8]}").start()


# ---------------------------------------------------------------- resource helpers
def platform(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": LGP,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"image": "registry.local/agent:v1", **spec},
    }


def apply_spec(kube: Kube, name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Apply a LangGraphPlatform as the listener would (its own field manager)."""
    return kube.apply(platform(name, namespace, spec))


def get_cr(kube: Kube, name: str, namespace: str) -> dict[str, Any]:
    cr = kube.get(LGP, KIND, namespace, name)
    assert cr is not None, f"{namespace}/{name} is gone"
    return cr


def cond(cr: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in (cr.get("status") or {}).get("conditions") or [] if c["type"] == type_), {})


def wait_ready(
    kube: Kube, name: str, namespace: str, revision: str | None = None, timeout: float = 90
) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        cr = get_cr(kube, name, namespace)
        st = cr.get("status") or {}
        ok = (
            cond(cr, "Ready").get("status") == "True"
            and st.get("observedGeneration") == cr["metadata"]["generation"]
            and (revision is None or (st.get("liveRevision") or {}).get("id") == revision)
        )
        return cr if ok else None

    return wait_for(ready, timeout, f"{namespace}/{name} Ready (revision {revision})")


def events_for(kube: Kube, name: str, namespace: str) -> list[dict[str, Any]]:
    return [e for e in kube.list("v1", "Event", namespace) if e["involvedObject"].get("name") == name]


def keda_crd() -> dict[str, Any]:
    return yaml.safe_load((DATA / "keda-scaledobject-crd.yaml").read_text())
