"""The data plane as the chart installs it, on a real apiserver: `helm install` (listener + operator),
then the listener and the operator run with the environment of their installed Deployments, the
listener's token read from the chart's Secret, each under a TokenRequest token of its own
ServiceAccount; a deployment created through the control plane's API (a local process: no pods run
here) reaches DEPLOYED, and deleting it removes its LangGraphPlatform, all within those identities."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from kubernetes import client
from kubernetes.client.rest import ApiException

from lgp_local.procs import free_port, wait_for

from .conftest import CHART_DIR, ROOT
from .test_rbac import GROUP, PLURAL, VERSION

LGP = [sys.executable, "-m", "lgp_cli.main"]


class Proc:
    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name, self.log_path = name, logs / f"{name}.log"
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [*LGP, *args], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def check(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def control_plane(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, httpx.Client, Proc]]:
    port = free_port()
    admin = "lgp-admin-" + secrets.token_urlsafe(24)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LGP_")},
        "LGP_DATABASE_URL": postgres_url,
        "LGP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "LGP_ADMIN_API_KEY": admin,
        "LGP_ENVIRONMENT": "development",
    }
    proc = Proc("control-plane", ["control-plane", "serve", "--port", str(port)], env, tmp_path)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        proc.check()
        return httpx.get(url + "/readyz", timeout=2, trust_env=False).status_code == 200

    try:
        wait_for(ready, timeout=60, what="the control plane's /readyz")
        with httpx.Client(
            base_url=url + "/v1", headers={"X-Api-Key": admin}, timeout=30, trust_env=False
        ) as api:
            yield url, api, proc
    finally:
        proc.stop()


def chart_env(k8s: Any, namespace: str, deployment: str) -> tuple[list[str], dict[str, str], str]:
    """(args, environment, ServiceAccount) of an installed Deployment's container, secretKeyRefs
    resolved from the Secrets in the cluster, as the kubelet would."""
    pod = client.AppsV1Api(k8s).read_namespaced_deployment(deployment, namespace).spec.template.spec
    container = pod.containers[0]
    env: dict[str, str] = {}
    for e in container.env:
        if e.value is not None:
            env[e.name] = e.value
        else:
            ref = e.value_from.secret_key_ref
            secret = client.CoreV1Api(k8s).read_namespaced_secret(ref.name, namespace)
            env[e.name] = base64.b64decode(secret.data[ref.key]).decode()
    return container.args, env, pod.service_account_name


def test_listener_and_operator_deploy_under_the_charts_identities(
    k8s: Any,
    helm_at: Any,
    sa_client: Any,
    extra_namespaces: Any,
    namespace: str,
    kubelet: Any,
    control_plane: tuple[str, httpx.Client, Proc],
    tmp_path: Path,
    release: str,
) -> None:
    url, api, cp = control_plane
    system = extra_namespaces("lgp-sys")
    r = api.post("/listeners", json={"name": f"chart-{uuid.uuid4().hex[:6]}", "namespaces": [namespace]})
    assert r.status_code == 201, r.text
    listener = r.json()

    helm = helm_at(system)
    helm.install(
        CHART_DIR,
        release,
        {
            "controlPlane": {"enabled": False},
            "dataPlane": {"namespaces": [namespace]},
            "listener": {
                "enabled": True,
                "controlPlaneUrl": url,
                "id": listener["id"],
                "token": listener["token"],
            },
            "operator": {"resyncSeconds": 3},
        },
        namespace=system,
        timeout=120,
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("LGP_")}
    procs: list[Proc] = []
    custom = client.CustomObjectsApi(k8s)
    try:
        for component in ("operator", "listener"):
            args, env, account = chart_env(k8s, system, f"{release}-{component}")
            _, kubeconfig = sa_client(system, account)
            prefix = "LGP_OPERATOR_" if component == "operator" else "LGP_LISTENER_"
            env = {**base, **env, f"{prefix}KUBECONFIG": str(kubeconfig), "PYTHONUNBUFFERED": "1"}
            if component == "listener":
                # A pod has a network of its own; on this shared machine the port is whatever is free.
                env.update(LGP_LISTENER_HTTP_PORT="0", LGP_LISTENER_HTTP_HOST="127.0.0.1")
            procs.append(Proc(component, args, env, tmp_path))

        r = api.post(
            "/deployments",
            json={
                "name": "agent",
                "type": "development",
                "image": "registry.local/agent:v1",
                "listener_id": listener["id"],
                "namespace": namespace,
            },
        )
        assert r.status_code == 201, r.text
        deployment = r.json()

        def deployed() -> bool:
            for p in procs:
                p.check()
            rev = api.get(f"/revisions/{deployment['latest_revision_id']}").json()
            assert rev["status"] not in ("DEPLOY_FAILED", "INTERRUPTED"), rev
            return bool(rev["status"] == "DEPLOYED")

        try:
            wait_for(deployed, timeout=240, what="the revision to be DEPLOYED", interval=0.5)
        except TimeoutError as e:
            logs = "\n".join(f"---- {p.name}\n{p.log()[-3000:]}" for p in [*procs, cp])
            raise AssertionError(f"{e}\n{logs}") from None

        cr = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "agent")
        managers = {m["manager"] for m in cr["metadata"]["managedFields"]}
        assert "lgp-listener" in managers and "lgp-operator" in managers, managers

        # Deleting the deployment removes its object (the listener deletes, the operator finalizes).
        assert api.delete(f"/deployments/{deployment['id']}").status_code == 202

        def gone() -> bool:
            for p in procs:
                p.check()
            try:
                custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "agent")
            except ApiException as e:
                return e.status == 404
            return False

        wait_for(gone, timeout=120, what="the LangGraphPlatform to be deleted", interval=0.5)
        wait_for(
            lambda: api.get(f"/deployments/{deployment['id']}").status_code == 404,
            timeout=60,
            what="the deployment to be gone from the control plane",
            interval=0.5,
        )
    finally:
        for p in procs:
            p.stop()
        helm.uninstall(release, timeout=120, ignore_not_found=True)
