"""Usage reporter discovery on the real apiserver: LangGraphPlatform objects -> their databases (the
operator's managed-Postgres Secret, or spec.database.external.secretRef), then counting and submitting
windows keyed by each object's uid. Databases are real Postgres with LangGraph-shaped tables made by
the tests/api/usage fixtures."""

from __future__ import annotations

import base64
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from lgp_operator.usage.buffer import Buffer
from lgp_operator.usage.reporter import Reporter, ReporterConfig
from lgp_operator.usage.sinks import HttpSink
from lgp_operator.usage.targets import KubernetesTargets, TargetError

from lgp_local.crd import install_crd
from tests.api.usage.conftest import FlakySink, floor_hour, seed_usage

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def crd(k8s: client.ApiClient) -> None:
    """The LangGraphPlatform CRD from crds/ (generated from the operator's models)."""
    install_crd(k8s)


@pytest.fixture
def sink() -> Iterator[FlakySink]:
    with FlakySink(0.0) as s:
        yield s


def _secret(core: client.CoreV1Api, ns: str, name: str, data: dict[str, str]) -> None:
    core.create_namespaced_secret(
        ns,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name=name),
            data={k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        ),
    )


def _platform(
    custom: client.CustomObjectsApi,
    ns: str,
    name: str,
    spec: dict[str, Any],
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    body = {
        "apiVersion": "lgp.dev/v1alpha1",
        "kind": "LangGraphPlatform",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"image": "example.com/agent:1", **spec},
    }
    return dict(custom.create_namespaced_custom_object("lgp.dev", "v1alpha1", ns, "langgraphplatforms", body))


def test_discovers_managed_and_external_databases_and_reports_by_uid(
    crd: None,
    k8s: client.ApiClient,
    namespace: str,
    make_langgraph_db: Callable[[], str],
    sink: FlakySink,
    tmp_path: Path,
    kubeconfig: Path,
) -> None:
    core, custom = client.CoreV1Api(k8s), client.CustomObjectsApi(k8s)
    now = datetime.now(UTC)
    start = floor_hour(now) - timedelta(hours=3)
    managed_db, external_db = make_langgraph_db(), make_langgraph_db()
    truth_managed = seed_usage(managed_db, random.Random(1), start, floor_hour(now))
    truth_external = seed_usage(external_db, random.Random(2), start, floor_hour(now))

    # managed: the operator's Secret "<name>-postgres" with key "uri" (as builders/postgres.py writes it)
    _secret(core, namespace, "agent-postgres", {"uri": managed_db.replace("+psycopg", ""), "password": "x"})
    agent = _platform(
        custom,
        namespace,
        "agent",
        {"revision": {"id": "rev-1", "number": 1}},
        labels={"lgp.dev/tenant": "acme"},
    )
    # external: spec.database.external.secretRef
    _secret(core, namespace, "byo-db", {"connection": external_db})
    byo = _platform(
        custom,
        namespace,
        "byo",
        {"database": {"external": {"secretRef": {"name": "byo-db", "key": "connection"}}}},
    )
    # managed, but the operator has not written the Secret yet: skipped for now, said why
    _platform(custom, namespace, "pending", {})

    errors: list[TargetError] = []
    source = KubernetesTargets(k8s, [namespace], on_error=errors.append, count_from_database=True)
    targets = {t.name: t for t in source.targets()}
    assert set(targets) == {"agent", "byo"}
    assert targets["agent"].deployment_id == agent["metadata"]["uid"]
    assert targets["agent"].database_uri == managed_db.replace("+psycopg", "")
    assert targets["agent"].tags == {
        "lgp.dev/tenant": "acme",
        "lgp.dev/revision": "rev-1",
        "langgraph.platform.tenant": "acme",
    }
    assert targets["byo"].deployment_id == byo["metadata"]["uid"]
    assert targets["byo"].database_uri == external_db
    assert [str(e) for e in errors] == [
        f"{namespace}/pending: the managed database Secret 'pending-postgres' does not exist (yet)"
    ]
    assert not any("://" in str(e) for e in errors)  # never a URI (a password) in a message

    # the reporter, in process, over discovery
    reporter = Reporter(
        source,
        Buffer(tmp_path / "b.sqlite3"),
        HttpSink(sink.url, "lic"),
        config=ReporterConfig(settle=timedelta(0), count_from_database=True),
    )
    reporter.tick()
    got = sink.windows()
    for cr, truth in ((agent, truth_managed), (byo, truth_external)):
        uid = cr["metadata"]["uid"]
        windows = {
            s: (p["measures"]["langgraph.platform.runs"], p["measures"]["langgraph.platform.nodes"])
            for (d, s), p in got.items()
            if d == uid
        }
        assert windows == truth.closed(floor_hour(datetime.now(UTC)))
        assert all(
            p["tags"]["langgraph.platform.namespace"] == namespace for (d, _), p in got.items() if d == uid
        )

    # and as a process: `lgp usage run --once` with a kubeconfig, discovering the same objects
    with FlakySink(0.0) as second:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LGP_USAGE_")}
        env.update(
            LGP_USAGE_KUBECONFIG=str(kubeconfig),
            LGP_USAGE_NAMESPACES=namespace,
            LGP_USAGE_BEACON_URL=second.url,
            LGP_USAGE_BUFFER_PATH=str(tmp_path / "c.sqlite3"),
            LGP_USAGE_SETTLE_SECONDS="0",
            LGP_USAGE_METRICS_PORT="0",
            LGP_USAGE_COUNT_FROM_DATABASE="true",
        )
        proc = subprocess.run(
            [sys.executable, "-m", "lgp_operator.usage.cli", "run", "--once"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
        assert proc.returncode == 0, proc.stderr
        assert "pending-postgres" in proc.stderr  # the skipped resource is logged with its reason
        assert {d for d, _ in second.windows()} == {agent["metadata"]["uid"], byo["metadata"]["uid"]}
        assert len(second.windows()) == len(got)


def test_discovers_each_deployments_usage_credential_from_its_secret(
    crd: None, k8s: client.ApiClient, namespace: str
) -> None:
    """Without database counting, discovery needs no database Secret: each deployment's servers are
    known by the credential in its `<name>-usage` Secret (the one the operator makes)."""
    core, custom = client.CoreV1Api(k8s), client.CustomObjectsApi(k8s)
    _secret(core, namespace, "agent-usage", {"api-key": "k-agent"})
    agent = _platform(custom, namespace, "agent", {})
    _platform(custom, namespace, "fresh", {})  # its Secret is not made yet: known, with no credential
    targets = {t.name: t for t in KubernetesTargets(k8s, [namespace]).targets()}
    assert set(targets) == {"agent", "fresh"}
    assert targets["agent"].deployment_id == agent["metadata"]["uid"]
    assert targets["agent"].report_key == "k-agent"
    assert targets["fresh"].report_key is None
    assert targets["agent"].database_uri == ""  # no database read
    assert "k-agent" not in repr(targets["agent"])
