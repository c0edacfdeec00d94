"""The whole data path for listener tests, all real and all started here: Postgres, the control plane
(a process), the kube-apiserver with the CRD, the operator (a process), the listener (a process),
and the SIMULATED kubelet (no container runtime here)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.cluster.control_plane import LGP, ControlPlaneProcess
from tests.cluster.crd import install_crd
from tests.cluster.procs import wait_for

REPO = Path(__file__).resolve().parents[3]


def _logfile(tmp: Path, name: str) -> Any:
    return open(tmp / f"{name}.log", "ab")


class ControlPlane(ControlPlaneProcess):
    """The control plane process, with the API calls the listener tests and the benchmark make."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        super().__init__(database_url, workdir, {"LGP_LONG_POLL_MAX_SECONDS": "30"})
        self.http = self.api(self.admin_key)

    # ---------------------------------------------------------------- API helpers
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


class Process:
    """A data-plane process (operator or listener) that can be killed and started again."""

    def __init__(self, name: str, argv: list[str], workdir: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.argv, self.workdir = name, argv, workdir
        self.env = env or dict(os.environ)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=REPO,
            stdout=_logfile(self.workdir, self.name),
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


@pytest.fixture(scope="module")
def crd(k8s: client.ApiClient) -> None:
    """The LangGraphPlatform CRD, from crds/ (generated from the models)."""
    install_crd(k8s)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="module")
def control_plane(postgres_server: Any, workdir: Path) -> Iterator[ControlPlane]:
    name = f"cp_{uuid.uuid4().hex[:10]}"
    url = postgres_server.create_database(name)
    cp = ControlPlane(url, workdir)
    cp.start()
    try:
        yield cp
    finally:
        cp.stop()
        cp.http.close()
        postgres_server.drop_database(name)


@pytest.fixture(scope="module")
def operator(cluster: Any, crd: None, workdir: Path) -> Iterator[Process]:
    """One operator for the module, watching every namespace (each test has its own)."""
    env = dict(os.environ, LGP_OPERATOR_RESYNC_SECONDS="5", LGP_OPERATOR_KEDA="auto")
    proc = Process(
        "operator",
        [*LGP, "operator", "run", "--kubeconfig", str(cluster.kubeconfig), "--no-leader-election"],
        workdir,
        env,
    ).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def listener_factory(
    cluster: Any, control_plane: ControlPlane, operator: Process, workdir: Path, namespace: str, kubelet: Any
) -> Iterator[Callable[..., tuple[dict[str, Any], Process]]]:
    """Register a listener for this test's namespace and run `lgp listener run` for it."""
    started: list[Process] = []

    def make(
        namespaces: list[str] | None = None, register: list[str] | None = None
    ) -> tuple[dict[str, Any], Process]:
        listener = control_plane.create_listener(register or [namespace])
        token_file = workdir / f"token-{listener['id']}"
        token_file.write_text(listener["token"])
        token_file.chmod(0o600)
        env = dict(
            os.environ,
            LGP_LISTENER_OBSERVE_INTERVAL_SECONDS="0.5",
            LGP_LISTENER_HEARTBEAT_SECONDS="2",
            LGP_LISTENER_FAILURE_GRACE_SECONDS="1",
            LGP_LISTENER_BACKOFF_MAX_SECONDS="4",
            LGP_LISTENER_POLL_WAIT_SECONDS="10",
        )
        argv = [
            *LGP,
            "listener",
            "run",
            "--control-plane-url",
            control_plane.url,
            "--listener-id",
            listener["id"],
            "--token-file",
            str(token_file),
            "--kubeconfig",
            str(cluster.kubeconfig),
            "--http-port",
            "0",
            "--http-host",
            "127.0.0.1",
        ]
        for ns in namespaces or [namespace]:
            argv += ["--namespace", ns]
        proc = Process(f"listener-{listener['id'][:8]}", argv, workdir, env).start()
        started.append(proc)
        return listener, proc

    try:
        yield make
    finally:
        for p in started:
            p.stop()


def platform(k8s: client.ApiClient, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        obj: dict[str, Any] = client.CustomObjectsApi(k8s).get_namespaced_custom_object(
            "lgp.dev", "v1alpha1", namespace, "langgraphplatforms", name
        )
        return obj
    except client.ApiException as e:
        if e.status == 404:
            return None
        raise


def wait_gone(check: Callable[[], object], what: str, timeout: float = 60) -> None:
    wait_for(lambda: check() is None, timeout=timeout, what=what, interval=0.2)


def elapsed(t0: float) -> float:
    return time.monotonic() - t0
