"""The project's test cluster: a real kube-apiserver, etcd and controller-manager, a SIMULATED
kubelet, and real Postgres and Redis servers, all on 127.0.0.1 and torn down by PID."""

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
