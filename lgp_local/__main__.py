"""`python -m lgp_local up`: start the test cluster and the SIMULATED kubelet until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time

from kubernetes import config

from .cluster import Cluster, ensure_binaries
from .kubelet import SimulatedKubelet


def up(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    bin_dir = ensure_binaries()
    cluster = Cluster.start(bin_dir=bin_dir, controller_manager=True)
    kubelet = None
    try:
        api = config.new_client_from_config(str(cluster.kubeconfig))
        kubelet = SimulatedKubelet(api, all_namespaces=True).start()
        print(
            f"""
lgp test cluster is up in {time.monotonic() - t0:.1f}s (Kubernetes 1.20.2: real kube-apiserver, etcd,
kube-controller-manager on 127.0.0.1).

  export KUBECONFIG={cluster.kubeconfig}
  kubectl get nodes            # one SIMULATED node: no container runtime here, pod status is faked
  kubectl get --raw /readyz

  apiserver: {cluster.server}
  logs:      {cluster.workdir}/logs/

Press Ctrl-C to stop everything (no process or directory is left behind).
""",
            flush=True,
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(1):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        print("stopping...", flush=True)
        if kubelet is not None:
            kubelet.stop()
        cluster.stop()
        print("stopped.", flush=True)
    return 0


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    p = argparse.ArgumentParser(prog="python -m lgp_local")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("up", help="start the test cluster and the simulated kubelet until Ctrl-C")
    sub.add_parser("build", help="build or find the cluster binaries and print their directory")
    args = p.parse_args()
    if args.cmd == "build":
        print(ensure_binaries())
        return 0
    return up(args)


if __name__ == "__main__":
    sys.exit(main())
