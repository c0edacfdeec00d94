"""Benchmark: test-cluster start time (cached binaries) and the memory of each server process.

Prints figures; asserts nothing. Run: .venv/bin/python bench/cluster_startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubernetes import client, config

from lgp_local import Cluster, ensure_binaries


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    t0 = time.monotonic()
    bin_dir = ensure_binaries()
    print(f"binaries found in {time.monotonic() - t0:.2f}s: {bin_dir}")
    starts, stops, rss = [], [], []
    for i in range(args.runs):
        t0 = time.monotonic()
        c = Cluster.start(bin_dir=bin_dir, controller_manager=True)
        starts.append(time.monotonic() - t0)
        # some load so the figure is not just an idle apiserver: 200 ConfigMaps
        api = client.CoreV1Api(config.new_client_from_config(str(c.kubeconfig)))
        for n in range(200):
            body = {"metadata": {"name": f"cm-{n}"}, "data": {"k": "v" * 100}}
            api.create_namespaced_config_map("default", body)
        api.list_namespaced_config_map("default")
        rss.append(c.rss_mib())
        t0 = time.monotonic()
        c.stop()
        stops.append(time.monotonic() - t0)
        print(
            f"run {i + 1}: start {starts[-1]:.1f}s, stop {stops[-1]:.1f}s, rss "
            + ", ".join(f"{k} {v:.0f} MiB" for k, v in rss[-1].items())
        )
    print(
        f"start (etcd + apiserver /readyz + controller-manager issuing tokens): "
        f"median {statistics.median(starts):.1f}s, max {max(starts):.1f}s over {args.runs} runs"
    )
    print(f"stop: median {statistics.median(stops):.1f}s")
    for name in rss[0]:
        print(f"{name} RSS after 200 ConfigMaps: median {statistics.median(r[name] for r in rss):.0f} MiB")


if __name__ == "__main__":
    main()
