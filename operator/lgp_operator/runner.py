"""Start the operator: take the leader Lease (a second replica waits here), then run kopf standalone."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import threading

from .health import HEALTH, HealthServer
from .k8s.kube import Kube, new_api_client
from .k8s.leader import LeaderElector
from .metrics import METRICS
from .settings import OperatorSettings

log = logging.getLogger("lgp_operator")
LOST_LEADERSHIP_EXIT = 70
M_ARENA_MAX = -8  # glibc's mallopt parameter


def cap_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives threads that allocate at once arenas of their own, up to 8 per core, and memory freed
    in one is not reused by another: kopf's handler threads, the delayed-reconcile workers and the watches
    parsing at once grew the process by hundreds of MB after a restart with 1,000 resources
    (bench/operator_bench.py). Two arenas, as MALLOC_ARENA_MAX=2 would, before any thread starts."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to cap
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas)


def run(settings: OperatorSettings, *, verbose: bool = False) -> int:
    cap_malloc_arenas()
    if settings.health_port:  # before the election: a replica waiting for the Lease is alive, not ready
        server = HealthServer(HEALTH, settings.health_host, settings.health_port, METRICS.registry).start()
        log.info("health: /healthz, /readyz and /metrics on %s:%d", settings.health_host, server.port)
    elector = None
    if settings.leader_election:
        elector = LeaderElector(
            Kube(new_api_client(settings.kubeconfig)),
            settings.leader_election_namespace,
            settings.leader_election_name,
            lease_seconds=settings.lease_seconds,
        )
        stop = threading.Event()

        def _stop(*_: object) -> None:
            stop.set()
            elector._stop.set()

        previous = signal.signal(signal.SIGTERM, _stop)
        if not elector.acquire():
            return 0  # stopped while waiting
        signal.signal(signal.SIGTERM, previous)

        def lost() -> None:
            log.error("leadership lost: exiting so that only one operator reconciles")
            os._exit(LOST_LEADERSHIP_EXIT)

        elector.keep_renewing(lost)

    import kopf

    from . import handlers  # registers the handlers

    assert handlers.SETTINGS is not None
    namespaces = settings.namespaces
    log.info("lgp operator: watching %s", ", ".join(namespaces) if namespaces else "all namespaces")
    try:
        kopf.run(standalone=True, namespaces=namespaces, clusterwide=not namespaces)
    finally:
        if elector is not None:
            elector.release()
    return 0
