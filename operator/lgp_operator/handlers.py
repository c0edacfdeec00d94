"""Thin kopf handlers: every trigger (create, update, resume, a child's change, the drift timer) calls the
one reconcile through a per-resource coordinator. Importing this module registers the handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import kopf

from lgp_contract.resource import GROUP, PLURAL, VERSION

from .builders.common import MANAGER
from .coordinator import Coordinator
from .health import BEAT_SECONDS, HEALTH
from .k8s.kube import Kube, new_api_client
from .reconcile import Outcome, Reconciler
from .settings import OperatorSettings

log = logging.getLogger("lgp_operator")
SETTINGS = OperatorSettings()
CHILD_LABELS = {"app.kubernetes.io/managed-by": MANAGER}
HEARTBEAT: list[asyncio.Task[None]] = []  # a reference keeps the task alive


class Runtime:
    def __init__(self, settings: OperatorSettings) -> None:
        self.kube = Kube(new_api_client(settings.kubeconfig))
        self.reconciler = Reconciler(self.kube, settings)
        self.coordinator = Coordinator(self._run)

    def _run(self, namespace: str, name: str) -> Outcome | None:
        body = self.kube.get(f"{GROUP}/{VERSION}", "LangGraphPlatform", namespace, name)
        if body is None:
            return None
        return self.reconciler.reconcile(body)


RUNTIME: Runtime | None = None


def runtime() -> Runtime:
    global RUNTIME
    if RUNTIME is None:
        RUNTIME = Runtime(SETTINGS)
    return RUNTIME


def backoff(retry: int) -> float:
    return float(min(5 * 2**retry, 300))


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.finalizer = "lgp.dev/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="lgp.dev")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="lgp.dev", key="last-handled-configuration"
    )
    # Our reconcile posts its own Events; kopf posts only warnings and errors (no event per timer tick).
    settings.posting.level = logging.WARNING
    settings.scanning.disabled = True  # no CRD/namespace scanning: fewer permissions, standalone mode
    settings.execution.max_workers = 20
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    runtime()


@kopf.on.startup()
async def heartbeat(**_: Any) -> None:
    """Beat for /healthz from kopf's own event loop, for as long as it runs."""

    async def beat() -> None:
        while True:
            HEALTH.beat()
            await asyncio.sleep(BEAT_SECONDS)

    HEARTBEAT.append(asyncio.get_running_loop().create_task(beat()))


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL)
def on_change(namespace: str | None, name: str, retry: int, **_: Any) -> None:
    assert namespace, "LangGraphPlatform is namespaced"
    outcome = runtime().coordinator.run(namespace, name)
    if outcome is not None:
        state = "ready" if outcome.ready else (outcome.degraded[0] if outcome.degraded else "in progress")
        log.info("%s/%s: reconciled (%s, %d change(s))", namespace, name, state, len(outcome.changed))
    if outcome is not None and outcome.retry and outcome.degraded:
        reason, message = outcome.degraded
        raise kopf.TemporaryError(f"{reason}: {message}", delay=backoff(retry))


@kopf.timer(GROUP, VERSION, PLURAL, interval=SETTINGS.resync_seconds, initial_delay=SETTINGS.resync_seconds)
def resync(namespace: str | None, name: str, **_: Any) -> None:
    """Repairs drift nobody announced (a child edited or deleted by hand)."""
    assert namespace, "LangGraphPlatform is namespaced"
    runtime().coordinator.run(namespace, name, wait=False)


def _child(
    namespace: str | None, labels: dict[str, str], kind: str, name: str, resource_version: str | None
) -> None:
    owner = labels.get("app.kubernetes.io/instance")
    if not owner or not namespace:
        return
    if runtime().kube.is_own_write(kind, namespace, name, resource_version):
        return  # our own apply echoed back by the watch: nothing new to look at
    runtime().coordinator.run_soon(namespace, owner)


@kopf.on.event("apps", "v1", "deployments", labels=CHILD_LABELS)
@kopf.on.event("apps", "v1", "statefulsets", labels=CHILD_LABELS)
@kopf.on.event("", "v1", "services", labels=CHILD_LABELS)
@kopf.on.event("", "v1", "pods", labels=CHILD_LABELS)
def on_child_event(
    namespace: str | None, labels: Mapping[str, str], body: kopf.Body, name: str, **_: Any
) -> None:
    rv = body.get("metadata", {}).get("resourceVersion")
    _child(namespace, dict(labels), str(body.get("kind", "")), name, rv)


@kopf.on.delete(GROUP, VERSION, PLURAL)
def on_delete(body: kopf.Body, **_: Any) -> None:
    """Children go by garbage collection (owner references); the database follows retainOnDelete."""
    log.info("%s", runtime().reconciler.finalize(dict(body)))
