"""The listener end to end on real parts: control plane -> listener -> apiserver -> operator ->
simulated kubelet -> status back to the control plane (deploy, new image, bad image, rollback,
delete, control plane outage, listener restart, namespace refusal)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from kubernetes import client

from lgp_local.procs import wait_for

from .conftest import platform, wait_gone

IMAGE = "registry.example/agent"


def _create(control_plane: Any, listener: dict[str, Any], namespace: str, **extra: Any) -> dict[str, Any]:
    body = {
        "name": f"agent-{uuid.uuid4().hex[:6]}",
        "type": "development",
        "image": f"{IMAGE}:1.0",
        "listener_id": listener["id"],
        "namespace": namespace,
        "ingress": {"host": "agent.example.com", "path": "/"},
        "secrets": {"OPENAI_API_KEY": "sk-listener-test-secret"},
    }
    body.update(extra)
    d: dict[str, Any] = control_plane.call("POST", "/deployments", json=body)
    return d


def test_a_deployment_reaches_deployed_and_its_endpoint_shows(
    control_plane, listener_factory, namespace, k8s
):
    listener, _ = listener_factory()
    d = _create(control_plane, listener, namespace)
    rev = control_plane.wait_revision(d["latest_revision_id"], {"DEPLOYED"})
    assert rev["status"] == "DEPLOYED"
    obj = platform(k8s, namespace, d["name"])
    assert obj is not None and obj["spec"]["image"] == f"{IMAGE}:1.0"
    assert obj["spec"]["revision"]["id"] == d["latest_revision_id"]
    # the secret value went to a Secret, never into the CR spec
    assert "sk-listener-test-secret" not in str(obj)
    secret = client.CoreV1Api(k8s).read_namespaced_secret(obj["spec"]["envFromSecret"], namespace)
    assert set(secret.data) == {"OPENAI_API_KEY"}

    def endpoint() -> str | None:
        got: dict[str, Any] = control_plane.call("GET", f"/deployments/{d['id']}")
        return got["endpoint"]

    assert wait_for(endpoint, timeout=30, what="the endpoint in the API") == "http://agent.example.com/"
    got = control_plane.call("GET", f"/deployments/{d['id']}")
    assert got["active_revision_id"] == d["latest_revision_id"]
    assert got["replicas"]["ready"] == 1


def test_a_new_image_deploys_and_replaces_the_old_revision(control_plane, listener_factory, namespace, k8s):
    listener, _ = listener_factory()
    d = _create(control_plane, listener, namespace)
    first = control_plane.wait_revision(d["latest_revision_id"], {"DEPLOYED"})
    second = control_plane.call("POST", f"/deployments/{d['id']}/revisions", json={"image": f"{IMAGE}:2.0"})
    control_plane.wait_revision(second["id"], {"DEPLOYED"})
    assert control_plane.revision(first["id"])["status"] == "REPLACED"
    obj = platform(k8s, namespace, d["name"])
    assert obj is not None and obj["status"]["liveRevision"]["id"] == second["id"]
    pods = client.CoreV1Api(k8s).list_namespaced_pod(namespace, label_selector="app.kubernetes.io/component")
    images = {c.image for p in pods.items if not p.metadata.deletion_timestamp for c in p.spec.containers}
    assert f"{IMAGE}:1.0" not in images


def test_a_bad_image_fails_with_a_readable_reason(control_plane, listener_factory, namespace, kubelet):
    kubelet.fail(f"{IMAGE}:missing", "ImagePullBackOff", namespace=namespace)
    listener, _ = listener_factory()
    d = _create(control_plane, listener, namespace)
    control_plane.wait_revision(d["latest_revision_id"], {"DEPLOYED"})
    bad = control_plane.call("POST", f"/deployments/{d['id']}/revisions", json={"image": f"{IMAGE}:missing"})
    rev = control_plane.wait_revision(bad["id"], {"DEPLOY_FAILED"})
    assert rev["status_reason"] == "ImagePullBackOff"
    assert f"{IMAGE}:missing" in (rev["status_message"] or "")
    # the old revision keeps serving
    assert (
        control_plane.call("GET", f"/deployments/{d['id']}")["active_revision_id"] == d["latest_revision_id"]
    )
    events = control_plane.call("GET", f"/deployments/{d['id']}/events")["data"]
    assert any("ImagePullBackOff" in str(e) for e in events)


def test_rollback_through_redeploy(control_plane, listener_factory, namespace, k8s):
    listener, _ = listener_factory()
    d = _create(control_plane, listener, namespace)
    first = control_plane.wait_revision(d["latest_revision_id"], {"DEPLOYED"})
    second = control_plane.call("POST", f"/deployments/{d['id']}/revisions", json={"image": f"{IMAGE}:2.0"})
    control_plane.wait_revision(second["id"], {"DEPLOYED"})
    back = control_plane.call("POST", f"/revisions/{first['id']}/redeploy")
    control_plane.wait_revision(back["id"], {"DEPLOYED"})
    obj = platform(k8s, namespace, d["name"])
    assert obj is not None and obj["spec"]["image"] == f"{IMAGE}:1.0"
    assert obj["status"]["liveRevision"]["id"] == back["id"]


def test_deleting_the_deployment_removes_the_resource_and_retains_the_database(
    control_plane, listener_factory, namespace, k8s
):
    listener, _ = listener_factory()
    d = _create(control_plane, listener, namespace)
    control_plane.wait_revision(d["latest_revision_id"], {"DEPLOYED"})
    apps, core = client.AppsV1Api(k8s), client.CoreV1Api(k8s)
    assert apps.list_namespaced_deployment(namespace).items
    control_plane.call("DELETE", f"/deployments/{d['id']}")
    wait_gone(lambda: platform(k8s, namespace, d["name"]), "the LangGraphPlatform to be deleted")
    wait_for(
        lambda: not apps.list_namespaced_deployment(namespace).items,
        timeout=60,
        what="the api-server Deployment to be garbage-collected",
    )
    # managed Postgres is retained by default: its PVC stays
    pvcs = core.list_namespaced_persistent_volume_claim(namespace).items
    assert pvcs, "the database volume was deleted, but the default policy retains it"

    def forgotten() -> bool:
        r = control_plane.http.get(f"/deployments/{d['id']}")
        return r.status_code == 404

    wait_for(
        forgotten, timeout=30, what="the control plane to forget the deployment after the acknowledgement"
    )


def test_control_plane_outage_deletes_nothing_and_sync_resumes(
    control_plane, listener_factory, namespace, k8s
):
    listener, proc = listener_factory()
    d = _create(control_plane, listener, namespace)
    control_plane.wait_revision(d["latest_revision_id"], {"DEPLOYED"})
    before = platform(k8s, namespace, d["name"])
    assert before is not None
    control_plane.stop()
    t0 = time.monotonic()
    try:
        # 60 s without a control plane: the listener keeps retrying and changes nothing
        while time.monotonic() - t0 < 60:
            assert proc.alive(), proc.log()[-2000:]
            now = platform(k8s, namespace, d["name"])
            assert now is not None, "the LangGraphPlatform was deleted while the control plane was down"
            assert (
                now["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
                or now["spec"] == before["spec"]
            )
            time.sleep(1)
    finally:
        control_plane.start()
    assert "retrying" in proc.log()
    second = control_plane.call("POST", f"/deployments/{d['id']}/revisions", json={"image": f"{IMAGE}:2.0"})
    control_plane.wait_revision(second["id"], {"DEPLOYED"}, timeout=120)


def test_a_listener_killed_mid_rollout_converges_after_restart(
    control_plane, listener_factory, namespace, k8s
):
    listener, proc = listener_factory()
    d = _create(control_plane, listener, namespace)
    control_plane.wait_revision(d["latest_revision_id"], {"DEPLOYED"})
    second = control_plane.call("POST", f"/deployments/{d['id']}/revisions", json={"image": f"{IMAGE}:2.0"})
    wait_for(
        lambda: (platform(k8s, namespace, d["name"]) or {}).get("spec", {}).get("image") == f"{IMAGE}:2.0",
        timeout=60,
        what="the new spec to be applied",
    )
    proc.kill()
    rv = platform(k8s, namespace, d["name"])
    proc.start()
    control_plane.wait_revision(second["id"], {"DEPLOYED"})
    after = platform(k8s, namespace, d["name"])
    assert rv is not None and after is not None
    # the restarted listener re-applied nothing: the spec's generation did not move
    assert after["metadata"]["generation"] == rv["metadata"]["generation"]


def test_a_restarted_listener_makes_no_write(control_plane, listener_factory, namespace, k8s):
    listener, proc = listener_factory()
    d = _create(control_plane, listener, namespace)
    control_plane.wait_revision(d["latest_revision_id"], {"DEPLOYED"})
    obj = platform(k8s, namespace, d["name"])
    secret_name = obj["spec"]["envFromSecret"] if obj else ""
    rv_secret = client.CoreV1Api(k8s).read_namespaced_secret(secret_name, namespace).metadata.resource_version
    rv_obj = obj["metadata"]["resourceVersion"] if obj else ""
    proc.stop()
    proc.start()

    def synced() -> bool:
        port = next(
            (
                line.rsplit("port ", 1)[1].split()[0]
                for line in reversed(proc.log().splitlines())
                if "listener started" in line
            ),
            None,
        )
        if port is None:
            return False
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2, trust_env=False).json()
        return health["last_good_sync"] is not None

    wait_for(synced, timeout=30, what="the restarted listener to sync")
    assert (
        client.CoreV1Api(k8s).read_namespaced_secret(secret_name, namespace).metadata.resource_version
        == rv_secret
    )
    now = platform(k8s, namespace, d["name"])
    assert now is not None
    assert now["metadata"]["generation"] == obj["metadata"]["generation"] if obj else False
    assert "applied LangGraphPlatform" not in proc.log().split("listener started")[-1]
    assert rv_obj


def test_a_namespace_outside_the_listener_list_is_refused_and_reported(
    control_plane, listener_factory, namespace, k8s
):
    other = f"elsewhere-{uuid.uuid4().hex[:6]}"
    # the control plane allows both namespaces; this listener process manages only the test namespace
    listener, _ = listener_factory(namespaces=[namespace], register=[namespace, other])
    d = _create(control_plane, listener, other)
    rev = control_plane.wait_revision(d["latest_revision_id"], {"DEPLOY_FAILED"})
    assert rev["status_reason"] == "NamespaceNotAllowed"
    assert other in (rev["status_message"] or "")
    core = client.CoreV1Api(k8s)
    assert other not in {n.metadata.name for n in core.list_namespace().items}


def test_a_resource_deleted_by_hand_is_applied_again(control_plane, listener_factory, namespace, k8s):
    listener, proc = listener_factory()
    d = _create(control_plane, listener, namespace)
    control_plane.wait_revision(d["latest_revision_id"], {"DEPLOYED"})
    client.CustomObjectsApi(k8s).delete_namespaced_custom_object(
        "lgp.dev", "v1alpha1", namespace, "langgraphplatforms", d["name"]
    )
    wait_gone(lambda: platform(k8s, namespace, d["name"]), "the hand deletion to complete")
    back = wait_for(
        lambda: platform(k8s, namespace, d["name"]),
        timeout=30,
        what="the listener to apply the LangGraphPlatform again",
    )
    assert back["spec"]["revision"]["id"] == d["latest_revision_id"]
    assert "is missing; it will be applied again" in proc.log()
