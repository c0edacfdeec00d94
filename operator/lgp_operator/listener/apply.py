"""Applying: the control plane's desired state -> the objects in the cluster.

Rules this module keeps:
- Apply with server-side apply as field manager ``lgp-listener``, and only what changed: the
  operator's apply path (``lgp_operator.k8s.apply.apply_if_changed``), so a restart makes no write.
- Never take over a LangGraphPlatform that carries another deployment's id label.
- Delete a LangGraphPlatform only for an explicit tombstone (``deleted: true``) and only an object
  that carries this deployment's id label. Never because of an error, a timeout, an empty or failed
  answer, or a namespace that cannot be read.
- Refuse deployments aimed at namespaces outside this listener's list, and entries it cannot read,
  and report the refusal.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from lgp_contract.names import LABEL_DEPLOYMENT_ID
from lgp_contract.protocol import DeploymentReport, KubernetesEventReport
from lgp_contract.resource import API_VERSION, KIND
from lgp_contract.statuses import PENDING, UNFINISHED, RevisionStatus
from lgp_operator.k8s.apply import apply_if_changed
from lgp_operator.k8s.kube import KubeError

from .client import Unavailable
from .desired import Desired, DesiredObjects, Entry, Unreadable, desired_objects, digest
from .tracking import Context, Tracked

log = logging.getLogger("lgp.listener")


class Applier:
    def __init__(self, ctx: Context, *, apply_concurrency: int = 8) -> None:
        self.ctx, self.cp, self.kube, self.state = ctx, ctx.cp, ctx.kube, ctx.state
        self.reporter, self.metrics = ctx.reporter, ctx.metrics
        self.apply_concurrency = apply_concurrency
        self.refused: dict[str, str] = {}  # revision id -> reason already reported
        self._applying = threading.Lock()  # one desired state at a time

    def apply_state(self, desired: Desired, *, verify: bool = False) -> None:
        """Make the cluster match ``desired``. Raises on Kubernetes errors after doing what it could.

        Deployments whose desired objects are unchanged since they were last applied are skipped
        without a read, so a change to one deployment costs one deployment's calls. ``verify``
        compares every deployment with the live objects instead (start-up and periodic resync);
        the observer also invalidates a deployment whose LangGraphPlatform disappeared.
        """
        with self._applying:
            self.state.listener_id = desired.listener_id
            errors: list[Exception] = []

            def one(entry: Entry) -> None:
                ref = entry.deployment if isinstance(entry, Unreadable) else entry
                try:
                    tr = self.state.track(str(ref.id), ref.name, ref.namespace)
                    with tr.lock:
                        self._apply_entry(entry, tr, verify=verify)
                except (KubeError, Unavailable) as e:
                    errors.append(e)
                    self.metrics.errors.labels(kind="apply").inc()
                    log.warning("could not apply deployment %s/%s: %s", ref.namespace, ref.name, e)

            # deployments are independent (each has its own lock): apply them side by side
            with ThreadPoolExecutor(max_workers=self.apply_concurrency, thread_name_prefix="apply") as pool:
                list(pool.map(one, desired.deployments))
            self.state.version = desired.version
            if errors:
                raise errors[0]

    def _apply_entry(self, entry: Entry, tr: Tracked, *, verify: bool) -> None:
        dep_id, name, ns = tr.deployment_id, tr.name, tr.namespace
        rev = entry.revision
        tr.revision_id = str(rev.id) if rev else None
        tr.revision_status = rev.status if rev else None
        if not self.ctx.allowed(ns):
            self._refuse(
                tr,
                "NamespaceNotAllowed",
                f"namespace {ns!r} is not managed by this listener (it manages: "
                f"{', '.join(sorted(self.ctx.namespaces))})",
            )
            return
        if isinstance(entry, Unreadable):
            self._refuse(tr, "InvalidSpec", str(entry))
            return
        if entry.deleted:
            with self.state.lock:
                self.state.pending_deletions.add(dep_id)
            self._delete(tr)
            return
        with self.state.lock:
            self.state.pending_deletions.discard(dep_id)
        tr.know_secrets(tuple(entry.secret.data.values()) if entry.secret is not None else ())
        if entry.revision is None:
            return
        rev_id = str(entry.revision.id)
        objs = desired_objects(entry, self.state.listener_id or "")
        key = digest({"platform": objs.platform, "secret": objs.secret})
        if verify or self.state.applied.get(dep_id) != key:
            secret_key = digest(objs.secret)
            self._apply_objects(
                objs, secret_unchanged=not verify and self.state.applied_secret.get(dep_id) == secret_key
            )
            with self.state.lock:
                self.state.applied[dep_id] = key
                self.state.applied_secret[dep_id] = secret_key
        if tr.revision_status in PENDING and tr.reported.get(rev_id) is None:
            self.reporter.report(
                tr,
                rev_id,
                RevisionStatus.DEPLOYING,
                "Applied",
                f"LangGraphPlatform {ns}/{name} applied for revision {entry.revision.number}",
            )

    def _apply_objects(self, objs: DesiredObjects, *, secret_unchanged: bool = False) -> None:
        """The Secret first, so pods never start without their environment; then the LangGraphPlatform."""
        if objs.secret is not None and not secret_unchanged:
            action, _ = apply_if_changed(self.kube, objs.secret)
            if action != "unchanged":
                self.metrics.applies.labels(kind="Secret").inc()
        live = self.kube.get(API_VERSION, KIND, objs.namespace, objs.name)
        owner = ((live or {}).get("metadata", {}).get("labels") or {}).get(LABEL_DEPLOYMENT_ID)
        if owner is not None and owner != objs.deployment_id:
            raise KubeError(
                409,
                "Conflict",
                f"LangGraphPlatform {objs.namespace}/{objs.name} belongs to another deployment",
            )
        action, _ = apply_if_changed(self.kube, objs.platform)
        if action != "unchanged":
            self.metrics.applies.labels(kind=KIND).inc()
            log.info("applied %s %s/%s (revision %s)", KIND, objs.namespace, objs.name, objs.revision_id)

    def _delete(self, tr: Tracked) -> None:
        """Explicit tombstone: delete our objects; acknowledge once the LangGraphPlatform is gone."""
        live = self.kube.get(API_VERSION, KIND, tr.namespace, tr.name)
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
            self.kube.delete(API_VERSION, KIND, tr.namespace, tr.name, uid=live["metadata"].get("uid"))
            self.metrics.deletes.inc()
            log.info(
                "deleted %s %s/%s: its deployment was deleted in the control plane",
                KIND,
                tr.namespace,
                tr.name,
            )
        for secret in self.kube.list(
            "v1", "Secret", tr.namespace, f"{LABEL_DEPLOYMENT_ID}={tr.deployment_id}"
        ):
            self.kube.delete("v1", "Secret", tr.namespace, secret["metadata"]["name"])
        if live is None or not mine:
            self.cp.acknowledge_deletion(tr.deployment_id)
            self.state.forget(tr.deployment_id)

    def _refuse(self, tr: Tracked, reason: str, message: str) -> None:
        log.warning("refused deployment %s/%s: %s", tr.namespace, tr.name, message)
        rev_id = tr.revision_id
        if rev_id is None or self.refused.get(rev_id) == reason:
            return
        event = KubernetesEventReport(
            type="Warning", reason=reason, message=message[:4096], object=f"{KIND}/{tr.name}"[:256]
        )
        self.cp.report(
            tr.deployment_id, DeploymentReport.model_validate({"revision_id": rev_id, "events": [event]})
        )
        if tr.revision_status in UNFINISHED:
            if tr.revision_status in PENDING:
                self.reporter.report(tr, rev_id, RevisionStatus.DEPLOYING, "Refused", message)
            self.reporter.report(tr, rev_id, RevisionStatus.DEPLOY_FAILED, reason, message)
        self.refused[rev_id] = reason
