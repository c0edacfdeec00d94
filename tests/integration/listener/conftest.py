"""The whole data path for listener tests, all real and all started here: Postgres, the control plane
(a process), the kube-apiserver with the CRD, the operator (a process), the listener (a process),
and the SIMULATED kubelet (no container runtime here)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from lgp_local.control_plane import LGP, ControlPlane, Process
from lgp_local.crd import install_crd
from lgp_local.procs import wait_for

REPO = Path(__file__).resolve().parents[3]


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
