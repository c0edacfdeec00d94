"""Start the operator: take the leader Lease (a second replica waits here), then run kopf standalone."""

from __future__ import annotations

import logging
import os
import signal
import threading

from .health import HEALTH, HealthServer
from .k8s.kube import Kube, new_api_client
from .k8s.leader import LeaderElector
from .settings import OperatorSettings

log = logging.getLogger("lgp_operator")
LOST_LEADERSHIP_EXIT = 70


def run(settings: OperatorSettings, *, verbose: bool = False) -> int:
    if settings.health_port:  # before the election: a replica waiting for the Lease is alive, not ready
        server = HealthServer(HEALTH, settings.health_host, settings.health_port).start()
        log.info("health: /healthz and /readyz on %s:%d", settings.health_host, server.port)
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
