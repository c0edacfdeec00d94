"""Shared fixtures: the real test cluster, a fresh namespace per test, the simulated kubelet, and
real Postgres and Redis servers. Each tier's marker is set from its folder."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TIERS = ("unit", "api", "integration", "e2e")
# Why the real node could not start on this machine (set by the real_node fixture), for the summary.
REALNODE_NOT_RUN = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        rel = Path(str(item.fspath)).resolve().relative_to(root)
        tier = rel.parts[0] if rel.parts else ""
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
        if "realnode" in rel.parts:
            item.add_marker(pytest.mark.realnode)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    reason = config.stash.get(REALNODE_NOT_RUN, None)
    if reason:
        terminalreporter.write_sep("=", "REAL NODE NOT AVAILABLE", red=True, bold=True)
        terminalreporter.write_line(
            f"The realnode tests (real pods, the real LangGraph server) did NOT run: {reason}. "
            "They are reported as skipped, not passed; the simulated kubelet covered the other tiers."
        )


# ---------------------------------------------------------------------------- Kubernetes
class ExternalCluster:
    """A cluster named by LGP_TEST_KUBECONFIG (kind, a real cluster): used as is, never stopped."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.simulated = False

    def stop(self) -> None:
        pass


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One real kube-apiserver (+ etcd + controller-manager) for the whole test run."""
    external = os.environ.get("LGP_TEST_KUBECONFIG")
    if external:
        yield ExternalCluster(Path(external))
        return
    from lgp_local import Cluster, binaries_ready

    if not binaries_ready():
        pytest.fail(
            "the test cluster's binaries are not built: run `make cluster` (or `make test`, which does)"
        )
    c = Cluster.start(controller_manager=True)
    c.simulated = True  # type: ignore[attr-defined]
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="session")
def kubeconfig(cluster: object) -> Path:
    return Path(cluster.kubeconfig)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def k8s(kubeconfig: Path) -> Iterator[object]:
    """A kubernetes.client.ApiClient with admin rights on the test cluster."""
    from kubernetes import config

    api = config.new_client_from_config(str(kubeconfig))
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def namespace(k8s: object) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(k8s)
    name = f"t-{uuid.uuid4().hex[:10]}"
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={"lgp.dev/test": "true"}))
    )
    try:
        yield name
    finally:
        try:
            core.delete_namespace(name)
        except ApiException as e:
            if e.status != 404:
                raise


@pytest.fixture(scope="session")
def _session_kubelet(cluster: object, k8s: object) -> Iterator[object]:
    if not getattr(cluster, "simulated", False):
        yield None
        return
    from lgp_local import SimulatedKubelet

    kubelet = SimulatedKubelet(k8s).start()
    try:
        yield kubelet
    finally:
        kubelet.stop()


@pytest.fixture
def kubelet(_session_kubelet: object, namespace: str) -> Iterator[object]:
    """The SIMULATED kubelet, acting on this test's namespace only (no container runtime here).

    ``kubelet.fail(image_pattern, "ImagePullBackOff", namespace=...)`` makes matching pods fail.
    On an external cluster (LGP_TEST_KUBECONFIG) this is None: real kubelets run the pods.
    """
    if _session_kubelet is None:
        yield None
        return
    _session_kubelet.enroll(namespace)  # type: ignore[attr-defined]
    try:
        yield _session_kubelet
    finally:
        _session_kubelet.unenroll(namespace)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- Postgres / Redis
@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """A real PostgreSQL server (Debian's postgresql) on 127.0.0.1 with a throwaway data directory."""
    if not shutil.which("pg_ctl") and not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        pytest.fail("PostgreSQL is not installed: run `make deps` (or `make test`, which does)")
    from lgp_local import PostgresServer

    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: object) -> Iterator[str]:
    """A fresh, empty database for one test: a SQLAlchemy URL with the psycopg 3 driver."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)  # type: ignore[attr-defined]
    try:
        yield url
    finally:
        postgres_server.drop_database(name)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[object]:
    """A real Redis server (Debian's redis-server) on 127.0.0.1, persistence off."""
    from lgp_local import RedisServer

    server = RedisServer.start()
    try:
        yield server
    finally:
        server.stop()
