"""A SIMULATED kubelet (kwok-style) for a cluster with no container runtime.

No container ever runs here. This stand-in does what a kubelet would report: it registers a Node
and keeps its status fresh (so the node-lifecycle controller never taints it), binds pending pods
to that node (there is no scheduler), patches each pod's status to Running/Ready, or, when a rule
asks for it, to a waiting reason such as ImagePullBackOff or CrashLoopBackOff, and confirms
graceful deletions. With it a Deployment reaches its ready replicas, and a failing rollout looks
like one.

Container logs are SIMULATED too (``SimulatedLogs``, a fake log source): no process writes them. The
simulator writes a few lines for each container it "starts" (a start line, and the container's
environment as a careless app might print it, secret values included: what the listener must redact)
and a traceback for one it makes crash, and serves them as a kubelet does, over HTTPS at
``/containerLogs/{namespace}/{pod}/{container}`` (``timestamps``, ``sinceTime``, ``tailLines``,
``limitBytes``, ``previous``), so the apiserver's ``pods/log`` reaches them. Tests add lines with
``kubelet.logs.write(...)``.

Only pods in enrolled namespaces are touched (``enroll``), so tests stay isolated; ``all_namespaces``
handles every pod (``make dev``).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fnmatch
import logging
import queue
import ssl
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

log = logging.getLogger("simulated-kubelet")
WORKERS = 4  # threads handling pods

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


class SimulatedLogs:
    """The SIMULATED containers' logs: lines this simulator wrote (no process runs), per pod container
    and run, served over HTTPS the way a kubelet serves ``/containerLogs`` to the apiserver."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: dict[tuple[str, str, str, bool], list[tuple[datetime, str]]] = {}
        self._waiting: dict[tuple[str, str, str], str] = {}  # container -> why it has no log yet
        self._dir = tempfile.TemporaryDirectory(prefix="lgp-simulated-kubelet-")
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reads = 0  # requests served, for tests of the simulator itself
        self.reading = 0  # requests being served now
        self.delay_seconds = 0.0  # a slow kubelet (a huge log), for tests that logs never hold up the rest

    # ---------------------------------------------------------------- the log book
    def write(
        self,
        namespace: str,
        pod: str,
        container: str,
        text: str,
        *,
        previous: bool = False,
        at: datetime | None = None,
    ) -> None:
        with self._lock:
            self._lines.setdefault((namespace, pod, container, previous), []).append(
                (at or datetime.now(UTC), text)
            )
            self._waiting.pop((namespace, pod, container), None)

    def has(self, namespace: str, pod: str, container: str) -> bool:
        with self._lock:
            return (namespace, pod, container, False) in self._lines

    def waiting(self, namespace: str, pod: str, container: str, why: str) -> None:
        with self._lock:
            if (namespace, pod, container, False) not in self._lines:
                self._waiting[(namespace, pod, container)] = why

    def forget(self, namespace: str, pod: str) -> None:
        with self._lock:
            for key in [k for k in self._lines if k[:2] == (namespace, pod)]:
                del self._lines[key]
            for wkey in [k for k in self._waiting if k[:2] == (namespace, pod)]:
                del self._waiting[wkey]

    def render(self, namespace: str, pod: str, container: str, query: dict[str, str]) -> tuple[int, str]:
        """(status, body) as a kubelet answers ``/containerLogs`` with these query parameters."""
        previous = query.get("previous") == "true"
        with self._lock:
            lines = list(self._lines.get((namespace, pod, container, previous), []))
            waiting = self._waiting.get((namespace, pod, container))
        if not lines:
            if previous:
                return 400, f'previous terminated container "{container}" in pod "{pod}" not found'
            if waiting:
                return 400, f'container "{container}" in pod "{pod}" is waiting to start: {waiting}'
        if "sinceTime" in query:
            since = datetime.fromisoformat(query["sinceTime"].replace("Z", "+00:00"))
            lines = [x for x in lines if x[0] >= since]
        if "tailLines" in query:
            lines = lines[-int(query["tailLines"]) :] if int(query["tailLines"]) > 0 else []
        stamp = query.get("timestamps") == "true"
        body = "".join(
            (f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z " if stamp else "") + text + "\n"
            for at, text in lines
        )
        if "limitBytes" in query:
            body = body.encode()[: int(query["limitBytes"])].decode(errors="ignore")
        return 200, body

    # ---------------------------------------------------------------- the HTTPS endpoint
    def serve(self) -> int:
        """Start serving on 127.0.0.1 (a self-signed certificate: the apiserver does not verify kubelets
        here); returns the port."""
        cert, key = _self_signed(Path(self._dir.name))
        logs = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                parts = url.path.strip("/").split("/")
                if len(parts) != 4 or parts[0] != "containerLogs":
                    code, body = 404, "not found"
                else:
                    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                    logs.reading += 1
                    try:
                        time.sleep(logs.delay_seconds)  # the simulated slowness itself, not a test's wait
                        code, body = logs.render(parts[1], parts[2], parts[3], query)
                    finally:
                        logs.reading -= 1
                    logs.reads += 1
                raw = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="simulated-kubelet-logs", daemon=True
        )
        self._thread.start()
        return int(server.server_address[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._dir.cleanup()


def _self_signed(where: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lgp-simulated-kubelet")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = where / "kubelet.crt", where / "kubelet.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


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
        # Pods are handled on WORKERS threads, each pod always on the same one (its events in order): one
        # thread made 100 rollouts wait seconds for their pods (bench/listener_bench.py, "pods running").
        self._queues: list[queue.Queue[client.V1Pod]] = [queue.Queue() for _ in range(WORKERS)]
        self.logs = SimulatedLogs()
        self.logs_port = 0

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
        self.logs_port = self.logs.serve()
        self.register_node()
        loops: list[tuple[Any, str]] = [(self._heartbeat_loop, "heartbeat"), (self._watch_loop, "pods")]
        loops += [(lambda q=q: self._work(q), f"pod-worker-{i}") for i, q in enumerate(self._queues)]
        for target, name in loops:
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
        self.logs.stop()

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
                    # InternalIP only: where the apiserver reaches the (simulated) kubelet's log endpoint
                    # (a Hostname address would be the node's name, which resolves nowhere)
                    "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": self.logs_port}},
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
                self.logs.forget(ns, name)
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
            self._write_logs(pod, status)
            if not self._status_matches(pod, status):
                self.core.patch_namespaced_pod_status(name, ns, {"status": status})
                with self._lock:
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
                            # terminationMessagePolicy FallbackToLogsOnError: the end of its log
                            "message": self._crash_line(pod, c),
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

    # ---------------------------------------------------------------- simulated logs
    def _environment(self, pod: client.V1Pod, container: client.V1Container) -> list[tuple[str, str]]:
        """The container's environment as the simulator can read it: plain values and its envFrom
        Secrets' values."""
        out = [(e.name, e.value) for e in container.env or [] if e.value]
        for source in container.env_from or []:
            ref = source.secret_ref
            if ref is None:
                continue
            try:
                secret = self.core.read_namespaced_secret(ref.name, pod.metadata.namespace)
            except ApiException:
                continue
            out += [(k, base64.b64decode(v).decode(errors="replace")) for k, v in (secret.data or {}).items()]
        return out

    def _crash_line(self, pod: client.V1Pod, container: client.V1Container) -> str:
        """The last line of a SIMULATED crash: it names the environment, secret values included."""
        env = ", ".join(f"{k}={v}" for k, v in self._environment(pod, container))
        return f"RuntimeError: SIMULATED crash at start; environment: {env}"

    def _write_logs(self, pod: client.V1Pod, status: dict[str, Any]) -> None:
        """The first time a container runs (or crashes), the simulator writes its log lines."""
        ns, name = pod.metadata.namespace, pod.metadata.name
        by_name = {c.name: c for c in pod.spec.containers}
        for st in status["containerStatuses"]:
            cname = st["name"]
            if self.logs.has(ns, name, cname):
                continue
            waiting = (st.get("state") or {}).get("waiting") or {}
            if waiting and waiting.get("reason") != "CrashLoopBackOff":
                why = "trying and failing to pull image" if "Pull" in waiting["reason"] else waiting["reason"]
                self.logs.waiting(ns, name, cname, why)
                continue
            env = self._environment(pod, by_name[cname])
            lines = [
                f"INFO:     SIMULATED container {cname} started (no process runs: the simulated kubelet "
                "writes these lines)",
                *(f"DEBUG:    environment {k}={v}" for k, v in env),
            ]
            if waiting:  # a crash loop: the run before crashed, and so does this one
                crash = [
                    "Traceback (most recent call last):",
                    '  File "/api/langgraph_api/server.py", line 1, in <module>',
                    self._crash_line(pod, by_name[cname]),
                ]
                for previous in (True, False):
                    for text in (*lines, *crash):
                        self.logs.write(ns, name, cname, text, previous=previous)
                continue
            for text in lines:
                self.logs.write(ns, name, cname, text)

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

    def _dispatch(self, pod: client.V1Pod) -> None:
        key = f"{pod.metadata.namespace}/{pod.metadata.name}"
        self._queues[zlib.crc32(key.encode()) % len(self._queues)].put(pod)

    def _work(self, pods: queue.Queue[client.V1Pod]) -> None:
        while not self._stop.is_set():
            try:
                pod = pods.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.handle(pod)
            except Exception as e:  # the next event of this pod, or the next resync, tries again
                log.warning("simulated kubelet: pod %s/%s: %s", pod.metadata.namespace, pod.metadata.name, e)

    def _watch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                pods = self.core.list_pod_for_all_namespaces()
                for pod in pods.items:
                    self._dispatch(pod)
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
                        self._dispatch(event["object"])
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
