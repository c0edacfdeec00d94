"""The official `langgraph deploy` (langgraph-cli 0.4.40) end to end on real parts: control plane (a
process), listener (a process), operator (a process), the real apiserver and the SIMULATED kubelet (its
container logs are the simulator's, a fake log source). Create with --image-uri (a digest) and wait for
DEPLOYED, update with a new image, revisions, listeners, logs with filters (the .env secret redacted),
delete."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from lgp_local.procs import wait_for
from tests.langgraph_cli import DIGEST_A, DIGEST_B, LangGraphCli

from .conftest import platform

IMAGE_A = f"registry.example/agent@{DIGEST_A}"
IMAGE_B = f"registry.example/agent@{DIGEST_B}"


def test_langgraph_deploy_end_to_end(
    control_plane: Any, listener_factory: Any, namespace: str, k8s: Any, tmp_path: Path
) -> None:
    listener, proc = listener_factory()
    secret = f"sk-dotenv-{uuid.uuid4().hex}"
    lg = LangGraphCli(
        tmp_path / "agent",
        control_plane.url + "/api-host",
        control_plane.admin_key,
        dotenv={"OPENAI_API_KEY": secret},
    )
    name = f"lg-{uuid.uuid4().hex[:6]}"

    r = lg("deploy", "listeners", "list")
    assert r.code == 0 and listener["id"] in r.out and namespace in r.out, r.text

    r = lg.deploy(name, IMAGE_A, "--listener-id", listener["id"], "--k8s-namespace", namespace)
    assert r.code == 0 and "Deployment successful!" in r.out, r.text
    [row] = [
        d
        for d in control_plane.call("GET", "/deployments", params={"name": name})["data"]
        if d["name"] == name
    ]
    obj = platform(k8s, namespace, name)
    assert obj is not None and obj["spec"]["image"] == IMAGE_A
    assert row["secret_names"] == ["OPENAI_API_KEY"] and secret not in str(obj)

    r = lg.deploy(name, IMAGE_B)
    assert r.code == 0 and "Updating deployment" in r.out and "Deployment successful!" in r.out, r.text
    assert (platform(k8s, namespace, name) or {})["spec"]["image"] == IMAGE_B

    r = lg("deploy", "revisions", "list", row["id"])
    assert r.code == 0, r.text
    statuses = [line.split()[1] for line in r.out.splitlines()[2:] if line.strip()]
    assert statuses == ["DEPLOYED", "REPLACED"]

    r = lg("deploy", "list", "--name-contains", name)
    assert r.code == 0 and row["id"] in r.out and name in r.out

    # the simulated containers' lines, read by the listener; the environment line redacted
    r = lg("deploy", "logs", "--name", name, "--query", "environment OPENAI_API_KEY")
    assert r.code == 0, r.text
    assert "environment OPENAI_API_KEY=[redacted]" in r.out and secret not in r.out
    r = lg("deploy", "logs", "--name", name, "--level", "WARNING")
    assert r.code == 0 and "SIMULATED container" not in r.out  # INFO and DEBUG lines filtered out
    latest = control_plane.call("GET", f"/deployments/{row['id']}")["latest_revision_id"]
    r = lg("deploy", "logs", "--deployment-id", row["id"], "--revision-id", latest, "--limit", "200")
    assert r.code == 0 and "SIMULATED container api-server started" in r.out

    r = lg("deploy", "delete", row["id"], "--force")
    assert r.code == 0 and f"Deleted deployment {row['id']}." in r.out
    wait_for(lambda: platform(k8s, namespace, name) is None, timeout=60, what="the LangGraphPlatform to go")
    wait_for(
        lambda: control_plane.http.get(f"/deployments/{row['id']}").status_code == 404,
        timeout=60,
        what="the control plane to forget it",
    )
    r = lg("deploy", "list", "--name-contains", name)
    assert r.code == 0 and "No deployments found." in r.out
    for text in lg.printed:
        assert secret not in text
    assert secret not in proc.log()
