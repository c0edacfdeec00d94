"""The test cluster itself: CRD schemas, server-side apply, RBAC, garbage collection, the simulated
kubelet, clusters side by side, and teardown that leaves nothing behind (also when the owner dies)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config, dynamic
from kubernetes.client.rest import ApiException

from lgp_local import Cluster, wait_deleted
from lgp_local.procs import wait_for

REPO = Path(__file__).resolve().parents[2]

WIDGET_CRD = yaml.safe_load(
    textwrap.dedent("""
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: widgets.harness.lgp.dev}
    spec:
      group: harness.lgp.dev
      scope: Namespaced
      names: {plural: widgets, singular: widget, kind: Widget}
      versions:
      - name: v1
        served: true
        storage: true
        subresources: {status: {}}
        schema:
          openAPIV3Schema:
            type: object
            properties:
              spec:
                type: object
                required: [size]
                properties:
                  size: {type: integer, minimum: 1, maximum: 10}
                  color: {type: string, enum: [red, green, blue]}
""")
)

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("LGP_TEST_KUBECONFIG")),
    reason="tests of the local harness; an external cluster is in use",
)


@pytest.fixture(scope="module")
def widget_crd(k8s: client.ApiClient) -> str:
    ext = client.ApiextensionsV1Api(k8s)
    try:
        ext.create_custom_resource_definition(WIDGET_CRD)
    except ApiException as e:
        if e.status != 409:
            raise

    def established() -> bool:
        crd = ext.read_custom_resource_definition("widgets.harness.lgp.dev")
        return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])

    wait_for(established, timeout=30, what="CRD established")
    return "widgets"


def _apply(
    k8s: client.ApiClient, namespace: str, body: dict[str, Any], manager: str, force: bool = False
) -> Any:
    configmaps = dynamic.DynamicClient(k8s).resources.get(api_version="v1", kind="ConfigMap")
    return configmaps.server_side_apply(
        body=body, namespace=namespace, field_manager=manager, force_conflicts=force
    )


def test_invalid_custom_object_is_rejected_by_the_structural_schema(k8s, namespace, widget_crd):
    co = client.CustomObjectsApi(k8s)
    obj = {
        "apiVersion": "harness.lgp.dev/v1",
        "kind": "Widget",
        "metadata": {"name": "bad"},
        "spec": {"size": 42, "color": "purple"},
    }
    with pytest.raises(ApiException) as exc:
        co.create_namespaced_custom_object("harness.lgp.dev", "v1", namespace, "widgets", obj)
    assert exc.value.status == 422
    body = json.loads(exc.value.body)
    assert "spec.size" in body["message"] and "spec.color" in body["message"]
    obj["spec"] = {"size": 3, "color": "red"}
    created = co.create_namespaced_custom_object("harness.lgp.dev", "v1", namespace, "widgets", obj)
    assert created["spec"] == {"size": 3, "color": "red"}


def test_server_side_apply_reports_a_conflict_between_two_field_managers(k8s, namespace):
    cm: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "shared"},
        "data": {"owner": "first"},
    }
    _apply(k8s, namespace, cm, "manager-a")
    cm["data"]["owner"] = "second"
    with pytest.raises(ApiException) as exc:
        _apply(k8s, namespace, cm, "manager-b")
    assert exc.value.status == 409
    assert "conflict" in exc.value.body.lower() and "manager-a" in exc.value.body
    _apply(k8s, namespace, cm, "manager-b", force=True)
    got = client.CoreV1Api(k8s).read_namespaced_config_map("shared", namespace)
    assert got.data == {"owner": "second"}


def test_rbac_denies_a_test_identity_outside_its_role(k8s, namespace, cluster):
    rbac = client.RbacAuthorizationV1Api(k8s)
    rbac.create_namespaced_role(
        namespace,
        {
            "metadata": {"name": "cm-reader"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
        },
    )
    rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": "alice-reads"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}],
        },
    )
    alice = client.CoreV1Api(config.new_client_from_config(str(cluster.kubeconfig_for("alice"))))
    wait_for(
        lambda: alice.list_namespaced_config_map(namespace) is not None, timeout=10, what="alice may list"
    )
    for call in (
        lambda: alice.list_namespaced_secret(namespace),
        lambda: alice.list_namespaced_config_map("default"),
        lambda: alice.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}}),
    ):
        with pytest.raises(ApiException) as exc:
            call()
        assert exc.value.status == 403
    # bob has no binding at all
    bob = client.CoreV1Api(config.new_client_from_config(str(cluster.kubeconfig_for("bob"))))
    with pytest.raises(ApiException) as exc:
        bob.list_namespaced_config_map(namespace)
    assert exc.value.status == 403


def test_an_owned_child_is_garbage_collected(k8s, namespace):
    core = client.CoreV1Api(k8s)
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "owner"}})
    core.create_namespaced_config_map(
        namespace,
        {
            "metadata": {
                "name": "child",
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
                ],
            }
        },
    )
    core.delete_namespaced_config_map("owner", namespace)

    def child_gone() -> bool:
        try:
            core.read_namespaced_config_map("child", namespace)
        except ApiException as e:
            return e.status == 404
        return False

    wait_for(child_gone, timeout=30, what="the garbage collector to delete the child")


def _deployment(name: str, image: str, replicas: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "server", "image": image}]},
            },
        },
    }


def test_a_deployment_becomes_ready_through_the_simulated_kubelet(k8s, namespace, kubelet):
    apps = client.AppsV1Api(k8s)
    apps.create_namespaced_deployment(namespace, _deployment("web", "registry.example/web:1", 3))
    wait_for(
        lambda: (apps.read_namespaced_deployment("web", namespace).status.ready_replicas or 0) == 3,
        timeout=60,
        what="3 ready replicas",
    )
    pods = client.CoreV1Api(k8s).list_namespaced_pod(namespace).items
    assert {p.spec.node_name for p in pods} == {kubelet.node_name}
    assert all(p.status.phase == "Running" for p in pods)
    # scale down: the simulated kubelet confirms the graceful deletions
    apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 1}})
    wait_for(
        lambda: len(client.CoreV1Api(k8s).list_namespaced_pod(namespace).items) == 1,
        timeout=60,
        what="terminated pods to be confirmed and removed",
    )


def test_a_failing_rollout_shows_image_pull_back_off(k8s, namespace, kubelet):
    kubelet.fail("registry.example/web:broken", "ImagePullBackOff", namespace=namespace)
    apps, core = client.AppsV1Api(k8s), client.CoreV1Api(k8s)
    apps.create_namespaced_deployment(namespace, _deployment("web", "registry.example/web:1", 2))
    wait_for(
        lambda: (apps.read_namespaced_deployment("web", namespace).status.ready_replicas or 0) == 2,
        timeout=60,
        what="2 ready replicas",
    )
    apps.patch_namespaced_deployment(
        "web",
        namespace,
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "server", "image": "registry.example/web:broken"}]}
                }
            }
        },
    )

    def stuck_pod() -> Any:
        for p in core.list_namespaced_pod(namespace).items:
            for cs in p.status.container_statuses or []:
                if cs.state and cs.state.waiting and cs.state.waiting.reason == "ImagePullBackOff":
                    return cs
        return None

    cs = wait_for(stuck_pod, timeout=60, what="a pod waiting with ImagePullBackOff")
    assert "registry.example/web:broken" in cs.state.waiting.message
    # the old replicas keep serving: no unavailable pods beyond maxUnavailable, new pod never ready
    dep = apps.read_namespaced_deployment("web", namespace)
    assert (dep.status.ready_replicas or 0) >= 1
    assert (dep.status.updated_replicas or 0) >= 1 and (dep.status.available_replicas or 0) < 3


def test_crash_loop_back_off_on_request(k8s, namespace, kubelet):
    kubelet.fail("registry.example/crash:*", "CrashLoopBackOff", namespace=namespace)
    core = client.CoreV1Api(k8s)
    client.AppsV1Api(k8s).create_namespaced_deployment(
        namespace, _deployment("c", "registry.example/crash:1", 1)
    )

    def crashing() -> Any:
        for p in core.list_namespaced_pod(namespace).items:
            for cs in p.status.container_statuses or []:
                if cs.state and cs.state.waiting and cs.state.waiting.reason == "CrashLoopBackOff":
                    return cs
        return None

    cs = wait_for(crashing, timeout=60, what="a pod in CrashLoopBackOff")
    assert cs.restart_count > 0 and cs.last_state.terminated.exit_code == 1


def test_pod_logs_come_from_the_simulated_kubelet_through_the_apiserver(k8s, namespace, kubelet):
    """pods/log is served by the apiserver from the simulated kubelet's log endpoint (lines the simulator
    wrote: no process runs), with the kubelet's query parameters; a container that never started has
    no log and says why."""
    core = client.CoreV1Api(k8s)
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="env"), string_data={"TOKEN": "tok-123456"}),
    )
    body = _deployment("web", "registry.example/web:1", 1)
    body["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [{"secretRef": {"name": "env"}}]
    client.AppsV1Api(k8s).create_namespaced_deployment(namespace, body)

    def running() -> Any:
        pods = [p for p in core.list_namespaced_pod(namespace).items if p.status.phase == "Running"]
        return pods[0] if pods else None

    pod = wait_for(running, timeout=60, what="a running pod").metadata.name
    text = core.read_namespaced_pod_log(pod, namespace, container="server", timestamps=True)
    lines = text.splitlines()
    assert "SIMULATED container server started" in lines[0] and lines[0][:4].isdigit()  # timestamped
    assert any(line.endswith("environment TOKEN=tok-123456") for line in lines)  # for redaction tests
    kubelet.logs.write(namespace, pod, "server", "a line a test wrote")
    assert (
        core.read_namespaced_pod_log(pod, namespace, container="server", tail_lines=1)
        == "a line a test wrote\n"
    )
    assert len(core.read_namespaced_pod_log(pod, namespace, container="server", limit_bytes=10)) == 10
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log(pod, namespace, container="server", previous=True)
    assert exc.value.status == 400 and "previous terminated container" in str(exc.value.body)

    kubelet.fail("registry.example/web:broken", "ImagePullBackOff", namespace=namespace)
    client.AppsV1Api(k8s).create_namespaced_deployment(
        namespace, _deployment("stuck", "registry.example/web:broken", 1)
    )

    def stuck() -> Any:
        pods = [
            p
            for p in core.list_namespaced_pod(namespace, label_selector="app=stuck").items
            if p.spec.node_name
        ]
        return pods[0] if pods and pods[0].status.container_statuses else None

    stuck_pod = wait_for(stuck, timeout=60, what="the stuck pod").metadata.name
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log(stuck_pod, namespace, container="server")
    assert exc.value.status == 400 and "is waiting to start: trying and failing to pull image" in str(
        exc.value.body
    )


def test_the_simulated_node_stays_ready(k8s, kubelet):
    node = client.CoreV1Api(k8s).read_node(kubelet.node_name)
    ready = next(c for c in node.status.conditions if c.type == "Ready")
    assert ready.status == "True"
    assert node.metadata.labels["lgp.dev/simulated"] == "true"


def test_two_clusters_start_side_by_side_and_stop_cleanly(cluster):
    second = Cluster.start(controller_manager=False)
    try:
        assert second.server != cluster.server
        assert set(second.ports.values()).isdisjoint(cluster.ports.values())
        assert second.get("/readyz") == (200, b"ok")
        assert cluster.get("/readyz") == (200, b"ok")
        # the two are separate: a namespace in one does not exist in the other
        a = client.CoreV1Api(config.new_client_from_config(str(second.kubeconfig)))
        a.create_namespace({"metadata": {"name": "only-in-second"}})
        assert cluster.get("/api/v1/namespaces/only-in-second")[0] == 404
        pids, dirs = second.pids(), second.directories()
    finally:
        second.stop()
    wait_deleted(dirs, pids, timeout=15)
    assert cluster.get("/readyz") == (200, b"ok")


def test_nothing_is_left_behind_when_the_owner_is_killed(tmp_path):
    script = textwrap.dedent("""
        import json, sys, time
        from lgp_local import Cluster, PostgresServer
        c = Cluster.start(controller_manager=False)
        pg = PostgresServer.start()
        print(json.dumps({"pids": c.pids() + pg.pids(),
                          "dirs": [str(d) for d in c.directories()] + [str(pg.group.workdir)]}), flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        state = json.loads(line)
        assert all(Path(d).exists() for d in state["dirs"])
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        t0 = time.monotonic()
        wait_deleted([Path(d) for d in state["dirs"]], state["pids"], timeout=30)
        assert time.monotonic() - t0 < 30
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_controller_manager_writes_nothing_outside_the_cluster_directory(cluster):
    """kube-controller-manager creates its flex-volume plugin directory at start; by default that is
    /usr/libexec/kubernetes/kubelet-plugins/volume/exec/ on the host. Ours must be inside the run dir."""
    log_file = cluster.workdir / "logs" / "kube-controller-manager.log"
    wait_for(lambda: (cluster.workdir / "kcm-flexvolume").is_dir(), timeout=60, what="the flex-volume dir")
    log = log_file.read_text(errors="replace")
    mentioned = re.findall(r"Flexvolume plugin directory at (\S+)", log)
    assert all(Path(p).resolve().is_relative_to(cluster.workdir.resolve()) for p in mentioned), mentioned
