"""The listener's two jobs: make the cluster match the control plane's desired state, and tell the
control plane what the cluster did with it.

Rules this module keeps:
- Apply with server-side apply as field manager ``lgp-listener``, and only when the live object
  differs from what we want (a restart makes no write).
- Delete a LangGraphPlatform only for an explicit tombstone (``deleted: true``) and only an object
  that carries this deployment's id label. Never because of an error, a timeout, an empty or failed
  answer, or a namespace that cannot be read.
- Refuse deployments aimed at namespaces outside this listener's list, and report the refusal.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

from lgp_operator.api import API_VERSION, GROUP, KIND, PLURAL, VERSION
from lgp_operator.k8s.apply import is_subset

from .client import ControlPlaneClient, Refused, Unavailable
from .metrics import ListenerMetrics
from .translate import (
    FIELD_MANAGER,
    LABEL_DEPLOYMENT_ID,
    LABEL_LISTENER_ID,
    DesiredObjects,
    TranslationError,
    desired_objects,
    revision_outcome,
    spec_hash,
)

log = logging.getLogger("lgp.listener")

IN_FLIGHT = {"QUEUED", "AWAITING_DEPLOY"}
FINAL = {"DEPLOYED", "DEPLOY_FAILED", "INTERRUPTED", "SKIPPED", "REPLACED"}


def _events_by_deployment(trs: list[Tracked], events: list[Any]) -> dict[str, list[Any]]:
    """Kubernetes events of each deployment: those about its LangGraphPlatform or a child named
    ``<name>-...`` (the longest matching name wins, so ``a`` and ``a-b`` stay apart)."""
    names = sorted(((tr.name, tr.deployment_id) for tr in trs), key=lambda x: -len(x[0]))
    out: dict[str, list[Any]] = {}
    for ev in events:
        obj = (ev.get("involvedObject") or {}).get("name") or ""
        for name, dep_id in names:
            if obj == name or obj.startswith(name + "-"):
                out.setdefault(dep_id, []).append(ev)
                break
    return out


@dataclass
class Tracked:
    """What the listener knows of one deployment between rounds."""

    deployment_id: str
    name: str
    namespace: str
    revision_id: str | None = None
    revision_status: str | None = None
    reported: dict[str, str] = field(default_factory=dict)  # revision id -> status we reported
    failing_since: float | None = None
    report_hash: str | None = None
    seen_events: set[str] = field(default_factory=set)
    # Serialises the status reports of this one deployment between the sync loop and the observer,
    # so neither holds the listener-wide lock during the observer's HTTP calls.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


class Syncer:
    def __init__(
        self,
        cp: ControlPlaneClient,
        api: client.ApiClient,
        *,
        namespaces: list[str],
        metrics: ListenerMetrics,
        failure_grace_seconds: float = 10.0,
        apply_concurrency: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cp = cp
        self.api = api
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.dyn = dynamic.DynamicClient(api)
        self.namespaces = set(namespaces)
        self.metrics = metrics
        self.failure_grace_seconds = failure_grace_seconds
        self.clock = clock
        self.listener_id: str | None = None
        self.version: int | None = None
        self.tracked: dict[str, Tracked] = {}
        self.pending_deletions: set[str] = set()
        self.refused: dict[str, str] = {}  # revision id -> reason already reported
        self.applied: dict[str, str] = {}  # deployment id -> hash of the objects last applied
        self.applied_secret: dict[str, str] = {}  # deployment id -> hash of the Secret last applied
        self.apply_concurrency = apply_concurrency
        self.needs_apply = False  # set by the observer when a LangGraphPlatform went missing
        self.writes = 0  # Kubernetes write calls made (tests count them)
        self._writes_lock = threading.Lock()
        self._lock = threading.RLock()
        self._crd: Any = None

    # ------------------------------------------------------------------ kube helpers
    def _platforms(self) -> Any:
        if self._crd is None:
            self._crd = self.dyn.resources.get(api_version=API_VERSION, kind=KIND)
        return self._crd

    def _secrets(self) -> Any:
        return self.dyn.resources.get(api_version="v1", kind="Secret")

    def _read(self, resource: Any, name: str, namespace: str) -> dict[str, Any] | None:
        try:
            obj: dict[str, Any] = resource.get(name=name, namespace=namespace).to_dict()
            return obj
        except ApiException as e:
            if e.status == 404:
                return None
            raise

    def _apply(self, resource: Any, body: dict[str, Any]) -> None:
        self._count_write()
        resource.server_side_apply(
            body=body,
            namespace=body["metadata"]["namespace"],
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
        )

    def _count_write(self) -> None:
        with self._writes_lock:
            self.writes += 1

    def allowed(self, namespace: str) -> bool:
        return not self.namespaces or namespace in self.namespaces

    # ------------------------------------------------------------------ sync
    def apply_state(self, state: dict[str, Any], *, verify: bool = False) -> None:
        """Make the cluster match ``state``. Raises on Kubernetes errors after doing what it could.

        Deployments whose desired objects are unchanged since they were last applied are skipped
        without a read, so a change to one deployment costs one deployment's calls. ``verify``
        compares every deployment with the live objects instead (start-up and periodic resync);
        the observer also invalidates a deployment whose LangGraphPlatform disappeared.
        """
        with self._lock:
            self.listener_id = str(state["listener_id"])
            errors: list[Exception] = []
            self._platforms()  # discover once, before the fan-out

            def one(d: dict[str, Any]) -> None:
                try:
                    self._apply_deployment(d, verify=verify)
                except (ApiException, Unavailable) as e:
                    errors.append(e)
                    self.metrics.errors.labels(kind="apply").inc()
                    log.warning(
                        "could not apply deployment %s/%s: %s",
                        d["namespace"],
                        d["name"],
                        getattr(e, "reason", None) or e,
                    )

            # deployments are independent (each has its own lock): apply them side by side
            with ThreadPoolExecutor(max_workers=self.apply_concurrency, thread_name_prefix="apply") as pool:
                list(pool.map(one, state["deployments"]))
            self.version = int(state["version"])
            if errors:
                raise errors[0]

    def _apply_deployment(self, d: dict[str, Any], *, verify: bool = False) -> None:
        dep_id = str(d["id"])
        tr = self.tracked.setdefault(dep_id, Tracked(dep_id, d["name"], d["namespace"]))
        with tr.lock:
            self._apply_tracked(d, tr, verify=verify)

    def _apply_tracked(self, d: dict[str, Any], tr: Tracked, *, verify: bool) -> None:
        dep_id, name, ns = tr.deployment_id, tr.name, tr.namespace
        rev = d.get("revision") or {}
        rev_id = str(rev["id"]) if rev else None
        tr.revision_id, tr.revision_status = rev_id, rev.get("status")
        if not self.allowed(ns):
            self._refuse(
                tr,
                "NamespaceNotAllowed",
                f"namespace {ns!r} is not managed by this listener (it manages: "
                f"{', '.join(sorted(self.namespaces))})",
            )
            return
        if d.get("deleted"):
            self.pending_deletions.add(dep_id)
            self._delete(tr)
            return
        self.pending_deletions.discard(dep_id)
        if not rev_id:
            return
        try:
            objs = desired_objects(d, self.listener_id or "")
        except TranslationError as e:
            self._refuse(tr, "InvalidSpec", str(e))
            return
        key = spec_hash({"platform": objs.platform, "secret": objs.secret})
        if verify or self.applied.get(dep_id) != key:
            secret_key = spec_hash(objs.secret)
            self._apply_objects(
                objs, secret_unchanged=not verify and self.applied_secret.get(dep_id) == secret_key
            )
            self.applied[dep_id] = key
            self.applied_secret[dep_id] = secret_key
        if tr.revision_status in IN_FLIGHT and tr.reported.get(rev_id) is None:
            self._report_status(
                tr,
                rev_id,
                "DEPLOYING",
                "Applied",
                f"LangGraphPlatform {ns}/{name} applied for revision {rev.get('number')}",
            )

    def _apply_objects(self, objs: DesiredObjects, *, secret_unchanged: bool = False) -> None:
        if objs.secret is not None and not secret_unchanged:
            live = self._read(self._secrets(), objs.secret["metadata"]["name"], objs.namespace)
            want = {k: base64.b64encode(v.encode()).decode() for k, v in objs.secret["stringData"].items()}
            if (
                live is None
                or (live.get("data") or {}) != want
                or not is_subset(objs.secret["metadata"]["labels"], live["metadata"].get("labels") or {})
            ):
                self._apply(self._secrets(), objs.secret)
                self.metrics.applies.labels(kind="Secret").inc()
        live = self._read(self._platforms(), objs.name, objs.namespace)
        if (
            live is not None
            and LABEL_DEPLOYMENT_ID in (live["metadata"].get("labels") or {})
            and live["metadata"]["labels"][LABEL_DEPLOYMENT_ID] != objs.deployment_id
        ):
            raise ApiException(
                status=409,
                reason=f"LangGraphPlatform {objs.namespace}/{objs.name} belongs to another deployment",
            )
        if (
            live is None
            or live["metadata"].get("deletionTimestamp")
            or not (
                is_subset(objs.platform["spec"], live.get("spec") or {})
                and is_subset(objs.platform["metadata"]["labels"], live["metadata"].get("labels") or {})
                and is_subset(
                    objs.platform["metadata"]["annotations"], live["metadata"].get("annotations") or {}
                )
            )
        ):
            self._apply(self._platforms(), objs.platform)
            self.metrics.applies.labels(kind=KIND).inc()
            log.info("applied %s %s/%s (revision %s)", KIND, objs.namespace, objs.name, objs.revision_id)

    def _delete(self, tr: Tracked) -> None:
        """Explicit tombstone: delete our objects; acknowledge once the LangGraphPlatform is gone."""
        live = self._read(self._platforms(), tr.name, tr.namespace)
        mine = (
            live is not None
            and (live["metadata"].get("labels") or {}).get(LABEL_DEPLOYMENT_ID) == tr.deployment_id
        )
        if live is not None and not mine:
            log.warning(
                "tombstone for %s/%s but the object there is not this deployment's; leaving it",
                tr.namespace,
                tr.name,
            )
        if mine and live is not None and not live["metadata"].get("deletionTimestamp"):
            self._count_write()
            self._platforms().delete(
                name=tr.name, namespace=tr.namespace, body={"propagationPolicy": "Background"}
            )
            self.metrics.deletes.inc()
            log.info(
                "deleted %s %s/%s: its deployment was deleted in the control plane",
                KIND,
                tr.namespace,
                tr.name,
            )
        for secret in self.core.list_namespaced_secret(
            tr.namespace, label_selector=f"{LABEL_DEPLOYMENT_ID}={tr.deployment_id}"
        ).items:
            self._count_write()
            try:
                self.core.delete_namespaced_secret(secret.metadata.name, tr.namespace)
            except ApiException as e:
                if e.status != 404:
                    raise
        if live is None or not mine:
            self.cp.acknowledge_deletion(tr.deployment_id)
            self.pending_deletions.discard(tr.deployment_id)
            self.tracked.pop(tr.deployment_id, None)
            self.applied.pop(tr.deployment_id, None)
            self.applied_secret.pop(tr.deployment_id, None)

    def _refuse(self, tr: Tracked, reason: str, message: str) -> None:
        log.warning("refused deployment %s/%s: %s", tr.namespace, tr.name, message)
        rev_id = tr.revision_id
        if rev_id is None or self.refused.get(rev_id) == reason:
            return
        self.cp.report(
            tr.deployment_id,
            {
                "revision_id": rev_id,
                "events": [
                    {"type": "Warning", "reason": reason, "message": message, "object": f"{KIND}/{tr.name}"}
                ],
            },
        )
        if tr.revision_status in IN_FLIGHT or tr.revision_status == "DEPLOYING":
            if tr.revision_status in IN_FLIGHT:
                self._report_status(tr, rev_id, "DEPLOYING", "Refused", message)
            self._report_status(tr, rev_id, "DEPLOY_FAILED", reason, message)
        self.refused[rev_id] = reason

    def _report_status(
        self, tr: Tracked, rev_id: str, status: str, reason: str | None, message: str | None
    ) -> None:
        """Report a revision transition once; the caller holds ``tr.lock``."""
        try:
            self.cp.report_status(rev_id, status, reason, message)
        except Refused as e:
            # e.g. the revision was interrupted or overtaken meanwhile: nothing to retry
            log.info("control plane refused %s for revision %s: %s", status, rev_id, e.detail)
        tr.reported[rev_id] = status
        tr.revision_status = status
        self.metrics.reports.labels(status=status).inc()

    # ------------------------------------------------------------------ observe
    def observe(self) -> None:
        """Read every LangGraphPlatform of this listener and report outcomes, conditions, events.

        Only the snapshot of what is tracked is taken under the listener-wide lock; the reads and the
        reports to the control plane happen outside it, so applying new revisions never waits for them.
        """
        with self._lock:
            listener_id = self.listener_id
            by_ns: dict[str, list[Tracked]] = {}
            for tr in self.tracked.values():
                by_ns.setdefault(tr.namespace, []).append(tr)
        if listener_id is None:
            return
        for ns, trs in by_ns.items():
            if not self.allowed(ns):
                continue
            try:
                # plain JSON, not client models: decoding thousands of events into objects every few
                # seconds would starve the sync loop of the interpreter
                items = self.custom.list_namespaced_custom_object(
                    GROUP, VERSION, ns, PLURAL, label_selector=f"{LABEL_LISTENER_ID}={listener_id}"
                )["items"]
                raw = self.core.list_namespaced_event(ns, _preload_content=False)
                events = json.loads(raw.data)["items"]
            except ApiException as e:
                self.metrics.errors.labels(kind="observe").inc()
                log.warning("cannot read namespace %s: %s", ns, e.reason)
                continue
            live = {(o["metadata"].get("labels") or {}).get(LABEL_DEPLOYMENT_ID): o for o in items}
            by_owner = _events_by_deployment(trs, events)
            for tr in trs:
                obj = live.get(tr.deployment_id)
                if obj is not None:
                    with tr.lock:
                        self._observe_one(tr, obj, by_owner.get(tr.deployment_id, []))
                    continue
                with self._lock:
                    if tr.deployment_id in self.applied and tr.deployment_id not in self.pending_deletions:
                        # deleted behind our back (kubectl delete): apply it again on the next round
                        log.warning(
                            "LangGraphPlatform %s/%s is missing; it will be applied again", ns, tr.name
                        )
                        self.applied.pop(tr.deployment_id, None)
                        self.applied_secret.pop(tr.deployment_id, None)
                        self.needs_apply = True

    def _observe_one(self, tr: Tracked, obj: dict[str, Any], events: list[Any]) -> None:
        spec_rev = ((obj.get("spec") or {}).get("revision") or {}).get("id")
        status = obj.get("status") or {}
        outcome = revision_outcome(obj)
        if (
            spec_rev
            and spec_rev == tr.revision_id
            and tr.revision_status not in FINAL
            and outcome is not None
        ):
            kind, reason, message = outcome
            if kind == "DEPLOY_FAILED":
                now = self.clock()
                tr.failing_since = tr.failing_since or now
                if now - tr.failing_since >= self.failure_grace_seconds:
                    if tr.revision_status in IN_FLIGHT:
                        self._report_status(tr, spec_rev, "DEPLOYING", "Applied", None)
                    self._report_status(tr, spec_rev, "DEPLOY_FAILED", reason, message)
            else:
                tr.failing_since = None
                if tr.revision_status in IN_FLIGHT:
                    self._report_status(tr, spec_rev, "DEPLOYING", "Applied", None)
                self._report_status(tr, spec_rev, "DEPLOYED", reason, message)
        elif outcome is None:
            tr.failing_since = None
        report: dict[str, Any] = {"revision_id": spec_rev} if spec_rev else {}
        report["conditions"] = [
            {k: c.get(k) for k in ("type", "status", "reason", "message", "lastTransitionTime") if c.get(k)}
            for c in status.get("conditions") or []
        ]
        for c in report["conditions"]:
            if "lastTransitionTime" in c:
                c["last_transition_time"] = c.pop("lastTransitionTime")
        api_replicas = (status.get("replicas") or {}).get("apiServer")
        if api_replicas:
            report["replicas"] = {
                k: api_replicas.get(k) for k in ("desired", "ready", "available", "updated")
            }
        if status.get("endpoint"):
            report["endpoint"] = status["endpoint"]
        new_events = []
        for ev in events:
            io = ev.get("involvedObject") or {}
            count = ev.get("count") or 1
            key = f"{ev['metadata'].get('uid')}:{count}"
            if key in tr.seen_events:
                continue
            tr.seen_events.add(key)
            when = ev.get("lastTimestamp") or ev.get("eventTime") or ev["metadata"].get("creationTimestamp")
            new_events.append(
                {
                    "type": ev.get("type") if ev.get("type") in ("Normal", "Warning") else "Normal",
                    "reason": (ev.get("reason") or "Unknown")[:200],
                    "message": (ev.get("message") or "")[:2000],
                    "object": f"{io.get('kind')}/{io.get('name')}",
                    "count": count,
                    "timestamp": when,
                }
            )
        h = spec_hash({k: v for k, v in report.items()})
        if new_events or h != tr.report_hash:
            report["events"] = new_events[-200:]
            try:
                self.cp.report(tr.deployment_id, report)
                tr.report_hash = h
            except Refused as e:
                log.info("control plane refused a report for %s: %s", tr.name, e.detail)
                tr.report_hash = h
