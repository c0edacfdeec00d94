"""The local stack of lgp: what `make dev`, the tests and the benchmarks run on this machine: a real
kube-apiserver, etcd and controller-manager; the real node (kubelet, containerd, kube-proxy, scheduler,
and the DNS and volume stand-ins) or, where it cannot run, a SIMULATED kubelet; real Postgres and
Redis servers; and images built with no registry. Everything is torn down by PID."""

from .cluster import Cluster, binaries_ready, cache_dir, ensure_binaries, wait_deleted
from .kubelet import SimulatedKubelet
from .servers import PostgresServer, RedisServer

__all__ = [
    "Cluster",
    "PostgresServer",
    "RedisServer",
    "SimulatedKubelet",
    "binaries_ready",
    "cache_dir",
    "ensure_binaries",
    "wait_deleted",
]
