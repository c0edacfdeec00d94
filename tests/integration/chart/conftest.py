"""Fixtures for the chart's integration tests: the chart rendered or installed against the test
apiserver with the Helm SDK (helm-python-sdk; no helm binary)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CHART_DIR = ROOT / "helm" / "lgp"


@pytest.fixture(scope="session")
def chart() -> Iterator[Any]:
    import helm_python as helm

    with helm.Chart.load(CHART_DIR) as c:
        yield c


@pytest.fixture
def helm_config(kubeconfig: Path, namespace: str) -> Iterator[Any]:
    """A Helm configuration bound to the test cluster (admin) and this test's namespace."""
    import helm_python as helm

    with helm.Config(kubeconfig_path=kubeconfig, namespace=namespace) as cfg:
        yield cfg


def objects(manifests: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for path, text in manifests.items():
        if path.endswith("NOTES.txt"):
            continue
        out += [d for d in yaml.safe_load_all(text) if d]
    return out


@pytest.fixture
def extra_namespaces(k8s: Any) -> Iterator[Any]:
    """Make more namespaces for one test (the managed ones, the forbidden one); all deleted afterwards."""
    import uuid

    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(k8s)
    made: list[str] = []

    def make(prefix: str) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        core.create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={"lgp.dev/test": "true"}))
        )
        made.append(name)
        return name

    yield make
    for name in made:
        try:
            core.delete_namespace(name)
        except ApiException as e:
            if e.status != 404:
                raise


@pytest.fixture
def sa_client(cluster: Any, k8s: Any, tmp_path: Path) -> Iterator[Any]:
    """An API client authenticated as a ServiceAccount, with a token from the TokenRequest API (what
    a pod gets), through a kubeconfig written by the harness."""
    from kubernetes import client, config

    made: list[Any] = []

    def login(namespace: str, name: str) -> tuple[Any, Path]:
        request = client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)
        )
        token = (
            client.CoreV1Api(k8s)
            .create_namespaced_service_account_token(name, namespace, request)
            .status.token
        )
        path = cluster.write_kubeconfig(tmp_path / f"{namespace}-{name}.kubeconfig", name, token, namespace)
        api = config.new_client_from_config(str(path))
        made.append(api)
        return api, path

    yield login
    for api in made:
        api.close()


@pytest.fixture
def helm_at(kubeconfig: Path) -> Iterator[Any]:
    """Helm configurations bound to the test cluster and a namespace of the caller's choice."""
    import helm_python as helm

    made: list[Any] = []

    def at(namespace: str) -> Any:
        cfg = helm.Config(kubeconfig_path=kubeconfig, namespace=namespace)
        made.append(cfg)
        return cfg

    yield at
    for cfg in made:
        cfg.close()


@pytest.fixture
def release() -> str:
    """A release name of this test's own: the chart's cluster-scoped objects (the operator's ClusterRole)
    are named after it, so tests and test runs side by side never collide. It contains the chart name,
    so objects are called `<release>-<component>`."""
    import uuid

    return f"lgp-{uuid.uuid4().hex[:6]}"


@contextmanager
def installed(cfg: Any, name: str, values: dict[str, Any], namespace: str) -> Iterator[Any]:
    """`helm install`, and `helm uninstall` afterwards whatever happened (also if the test removed it)."""
    result = cfg.install(CHART_DIR, name, values, namespace=namespace, timeout=120)
    try:
        yield result
    finally:
        cfg.uninstall(name, timeout=120, ignore_not_found=True)
