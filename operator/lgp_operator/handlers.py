"""Thin kopf handlers: every trigger (create, update, resume, the periodic resync) calls the one reconcile
through a per-resource coordinator; a child's change comes from the operator's own watches of its
children (``k8s.cache``), which also serve the reconcile's reads. Importing this module registers the
handlers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf

from lgp_contract.resource import GROUP, PLURAL, VERSION

from .coordinator import Coordinator, Resync
from .health import BEAT_SECONDS, HEALTH
from .k8s.cache import CACHED_KINDS, ChildCache
from .k8s.kube import Kube, new_api_client
from .metrics import METRICS
from .reconcile import Outcome, Reconciler
from .settings import OperatorSettings

log = logging.getLogger("lgp_operator")
SETTINGS = OperatorSettings()
HEARTBEAT: list[asyncio.Task[None]] = []  # a reference keeps the task alive
# How long the start waits for the children's first lists (reads ask the server until then).
CACHE_SYNC_SECONDS = 60


class Runtime:
    def __init__(self, settings: OperatorSettings) -> None:
        self.kube = Kube(new_api_client(settings.kubeconfig))
        self.kube.on_request = METRICS.api_request
        self.reconciler = Reconciler(self.kube, settings, metrics=METRICS)
        self.coordinator = Coordinator(self._run)
        self.resync = Resync(self.coordinator, settings.resync_seconds)
        self.cache = ChildCache(
            self.kube,
            settings.namespaces,
            on_change=self._child,
            kinds=CACHED_KINDS + self._discovered_kinds(),
        )
        self.kube.cache = self.cache
        METRICS.watch_queue(self.coordinator.depth)

    def _discovered_kinds(self) -> tuple[tuple[str, str], ...]:
        """The PodDisruptionBudget and HorizontalPodAutoscaler at the versions this cluster serves (none
        when discovery fails now: they are read from the server then)."""
        try:
            caps = self.reconciler.discovery.capabilities()
        except Exception as e:  # the apiserver answers later: nothing is lost, reads ask it
            log.warning("discovery failed at start (%s): PodDisruptionBudgets and HPAs are not cached", e)
            return ()
        out = []
        if caps.pdb_api:
            out.append((caps.pdb_api, "PodDisruptionBudget"))
        if caps.hpa_api:
            out.append((caps.hpa_api, "HorizontalPodAutoscaler"))
        return tuple(out)

    def _child(self, event: str, obj: dict[str, Any]) -> None:
        """A child changed: its owner is reconciled soon (bursts join one run), unless the change is
        our own apply echoed back by the watch."""
        meta = obj.get("metadata") or {}
        owner = (meta.get("labels") or {}).get("app.kubernetes.io/instance")
        namespace, name = meta.get("namespace"), str(meta.get("name"))
        if not owner or not namespace:
            return
        if event == "DELETED":
            self.kube.forget_write(str(obj.get("kind")), namespace, name)
        if self.kube.is_own_write(str(obj.get("kind")), namespace, name, meta.get("resourceVersion")):
            return
        self.coordinator.run_soon(namespace, owner)

    def _run(self, namespace: str, name: str) -> Outcome | None:
        body = self.kube.get(f"{GROUP}/{VERSION}", "LangGraphPlatform", namespace, name)
        if body is None:
            self.resync.remove(namespace, name)  # gone: nothing to repair
            return None
        outcome = self.reconciler.reconcile(body)
        log.debug(
            "%s/%s: reconciled: ready %s, %d change(s)", namespace, name, outcome.ready, len(outcome.changed)
        )
        return outcome


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
    rt = runtime()
    rt.cache.start()
    rt.resync.start()
    if not rt.cache.wait_synced(CACHE_SYNC_SECONDS):
        log.warning("children's watches not synced after %ds: reads ask the server", CACHE_SYNC_SECONDS)


@kopf.on.cleanup()
def stop_watches(**_: Any) -> None:
    if RUNTIME is not None:
        RUNTIME.resync.stop()
        RUNTIME.cache.stop()


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
    runtime().resync.add(namespace, name)  # repaired every LGP_OPERATOR_RESYNC_SECONDS from now on
    outcome = runtime().coordinator.run(namespace, name)
    if outcome is not None:
        state = "ready" if outcome.ready else (outcome.degraded[0] if outcome.degraded else "in progress")
        log.info("%s/%s: reconciled (%s, %d change(s))", namespace, name, state, len(outcome.changed))
    if outcome is not None and outcome.retry and outcome.degraded:
        reason, message = outcome.degraded
        raise kopf.TemporaryError(f"{reason}: {message}", delay=backoff(retry))


@kopf.on.delete(GROUP, VERSION, PLURAL)
def on_delete(body: kopf.Body, **_: Any) -> None:
    """Children go by garbage collection (owner references); the database follows retainOnDelete."""
    log.info("%s", runtime().reconciler.finalize(dict(body)))
    meta = body.get("metadata", {})
    runtime().resync.remove(str(meta.get("namespace", "")), str(meta.get("name", "")))
    METRICS.forget(str(meta.get("namespace", "")), str(meta.get("name", "")))
