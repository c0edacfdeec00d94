"""Operator benchmark: time from a LangGraphPlatform change to all its children applied, on a real
kube-apiserver, next to the same number of raw server-side apply calls made in the same run.

    .venv/bin/python bench/operator_bench.py                 # starts a throwaway test cluster
    .venv/bin/python bench/operator_bench.py --sizes 1,10    # fewer sizes
    .venv/bin/python bench/operator_bench.py --kubeconfig K  # an existing cluster (kind, ...)

For each size N it measures, per resource:
  create  from the CR apply call to the moment every child (8: api-server and queue Deployments,
          Service, Postgres StatefulSet + Service + Secret, Redis Deployment + Service) exists;
  update  from an image change of the CR to both server Deployments carrying the new image;
and, as the baseline, the same children applied directly with server-side apply (one PATCH per
object, sequentially from one client): create = 8 applies per resource, update = 2 applies.
Child appearance is observed with watches, not polling. Prints p50 / p99 / total in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "operator")]

from kubernetes import client, config, watch  # noqa: E402
from lgp_operator.api.crd import build_crd  # noqa: E402
from lgp_operator.builders.common import Capabilities, Platform  # noqa: E402
from lgp_operator.builders.desired import build_desired  # noqa: E402
from lgp_operator.k8s.kube import Kube  # noqa: E402
from lgp_operator.settings import OperatorSettings  # noqa: E402

LGP = "lgp.dev/v1alpha1"
SPEC = {"queue": {"enabled": True}}
CHILD_KINDS = ("Deployment", "StatefulSet", "Service", "Secret")
SERVER_SUFFIXES = ("-api-server", "-queue")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q / 100 * (len(values) - 1))))
    return values[k]


class Observer:
    """Watches the children of one namespace and records when each first appears, and when each server
    Deployment first shows a given image."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.api = api
        self.ns = namespace
        self.seen: dict[tuple[str, str], float] = {}
        self.image_seen: dict[tuple[str, str], float] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(k,), daemon=True) for k in CHILD_KINDS]
        self.ready = threading.Barrier(len(CHILD_KINDS) + 1)

    def start(self) -> Observer:
        for t in self.threads:
            t.start()
        self.ready.wait(30)
        return self

    def _list_fn(self, kind: str) -> Any:
        core, apps = client.CoreV1Api(self.api), client.AppsV1Api(self.api)
        return {
            "Deployment": apps.list_namespaced_deployment,
            "StatefulSet": apps.list_namespaced_stateful_set,
            "Service": core.list_namespaced_service,
            "Secret": core.list_namespaced_secret,
        }[kind]

    def _loop(self, kind: str) -> None:
        fn = self._list_fn(kind)
        rv = fn(self.ns).metadata.resource_version
        self.ready.wait(30)
        while not self.stop.is_set():
            w = watch.Watch()
            try:
                for ev in w.stream(fn, self.ns, resource_version=rv, timeout_seconds=5):
                    now = time.monotonic()
                    obj = ev["object"]
                    rv = obj.metadata.resource_version
                    key = (kind, obj.metadata.name)
                    with self.lock:
                        self.seen.setdefault(key, now)
                        if kind == "Deployment":
                            image = obj.spec.template.spec.containers[0].image
                            self.image_seen.setdefault((obj.metadata.name, image), now)
                    if self.stop.is_set():
                        w.stop()
            except Exception:  # noqa: S112 (a timed-out or restarted watch: resume)
                continue

    def wait_all(
        self, keys: list[tuple[str, str]], table: str, timeout: float
    ) -> dict[tuple[str, str], float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                src = self.seen if table == "seen" else self.image_seen
                if all(k in src for k in keys):
                    return {k: src[k] for k in keys}
            time.sleep(0.02)
        missing = [k for k in keys if k not in (self.seen if table == "seen" else self.image_seen)]
        raise TimeoutError(f"not applied after {timeout}s: {missing[:5]} ...")


def children(name: str) -> list[tuple[str, str]]:
    return [
        ("Deployment", f"{name}-api-server"),
        ("Deployment", f"{name}-queue"),
        ("Deployment", f"{name}-redis"),
        ("StatefulSet", f"{name}-postgres"),
        ("Service", name),
        ("Service", f"{name}-postgres"),
        ("Service", f"{name}-redis"),
        ("Secret", f"{name}-postgres"),
    ]


def cr(name: str, ns: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": LGP,
        "kind": "LangGraphPlatform",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"image": image, **SPEC},
    }


def make_namespace(kube: Kube, name: str) -> None:
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def bench_operator(
    kube: Kube, api: client.ApiClient, n: int, timeout: float
) -> tuple[list[float], list[float], float, float]:
    ns = f"bench-op-{n}-{uuid.uuid4().hex[:4]}"
    make_namespace(kube, ns)
    obs = Observer(api, ns).start()
    names = [f"p{i}" for i in range(n)]
    started: dict[str, float] = {}
    t0 = time.monotonic()
    for name in names:
        started[name] = time.monotonic()
        kube.apply(cr(name, ns, "registry.local/agent:v1"))
    create = []
    for name in names:
        done = obs.wait_all(children(name), "seen", timeout)
        create.append(max(done.values()) - started[name])
    create_total = max(started[nm] + c for nm, c in zip(names, create, strict=True)) - t0
    # Update: an image change; done when both server Deployments carry the new image.
    t1 = time.monotonic()
    for name in names:
        started[name] = time.monotonic()
        kube.apply(cr(name, ns, "registry.local/agent:v2"))
    update = []
    for name in names:
        keys = [(f"{name}{s}", "registry.local/agent:v2") for s in SERVER_SUFFIXES]
        done = obs.wait_all(keys, "image", timeout)
        update.append(max(done.values()) - started[name])
    update_total = max(started[nm] + u for nm, u in zip(names, update, strict=True)) - t1
    obs.stop.set()
    return create, update, create_total, update_total


def bench_raw(kube: Kube, n: int) -> tuple[list[float], list[float], float, float]:
    """The same children, applied directly: one server-side apply per object, in sequence."""
    ns = f"bench-raw-{n}-{uuid.uuid4().hex[:4]}"
    make_namespace(kube, ns)
    settings = OperatorSettings()
    caps = Capabilities(pdb_api="policy/v1beta1", hpa_api="autoscaling/v2beta2", keda=False)
    create, update = [], []
    t0 = time.monotonic()
    for i in range(n):
        body = {
            **cr(f"p{i}", ns, "registry.local/agent:v1"),
            "metadata": {"name": f"p{i}", "namespace": ns, "uid": str(uuid.uuid4())},
        }
        objs = build_desired(Platform.from_body(body), settings, caps, postgres_password="pw").objects  # noqa: S106
        for o in objs:
            o["metadata"].pop("ownerReferences", None)  # no owner in this namespace
        start = time.monotonic()
        for o in objs:
            kube.apply(o)
        create.append(time.monotonic() - start)
    create_total = time.monotonic() - t0
    t1 = time.monotonic()
    for i in range(n):
        body = {
            **cr(f"p{i}", ns, "registry.local/agent:v2"),
            "metadata": {"name": f"p{i}", "namespace": ns, "uid": str(uuid.uuid4())},
        }
        objs = [
            o
            for o in build_desired(Platform.from_body(body), settings, caps).objects
            if o["kind"] == "Deployment" and o["metadata"]["name"].endswith(SERVER_SUFFIXES)
        ]
        start = time.monotonic()
        for o in objs:
            o["metadata"].pop("ownerReferences", None)
            kube.apply(o)
        update.append(time.monotonic() - start)
    return create, update, create_total, time.monotonic() - t1


def row(label: str, values: list[float], total: float) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"  {label:<28} p50 {pct(ms, 50):8.1f} ms   p99 {pct(ms, 99):8.1f} ms   "
        f"total {total * 1000:9.1f} ms   (n={len(ms)})"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1,10,100", help="comma-separated numbers of resources")
    p.add_argument("--kubeconfig", help="use this cluster instead of starting a test cluster")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for one size")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    cluster = None
    if args.kubeconfig:
        kubeconfig = Path(args.kubeconfig)
    else:
        from lgp_local import Cluster

        print("starting a test cluster (kube-apiserver 1.20 + etcd) ...", flush=True)
        cluster = Cluster.start(controller_manager=False)
        kubeconfig = cluster.kubeconfig
    op = None
    logdir = Path(tempfile.mkdtemp(prefix="lgp-bench-"))
    try:
        api = config.new_client_from_config(str(kubeconfig))
        kube = Kube(api, manager="lgp-bench")
        kube.apply(build_crd())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until the new REST endpoint serves
            try:
                kube.request("GET", "/apis/lgp.dev/v1alpha1/langgraphplatforms")
                break
            except Exception:
                time.sleep(0.1)
        env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "LGP_OPERATOR_RESYNC_SECONDS": "3600",
            "LGP_OPERATOR_LEADER_ELECTION_NAME": f"lgp-bench-{uuid.uuid4().hex[:6]}",
            "PYTHONUNBUFFERED": "1",
        }
        log = (logdir / "operator.log").open("wb")
        op = subprocess.Popen(
            [sys.executable, "-m", "lgp_operator", "run"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while "watching" not in (logdir / "operator.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        print(f"operator log: {logdir / 'operator.log'}")
        print("time from a LangGraphPlatform change to all children applied (8 children per resource)")
        for n in sizes:
            trials = max(1, 10 // n)
            oc: list[float] = []
            ou: list[float] = []
            oct_ = out = 0.0
            for _ in range(trials):
                c, u, ct, ut = bench_operator(kube, api, n, args.timeout)
                oc += c
                ou += u
                oct_ += ct
                out += ut
            rc: list[float] = []
            ru: list[float] = []
            rct = rut = 0.0
            for _ in range(trials):
                c, u, ct, ut = bench_raw(kube, n)
                rc += c
                ru += u
                rct += ct
                rut += ut
            print(f"\nN = {n} resource(s){f', {trials} rounds' if trials > 1 else ''}:")
            print(row("operator: create", oc, oct_ / trials))
            print(row("raw SSA: 8 applies", rc, rct / trials))
            print(row("operator: image change", ou, out / trials))
            print(row("raw SSA: 2 applies", ru, rut / trials))
        return 0
    finally:
        if op is not None:
            op.terminate()
            try:
                op.wait(20)
            except subprocess.TimeoutExpired:
                op.kill()
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
