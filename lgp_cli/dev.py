"""`lgp dev` (what `make dev` runs): the whole stack on this machine, until Ctrl-C.

Starts, in order: a Postgres server for the control plane, a Kubernetes cluster (a real
kube-apiserver, etcd and kube-controller-manager) with the local node where this machine allows it
(a REAL kubelet, containerd, kube-proxy, kube-scheduler, and the local stand-ins for CoreDNS and a
volume provisioner: ``lgp_local.node``), else the SIMULATED kubelet, announced with the reason; the
LangGraphPlatform CRD, the operator, the control plane on http://127.0.0.1:8080, and a listener
registered automatically. On the real node it loads the example agent's image and the Postgres and
Redis images (built here, no registry) and points the operator at them. Then it prints the admin key,
the command that deploys the example agent, and how to call it from this machine.

With CLUSTER=kind it uses (and if needed creates) a kind cluster from kind-config.yaml; with
KUBECONFIG set it uses that cluster. Either way nothing is simulated there.

Every process is tracked by PID, and a watchdog stops all of them if this command dies without
cleaning up; Ctrl-C stops everything and leaves no process behind. The local stack is the
`lgp_local` package; it needs a source checkout for crds/.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = "lgp-dev"


def _say(msg: str) -> None:
    print(msg, flush=True)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class DevStack:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.port: int = args.port
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = Path(tempfile.mkdtemp(prefix="lgp-dev-"))
        (self.workdir / "logs").mkdir()
        from lgp_local.procs import ProcessGroup

        self.group = ProcessGroup(self.workdir)
        self.group.start_watchdog()
        self.pg: Any = None
        self.cluster: Any = None
        self.kubelet: Any = None
        self.node: Any = None
        self.images: dict[str, str] = {}
        self.kubeconfig: Path | None = None
        self.simulated = False
        self.admin_key = "lgp-dev-admin-" + secrets.token_urlsafe(24)
        self.listener: dict[str, Any] = {}

    # ------------------------------------------------------------------ pieces
    def start_postgres(self) -> str:
        from lgp_local import PostgresServer

        t0 = time.monotonic()
        self.pg = PostgresServer.start()
        url: str = self.pg.create_database("lgp")
        took = time.monotonic() - t0
        _say(f"  postgres        127.0.0.1:{self.pg.port} (the control plane's database, {took:.1f}s)")
        return url

    def start_cluster(self) -> None:
        from kubernetes import config

        mode = os.environ.get("CLUSTER", "local")
        if mode == "kind":
            self.kubeconfig = self._kind()
        elif os.environ.get("KUBECONFIG") and mode != "local-force":
            self.kubeconfig = Path(os.environ["KUBECONFIG"])
            _say(f"  cluster         KUBECONFIG={self.kubeconfig} (real kubelets; nothing simulated)")
        else:
            from lgp_local import Cluster, SimulatedKubelet
            from lgp_local.node import support
            from lgp_local.platform_images import builder_missing

            reason = support() or builder_missing()
            if reason is None:
                self._start_real_node()
                return
            t0 = time.monotonic()
            self.cluster = Cluster.start(controller_manager=True)
            self.kubeconfig = self.cluster.kubeconfig
            self.kubelet = SimulatedKubelet(
                config.new_client_from_config(str(self.kubeconfig)), all_namespaces=True
            ).start()
            self.simulated = True
            _say(
                f"  cluster         {self.cluster.server} (Kubernetes 1.20.2: real kube-apiserver, etcd, "
                f"controller-manager; {time.monotonic() - t0:.1f}s)"
            )
            _say(f"  kubelet         SIMULATED: no real node here ({reason}), so no container runs;")
            _say("                  pods are bound to a fake node and marked Running/Ready by a simulator")

    def _start_real_node(self) -> None:
        from lgp_local.node import STORAGE_CLASS, LocalNode
        from lgp_local.platform_images import build_platform_images, load_platform_images

        t0 = time.monotonic()
        _say("  images          building or finding in the cache: the example agent, Postgres, Redis ...")
        built = build_platform_images()
        build_s = time.monotonic() - t0
        t0 = time.monotonic()
        self.cluster, self.node = LocalNode.start_with_cluster()
        node_s = time.monotonic() - t0
        t0 = time.monotonic()
        self.images = load_platform_images(built, self.node.sock)
        _say(
            f"  images          {', '.join(self.images.values())} "
            f"(built here with no registry, {build_s:.1f}s; loaded into the node, "
            f"{time.monotonic() - t0:.1f}s)"
        )
        self.kubeconfig = self.cluster.kubeconfig
        net = self.node.net
        _say(
            f"  cluster         {self.cluster.server} (Kubernetes 1.20.2: real kube-apiserver, etcd, "
            f"controller-manager, scheduler; {node_s:.1f}s with the node)"
        )
        _say(
            f"  node            REAL: {self.node.name} (kubelet 1.20.2, containerd, runc, kube-proxy); "
            f"pods {net.pod_cidr}, Services {net.service_cidr}, both routed from this machine"
        )
        _say(
            f"  stand-ins       DNS for CoreDNS at {net.gateway} (<service>.<namespace>.svc[.cluster.local]);"
            f" volumes: hostPath under the run dir (StorageClass {STORAGE_CLASS})"
        )

    def _kind(self) -> Path:
        kind = shutil.which("kind")
        if not kind:
            raise SystemExit(
                "CLUSTER=kind needs the kind command (https://kind.sigs.k8s.io) and a Docker engine"
            )
        kubeconfig = self.workdir / "kind.kubeconfig"
        clusters = subprocess.run(
            [kind, "get", "clusters"], capture_output=True, text=True, check=True
        ).stdout
        if "lgp" not in clusters.split():
            subprocess.run(
                [kind, "create", "cluster", "--name", "lgp", "--config", str(REPO / "kind-config.yaml")],
                check=True,
            )
        kubeconfig.write_text(
            subprocess.run(
                [kind, "get", "kubeconfig", "--name", "lgp"], capture_output=True, text=True, check=True
            ).stdout
        )
        _say("  cluster         kind cluster 'lgp' (real kubelets; nothing simulated)")
        return kubeconfig

    def install_crd(self) -> None:
        from kubernetes import client, config

        from lgp_local.crd import install_crd

        api = config.new_client_from_config(str(self.kubeconfig))
        install_crd(api)
        with contextlib.suppress(client.ApiException):
            client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
        _say(f"  CRD             langgraphplatforms.lgp.dev installed; namespace {NAMESPACE} ready")

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        return self.group.spawn(
            name,
            [sys.executable, "-m", "lgp_cli.main", *argv],
            log=self.workdir / "logs" / f"{name}.log",
            env=env,
            cwd=REPO,
        )

    def start_operator(self) -> None:
        env = dict(os.environ, LGP_OPERATOR_KUBECONFIG=str(self.kubeconfig))
        if self.images:  # the real node: managed Postgres and Redis from the images built here
            env["LGP_OPERATOR_POSTGRES_IMAGE"] = self.images["postgres"]
            env["LGP_OPERATOR_REDIS_IMAGE"] = self.images["redis"]
        self._spawn("operator", ["operator", "run", "--kubeconfig", str(self.kubeconfig)], env)
        _say(f"  operator        running (log: {self.workdir}/logs/operator.log)")

    def start_control_plane(self, database_url: str) -> None:
        import httpx
        from cryptography.fernet import Fernet

        from lgp_local.procs import wait_for

        env = dict(
            os.environ,
            LGP_DATABASE_URL=database_url,
            LGP_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
            LGP_ADMIN_API_KEY=self.admin_key,
            LGP_ENVIRONMENT="development",
        )
        proc = self._spawn(
            "control-plane", ["control-plane", "serve", "--host", "127.0.0.1", "--port", str(self.port)], env
        )

        def ready() -> bool:
            if proc.poll() is not None:
                log = (self.workdir / "logs" / "control-plane.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"the control plane exited:\n{log}")
            return httpx.get(self.url + "/readyz", timeout=2, trust_env=False).status_code == 200

        wait_for(ready, timeout=60, what="the control plane /readyz")
        _say(
            f"  control plane   {self.url} (web UI at {self.url}/ui, API under /v1, docs at {self.url}/docs)"
        )

    def start_listener(self) -> None:
        import httpx

        r = httpx.post(
            self.url + "/v1/listeners",
            headers={"X-Api-Key": self.admin_key},
            trust_env=False,
            json={"name": "dev", "namespaces": [NAMESPACE]},
            timeout=10,
        )
        r.raise_for_status()
        self.listener = r.json()
        token = self.workdir / "listener-token"
        token.write_text(self.listener["token"])
        token.chmod(0o600)
        self._spawn(
            "listener",
            [
                "listener",
                "run",
                "--control-plane-url",
                self.url,
                "--listener-id",
                self.listener["id"],
                "--token-file",
                str(token),
                "--kubeconfig",
                str(self.kubeconfig),
                "--namespace",
                NAMESPACE,
                "--http-host",
                "127.0.0.1",
                "--http-port",
                "0",
            ],
            dict(os.environ),
        )
        _say(f"  listener        'dev' ({self.listener['id']}) managing namespace {NAMESPACE}")

    # ------------------------------------------------------------------ run
    def banner(self) -> None:
        if self.node is not None:
            self._real_node_banner()
            return
        image = "registry.example/agent:1.0" if self.simulated else "langchain/langgraph-api:latest"
        _say(f"""
lgp is running.

  export LGP_URL={self.url}
  export LGP_API_KEY={self.admin_key}
  export KUBECONFIG={self.kubeconfig}

Create a first deployment and wait until it is DEPLOYED:

  .venv/bin/lgp deployments create hello --image {image} --listener {self.listener["id"]} \\
      --namespace {NAMESPACE} --wait

Or open {self.url}/ui and sign in with the admin key above.
Then: .venv/bin/lgp deployments list   |   kubectl -n {NAMESPACE} get lgp,deploy,pods
Logs: {self.workdir}/logs/
Press Ctrl-C to stop everything.
""")

    def _real_node_banner(self) -> None:
        import json

        from lgp_local.cluster import cache_dir
        from lgp_local.images.recipes import PENDING_RUNS_QUERY

        # The example agent's runtime (langgraph-runtime-pg) keeps its runs in table `runs`: its
        # deployment's pending-runs trigger says so (the operator's default is the official chart's `run`).
        k8s_file = self.workdir / "agent-kubernetes.json"
        k8s_file.write_text(json.dumps({"keda": {"pendingRunsQuery": PENDING_RUNS_QUERY}}, indent=2) + "\n")

        _say(f"""
lgp is running, on a real node: pods run here in containers.

  export LGP_URL={self.url}
  export LGP_API_KEY={self.admin_key}
  export KUBECONFIG={self.kubeconfig}
  export PATH={cache_dir() / "bin"}:$PATH

Deploy the example agent (examples/agent, built into {self.images["agent"]}) and wait until it is DEPLOYED:

  .venv/bin/lgp deployments create agent --image {self.images["agent"]} --listener {self.listener["id"]} \\
      --namespace {NAMESPACE} --cpu 250m --memory 512Mi --queue --queue-cpu 250m --queue-memory 512Mi \\
      --kubernetes-file {k8s_file} --wait

({k8s_file.name} sets the pending-runs query of the agent's runtime: table runs.)

Call it from this machine (the node routes its Service addresses here):

  export AGENT_URL=http://$(kubectl -n {NAMESPACE} get svc agent -o jsonpath='{{.spec.clusterIP}}'):8000
  curl $AGENT_URL/ok

Or open {self.url}/ui and sign in with the admin key above.
Then: .venv/bin/lgp deployments list   |   kubectl -n {NAMESPACE} get lgp,deploy,sts,pvc,pods
Logs: {self.workdir}/logs/
Press Ctrl-C to stop everything.
""")

    def stop(self) -> None:
        _say("\nstopping lgp dev ...")
        self.group.stop()  # listener, control plane, operator (reverse start order), then the watchdog
        if self.node is not None:
            self.node.stop()
        if self.kubelet is not None:
            self.kubelet.stop(delete_node=False)
        if self.cluster is not None:
            self.cluster.stop()
        if self.pg is not None:
            self.pg.stop()
        _say("stopped: no lgp dev process is left.")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lgp dev", description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("LGP_DEV_PORT", "8080")),
        help="control plane port (default 8080, env LGP_DEV_PORT)",
    )
    args = p.parse_args(argv)
    if not (REPO / "crds").is_dir():
        print("lgp dev needs a source checkout of lgp (it installs the CRD from crds/)", file=sys.stderr)
        return 2
    if not _port_free(args.port):
        print(f"lgp dev: port {args.port} is in use; stop what uses it or set LGP_DEV_PORT", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    t0 = time.monotonic()
    _say("starting lgp dev:")
    stack = DevStack(args)
    try:
        url = stack.start_postgres()
        stack.start_cluster()
        stack.install_crd()
        stack.start_operator()
        stack.start_control_plane(url)
        stack.start_listener()
        _say(f"  ready in {time.monotonic() - t0:.1f}s")
        stack.banner()
        while not stop.wait(1):
            for name, proc in stack.group.procs.items():
                if proc.poll() is not None:
                    _say(
                        f"lgp dev: {name} exited with {proc.returncode}; see {stack.workdir}/logs/{name}.log"
                    )
                    stop.set()
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
