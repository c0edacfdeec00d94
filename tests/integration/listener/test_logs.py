"""Logs end to end on real parts: the control plane asks, the listener (a process) reads pods/log through
the real apiserver from the SIMULATED kubelet's log endpoint (a fake log source: lines the simulator
wrote, no process runs), redacts the deployment's secret values and answers; filters, revisions, a
container that cannot start, a crash's last words redacted on their way into conditions and statuses,
and a slow log that never holds up the desired-state sync."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from lgp_contract.logs import parse_time
from lgp_local.procs import wait_for

from .conftest import platform

IMAGE = "registry.example/agent"


def _create(
    control_plane: Any, listener: dict[str, Any], namespace: str, secret: str, **extra: Any
) -> dict[str, Any]:
    body = {
        "name": f"logs-{uuid.uuid4().hex[:6]}",
        "type": "development",
        "image": f"{IMAGE}:1.0",
        "listener_id": listener["id"],
        "namespace": namespace,
        "secrets": {"OPENAI_API_KEY": secret},
        **extra,
    }
    d: dict[str, Any] = control_plane.call("POST", "/deployments", json=body)
    return d


def _logs(control_plane: Any, deployment_id: str, **params: Any) -> dict[str, Any]:
    r = control_plane.http.get(f"/deployments/{deployment_id}/logs", params=params, timeout=60)
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


def test_container_logs_come_through_the_listener_redacted(
    control_plane, listener_factory, namespace, kubelet
):
    listener, proc = listener_factory()
    secret = f"sk-logs-{uuid.uuid4().hex}"
    d = _create(control_plane, listener, namespace, secret)
    first = control_plane.wait_revision(d["latest_revision_id"], {"DEPLOYED"})
    page = _logs(control_plane, d["id"])
    assert page["containers"] == "complete", page["notice"]
    containers = [e for e in page["data"] if e["source"] == "container"]
    assert any("SIMULATED container api-server started" in e["message"] for e in containers)
    assert "environment OPENAI_API_KEY=[redacted]" in [
        e["message"].split(":", 1)[1].strip() for e in containers
    ]
    assert secret not in str(page)
    assert {e["container"] for e in containers} == {"api-server"} and all(e["pod"] for e in containers)
    assert any(e["source"] == "event" for e in page["data"])  # merged with the deployment's events
    stamps = [parse_time(e["timestamp"]) for e in page["data"]]
    assert stamps == sorted(stamps, reverse=True)  # newest first

    # filters are applied in the cluster: a line a test writes, found by text and level
    pod = containers[0]["pod"]
    kubelet.logs.write(namespace, pod, "api-server", "ERROR:    upstream model call failed")
    page = _logs(control_plane, d["id"], level="ERROR", q="upstream")
    assert [e["message"] for e in page["data"]] == ["ERROR:    upstream model call failed"]

    # per revision: a new image's pods are the new revision's
    second = control_plane.call("POST", f"/deployments/{d['id']}/revisions", json={"image": f"{IMAGE}:2.0"})
    control_plane.wait_revision(second["id"], {"DEPLOYED"})

    def only_new_pods() -> dict[str, Any] | None:
        got = _logs(control_plane, d["id"], revision_id=second["id"])
        mine = [e for e in got["data"] if e["source"] == "container"]
        return got if mine and {e["revision_id"] for e in mine} == {second["id"]} else None

    page = wait_for(only_new_pods, timeout=60, what="the new revision's pods to have logs")
    assert all(e["revision_id"] in (second["id"], None) for e in page["data"])
    old = _logs(control_plane, d["id"], revision_id=first["id"])
    assert all(e["source"] == "event" for e in old["data"])  # its pods are gone: its events remain
    assert secret not in proc.log()


def test_a_container_that_cannot_start_and_a_crash_are_explained_redacted(
    control_plane, listener_factory, namespace, kubelet
):
    kubelet.fail(f"{IMAGE}:missing", "ImagePullBackOff", namespace=namespace)
    kubelet.fail(f"{IMAGE}:crash", "CrashLoopBackOff", namespace=namespace)
    listener, proc = listener_factory()
    secret = f"sk-crash-{uuid.uuid4().hex}"
    d = _create(control_plane, listener, namespace, secret, image=f"{IMAGE}:missing")
    control_plane.wait_revision(d["latest_revision_id"], {"DEPLOY_FAILED"})
    page = _logs(control_plane, d["id"])
    assert any("is waiting to start: trying and failing to pull image" in e["message"] for e in page["data"])

    crash = _create(control_plane, listener, namespace, secret, image=f"{IMAGE}:crash")
    rev = control_plane.wait_revision(crash["latest_revision_id"], {"DEPLOY_FAILED"})
    # the crash's last words (FallbackToLogsOnError) reach the status, the conditions and the events,
    # with the secret value redacted by the listener on the way
    assert rev["status_reason"] == "CrashLoopBackOff" and "[redacted]" in (rev["status_message"] or "")
    got = control_plane.call("GET", f"/deployments/{crash['id']}")
    events = control_plane.call("GET", f"/deployments/{crash['id']}/events", params={"limit": 500})
    page = _logs(control_plane, crash["id"], q="SIMULATED crash")
    assert page["data"] and all(
        "[redacted]" in e["message"] for e in page["data"] if "environment" in e["message"]
    )
    assert any(e["previous"] for e in page["data"] if e["source"] == "container")
    for text in (str(rev), str(got), str(events), str(page), proc.log()):
        assert secret not in text


def test_a_slow_log_never_holds_up_the_sync(control_plane, listener_factory, namespace, kubelet, k8s):
    listener, _ = listener_factory()
    d = _create(control_plane, listener, namespace, f"sk-{uuid.uuid4().hex}")
    control_plane.wait_revision(d["latest_revision_id"], {"DEPLOYED"})
    kubelet.logs.delay_seconds = 6.0  # every pods/log call takes 6 s
    try:
        answered: dict[str, Any] = {}
        reader = threading.Thread(target=lambda: answered.update(_logs(control_plane, d["id"])))
        reader.start()
        wait_for(lambda: kubelet.logs.reading, timeout=20, what="the listener to be reading the slow log")
        second = control_plane.call(
            "POST", f"/deployments/{d['id']}/revisions", json={"image": f"{IMAGE}:2.0"}
        )
        wait_for(
            lambda: (
                (platform(k8s, namespace, d["name"]) or {}).get("spec", {}).get("image") == f"{IMAGE}:2.0"
            ),
            timeout=30,
            what="the new revision to be applied",
        )
        # applied while the listener still reads the slow log: the sync did not wait for it
        assert kubelet.logs.reading and reader.is_alive(), "the log read ended first: nothing was shown"
        reader.join(60)
        assert answered["data"]  # the events at least, and the lines when the listener made it in time
        control_plane.wait_revision(second["id"], {"DEPLOYED"})
    finally:
        kubelet.logs.delay_seconds = 0.0
