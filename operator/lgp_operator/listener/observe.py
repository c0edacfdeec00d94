"""Observing: the objects in the cluster -> reports to the control plane.

Every few seconds the listener reads the LangGraphPlatforms it applied (their status, written by the
operator) and the namespace's Kubernetes events, and reports revision outcomes, conditions, replica
counts, the endpoint and new events. The status is read with the contract's model
(``lgp_contract.resource.LangGraphPlatformStatus``), the reports are the protocol's messages.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, NamedTuple

from pydantic import ValidationError

from lgp_contract.logs import Redactor
from lgp_contract.names import LABEL_DEPLOYMENT_ID, LABEL_LISTENER_ID, belongs_to
from lgp_contract.protocol import ConditionReport, DeploymentReport, KubernetesEventReport, Replicas
from lgp_contract.resource import API_VERSION, KIND, LangGraphPlatformStatus
from lgp_contract.statuses import SETTLED, RevisionStatus
from lgp_operator.k8s.kube import KubeError

from .client import Refused
from .desired import digest
from .tracking import Context, Tracked

log = logging.getLogger("lgp.listener")
NO_SECRETS = Redactor()
REPORT_THREADS = 8  # reports to the control plane made at once in one observation round


class Outcome(NamedTuple):
    status: Literal["DEPLOYED", "DEPLOY_FAILED"]
    reason: str | None
    message: str | None


def spec_revision(obj: dict[str, Any]) -> str | None:
    return ((obj.get("spec") or {}).get("revision") or {}).get("id")


def revision_outcome(obj: dict[str, Any]) -> Outcome | None:
    """What a LangGraphPlatform's status says about the revision in its spec.

    DEPLOYED: Ready=True, liveRevision.id == spec.revision.id, observedGeneration current.
    DEPLOY_FAILED: Degraded=True for the current generation, with the condition's reason and message.
    None: still rolling out (or the operator has not seen this generation yet).
    """
    status = LangGraphPlatformStatus.model_validate(obj.get("status") or {})
    if status.observed_generation != (obj.get("metadata") or {}).get("generation"):
        return None
    conds = {c.type: c for c in status.conditions}
    degraded, ready = conds.get("Degraded"), conds.get("Ready")
    if degraded is not None and degraded.status == "True":
        return Outcome("DEPLOY_FAILED", degraded.reason, degraded.message or None)
    rev = spec_revision(obj)
    live = status.live_revision.id if status.live_revision else None
    if ready is not None and ready.status == "True" and rev and live == rev:
        return Outcome("DEPLOYED", ready.reason, ready.message or None)
    return None


def observed(obj: dict[str, Any], redact: Redactor = NO_SECRETS) -> DeploymentReport:
    """The conditions, api-server replica counts and endpoint a LangGraphPlatform's status shows; the
    deployment's secret values redacted from the conditions (a crashed container's last message is in
    one)."""
    status = LangGraphPlatformStatus.model_validate(obj.get("status") or {})
    conditions = [ConditionReport.of(c) for c in status.conditions]
    for c in conditions:
        if c.message:
            c.message = redact(c.message)
    given: dict[str, Any] = {"conditions": conditions}
    rev = spec_revision(obj)
    try:
        if rev:
            given["revision_id"] = uuid.UUID(rev)
    except ValueError:
        pass  # not a control-plane revision (tmpl-<hash>): nothing to file it under
    api = status.replicas.api_server if status.replicas else None
    if api is not None:
        given["replicas"] = Replicas.model_validate(api.model_dump())
    if status.endpoint:
        given["endpoint"] = status.endpoint
    return DeploymentReport.model_validate(given)


def events_by_deployment(trs: list[Tracked], events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Kubernetes events of each deployment: those about its LangGraphPlatform or one of its children
    (the longest matching name wins, so ``a`` and ``a-b`` stay apart)."""
    names = sorted(((tr.name, tr.deployment_id) for tr in trs), key=lambda x: -len(x[0]))
    out: dict[str, list[dict[str, Any]]] = {}
    for ev in events:
        obj = (ev.get("involvedObject") or {}).get("name") or ""
        for name, dep_id in names:
            if belongs_to(name, obj):
                out.setdefault(dep_id, []).append(ev)
                break
    return out


def event_report(ev: dict[str, Any], redact: Redactor = NO_SECRETS) -> KubernetesEventReport:
    """A Kubernetes event as reported, the deployment's secret values redacted from its message."""
    io = ev.get("involvedObject") or {}
    return KubernetesEventReport(
        type="Warning" if ev.get("type") == "Warning" else "Normal",
        reason=(ev.get("reason") or "Unknown")[:200],
        message=redact(ev.get("message") or "")[:2000],
        object=f"{io.get('kind')}/{io.get('name')}"[:256],
        count=ev.get("count") or 1,
        timestamp=ev.get("lastTimestamp") or ev.get("eventTime") or ev["metadata"].get("creationTimestamp"),
    )


class Observer:
    def __init__(
        self,
        ctx: Context,
        *,
        failure_grace_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx, self.cp, self.kube, self.state = ctx, ctx.cp, ctx.kube, ctx.state
        self.reporter, self.metrics = ctx.reporter, ctx.metrics
        self.failure_grace_seconds = failure_grace_seconds
        self.clock = clock

    def observe(self) -> None:
        """Read every LangGraphPlatform of this listener and report outcomes, conditions, events.

        Only the snapshot of what is tracked is taken under the lock; the reads and the reports to the
        control plane happen outside it, so applying new revisions never waits for them.
        """
        with self.state.lock:
            listener_id = self.state.listener_id
            by_ns: dict[str, list[Tracked]] = {}
            for tr in self.state.tracked.values():
                by_ns.setdefault(tr.namespace, []).append(tr)
        if listener_id is None:
            return
        for ns, trs in by_ns.items():
            if not self.ctx.allowed(ns):
                continue
            try:
                items = self.kube.list(API_VERSION, KIND, ns, f"{LABEL_LISTENER_ID}={listener_id}")
                events = self.kube.list("v1", "Event", ns)
            except KubeError as e:
                self.metrics.errors.labels(kind="observe").inc()
                log.warning("cannot read namespace %s: %s", ns, e.reason)
                continue
            live = {(o["metadata"].get("labels") or {}).get(LABEL_DEPLOYMENT_ID): o for o in items}
            by_owner = events_by_deployment(trs, events)
            found: list[tuple[Tracked, dict[str, Any]]] = []
            for tr in trs:
                obj = live.get(tr.deployment_id)
                if obj is None:
                    if self.state.invalidate(tr.deployment_id):  # deleted behind our back (kubectl delete)
                        log.warning(
                            "LangGraphPlatform %s/%s is missing; it will be applied again", ns, tr.name
                        )
                    continue
                found.append((tr, obj))
            # Revision outcomes first, for every deployment, then the condition reports: a round over 100
            # deployments reported each outcome only after the reports of the deployments before it.
            # Each pass runs on a few threads (the control plane's answers, not our CPU, are the wait).
            self._each(found, self._settle)
            self._each(found, functools.partial(self._report_of, by_owner))

    def _each(
        self, found: list[tuple[Tracked, dict[str, Any]]], fn: Callable[[Tracked, dict[str, Any]], None]
    ) -> None:
        def one(item: tuple[Tracked, dict[str, Any]]) -> None:
            tr, obj = item
            with tr.lock:
                try:
                    fn(tr, obj)
                except ValidationError as e:
                    self.metrics.errors.labels(kind="observe").inc()
                    log.warning(
                        "cannot read the status of %s/%s: %s", tr.namespace, tr.name, e.errors()[0]["msg"]
                    )

        if len(found) <= 1:
            for item in found:
                one(item)
            return
        with ThreadPoolExecutor(max_workers=REPORT_THREADS, thread_name_prefix="observe") as pool:
            for _ in pool.map(one, found):
                pass

    def _report_of(self, by_owner: dict[str, list[dict[str, Any]]], tr: Tracked, obj: dict[str, Any]) -> None:
        self._report(tr, obj, by_owner.get(tr.deployment_id, []))

    def _settle(self, tr: Tracked, obj: dict[str, Any]) -> None:
        """Report the revision's outcome once the status shows one (a failure after the grace period)."""
        rev, outcome = spec_revision(obj), revision_outcome(obj)
        if rev and rev == tr.revision_id and tr.revision_status not in SETTLED and outcome is not None:
            if outcome.status == RevisionStatus.DEPLOY_FAILED:
                now = self.clock()
                tr.failing_since = tr.failing_since or now
                if now - tr.failing_since >= self.failure_grace_seconds:
                    self.reporter.settle(tr, rev, *outcome)
            else:
                tr.failing_since = None
                log.info("revision %s %s observed", rev, outcome.status)  # the benchmark's "observed"
                self.reporter.settle(tr, rev, *outcome)
        elif outcome is None:
            tr.failing_since = None

    def _report(self, tr: Tracked, obj: dict[str, Any], events: list[dict[str, Any]]) -> None:
        """Report the conditions, replica counts, endpoint and new events, when any changed."""
        report = observed(obj, tr.redact)
        fresh = []
        for ev in events:
            key = f"{ev['metadata'].get('uid')}:{ev.get('count') or 1}"
            if key not in tr.seen_events:
                tr.seen_events.add(key)
                fresh.append(event_report(ev, tr.redact))
        h = digest(report.model_dump(mode="json", exclude_unset=True))
        if fresh or h != tr.report_hash:
            report.events = fresh[-200:]
            try:
                self.cp.report(tr.deployment_id, report)
            except Refused as e:
                log.info("control plane refused a report for %s: %s", tr.name, e.detail)
            tr.report_hash = h
