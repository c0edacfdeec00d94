"""What the listener knows between rounds, shared by the side that applies (``apply.py``) and the side
that observes (``observe.py``), and the one way both report a revision's status."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from lgp_contract.logs import Redactor
from lgp_contract.protocol import StatusReport
from lgp_contract.statuses import PENDING, RevisionStatus
from lgp_operator.k8s.kube import Kube

from .client import ControlPlaneClient, Refused
from .metrics import ListenerMetrics

log = logging.getLogger("lgp.listener")


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
    # The values of the Secret the listener applied for it: never to leave the cluster in a report or a
    # log line (``redact``).
    secret_values: tuple[str, ...] = field(default=(), repr=False)
    redact: Redactor = field(default_factory=Redactor, repr=False, compare=False)
    # Serialises the status reports of this one deployment between the sync loop and the observer,
    # so neither holds the listener-wide lock during the observer's HTTP calls.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def know_secrets(self, values: tuple[str, ...]) -> None:
        """The values of the deployment's Secret as last applied (the redactor follows them)."""
        if values != self.secret_values:
            self.secret_values, self.redact = values, Redactor(values)


class Deployments:
    """Every tracked deployment and what was last applied for it. ``lock`` guards the maps."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.listener_id: str | None = None
        self.version: int | None = None
        self.tracked: dict[str, Tracked] = {}
        self.pending_deletions: set[str] = set()
        self.applied: dict[str, str] = {}  # deployment id -> hash of the objects last applied
        self.applied_secret: dict[str, str] = {}  # deployment id -> hash of the Secret last applied
        self.needs_apply = False  # set by the observer when a LangGraphPlatform went missing

    def track(self, deployment_id: str, name: str, namespace: str) -> Tracked:
        with self.lock:
            return self.tracked.setdefault(deployment_id, Tracked(deployment_id, name, namespace))

    def forget(self, deployment_id: str) -> None:
        with self.lock:
            self.pending_deletions.discard(deployment_id)
            self.tracked.pop(deployment_id, None)
            self.applied.pop(deployment_id, None)
            self.applied_secret.pop(deployment_id, None)

    def invalidate(self, deployment_id: str) -> bool:
        """Apply this deployment again on the next round (its LangGraphPlatform went missing). False
        when there is nothing to redo: never applied, or being deleted."""
        with self.lock:
            if deployment_id not in self.applied or deployment_id in self.pending_deletions:
                return False
            self.applied.pop(deployment_id, None)
            self.applied_secret.pop(deployment_id, None)
            self.needs_apply = True
            return True


class StatusReporter:
    """Reports revision transitions to the control plane, each once per revision."""

    def __init__(self, cp: ControlPlaneClient, metrics: ListenerMetrics) -> None:
        self.cp, self.metrics = cp, metrics

    def report(self, tr: Tracked, rev_id: str, status: str, reason: str | None, message: str | None) -> None:
        """Report a transition once; the caller holds ``tr.lock``. A refusal (e.g. the revision was
        interrupted or overtaken meanwhile) is final: nothing to retry."""
        message = message and tr.redact(message)  # a crashed container's last words may hold a secret
        body = StatusReport.model_validate(
            {"status": status, "reason": reason and reason[:256], "message": message and message[:4096]}
        )
        try:
            self.cp.report_status(rev_id, body)
        except Refused as e:
            log.info("control plane refused %s for revision %s: %s", status, rev_id, e.detail)
        tr.reported[rev_id] = status
        tr.revision_status = status
        self.metrics.reports.labels(status=status).inc()

    def settle(self, tr: Tracked, rev_id: str, status: str, reason: str | None, message: str | None) -> None:
        """Report DEPLOYED or DEPLOY_FAILED, through DEPLOYING if the listener has not said that yet."""
        if tr.revision_status in PENDING:
            self.report(tr, rev_id, RevisionStatus.DEPLOYING, "Applied", None)
        self.report(tr, rev_id, status, reason, message)


@dataclass(frozen=True)
class Context:
    """What both sides work with: the control plane, the cluster (as field manager lgp-listener), what
    is tracked, the status reporter, the metrics, and the namespaces this listener manages (empty: any)."""

    cp: ControlPlaneClient
    kube: Kube
    state: Deployments
    reporter: StatusReporter
    metrics: ListenerMetrics
    namespaces: frozenset[str] = frozenset()

    def allowed(self, namespace: str) -> bool:
        return not self.namespaces or namespace in self.namespaces
