"""Benchmark: time from creating a revision to (a) its LangGraphPlatform applied in the cluster and
(b) DEPLOYED reported in the control plane, p50 and p99, for 1 and 100 deployments.

Everything is real and local: Postgres, the control plane (process), the kube-apiserver, the operator
(process), the listener (process, default settings) and the SIMULATED kubelet (no container runtime).
Prints figures; asserts nothing. Run: .venv/bin/python bench/listener_bench.py [--sizes 1 100]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
from kubernetes import client, config, watch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lgp_local import Cluster, PostgresServer, SimulatedKubelet
from lgp_local.control_plane import LGP, ControlPlane, Process, listener_argv
from lgp_local.crd import install_crd
from lgp_local.procs import wait_for

IMAGE = "registry.example/agent"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


class AppliedWatcher:
    """Records when each revision id first appears in a LangGraphPlatform spec (a watch, not a poll)."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.co = client.CustomObjectsApi(api)
        self.ns = namespace
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            w = watch.Watch()
            try:
                for ev in w.stream(
                    self.co.list_namespaced_custom_object,
                    "lgp.dev",
                    "v1alpha1",
                    self.ns,
                    "langgraphplatforms",
                    timeout_seconds=5,
                ):
                    rev = ((ev["object"].get("spec") or {}).get("revision") or {}).get("id")
                    if rev and rev not in self.seen:
                        self.seen[rev] = time.time()
            except Exception:  # noqa: S112 - rewatch
                continue

    def stop(self) -> None:
        self._stop.set()


def run_size(
    n: int, cp: ControlPlane, listener_id: str, namespace: str, api: client.ApiClient, db_dsn: str
) -> None:
    watcher = AppliedWatcher(api, namespace)
    deps = []
    for _ in range(n):
        deps.append(
            cp.call(
                "POST",
                "/deployments",
                json={
                    "name": f"b-{uuid.uuid4().hex[:8]}",
                    "type": "development",
                    "image": f"{IMAGE}:1.0",
                    "listener_id": listener_id,
                    "namespace": namespace,
                },
            )
        )
    first = [d["latest_revision_id"] for d in deps]
    with psycopg.connect(db_dsn) as conn:

        def all_deployed(ids: list[str]) -> bool:
            rows = conn.execute(
                "select count(*) from revision where id = any(%s) and status = 'DEPLOYED'",
                ([uuid.UUID(i) for i in ids],),
            ).fetchone()
            return rows is not None and rows[0] == len(ids)

        wait_for(lambda: all_deployed(first), timeout=600, what=f"{n} first revisions DEPLOYED", interval=0.5)
        # the measured step: a new revision (new image) on every deployment at once; t0 is the
        # revision's created_at in the control plane's database
        t_loop = time.monotonic()
        ids = [
            cp.call("POST", f"/deployments/{d['id']}/revisions", json={"image": f"{IMAGE}:2.0"})["id"]
            for d in deps
        ]
        loop_s = time.monotonic() - t_loop
        wait_for(lambda: all_deployed(ids), timeout=900, what=f"{n} new revisions DEPLOYED", interval=0.5)
        rows = conn.execute(
            "select id::text, extract(epoch from created_at), extract(epoch from finished_at) from revision"
            " where id = any(%s)",
            ([uuid.UUID(i) for i in ids],),
        ).fetchall()
    watcher.stop()
    created = {r[0]: float(r[1]) for r in rows}
    deployed = {r[0]: float(r[2]) for r in rows}
    applied = [watcher.seen[i] - created[i] for i in ids if i in watcher.seen]
    to_deployed = [deployed[i] - created[i] for i in ids]
    print(f"{n:>4} deployments: the {n} revisions were created over {loop_s:.2f}s (sequential POSTs)")
    print(
        f"{n:>4} deployments: revision -> LangGraphPlatform applied   p50 {pct(applied, 50):6.2f}s  "
        f"p99 {pct(applied, 99):6.2f}s  (n={len(applied)})"
    )
    print(
        f"{n:>4} deployments: revision -> DEPLOYED reported        p50 {pct(to_deployed, 50):6.2f}s  "
        f"p99 {pct(to_deployed, 99):6.2f}s  mean {statistics.mean(to_deployed):.2f}s"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 100])
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lgp-bench-"))
    pg = PostgresServer.start()
    cluster = Cluster.start()
    procs: list[Process] = []
    cp: ControlPlane | None = None
    kubelet = None
    try:
        api = config.new_client_from_config(str(cluster.kubeconfig))
        install_crd(api)
        db = f"bench_{uuid.uuid4().hex[:8]}"
        cp = ControlPlane(pg.create_database(db), work)
        cp.start()
        kubelet = SimulatedKubelet(api, all_namespaces=True).start()
        procs.append(
            Process(
                "operator",
                [*LGP, "operator", "run", "--kubeconfig", str(cluster.kubeconfig), "--no-leader-election"],
                work,
            ).start()
        )
        for n in args.sizes:
            ns = f"bench-{n}-{uuid.uuid4().hex[:4]}"
            client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
            listener = cp.create_listener([ns])
            token = work / f"token-{n}"
            token.write_text(listener["token"])
            lp = Process(
                f"listener-{n}",
                listener_argv(cp.url, token, cluster.kubeconfig, [ns]),
                work,
                dict(os.environ),
            ).start()
            procs.append(lp)
            run_size(n, cp, listener["id"], ns, api, pg.dsn.rsplit("/", 1)[0] + f"/{db}")
            lp.stop()
        print("listener settings: defaults (long-poll 30 s, status observed every 2 s, failure grace 10 s)")
    finally:
        for proc in procs:
            proc.stop()
        if kubelet is not None:
            kubelet.stop()
        if cp is not None:
            cp.stop()
        cluster.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
