"""Benchmark: time from creating a revision to (a) its LangGraphPlatform applied in the cluster and
(b) DEPLOYED reported in the control plane, p50 and p99, for 1 and 100 deployments, with the path
broken down by stage (each measured from the revision's created_at, so a regression shows by stage):

  applied            the LangGraphPlatform's spec carries the revision (the listener applied it)
  children created   the server Deployments' pod templates carry it (the operator applied them)
  pods created       a pod of it exists for each server Deployment (controller-manager: Deployment,
                     then ReplicaSet controller)
  pods running       those pods are Ready (the simulated kubelet bound them and wrote their status)
  pods ready         every server Deployment reports all replicas updated and available (controller-
                     manager again: the old pods drained, ReplicaSet and Deployment status written)
  status written     the LangGraphPlatform's status says Ready with liveRevision = the revision
  observed           the listener read that status (its log line "revision ... observed")
  reported           DEPLOYED recorded by the control plane (the revision's finished_at)

Everything is real and local: Postgres, the control plane (process), the kube-apiserver, the operator
(process), the listener (process, default settings) and the SIMULATED kubelet (no container runtime).
Prints figures; asserts nothing. Run: .venv/bin/python bench/listener_bench.py [--sizes 1 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


REVISION_ANNOTATION = "lgp.dev/revision"
STAGES = (
    "applied",
    "children created",
    "pods created",
    "pods running",
    "pods ready",
    "status written",
    "observed",
    "reported",
)
SERVER_COMPONENTS = ("api-server", "queue")
OBSERVED = re.compile(r"^(\S+ \S+) INFO lgp\.listener revision (\S+) DEPLOYED observed")


class PathWatcher:
    """Records, by revision id, when each stage of the path was first seen (watches, not polls): the
    LangGraphPlatform's spec and status, and its server Deployments' templates and status."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.co = client.CustomObjectsApi(api)
        self.apps = client.AppsV1Api(api)
        self.ns = namespace
        self.seen: dict[str, dict[str, float]] = {s: {} for s in STAGES}
        self.lock = threading.Lock()
        # Deployment name -> (revision of its template, replicas ready for it?)
        self._server: dict[str, tuple[str | None, bool]] = {}
        self._owner_rev: dict[str, str] = {}  # LangGraphPlatform name -> revision in its spec
        # (owner, revision) -> component -> Ready, for pods of the server Deployments
        self._pods: dict[tuple[str, str], dict[str, bool]] = {}
        self.core = client.CoreV1Api(api)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(fn,), daemon=True)
            for fn in (self._crs, self._deps, self._pods_watch)
        ]
        for t in self._threads:
            t.start()

    def _mark(self, stage: str, rev: str | None) -> None:
        if rev:
            with self.lock:
                self.seen[stage].setdefault(rev, time.time())

    def _run(self, fn: Any) -> None:
        failures: set[str] = set()
        while not self._stop.is_set():
            try:
                fn()
            except Exception as e:  # rewatch; each distinct failure said once
                if repr(e) not in failures:
                    failures.add(repr(e))
                    print(f"   ({fn.__name__} watch: {e!r}; watching again)", file=sys.stderr, flush=True)

    def _crs(self) -> None:
        w = watch.Watch()
        for ev in w.stream(
            self.co.list_namespaced_custom_object,
            "lgp.dev",
            "v1alpha1",
            self.ns,
            "langgraphplatforms",
            timeout_seconds=5,
        ):
            obj = ev["object"]
            rev = ((obj.get("spec") or {}).get("revision") or {}).get("id")
            self._mark("applied", rev)
            st = obj.get("status") or {}
            ready = any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or []
            )
            live = (st.get("liveRevision") or {}).get("id")
            if ready and live == rev:
                self._mark("status written", rev)

    def _deps(self) -> None:
        w = watch.Watch()
        for ev in w.stream(self.apps.list_namespaced_deployment, self.ns, timeout_seconds=5):
            d = ev["object"]
            name = d.metadata.name
            if not name.endswith(("-api-server", "-queue")):
                continue
            owner = name.rsplit("-", 2 if name.endswith("-api-server") else 1)[0]
            rev = (d.spec.template.metadata.annotations or {}).get(REVISION_ANNOTATION)
            st, want = d.status, d.spec.replicas or 0
            ready = bool(
                (st.observed_generation or 0) >= (d.metadata.generation or 0)
                and (st.updated_replicas or 0) == want
                and (st.available_replicas or 0) >= want
                and (st.replicas or 0) == want
            )
            with self.lock:
                self._server[name] = (rev, ready)
                siblings = [v for k, v in self._server.items() if k.startswith(owner + "-")]
            self._mark("children created", rev if all(r == rev for r, _ in siblings) else None)
            if all(r == rev and ok for r, ok in siblings):
                self._mark("pods ready", rev)

    def _pods_watch(self) -> None:
        w = watch.Watch()
        for ev in w.stream(self.core.list_namespaced_pod, self.ns, timeout_seconds=5):
            pod = ev["object"]
            labels = pod.metadata.labels or {}
            component = labels.get("app.kubernetes.io/component")
            owner = labels.get("app.kubernetes.io/instance")
            rev = (pod.metadata.annotations or {}).get(REVISION_ANNOTATION)
            if component not in SERVER_COMPONENTS or not owner or not rev or ev["type"] == "DELETED":
                continue
            ready = any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))
            with self.lock:
                seen = self._pods.setdefault((owner, rev), {})
                seen[component] = seen.get(component, False) or ready
                # the server Deployments this resource has (a development deployment runs no queue)
                wanted = {c for c in SERVER_COMPONENTS if f"{owner}-{c}" in self._server}
                every = bool(wanted) and set(seen) >= wanted
                running = every and all(seen.values())
            self._mark("pods created", rev if every else None)
            self._mark("pods running", rev if running else None)

    def stop(self) -> None:
        self._stop.set()


def observed_times(log_text: str) -> dict[str, float]:
    """When the listener logged that it observed each revision DEPLOYED (its log's local time)."""
    out: dict[str, float] = {}
    for line in log_text.splitlines():
        m = OBSERVED.match(line)
        if m:
            stamp = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
            out.setdefault(m.group(2), stamp.timestamp())
    return out


def run_size(
    n: int,
    cp: ControlPlane,
    listener_id: str,
    namespace: str,
    api: client.ApiClient,
    db_dsn: str,
    listener_log: Callable[[], str],
) -> None:
    watcher = PathWatcher(api, namespace)
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
    with watcher.lock:
        seen = {stage: dict(times) for stage, times in watcher.seen.items()}
    seen["observed"] = observed_times(listener_log())
    seen["reported"] = {r[0]: float(r[2]) for r in rows}
    print(f"{n:>4} deployments: the {n} revisions were created over {loop_s:.2f}s (sequential POSTs)")
    print(f"{n:>4} deployments: revision -> stage, seconds from the revision's created_at:")
    previous: dict[str, float] = created
    for stage in STAGES:
        times = {i: seen[stage][i] for i in ids if i in seen[stage]}
        if not times:
            print(f"       {stage:<17} (not seen)")
            continue
        at = [t - created[i] for i, t in times.items()]
        step = [t - previous[i] for i, t in times.items() if i in previous]
        print(
            f"       {stage:<17} p50 {pct(at, 50):6.2f}s  p99 {pct(at, 99):6.2f}s  mean "
            f"{statistics.mean(at):6.2f}s  (n={len(at)})   this step p50 {pct(step, 50):6.2f}s  "
            f"p99 {pct(step, 99):6.2f}s"
        )
        previous = times


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 100])
    p.add_argument(
        "--controller-qps",
        type=int,
        default=20,
        help="the kube-controller-manager's --kube-api-qps (Kubernetes' default: 20)",
    )
    p.add_argument(
        "--keep-logs", action="store_true", help="keep the processes' logs (their directory is printed)"
    )
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lgp-bench-"))
    pg = PostgresServer.start()
    cluster = Cluster.start(controller_qps=args.controller_qps)
    print(f"kube-controller-manager --kube-api-qps={args.controller_qps}", flush=True)
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
            run_size(n, cp, listener["id"], ns, api, pg.dsn.rsplit("/", 1)[0] + f"/{db}", lp.log)
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
        if args.keep_logs:
            print(f"logs of the operator, listener and control plane: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
