"""End to end on kind: our images built and loaded, `helm install` of the chart, a listener registered
and started, a deployment of a LangGraph server created through the control plane's API, its revision
DEPLOYED, and GET /ok answered through ingress-nginx."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import ROOT, Kind

RELEASE, NAMESPACE, AGENTS = "lgp", "lgp-system", "lgp-agents"
CONTROL_PLANE_HOST = "lgp.e2e.lgp.test"  # helm/lgp/ci/kind-values.yaml
AGENT_HOST = "agent.e2e.lgp.test"
INGRESS = "http://127.0.0.1"  # kind-config.yaml maps the node's port 80 (ingress-nginx) here
DEPLOY_TIMEOUT = float(os.environ.get("LGP_E2E_DEPLOY_TIMEOUT", "1200"))
LICENSE_ENV = ("LANGSMITH_API_KEY", "LANGGRAPH_CLOUD_LICENSE_KEY")


def diagnostics(kind: Kind) -> str:
    """What a person needs when this test fails: every object, recent events, our components' logs."""
    out = []
    for args in (
        ("get", "all,ingress,pvc,langgraphplatforms", "-A", "-o", "wide"),
        ("get", "scaledobjects,hpa", "-A"),
        ("get", "events", "-A", "--sort-by=.lastTimestamp"),
        ("describe", "langgraphplatforms", "-n", AGENTS),
        ("describe", "pods", "-n", AGENTS),
    ):
        out.append(f"$ kubectl {' '.join(args)}\n" + kind.kubectl(*args, check=False))
    for component in ("control-plane", "operator", "listener"):
        out.append(
            f"$ logs {component}\n"
            + kind.kubectl(
                "-n", NAMESPACE, "logs", f"deploy/{RELEASE}-{component}", "--tail=200", check=False
            )
        )
    for pod in kind.kubectl("-n", AGENTS, "get", "pods", "-o", "name", check=False).split():
        out.append(
            f"$ logs {pod}\n"
            + kind.kubectl("-n", AGENTS, "logs", pod, "--all-containers", "--tail=100", check=False)
        )
    text = "\n\n".join(out)
    artifacts = Path(os.environ.get("LGP_E2E_ARTIFACTS", "/tmp/lgp-e2e/diagnostics"))
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "diagnostics.txt").write_text(text)
    return text[-20000:]


def wait_until(what: str, timeout: float, check: Any, interval: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except httpx.HTTPError as e:
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def server_image(kind: Kind, licensed: bool) -> str:
    """LGP_E2E_SERVER_IMAGE, or a LangGraph server serving tests/e2e/server/graph.py, built and loaded:
    the licensed LangGraph API server image (Postgres + Redis, as in production) when a license key is
    given, else the open in-memory server (`langgraph dev`), which refuses nothing for want of a license."""
    image = os.environ.get("LGP_E2E_SERVER_IMAGE")
    if image:
        print(f"e2e: LangGraph server image {image} (LGP_E2E_SERVER_IMAGE)")
        return image
    dockerfile = "Dockerfile" if licensed else "dev.Dockerfile"
    image = f"lgp-e2e-agent:{'licensed' if licensed else 'inmem'}"
    print(f"e2e: building the LangGraph server image {image} from tests/e2e/server/{dockerfile}")
    context = ROOT / "tests" / "e2e" / "server"
    kind.run("docker", "build", "-f", str(context / dockerfile), "-t", image, str(context), timeout=1200)
    cluster = os.environ.get("LGP_E2E_CLUSTER", "lgp-e2e")
    kind.run("kind", "load", "docker-image", "--name", cluster, image, timeout=600)
    return image


@pytest.fixture
def api(kind_cluster: Kind) -> Iterator[httpx.Client]:
    """The chart installed (without its listener yet) and a client of the control plane's API through
    the ingress, as the admin (the key generated into the chart's Secret)."""
    kind = kind_cluster
    try:
        kind.kubectl("create", "namespace", AGENTS, check=False)  # exists on a reused cluster
        kind.run(
            "helm", "upgrade", "--install", RELEASE, str(ROOT / "helm" / "lgp"),
            "--namespace", NAMESPACE, "--create-namespace",
            "-f", str(ROOT / "helm" / "lgp" / "ci" / "kind-values.yaml"),
            "--set", f"controlPlane.image.repository={kind.control_plane_image.split(':')[0]}",
            "--set", f"controlPlane.image.tag={kind.control_plane_image.split(':')[1]}",
            "--set", f"dataPlane.image.repository={kind.data_plane_image.split(':')[0]}",
            "--set", f"dataPlane.image.tag={kind.data_plane_image.split(':')[1]}",
            "--wait", "--timeout", "10m",
        )  # fmt: skip
        kind.run("helm", "test", RELEASE, "--namespace", NAMESPACE, "--timeout", "5m")  # templates/tests/
        secret = json.loads(
            kind.kubectl("-n", NAMESPACE, "get", "secret", f"{RELEASE}-control-plane", "-o", "json")
        )
        admin_key = base64.b64decode(secret["data"]["admin-api-key"]).decode()
        client = httpx.Client(
            base_url=INGRESS, headers={"Host": CONTROL_PLANE_HOST, "X-Api-Key": admin_key}, timeout=30
        )
        wait_until(
            "the control plane through the ingress", 300, lambda: client.get("/readyz").status_code == 200
        )
    except BaseException:
        print(diagnostics(kind))
        raise
    with client:
        yield client


def test_deployment_reaches_deployed_and_answers_through_the_ingress(
    kind_cluster: Kind, api: httpx.Client
) -> None:
    kind = kind_cluster
    try:
        # 1. Register this cluster's listener, hand its token to the chart in a Secret, start it.
        r = api.post("/v1/listeners", json={"name": f"kind-{int(time.time())}", "namespaces": [AGENTS]})
        assert r.status_code == 201, r.text
        listener = r.json()
        manifest = kind.run(
            "kubectl", "-n", NAMESPACE, "create", "secret", "generic", "lgp-listener-token",
            "--from-file=token=/dev/stdin", "--dry-run=client", "-o", "yaml", input=listener["token"],
        )  # fmt: skip
        kind.run("kubectl", "apply", "-f", "-", input=manifest)
        kind.run(
            "helm", "upgrade", RELEASE, str(ROOT / "helm" / "lgp"),
            "--namespace", NAMESPACE, "--reuse-values",
            "--set", "listener.enabled=true", "--set", f"listener.id={listener['id']}",
            "--set", "listener.existingSecret=lgp-listener-token", "--wait", "--timeout", "5m",
        )  # fmt: skip
        wait_until(
            "the listener to come online",
            120,
            lambda: api.get(f"/v1/listeners/{listener['id']}").json().get("online"),
        )

        # 2. A deployment of a LangGraph server, through the API.
        secrets = {name: os.environ[name] for name in LICENSE_ENV if os.environ.get(name)}
        r = api.post(
            "/v1/deployments",
            json={
                "name": "agent",
                "type": "development",
                "image": server_image(kind, licensed=bool(secrets)),
                "listener_id": listener["id"],
                "namespace": AGENTS,
                "ingress": {"host": AGENT_HOST, "path": "/"},
                "resources": {"server": {"cpu": "500m", "memory": "1Gi"}, "postgres": {"storage": "1Gi"}},
                "secrets": secrets,
            },
        )
        assert r.status_code == 201, r.text
        deployment = r.json()

        # 3. Its first revision goes through the listener and the operator to DEPLOYED.
        def revision_settled() -> dict[str, Any] | None:
            rev = api.get(f"/v1/revisions/{deployment['latest_revision_id']}").json()
            if rev["status"] in ("DEPLOY_FAILED", "INTERRUPTED", "SKIPPED"):
                events = api.get(f"/v1/deployments/{deployment['id']}/events").json()
                hint = "" if secrets else f" (no {' or '.join(LICENSE_ENV)}: the in-memory server ran)"
                reason = f"{rev.get('status_reason')}: {rev.get('status_message')}"
                shown = json.dumps(events, indent=1)[-4000:]
                raise AssertionError(f"revision {rev['status']}: {reason}{hint}\nevents: {shown}")
            return rev if rev["status"] == "DEPLOYED" else None

        wait_until("the revision to be DEPLOYED", DEPLOY_TIMEOUT, revision_settled, interval=5)
        shown = api.get(f"/v1/deployments/{deployment['id']}").json()
        assert shown["active_revision_id"] == deployment["latest_revision_id"]

        # 4. The server answers through ingress-nginx.
        with httpx.Client(base_url=INGRESS, headers={"Host": AGENT_HOST}, timeout=30) as agent:
            ok = wait_until(
                "GET /ok through the ingress", 180, lambda: (r := agent.get("/ok")).status_code == 200 and r
            )
            assert ok.json().get("ok") is True
    except BaseException:
        print(diagnostics(kind))
        raise
