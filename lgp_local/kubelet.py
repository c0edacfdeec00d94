"""A SIMULATED kubelet (kwok-style) for a cluster with no container runtime.

No container ever runs here. This stand-in does what a kubelet would report: it registers a Node
and keeps its status fresh (so the node-lifecycle controller never taints it), binds pending pods
to that node (there is no scheduler), patches each pod's status to Running/Ready, or, when a rule
asks for it, to a waiting reason such as ImagePullBackOff or CrashLoopBackOff, and confirms
graceful deletions. With it a Deployment reaches its ready replicas, and a failing rollout looks
like one.

Only pods in enrolled namespaces are touched (``enroll``), so tests stay isolated; ``all_namespaces``
handles every pod (``make dev``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

log = logging.getLogger("simulated-kubelet")

WAITING_MESSAGES = {
    "ImagePullBackOff": 'Back-off pulling image "{image}"',
    "ErrImagePull": 'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": not found',
    "CrashLoopBackOff": "back-off 5m0s restarting failed container={name} pod={pod}",
    "CreateContainerConfigError": 'secret "{name}" not found',
}


@dataclass(frozen=True)
class Rule:
    """Pods whose container image matches ``image`` (fnmatch) in ``namespace`` (None: any) get ``reason``."""

    image: str
    reason: str
    namespace: str | None = None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SimulatedKubelet:
    def __init__(
        self,
        api_client: client.ApiClient,
        node_name: str = "lgp-simulated-node",
        *,
        all_namespaces: bool = False,
        heartbeat_seconds: float = 10.0,
    ) -> None:
        self.api = api_client
        self.core = client.CoreV1Api(api_client)
        self.node_name = node_name
        self.all_namespaces = all_namespaces
        self.heartbeat_seconds = heartbeat_seconds
        self.rules: list[Rule] = []
        self.namespaces: set[str] = set()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.handled = 0  # pod status patches made, for tests of the simulator itself

    # ---------------------------------------------------------------- configuration
    def enroll(self, namespace: str) -> None:
        with self._lock:
            self.namespaces.add(namespace)
        self.resync()

    def unenroll(self, namespace: str) -> None:
        with self._lock:
            self.namespaces.discard(namespace)
            self.rules = [r for r in self.rules if r.namespace != namespace]

    def fail(self, image: str, reason: str = "ImagePullBackOff", namespace: str | None = None) -> None:
        """From now on pods with a matching image stay unready with this waiting reason."""
        if reason not in WAITING_MESSAGES:
            raise ValueError(f"unknown waiting reason {reason!r}; known: {sorted(WAITING_MESSAGES)}")
        with self._lock:
            self.rules.append(Rule(image=image, reason=reason, namespace=namespace))
        self.resync()

    def clear_rules(self, namespace: str | None = None) -> None:
        with self._lock:
            self.rules = [r for r in self.rules if namespace is not None and r.namespace != namespace]
        self.resync()

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> SimulatedKubelet:
        self.register_node()
        for target, name in ((self._heartbeat_loop, "heartbeat"), (self._watch_loop, "pods")):
            t = threading.Thread(target=target, name=f"simulated-kubelet-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self, delete_node: bool = True) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10)
        if delete_node:
            with contextlib.suppress(ApiException):
                self.core.delete_node(self.node_name)

    def register_node(self) -> None:
        node = client.V1Node(
            metadata=client.V1ObjectMeta(
                name=self.node_name,
                labels={
                    "kubernetes.io/hostname": self.node_name,
                    "kubernetes.io/os": "linux",
                    "type": "simulated",
                    "lgp.dev/simulated": "true",
                },
                annotations={"lgp.dev/simulated-kubelet": "no container runtime: pod status is simulated"},
            )
        )
        try:
            self.core.create_node(node)
        except ApiException as e:
            if e.status != 409:
                raise
        self._node_status()

    def _node_status(self) -> None:
        now = _now()
        cap = {"cpu": "64", "memory": "256Gi", "pods": "1000", "ephemeral-storage": "1Ti"}
        conditions = [
            {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "simulated kubelet is posting ready status",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
        ]
        for t in ("MemoryPressure", "DiskPressure", "PIDPressure"):
            conditions.append(
                {
                    "type": t,
                    "status": "False",
                    "reason": f"KubeletHasNo{t}",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            )
        self.core.patch_node_status(
            self.node_name,
            {
                "status": {
                    "conditions": conditions,
                    "capacity": cap,
                    "allocatable": cap,
                    "addresses": [
                        {"type": "InternalIP", "address": "127.0.0.1"},
                        {"type": "Hostname", "address": self.node_name},
                    ],
                    "nodeInfo": {
                        "kubeletVersion": "v1.20.2-simulated",
                        "containerRuntimeVersion": "none://simulated",
                        "architecture": "amd64",
                        "operatingSystem": "linux",
                        "kernelVersion": "",
                        "osImage": "simulated",
                        "kubeProxyVersion": "",
                        "machineID": "",
                        "systemUUID": "",
                        "bootID": "",
                    },
                }
            },
        )

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            try:
                self._node_status()
            except Exception as e:  # keep beating; the apiserver may be restarting
                log.warning("node heartbeat failed: %s", e)

    # ---------------------------------------------------------------- pods
    def _wanted(self, pod: client.V1Pod) -> bool:
        if pod.spec.node_name not in (None, "", self.node_name):
            return False
        with self._lock:
            return self.all_namespaces or pod.metadata.namespace in self.namespaces

    def _reason_for(self, pod: client.V1Pod) -> tuple[str, str] | None:
        with self._lock:
            rules = list(self.rules)
        for c in pod.spec.containers:
            for r in rules:
                if r.namespace not in (None, pod.metadata.namespace):
                    continue
                if fnmatch.fnmatchcase(c.image or "", r.image):
                    return r.reason, c.name
        return None

    def resync(self) -> None:
        try:
            pods = self.core.list_pod_for_all_namespaces()
        except ApiException as e:
            log.warning("pod list failed: %s", e)
            return
        for pod in pods.items:
            self.handle(pod)

    def handle(self, pod: client.V1Pod) -> None:
        if not self._wanted(pod):
            return
        ns, name = pod.metadata.namespace, pod.metadata.name
        try:
            if pod.metadata.deletion_timestamp:
                # A kubelet confirms a graceful deletion once the containers stopped.
                self.core.delete_namespaced_pod(name, ns, grace_period_seconds=0)
                return
            if not pod.spec.node_name:
                try:
                    self.core.create_namespaced_pod_binding(
                        name,
                        ns,
                        client.V1Binding(
                            metadata=client.V1ObjectMeta(name=name),
                            target=client.V1ObjectReference(
                                api_version="v1", kind="Node", name=self.node_name
                            ),
                        ),
                        _preload_content=False,
                    )
                except ApiException as e:
                    if e.status != 409:
                        raise
            status = self._desired_status(pod)
            if not self._status_matches(pod, status):
                self.core.patch_namespaced_pod_status(name, ns, {"status": status})
                self.handled += 1
        except ApiException as e:
            if e.status not in (404, 409):
                log.warning("simulated kubelet could not handle pod %s/%s: %s", ns, name, e.reason)

    def _desired_status(self, pod: client.V1Pod) -> dict[str, Any]:
        now = _now()
        fail = self._reason_for(pod)
        start = (
            pod.status.start_time.strftime("%Y-%m-%dT%H:%M:%SZ")
            if pod.status and pod.status.start_time
            else now
        )
        ready = "False" if fail else "True"
        statuses = []
        for c in pod.spec.containers:
            failing = fail is not None and fail[1] == c.name
            st: dict[str, Any] = {
                "name": c.name,
                "image": c.image,
                "imageID": "",
                "restartCount": 0,
                "ready": not failing,
                "started": not failing,
            }
            if fail is not None and failing:
                reason = fail[0]
                msg = WAITING_MESSAGES[reason].format(image=c.image, name=c.name, pod=pod.metadata.name)
                st["state"] = {"waiting": {"reason": reason, "message": msg}}
                if reason == "CrashLoopBackOff":
                    st["restartCount"] = 5
                    st["lastState"] = {
                        "terminated": {
                            "exitCode": 1,
                            "reason": "Error",
                            "startedAt": start,
                            "finishedAt": now,
                        }
                    }
            else:
                st["state"] = {"running": {"startedAt": start}}
            statuses.append(st)
        cond_reason = (
            {}
            if not fail
            else {"reason": "ContainersNotReady", "message": f"containers with unready status: [{fail[1]}]"}
        )
        conditions = [
            {"type": "Initialized", "status": "True", "lastTransitionTime": start},
            {"type": "Ready", "status": ready, "lastTransitionTime": now, **cond_reason},
            {"type": "ContainersReady", "status": ready, "lastTransitionTime": now, **cond_reason},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": start},
        ]
        phase = (
            "Pending"
            if fail and fail[0] in ("ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError")
            else "Running"
        )
        return {
            "phase": phase,
            "hostIP": "127.0.0.1",
            "podIP": "127.0.0.1",
            "startTime": start,
            "conditions": conditions,
            "containerStatuses": statuses,
        }

    @staticmethod
    def _status_matches(pod: client.V1Pod, desired: dict[str, Any]) -> bool:
        st = pod.status
        if st is None or st.phase != desired["phase"] or not st.container_statuses:
            return False
        ready = {c.type: c.status for c in (st.conditions or [])}.get("Ready")
        want_ready = next(c["status"] for c in desired["conditions"] if c["type"] == "Ready")
        if ready != want_ready:
            return False
        have = {
            c.name: (c.image, (c.state.waiting.reason if c.state and c.state.waiting else None))
            for c in st.container_statuses
        }
        want = {
            c["name"]: (c["image"], c["state"].get("waiting", {}).get("reason"))
            for c in desired["containerStatuses"]
        }
        return have == want

    def _watch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                pods = self.core.list_pod_for_all_namespaces()
                for pod in pods.items:
                    self.handle(pod)
                w = watch.Watch()
                for event in w.stream(
                    self.core.list_pod_for_all_namespaces,
                    resource_version=pods.metadata.resource_version,
                    timeout_seconds=5,
                    _request_timeout=10,
                ):
                    if self._stop.is_set():
                        w.stop()
                        break
                    if event["type"] in ("ADDED", "MODIFIED"):
                        self.handle(event["object"])
            except Exception as e:  # 410 Gone, a restarting apiserver: relist
                if not self._stop.is_set():
                    log.debug("pod watch restarted: %s", e)
                    time.sleep(0.5)


def main() -> None:  # pragma: no cover - exercised by make dev
    import argparse
    import signal

    from kubernetes import config

    p = argparse.ArgumentParser(description="SIMULATED kubelet: no containers run; pod status is faked")
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--node-name", default="lgp-simulated-node")
    p.add_argument(
        "--fail-image",
        action="append",
        default=[],
        metavar="PATTERN=REASON",
        help="pods with an image matching PATTERN get REASON (e.g. '*:missing=ImagePullBackOff')",
    )
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s simulated-kubelet %(message)s")
    api = config.new_client_from_config(args.kubeconfig)
    k = SimulatedKubelet(api, args.node_name, all_namespaces=True)
    for spec in args.fail_image:
        pattern, _, reason = spec.rpartition("=")
        k.fail(pattern, reason)
    k.start()
    log.info("SIMULATED kubelet running as node %s (no container runtime here)", args.node_name)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    k.stop()


if __name__ == "__main__":
    main()
