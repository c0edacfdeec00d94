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
object, sequentially from one client): create = every child (its 8 and the NetworkPolicies), update = 2.
Child appearance is observed with watches, not polling. Prints p50 / p99 / total in milliseconds.

Then, with every resource of every size in place, it restarts the operator (a full resync: kopf resumes
each resource) and prints the time until each was reconciled, the operator's apiserver calls by verb
(its /metrics), the objects whose resourceVersion changed (any writer's write: ours or kopf's), and the
operator's resident memory before and after.
"""

from __future__ import annotations

import argparse
import os
import socket
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
) -> tuple[str, list[float], list[float], float, float]:
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
    return ns, create, update, create_total, update_total


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(port: int) -> dict[str, float]:
    """The operator's reconciles and apiserver calls by verb, from its /metrics."""
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("lgp_operator_reconciles_total{"):
            out["reconciles"] = out.get("reconciles", 0.0) + float(line.rsplit(" ", 1)[1])
        elif line.startswith("lgp_operator_api_requests_total{"):
            verb = line.split('verb="', 1)[1].split('"', 1)[0]
            out[verb] = float(line.rsplit(" ", 1)[1])
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


VERSIONED = (
    (LGP, "LangGraphPlatform"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("v1", "Service"),
    ("v1", "Secret"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
)


def versions(kube: Kube, namespaces: list[str]) -> dict[tuple[str, str, str], str]:
    out = {}
    for ns in namespaces:
        for api_version, kind in VERSIONED:
            for o in kube.list(api_version, kind, ns):
                out[(kind, ns, o["metadata"]["name"])] = o["metadata"]["resourceVersion"]
    return out


class Operator:
    """The operator as a process, with its /metrics on a port of its own."""

    def __init__(self, env: dict[str, str], logdir: Path) -> None:
        self.port = free_port()
        self.env = {
            **env,
            "LGP_OPERATOR_HEALTH_PORT": str(self.port),
            "LGP_OPERATOR_HEALTH_HOST": "127.0.0.1",
        }
        self.logdir = logdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Operator:
        self.starts += 1
        path = self.logdir / f"operator-{self.starts}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lgp_operator", "run"],
            env=self.env,
            cwd=ROOT,
            stdout=path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while "watching" not in path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        print(f"operator log: {path}")
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def bench_resync(kube: Kube, op: Operator, namespaces: list[str], total: int, timeout: float) -> None:
    """Restart the operator: every resource is resumed (reconciled) once with nothing to change."""
    assert op.proc is not None
    print(f"\nfull resync of {total} resources (operator restarted):")
    print(f"  operator memory before the restart      {rss_mb(op.proc.pid):8.1f} MB RSS")
    op.stop()
    before = versions(kube, namespaces)
    t0 = time.monotonic()
    op.start()
    assert op.proc is not None
    deadline = t0 + timeout
    seen: dict[str, float] = {}
    while time.monotonic() < deadline:
        try:
            seen = scrape(op.port)
        except OSError:
            seen = {}
        if seen.get("reconciles", 0) >= total:
            break
        time.sleep(0.1)
    took = time.monotonic() - t0
    time.sleep(2)  # late writes (kopf's annotations, status) land before the count
    after = versions(kube, namespaces)
    changed = sorted(k for k, v in after.items() if before.get(k) != v)
    calls = scrape(op.port)
    verbs = {k: int(v) for k, v in sorted(calls.items()) if k != "reconciles"}
    print(
        f"  resync (start to every resource reconciled) {took * 1000:8.0f} ms"
        f"  ({int(seen.get('reconciles', 0))} reconciles)"
    )
    print(
        f"  operator's apiserver calls                  {verbs}"
        f" ({sum(verbs.values()) / max(total, 1):.2f} per resource)"
    )
    print(f"  objects written (resourceVersion changed)   {len(changed)} {changed[:5]}")
    print(f"  operator memory after the resync            {rss_mb(op.proc.pid):8.1f} MB RSS")


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
        op = Operator(env, logdir).start()
        namespaces: list[str] = []
        total = 0
        print("time from a LangGraphPlatform change to all children applied (8 children per resource)")
        for n in sizes:
            trials = max(1, 10 // n)
            oc: list[float] = []
            ou: list[float] = []
            oct_ = out = 0.0
            for _ in range(trials):
                ns, c, u, ct, ut = bench_operator(kube, api, n, args.timeout)
                namespaces.append(ns)
                total += n
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
            print(row("raw SSA: every child", rc, rct / trials))
            print(row("operator: image change", ou, out / trials))
            print(row("raw SSA: 2 applies", ru, rut / trials))
            print(f"  operator memory                {rss_mb(op.proc.pid):8.1f} MB RSS" if op.proc else "")
        bench_resync(kube, op, namespaces, total, args.timeout)
        return 0
    finally:
        if op is not None:
            op.stop()
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
