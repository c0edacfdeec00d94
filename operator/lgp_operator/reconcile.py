"""The one level-based reconcile: compute the whole desired set, apply what changed, prune what is no
longer wanted, gather what the children report, and write the status a pure function makes of it
(``status.platform_status``). Called on create, update, resume, child changes and by the drift timer.

It makes no write call when nothing changed: children are compared with the server before any apply,
and the status is patched only when it differs. It never writes over a same-named object that is not
this resource's (``k8s.ownership``): the resource goes Degraded (NotOwned) naming it instead.
"""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from lgp_contract import names
from lgp_contract.resource import API_VERSION, KIND

from .builders.common import MANAGER, RETAINED_LABEL, InvalidSpec, Platform, instance_selector, postgres_name
from .builders.deployment import LICENSE_KEY
from .builders.desired import build_desired
from .builders.postgres import claim_metadata, keep_immutable, new_password
from .builders.usage import new_usage_key
from .k8s.apply import NotOurs, apply_if_changed
from .k8s.discovery import Discovery
from .k8s.events import post_event
from .k8s.kube import Kube, KubeError
from .k8s.ownership import INSTANCE, MANAGED_BY, not_ours
from .k8s.prune import prunable_kinds, prune
from .metrics import OperatorMetrics
from .settings import OperatorSettings
from .status import (
    Observed,
    Problem,
    Verdict,
    merge_patch,
    now,
    observed_children,
    platform_status,
    refused_status,
    status_events,
)

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
    "NotOwned",
    "RoutingUnavailable",
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


def _database_selector(name: str) -> str:
    """The managed database's volume claims (and Secret) of the resource ``name``, and nobody else's."""
    return f"{INSTANCE}={name},{MANAGED_BY}={MANAGER},app.kubernetes.io/component=postgres"


def _child_of(name: str) -> dict[str, Any]:
    """How a child of the resource ``name`` is labelled: what the ownership check compares with."""
    return {"metadata": {"labels": {MANAGED_BY: MANAGER, INSTANCE: name}}}


def _ref(body: dict[str, Any]) -> dict[str, Any]:
    meta = body.get("metadata") or {}
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {k: meta.get(k) for k in ("name", "namespace", "uid")},
    }


class Reconciler:
    def __init__(
        self,
        kube: Kube,
        settings: OperatorSettings,
        discovery: Discovery | None = None,
        metrics: OperatorMetrics | None = None,
    ) -> None:
        self.kube = kube
        self.settings = settings
        self.discovery = discovery or Discovery(kube, keda=settings.keda, ttl=settings.discovery_seconds)
        self.metrics = metrics or OperatorMetrics()
        self._pruned: dict[str, tuple[Any, ...]] = {}  # uid -> (generation, capabilities) last pruned

    # ------------------------------------------------------------------ entry point
    def reconcile(self, body: dict[str, Any]) -> Outcome:
        meta = body.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            return Outcome()
        ns, name, start = str(meta.get("namespace", "")), str(meta.get("name", "")), time.monotonic()
        try:
            outcome = self._reconcile(body)
        except Exception:
            self.metrics.failed(ns, name, time.monotonic() - start)
            raise
        degraded = outcome.degraded[0] if outcome.degraded else None
        self.metrics.reconciled(ns, name, time.monotonic() - start, ready=outcome.ready, degraded=degraded)
        return outcome

    def _reconcile(self, body: dict[str, Any]) -> Outcome:
        try:
            cr = Platform.from_body(body)
            caps = self.discovery.capabilities()
            missing = self._missing_secrets(cr)
            if missing:
                return self._write(
                    body, refused_status(body, ("SecretNotFound", "; ".join(missing)), now=now())
                )
            password = self._postgres_password(cr) if cr.spec.database.managed else None
            # Builders raise InvalidSpec too (an Ingress without a host and no default domain, ...).
            usage_key = self._usage_key(cr) if self.settings.usage_receiver_url else None
            desired = build_desired(cr, self.settings, caps, postgres_password=password, usage_key=usage_key)
        except InvalidSpec as e:  # or Unavailable (RoutingUnavailable): what the cluster lacks
            return self._write(body, refused_status(body, (e.reason, str(e)), now=now()))

        changed: list[str] = []
        problem: Problem | None = None
        lives: dict[tuple[str, str], dict[str, Any]] = {}
        refused: dict[tuple[str, str], str] = {}  # a stranger's object of a child's name: why not ours
        for obj in desired.objects:
            kind, name = obj["kind"], obj["metadata"]["name"]
            try:
                action, live = apply_if_changed(self.kube, obj, owner_uid=cr.uid, adjust=keep_immutable)
            except NotOurs as e:
                refused[(kind, name)] = str(e)
                self.metrics.child(kind, "refused")
                continue
            except KubeError as e:
                if e.status in (400, 403, 404, 422):
                    problem = problem or ("ApplyFailed", f"{kind} {name}: {e.message}")
                    continue
                raise  # 409, 5xx, timeouts: transient, the caller retries
            lives[(kind, name)] = live
            self.metrics.child(kind, action)
            if action != "unchanged":
                changed.append(f"{action} {kind} {name}")
        if refused:  # the most useful thing to say: each name to free
            problem = ("NotOwned", "; ".join(refused.values()))
        # Pruning lists every child kind: done when the spec or the served APIs changed since this
        # process last pruned this resource (and once after a start), not on every resync.
        prune_key = (cr.generation, caps, self.discovery.keda_served)
        if problem is None and self._pruned.get(cr.uid) != prune_key:  # never delete because of an error
            kinds = prunable_kinds(caps, self.discovery.keda_served)
            held, in_use = self._held_accounts(cr, desired.identities())
            for kind, name in prune(
                self.kube,
                namespace=cr.namespace,
                selector=instance_selector(cr),
                owner_uid=cr.uid,
                keep=desired.identities() | held,
                kinds=kinds,
            ):
                self.metrics.child(kind, "deleted")
                changed.append(f"deleted {kind} {name}")
            changed += self._label_claims(cr)
            if not in_use:  # else pruned again once no pod uses the ServiceAccount
                self._pruned[cr.uid] = prune_key
        if changed:
            log.info("%s/%s: %s", cr.namespace, cr.name, ", ".join(changed))
            post_event(self.kube, _ref(body), reason="Applied", message="; ".join(changed))
        seen = self._observe(cr, lives, refused, problem)
        verdict = platform_status(
            body,
            cr,
            seen,
            endpoint=desired.endpoint,
            keda=desired.keda,
            hpa_api=caps.hpa_api,
            now=now(),
            pod_security=desired.pod_security,
        )
        return self._write(body, verdict, changed)

    def _observe(
        self,
        cr: Platform,
        lives: dict[tuple[str, str], dict[str, Any]],
        refused: dict[tuple[str, str], str],
        problem: Problem | None,
    ) -> Observed:
        """The children status reads (as just applied, else from the server; never a stranger's) and,
        when nothing else is wrong, the pods, whose failures say why a rollout is stuck."""
        children: dict[tuple[str, str], dict[str, Any]] = {}
        for api_version, kind, name in observed_children(cr):
            if (kind, name) in refused:
                continue
            live = lives.get((kind, name)) or self.kube.get(api_version, kind, cr.namespace, name)
            if live is not None:
                children[(kind, name)] = live
        pods = self.kube.list("v1", "Pod", cr.namespace, instance_selector(cr)) if problem is None else []
        return Observed(children=children, pods=pods, problem=problem)

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

    def _held_accounts(self, cr: Platform, keep: set[tuple[str, str]]) -> tuple[set[tuple[str, str]], bool]:
        """Our ServiceAccount when no longer wanted but still used: by name in placement (kept), or by a
        pod of an older revision (kept until the rollout replaced it: pods of the old template could not
        be made again without it). The flag says a pod still uses it (prune again later)."""
        account = ("ServiceAccount", names.service_account_name(cr.name))
        if account in keep:
            return set(), False
        if cr.spec.placement.service_account_name == account[1]:
            return {account}, False
        ours = self.kube.list("v1", "ServiceAccount", cr.namespace, instance_selector(cr))
        if all(a["metadata"]["name"] != account[1] for a in ours):
            return set(), False  # none to prune (listed as pruning lists it): no pod to look for
        pods = self.kube.list("v1", "Pod", cr.namespace, instance_selector(cr), fresh=True)
        used = any((p.get("spec") or {}).get("serviceAccountName") == account[1] for p in pods)
        return ({account}, True) if used else (set(), False)

    def _label_claims(self, cr: Platform) -> list[str]:
        """spec.labels and spec.annotations onto the database's existing volume claims (a StatefulSet's
        claim template cannot change once made, so claims made before a change get it here)."""
        if cr.spec.database.managed is None:
            return []
        want = claim_metadata(cr)
        out = []
        for pvc in self._claims(cr.namespace, cr.name):
            meta = pvc.get("metadata") or {}
            patch = {
                part: {k: v for k, v in want[part].items() if (meta.get(part) or {}).get(k) != v}
                for part in ("labels", "annotations")
            }
            patch = {k: v for k, v in patch.items() if v}
            if not patch:
                continue
            try:
                self.kube.merge_patch(
                    "v1", "PersistentVolumeClaim", cr.namespace, meta["name"], {"metadata": patch}
                )
            except KubeError as e:
                if e.status != 404:  # deleted meanwhile: nothing to label
                    raise
                continue
            out.append(f"labelled PersistentVolumeClaim {meta['name']}")
        return out

    def _claims(self, namespace: str, name: str) -> list[dict[str, Any]]:
        """The managed database's volume claims that are not being deleted already."""
        claims = self.kube.list("v1", "PersistentVolumeClaim", namespace, _database_selector(name))
        return [c for c in claims if not (c.get("metadata") or {}).get("deletionTimestamp")]

    def _postgres_password(self, cr: Platform) -> str:
        """The managed database's password: read from its Secret, generated only when there is none."""
        secret = self._secret(cr.namespace, postgres_name(cr))
        if secret is not None and not_ours(secret, _child_of(cr.name), cr.uid):
            secret = None  # a stranger's: never read nor relabelled (applying ours is refused: NotOwned)
        data = (secret or {}).get("data") or {}
        if secret is not None and RETAINED_LABEL in ((secret.get("metadata") or {}).get("labels") or {}):
            self._adopt_retained(cr)
        if "password" in data:
            return base64.b64decode(data["password"]).decode()
        return new_password()

    def _usage_key(self, cr: Platform) -> str:
        """The credential the servers report their own usage with: read from its Secret, else new."""
        secret = self._secret(cr.namespace, names.usage_secret_name(cr.name))
        if secret is not None and not_ours(secret, _child_of(cr.name), cr.uid):
            secret = None  # a stranger's: never read (applying ours is refused: NotOwned)
        data = (secret or {}).get("data") or {}
        if names.USAGE_SECRET_KEY in data:
            return base64.b64decode(data[names.USAGE_SECRET_KEY]).decode()
        return new_usage_key()

    def _adopt_retained(self, cr: Platform) -> None:
        """A database retained from a deleted resource of the same name is used again: drop the label."""
        patch = {"metadata": {"labels": {RETAINED_LABEL: None}}}
        adopted = [f"Secret {postgres_name(cr)}"]
        self.kube.merge_patch("v1", "Secret", cr.namespace, postgres_name(cr), patch)
        selector = f"{_database_selector(cr.name)},{RETAINED_LABEL}"
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
    def _write(self, body: dict[str, Any], verdict: Verdict, changed: list[str] | None = None) -> Outcome:
        """Patch the status when it differs, and post the Events the change deserves."""
        old, new = dict(body.get("status") or {}), verdict.status
        outcome = Outcome(ready=verdict.ready, degraded=verdict.degraded, changed=changed or [])
        if old == new:
            return outcome
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
                return outcome
            raise
        for reason, message, warning in status_events(old, new):
            post_event(self.kube, _ref(body), reason=reason, message=message, warning=warning)
        return outcome

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
        pvcs = self._claims(ns, name)
        secret_name = names.postgres_name(name)
        if retain:
            patch = {"metadata": {"labels": {RETAINED_LABEL: "true"}}}
            kept = []
            for pvc in pvcs:
                self.kube.merge_patch("v1", "PersistentVolumeClaim", ns, pvc["metadata"]["name"], patch)
                kept.append(f"PersistentVolumeClaim {pvc['metadata']['name']}")
            secret = self._secret(ns, secret_name)
            if secret is not None and not not_ours(secret, _child_of(name), str(meta.get("uid", ""))):
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
