"""The real local node itself: real readiness probes, Services through kube-proxy from the host and from
a pod, the DNS and volume stand-ins, a host left untouched, and a second node beside the first whose
owner dies without leaving anything behind."""

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

import httpx
from kubernetes import client

from lgp_local.node import STORAGE_CLASS
from lgp_local.node_images import BUSYBOX_IMAGE
from lgp_local.procs import pid_alive, wait_for
from lgp_local.standins import query

from .conftest import NodeStack, host_sysctls, pod_ready

REPO = Path(__file__).resolve().parents[3]


def _web(name: str, command: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [
                        {
                            "name": "web",
                            "image": BUSYBOX_IMAGE,
                            "imagePullPolicy": "Never",
                            "command": ["sh", "-c", command],
                            "readinessProbe": {"httpGet": {"path": "/", "port": 8000}, "periodSeconds": 1},
                        }
                    ],
                },
            },
        },
    }


SERVE = "hostname > /www/index.html; exec httpd -f -p 8000 -h /www"


def _pods(real_node: NodeStack, ns: str, app: str) -> list[Any]:
    pods: list[Any] = (
        client.CoreV1Api(real_node.api).list_namespaced_pod(ns, label_selector=f"app={app}").items
    )
    return pods


def _container_pid(real_node: NodeStack, pod: Any) -> int:
    """The host PID of the pod's container (its network namespace is the pod's)."""
    cid = pod.status.container_statuses[0].container_id.removeprefix("containerd://")
    out = subprocess.run(
        ["ctr", "--address", str(real_node.node.sock), "-n", "k8s.io", "tasks", "ls"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(int(line.split()[1]) for line in out.splitlines() if line.startswith(cid))


def test_a_pod_is_ready_only_after_its_readiness_probe_passes(real_node: NodeStack, node_ns: str) -> None:
    apps = client.AppsV1Api(real_node.api)
    t0 = time.monotonic()
    apps.create_namespaced_deployment(node_ns, _web("late", f"sleep 4; {SERVE}"))

    def running() -> Any:
        pods = _pods(real_node, node_ns, "late")
        return pods[0] if pods and pods[0].status.phase == "Running" else None

    pod = wait_for(running, timeout=60, what="the pod to run", interval=0.2)
    assert not pod_ready(pod)  # the container runs, but nothing listens yet
    ready = wait_for(
        lambda: next((p for p in _pods(real_node, node_ns, "late") if pod_ready(p)), None),
        timeout=60,
        what="the pod to become Ready",
        interval=0.2,
    )
    assert time.monotonic() - t0 >= 4
    events = client.CoreV1Api(real_node.api).list_namespaced_event(
        node_ns, field_selector=f"involvedObject.name={ready.metadata.name},reason=Unhealthy"
    )
    assert any("connection refused" in (e.message or "") for e in events.items), [
        e.message for e in events.items
    ]
    # the host reaches the pod IP through the node's veth
    r = httpx.get(f"http://{ready.status.pod_ip}:8000/", timeout=5, trust_env=False)
    assert r.text.strip() == ready.metadata.name
    logs = real_node.kubectl("-n", node_ns, "logs", ready.metadata.name)
    assert logs.returncode == 0, logs.stderr


def test_services_resolve_and_route_from_the_host_and_from_a_pod(real_node: NodeStack, node_ns: str) -> None:
    apps, core = client.AppsV1Api(real_node.api), client.CoreV1Api(real_node.api)
    apps.create_namespaced_deployment(node_ns, _web("web", SERVE, replicas=2))
    selector = {"app": "web"}
    core.create_namespaced_service(
        node_ns,
        {
            "metadata": {"name": "web"},
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 8000}]},
        },
    )
    core.create_namespaced_service(
        node_ns,
        {
            "metadata": {"name": "webh"},
            "spec": {"clusterIP": "None", "selector": selector, "ports": [{"port": 8000}]},
        },
    )
    pods = wait_for(
        lambda: (
            [p for p in _pods(real_node, node_ns, "web") if pod_ready(p)][1:]
            and _pods(real_node, node_ns, "web")
        ),
        timeout=90,
        what="2 ready pods",
        interval=0.2,
    )
    names = {p.metadata.name for p in pods}
    cluster_ip = core.read_namespaced_service("web", node_ns).spec.cluster_ip
    dns = real_node.node.net.gateway if real_node.node.net else ""
    # the DNS stand-in: both forms of a Service name, a headless Service's pods, NXDOMAIN otherwise
    assert query(f"web.{node_ns}.svc.cluster.local", dns) == [cluster_ip]
    assert query(f"web.{node_ns}.svc", dns) == [cluster_ip]
    pod_ips = sorted(p.status.pod_ip for p in pods)
    wait_for(
        lambda: sorted(query(f"webh.{node_ns}.svc.cluster.local", dns) or []) == pod_ips,
        timeout=30,
        what="the headless Service's endpoints in DNS",
    )
    assert query(f"nothing.{node_ns}.svc.cluster.local", dns) is None
    assert query("example.com", dns) is None  # nothing is forwarded off the machine

    # host -> ClusterIP (kube-proxy's rules in the node's network namespace), both pods answer
    def both_answer() -> bool:
        seen = {
            httpx.get(f"http://{cluster_ip}/", timeout=3, trust_env=False).text.strip() for _ in range(12)
        }
        return seen == names

    wait_for(both_answer, timeout=30, what="the ClusterIP to reach both pods")
    # inside a pod: resolv.conf points at the stand-in, the short name resolves, and pod -> ClusterIP
    # works (forwarding is on in the node's namespace only); the client runs in the pod's netns
    pod = pods[0]
    exec_in_pod = ("-n", node_ns, "exec", pod.metadata.name, "--")
    resolv = real_node.kubectl(*exec_in_pod, "cat", "/etc/resolv.conf").stdout
    assert f"nameserver {dns}" in resolv and f"search {node_ns}.svc.cluster.local" in resolv, resolv
    # (busybox's nslookup also asks every search domain and exits 1 on their NXDOMAIN: read its answer)
    look = real_node.kubectl(*exec_in_pod, "nslookup", "web").stdout
    assert f"Name:\tweb.{node_ns}.svc.cluster.local\nAddress: {cluster_ip}\n" in look, look
    pid = _container_pid(real_node, pod)
    seen = set()
    for _ in range(12):
        out = subprocess.run(
            ["nsenter", "-t", str(pid), "-n", "curl", "-sS", "-m", "3", f"http://{cluster_ip}/"],
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, out.stderr
        seen.add(out.stdout.strip())
    assert seen == names


def test_volumes_are_provisioned_and_reclaimed_per_policy(real_node: NodeStack, node_ns: str) -> None:
    core = client.CoreV1Api(real_node.api)

    def claim(name: str) -> Any:
        core.create_namespaced_persistent_volume_claim(
            node_ns,
            {
                "metadata": {"name": name},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            },
        )
        return wait_for(
            lambda: (
                (c := core.read_namespaced_persistent_volume_claim(name, node_ns)).status.phase == "Bound"
                and c
            ),
            timeout=30,
            what=f"claim {name} bound",
        )

    kept, dropped = claim("kept"), claim("dropped")
    assert kept.spec.storage_class_name == STORAGE_CLASS  # the stand-in is the default class
    pv_kept = core.read_persistent_volume(kept.spec.volume_name)
    pv_dropped = core.read_persistent_volume(dropped.spec.volume_name)
    path_kept, path_dropped = Path(pv_kept.spec.host_path.path), Path(pv_dropped.spec.host_path.path)
    assert path_kept.is_dir() and path_kept.parent == real_node.node.volumes_dir.resolve()
    # a pod writes into the volume
    core.create_namespaced_pod(
        node_ns,
        {
            "metadata": {"name": "writer"},
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "w",
                        "image": BUSYBOX_IMAGE,
                        "imagePullPolicy": "Never",
                        "command": ["sh", "-c", "echo data > /data/file"],
                        "volumeMounts": [{"name": "d", "mountPath": "/data"}],
                    }
                ],
                "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "kept"}}],
            },
        },
    )
    wait_for(
        lambda: core.read_namespaced_pod("writer", node_ns).status.phase == "Succeeded",
        timeout=60,
        what="the writer pod",
    )
    assert (path_kept / "file").read_text() == "data\n"
    core.patch_persistent_volume(pv_kept.metadata.name, {"spec": {"persistentVolumeReclaimPolicy": "Retain"}})
    core.delete_namespaced_pod("writer", node_ns, grace_period_seconds=0)
    for name in ("kept", "dropped"):
        core.delete_namespaced_persistent_volume_claim(name, node_ns)

    def dropped_gone() -> bool:
        try:
            core.read_persistent_volume(pv_dropped.metadata.name)
        except client.ApiException as e:
            return e.status == 404
        return False

    wait_for(dropped_gone, timeout=60, what="the Delete volume to be removed")
    assert not path_dropped.exists()
    released = wait_for(
        lambda: (v := core.read_persistent_volume(pv_kept.metadata.name)).status.phase == "Released" and v,
        timeout=60,
        what="the Retain volume to be released",
    )
    assert released.spec.persistent_volume_reclaim_policy == "Retain"
    assert (path_kept / "file").read_text() == "data\n"  # kept, with its data
    core.delete_persistent_volume(pv_kept.metadata.name)


def test_the_host_is_left_untouched_while_the_node_runs(real_node: NodeStack) -> None:
    assert host_sysctls() == real_node.sysctls_before
    host_rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    assert "KUBE-" not in host_rules and "CNI-" not in host_rules
    node_rules = real_node.node.exec_in_node(["iptables-save"]).stdout
    assert "KUBE-SERVICES" in node_rules  # kube-proxy's rules live in the node's namespace
    node_forward = real_node.node.exec_in_node(["cat", "/proc/sys/net/ipv4/ip_forward"]).stdout.strip()
    assert node_forward == "1"
    workdir = str(real_node.node.workdir)
    assert workdir not in Path("/proc/self/mountinfo").read_text()  # every mount is in the node's namespace
    assert not Path("/run/containerd").exists() or not any(Path("/run/containerd").rglob("*.sock"))


def test_a_second_node_runs_beside_the_first_and_its_owner_dying_leaves_nothing(real_node: NodeStack) -> None:
    script = textwrap.dedent("""
        import json, time
        from lgp_local.node import LocalNode
        cluster, node = LocalNode.start_with_cluster()
        print(json.dumps({"slot": node.net.slot, "link": node.net.host_if, "name": node.name,
                          "cgroups": [str(c) for c in node.cgroup_roots],
                          "pids": node.pids() + cluster.pids(),
                          "dirs": [str(node.workdir), str(cluster.workdir)]}), flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line, "the second node did not start"
        state = json.loads(line)
        first = real_node.node
        assert first.net is not None
        assert state["slot"] != first.net.slot and state["name"] != first.name
        assert set(state["cgroups"]).isdisjoint(str(c) for c in first.cgroup_roots)
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        assert state["link"] + "@" in links
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

        def gone() -> bool:
            now_links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
            return (
                not any(pid_alive(p) for p in state["pids"])
                and not any(Path(d).exists() for d in state["dirs"] + state["cgroups"])
                and not re.search(rf"\b{state['link']}@", now_links)
            )

        wait_for(gone, timeout=60, what="the watchdog to remove the second node")
    finally:
        if proc.poll() is None:
            proc.kill()
    # the first node did not notice
    node = client.CoreV1Api(real_node.api).read_node(real_node.node.name)
    assert any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
