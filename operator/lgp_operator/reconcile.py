"""The one level-based reconcile: compute the whole desired set, apply what changed, prune what is no
longer wanted, write status. Called on create, update, resume, child changes and by the drift timer.

It makes no write call when nothing changed: children are compared with the server before any apply,
and the status is patched only when it differs.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .api.models import API_VERSION, KIND
from .builders.common import (
    RETAINED_LABEL,
    InvalidSpec,
    Platform,
    api_server_name,
    instance_selector,
    postgres_name,
    queue_name,
    redis_name,
    target_revision,
)
from .builders.deployment import LICENSE_KEY
from .builders.desired import build_desired
from .builders.postgres import new_password
from .k8s.apply import apply_if_changed
from .k8s.discovery import Discovery
from .k8s.events import post_event
from .k8s.kube import Kube, KubeError
from .k8s.prune import prunable_kinds, prune
from .settings import OperatorSettings
from .status import condition, deployment_rollout, get_condition, merge_patch, pod_failures

log = logging.getLogger(__name__)

# Degraded reasons that are retried with backoff (TemporaryError) by the create/update handlers.
RETRYABLE = {
    "SecretNotFound",
    "ApplyFailed",
    "ImagePullBackOff",
    "ErrImagePull",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
    "RunContainerError",
    "ProgressDeadlineExceeded",
}


@dataclass
class Outcome:
    """What one reconcile found. ``degraded`` is (reason, message) when Degraded=True."""

    ready: bool = False
    degraded: tuple[str, str] | None = None
    changed: list[str] = field(default_factory=list)

    @property
    def retry(self) -> bool:
        return self.degraded is not None and self.degraded[0] in RETRYABLE


def _ref(body: dict[str, Any]) -> dict[str, Any]:
    meta = body.get("metadata") or {}
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {k: meta.get(k) for k in ("name", "namespace", "uid")},
    }


class Reconciler:
    def __init__(self, kube: Kube, settings: OperatorSettings, discovery: Discovery | None = None) -> None:
        self.kube = kube
        self.settings = settings
        self.discovery = discovery or Discovery(kube, keda=settings.keda, ttl=settings.discovery_seconds)
        self._pruned: dict[str, tuple[Any, ...]] = {}  # uid -> (generation, capabilities) last pruned

    # ------------------------------------------------------------------ entry point
    def reconcile(self, body: dict[str, Any]) -> Outcome:
        meta = body.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            return Outcome()
        generation = int(meta.get("generation") or 1)
        old_status: dict[str, Any] = dict(body.get("status") or {})
        try:
            cr = Platform.from_body(body)
            caps = self.discovery.capabilities()
            missing = self._missing_secrets(cr)
            if missing:
                return self._finish(
                    body, old_status, generation, degraded=("SecretNotFound", "; ".join(missing))
                )
            password = self._postgres_password(cr) if cr.spec.database.managed else None
            # Builders raise InvalidSpec too (an Ingress without a host and no default domain, ...).
            desired = build_desired(cr, self.settings, caps, postgres_password=password)
        except InvalidSpec as e:
            return self._finish(body, old_status, generation, degraded=("InvalidSpec", str(e)))

        changed: list[str] = []
        degraded: tuple[str, str] | None = None
        lives: dict[tuple[str, str], dict[str, Any]] = {}
        for obj in desired.objects:
            kind, name = obj["kind"], obj["metadata"]["name"]
            try:
                action, live = apply_if_changed(self.kube, obj)
            except KubeError as e:
                if e.status in (400, 403, 404, 422):
                    degraded = degraded or ("ApplyFailed", f"{kind} {name}: {e.message}")
                    continue
                raise  # 409, 5xx, timeouts: transient, the caller retries
            lives[(kind, name)] = live
            if action != "unchanged":
                changed.append(f"{action} {kind} {name}")
        # Pruning lists every child kind: done when the spec or the served APIs changed since this
        # process last pruned this resource (and once after a start), not on every resync.
        prune_key = (cr.generation, caps, self.discovery.keda_served)
        if degraded is None and self._pruned.get(cr.uid) != prune_key:  # never delete because of an error
            kinds = prunable_kinds(caps, self.discovery.keda_served)
            for kind, name in prune(
                self.kube,
                namespace=cr.namespace,
                selector=instance_selector(cr),
                owner_uid=cr.uid,
                keep=desired.identities(),
                kinds=kinds,
            ):
                changed.append(f"deleted {kind} {name}")
            self._pruned[cr.uid] = prune_key
        if changed:
            log.info("%s/%s: %s", cr.namespace, cr.name, ", ".join(changed))
            post_event(self.kube, _ref(body), reason="Applied", message="; ".join(changed))
        return self._finish(
            body,
            old_status,
            generation,
            cr=cr,
            lives=lives,
            degraded=degraded,
            endpoint=desired.endpoint,
            keda=desired.keda,
            hpa_api=caps.hpa_api,
            changed=changed,
        )

    # ------------------------------------------------------------------ inputs
    def _secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.kube.get("v1", "Secret", namespace, name)

    def _missing_secrets(self, cr: Platform) -> list[str]:
        """Every referenced Secret (and key) that does not exist, as a sentence naming the field."""
        refs: list[tuple[str, str, str | None]] = []  # (field, secret, key)
        spec = cr.spec
        if spec.env_from_secret:
            refs.append(("spec.envFromSecret", spec.env_from_secret, None))
        refs += [(f"spec.envFromSecrets[{i}]", n, None) for i, n in enumerate(spec.env_from_secrets)]
        if spec.database.external:
            r = spec.database.external.secret_ref
            refs.append(("spec.database.external.secretRef", r.name, r.key))
        if spec.redis.external:
            r = spec.redis.external.secret_ref
            refs.append(("spec.redis.external.secretRef", r.name, r.key))
        if self.settings.license_secret:
            refs.append(("LGP_OPERATOR_LICENSE_SECRET", self.settings.license_secret, LICENSE_KEY))
        out = []
        for field_, name, key in refs:
            secret = self._secret(cr.namespace, name)
            if secret is None:
                out.append(f"{field_}: Secret {name!r} not found in namespace {cr.namespace!r}")
            elif key is not None and key not in (secret.get("data") or {}):
                out.append(f"{field_}: Secret {name!r} has no key {key!r}")
        return out

    def _postgres_password(self, cr: Platform) -> str:
        """The managed database's password: read from its Secret, generated only when there is none."""
        secret = self._secret(cr.namespace, postgres_name(cr))
        data = (secret or {}).get("data") or {}
        if secret is not None and RETAINED_LABEL in ((secret.get("metadata") or {}).get("labels") or {}):
            self._adopt_retained(cr)
        if "password" in data:
            return base64.b64decode(data["password"]).decode()
        return new_password()

    def _adopt_retained(self, cr: Platform) -> None:
        """A database retained from a deleted resource of the same name is used again: drop the label."""
        patch = {"metadata": {"labels": {RETAINED_LABEL: None}}}
        adopted = [f"Secret {postgres_name(cr)}"]
        self.kube.merge_patch("v1", "Secret", cr.namespace, postgres_name(cr), patch)
        selector = (
            f"app.kubernetes.io/instance={cr.name},app.kubernetes.io/component=postgres,{RETAINED_LABEL}"
        )
        for pvc in self.kube.list("v1", "PersistentVolumeClaim", cr.namespace, selector):
            self.kube.merge_patch("v1", "PersistentVolumeClaim", cr.namespace, pvc["metadata"]["name"], patch)
            adopted.append(f"PersistentVolumeClaim {pvc['metadata']['name']}")
        ref = {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": cr.name, "namespace": cr.namespace, "uid": cr.uid},
        }
        post_event(
            self.kube,
            ref,
            reason="DatabaseAdopted",
            message=f"using the retained database again: {', '.join(adopted)}",
        )

    # ------------------------------------------------------------------ status
    def _get(
        self, lives: dict[tuple[str, str], dict[str, Any]], api_version: str, kind: str, ns: str, name: str
    ) -> dict[str, Any] | None:
        return lives.get((kind, name)) or self.kube.get(api_version, kind, ns, name)

    def _finish(
        self,
        body: dict[str, Any],
        old_status: dict[str, Any],
        generation: int,
        *,
        cr: Platform | None = None,
        lives: dict[tuple[str, str], dict[str, Any]] | None = None,
        degraded: tuple[str, str] | None = None,
        endpoint: str | None = None,
        keda: bool = False,
        hpa_api: str | None = None,
        changed: list[str] | None = None,
    ) -> Outcome:
        old_conds = old_status.get("conditions") or []
        status: dict[str, Any] = {
            k: v for k, v in old_status.items() if k in ("liveRevision", "endpoint", "replicas")
        }
        status["observedGeneration"] = generation
        conds: list[dict[str, Any]] = []
        ready = False

        def cond(type_: str, value: bool | None, reason: str, message: str) -> None:
            conds.append(condition(type_, value, reason, message, generation, old_conds))

        if cr is None:  # invalid or unsatisfiable before anything was applied
            assert degraded is not None
            reason, message = degraded
            cond("Ready", False, reason, message)
            cond("Progressing", False, reason, "nothing applied until the problem is fixed")
            cond("Degraded", True, reason, message)
            for c in old_conds:
                if c.get("type") in ("DatabaseReady", "RedisReady", "PendingRunScaling"):
                    conds.append(c)
        else:
            lives = lives or {}
            ns = cr.namespace
            rev = target_revision(cr)
            # ---- database and redis
            if cr.spec.database.external is not None:
                db_ok, db_reason, db_msg = True, "External", "external database (URI from a Secret)"
            else:
                sts = self._get(lives, "apps/v1", "StatefulSet", ns, postgres_name(cr)) or {}
                ready_n = int((sts.get("status") or {}).get("readyReplicas") or 0)
                db_ok = ready_n >= 1
                db_reason, db_msg = (
                    ("Running", "postgres is ready")
                    if db_ok
                    else ("Starting", f"{postgres_name(cr)}: {ready_n}/1 pods ready")
                )
            cond("DatabaseReady", db_ok, db_reason, db_msg)
            if cr.spec.redis.external is not None:
                redis_ok, r_reason, r_msg = True, "External", "external Redis (URI from a Secret)"
            else:
                rd = self._get(lives, "apps/v1", "Deployment", ns, redis_name(cr)) or {}
                avail = int((rd.get("status") or {}).get("availableReplicas") or 0)
                redis_ok = avail >= 1
                r_reason, r_msg = (
                    ("Running", "redis is ready")
                    if redis_ok
                    else ("Starting", f"{redis_name(cr)}: {avail}/1 pods available")
                )
            cond("RedisReady", redis_ok, r_reason, r_msg)
            # ---- rollout of the server deployments
            api = deployment_rollout(
                self._get(lives, "apps/v1", "Deployment", ns, api_server_name(cr)), rev.id
            )
            rollouts = [api]
            replicas: dict[str, Any] = {"apiServer": api.counts}
            if cr.spec.queue.enabled:
                q = deployment_rollout(self._get(lives, "apps/v1", "Deployment", ns, queue_name(cr)), rev.id)
                rollouts.append(q)
                replicas["queue"] = q.counts
            status["replicas"] = replicas
            complete = all(r.complete for r in rollouts)
            if degraded is None:
                pods = self.kube.list("v1", "Pod", ns, instance_selector(cr))
                failures = pod_failures(pods, rev.id, backing_ready=db_ok and redis_ok)
                if failures:
                    degraded = (failures[0][0], "; ".join(m for _, m in failures[:3]))
                else:
                    stalled = next((r.stalled for r in rollouts if r.stalled and not r.complete), None)
                    if stalled:
                        degraded = ("ProgressDeadlineExceeded", stalled)
            if complete and not cr.spec.suspend:
                status["liveRevision"] = rev.wire()
            status["endpoint"] = endpoint
            rollout_msg = "; ".join(r.message for r in rollouts)
            if complete:
                cond("Progressing", False, "RolloutComplete", f"revision {rev.id}: {rollout_msg}")
            elif degraded is not None:
                cond("Progressing", False, "Stalled", f"revision {rev.id}: {rollout_msg}")
            else:
                cond("Progressing", True, "RollingOut", f"revision {rev.id}: {rollout_msg}")
            if degraded is not None:
                cond("Degraded", True, degraded[0], degraded[1])
            else:
                cond("Degraded", False, "AsExpected", "no problem found")
            if cr.spec.suspend:
                cond("Ready", False, "Suspended", "spec.suspend is true: the server runs no pods")
            elif degraded is not None:
                cond("Ready", False, degraded[0], degraded[1])
            elif not complete:
                cond("Ready", False, "RollingOut", f"revision {rev.id}: {rollout_msg}")
            elif not db_ok:
                cond("Ready", False, "DatabaseNotReady", db_msg)
            elif not redis_ok:
                cond("Ready", False, "RedisNotReady", r_msg)
            else:
                ready = True
                cond("Ready", True, "Live", f"revision {rev.id} is live at {endpoint}")
            if cr.spec.autoscaling.enabled and not cr.spec.suspend:
                if keda:
                    cond(
                        "PendingRunScaling",
                        True,
                        "KedaScaledObject",
                        "KEDA scales on CPU, memory and pending runs "
                        f"({cr.spec.autoscaling.pending_runs_per_replica}"
                        " per replica)",
                    )
                else:
                    cond(
                        "PendingRunScaling",
                        False,
                        "KedaNotInstalled",
                        "pending-run scaling is off: the keda.sh/v1alpha1 ScaledObject API is not served (or "
                        f"LGP_OPERATOR_KEDA=disabled); an HPA ({hpa_api}) scales on CPU and memory only",
                    )
        status["conditions"] = conds
        status = {k: v for k, v in status.items() if v is not None}
        self._write_status(body, old_status, status)
        return Outcome(ready=ready, degraded=degraded, changed=changed or [])

    def _write_status(self, body: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> None:
        if old == new:
            return
        meta = body["metadata"]
        try:
            self.kube.merge_patch(
                API_VERSION,
                KIND,
                meta["namespace"],
                meta["name"],
                {"status": merge_patch(old, new)},
                subresource="status",
            )
        except KubeError as e:
            if e.status == 404:  # deleted meanwhile
                return
            raise
        ref = _ref(body)
        old_deg, new_deg = get_condition(old, "Degraded"), get_condition(new, "Degraded")
        if (
            new_deg
            and new_deg["status"] == "True"
            and (
                not old_deg
                or (old_deg.get("status"), old_deg.get("reason"), old_deg.get("message"))
                != ("True", new_deg["reason"], new_deg["message"])
            )
        ):
            post_event(self.kube, ref, reason=new_deg["reason"], message=new_deg["message"], warning=True)
        if old.get("liveRevision") != new.get("liveRevision") and new.get("liveRevision"):
            post_event(
                self.kube, ref, reason="RevisionLive", message=f"revision {new['liveRevision']['id']} is live"
            )
        old_ready, new_ready = get_condition(old, "Ready"), get_condition(new, "Ready")
        if (
            new_ready
            and new_ready["status"] == "True"
            and (not old_ready or old_ready.get("status") != "True")
        ):
            post_event(self.kube, ref, reason="Ready", message=new_ready["message"])

    # ------------------------------------------------------------------ deletion
    def finalize(self, body: dict[str, Any]) -> str:
        """On delete: children go by garbage collection; a managed database is retained (labelled, with an
        Event) or its volumes deleted, as spec.database.managed.retainOnDelete says."""
        meta = body["metadata"]
        ns, name = meta["namespace"], meta["name"]
        spec = body.get("spec") or {}
        managed = (spec.get("database") or {}).get("managed")
        if (spec.get("database") or {}).get("external") is not None:
            return "external database: not touched"
        retain = True if managed is None else bool(managed.get("retainOnDelete", True))
        selector = f"app.kubernetes.io/instance={name},app.kubernetes.io/component=postgres"
        pvcs = self.kube.list("v1", "PersistentVolumeClaim", ns, selector)
        secret_name = f"{name}-postgres"
        if retain:
            patch = {"metadata": {"labels": {RETAINED_LABEL: "true"}}}
            kept = []
            for pvc in pvcs:
                self.kube.merge_patch("v1", "PersistentVolumeClaim", ns, pvc["metadata"]["name"], patch)
                kept.append(f"PersistentVolumeClaim {pvc['metadata']['name']}")
            secret = self._secret(ns, secret_name)
            if secret is not None:
                self.kube.merge_patch("v1", "Secret", ns, secret_name, patch)
                kept.append(f"Secret {secret_name}")
            msg = (
                f"database retained (spec.database.managed.retainOnDelete): "
                f"{', '.join(kept) or 'nothing yet'}"
                f" labelled {RETAINED_LABEL}=true; delete them by hand to drop the data"
            )
            post_event(self.kube, _ref(body), reason="DatabaseRetained", message=msg)
            return msg
        for pvc in pvcs:
            self.kube.delete(
                "v1", "PersistentVolumeClaim", ns, pvc["metadata"]["name"], uid=pvc["metadata"]["uid"]
            )
        msg = f"database deleted: {len(pvcs)} volume claim(s) (retainOnDelete is false)"
        post_event(self.kube, _ref(body), reason="DatabaseDeleted", message=msg)
        return msg


class Coordinator:
    """One reconcile at a time per resource; triggers that arrive meanwhile are coalesced into one rerun."""

    def __init__(self, run: Callable[[str, str], Outcome | None]) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._scheduled: set[tuple[str, str]] = set()

    def _key_lock(self, key: tuple[str, str]) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def run(self, namespace: str, name: str, *, wait: bool = True) -> Outcome | None:
        """Reconcile now (``wait``) or, when one is running, mark it to run again and return None."""
        key = (namespace, name)
        lock = self._key_lock(key)
        outcome = None
        while True:
            if not lock.acquire(blocking=wait):
                with self._lock:
                    self._dirty.add(key)
                if lock.acquire(blocking=False):  # the holder finished meanwhile: run it ourselves
                    lock.release()
                    continue
                return outcome
            try:
                with self._lock:
                    self._dirty.discard(key)
                outcome = self._run(namespace, name)
            finally:
                lock.release()
            with self._lock:
                if key not in self._dirty:
                    return outcome
            wait = False  # a trigger arrived while running: run again unless someone else already does

    def run_soon(self, namespace: str, name: str, delay: float = 0.5) -> None:
        """Reconcile after ``delay`` seconds; triggers meanwhile join that one run. Children change in
        bursts (one apply creates several objects, a rollout moves many pods): one reconcile serves them."""
        key = (namespace, name)
        with self._lock:
            if key in self._scheduled:
                return
            self._scheduled.add(key)

        def fire() -> None:
            with self._lock:
                self._scheduled.discard(key)
            try:
                self.run(namespace, name, wait=False)
            except Exception as e:  # the timer and the next child event retry
                log.warning("%s/%s: reconcile after a child change failed: %s", namespace, name, e)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        timer.start()
