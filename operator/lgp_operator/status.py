"""Status from what the cluster reports: a pure function of the resource and what one reconcile saw of
its children (``platform_status``; ``refused_status`` when nothing could be applied), built from the
rollout state, pod failures and conditions below. No I/O: the reconcile gathers, this decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lgp_contract.logs import strip_ansi

from .builders.common import (
    REVISION_ANNOTATION,
    Platform,
    api_server_name,
    postgres_name,
    queue_name,
    redis_name,
    target_revision,
)
from .podsecurity import Assessment

# Container waiting reasons that will not fix themselves without a change.
BAD_WAITING = {
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
}
LAST_MESSAGE_CHARS = 400  # the end of a crashed container's last message, in a condition
# A container that crashed once and is backing off before its first restart is not yet a failed
# rollout: the real server's api and queue processes race on migrations against a fresh database and
# one of them may exit once, then start fine. A crash loop counts from this many restarts on.
CRASH_LOOP_MIN_RESTARTS = 2


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Rollout:
    complete: bool
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    stalled: str | None = None  # e.g. ProgressDeadlineExceeded


def deployment_rollout(live: dict[str, Any] | None, revision_id: str) -> Rollout:
    """Whether every pod of ``live`` is of the current template (revision ``revision_id``) and available."""
    if live is None:
        return Rollout(False, "not created yet")
    spec, st, meta = live.get("spec") or {}, live.get("status") or {}, live.get("metadata") or {}
    want = int(spec.get("replicas", 1))
    counts = {
        "desired": want,
        "ready": int(st.get("readyReplicas") or 0),
        "updated": int(st.get("updatedReplicas") or 0),
        "available": int(st.get("availableReplicas") or 0),
    }
    stalled = next(
        (
            c.get("message") or c.get("reason")
            for c in st.get("conditions") or []
            if c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded"
        ),
        None,
    )
    name = meta.get("name", "")
    tmpl_rev = (
        ((spec.get("template") or {}).get("metadata") or {}).get("annotations", {}).get(REVISION_ANNOTATION)
    )
    if tmpl_rev != revision_id:
        return Rollout(False, f"{name}: pod template is not revision {revision_id} yet", counts, stalled)
    if int(st.get("observedGeneration") or 0) < int(meta.get("generation") or 0):
        return Rollout(False, f"{name}: waiting for the deployment controller", counts, stalled)
    total = int(st.get("replicas") or 0)
    if counts["updated"] < want:
        return Rollout(False, f"{name}: {counts['updated']}/{want} pods updated", counts, stalled)
    if total > counts["updated"]:
        return Rollout(False, f"{name}: {total - counts['updated']} old pods still running", counts, stalled)
    if counts["available"] < want:
        return Rollout(False, f"{name}: {counts['available']}/{want} pods available", counts, stalled)
    return Rollout(True, f"{name}: {want}/{want} pods updated and available", counts)


def pod_failures(
    pods: list[dict[str, Any]], revision_id: str, *, backing_ready: bool = True
) -> list[tuple[str, str]]:
    """(reason, message) for each container stuck in a bad waiting state. Server pods of an older
    revision are ignored: only the revision being rolled out counts. While the managed database or
    Redis is not ready (``backing_ready`` False), a server's crash loop is not counted: the real
    server exits at start when it cannot reach them (its DNS name has no address yet)."""
    out = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            continue
        component = (meta.get("labels") or {}).get("app.kubernetes.io/component", "")
        rev = (meta.get("annotations") or {}).get(REVISION_ANNOTATION)
        if component in ("api-server", "queue") and rev != revision_id:
            continue
        st = pod.get("status") or {}
        for cs in (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or []):
            waiting = (cs.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") == "CrashLoopBackOff" and (
                int(cs.get("restartCount") or 0) < CRASH_LOOP_MIN_RESTARTS
                or (not backing_ready and component in ("api-server", "queue"))
            ):
                continue
            if waiting.get("reason") in BAD_WAITING:
                msg = f"{component} pod {meta.get('name')}: container {cs.get('name')}: {waiting['reason']}"
                if waiting.get("message"):
                    msg += f": {waiting['message']}"
                last = _last_exit(cs)
                if last:
                    msg += f"; {last}"
                out.append((waiting["reason"], msg))
    return out


def _last_exit(container_status: dict[str, Any]) -> str:
    """How the container's previous run ended, with its termination message (the end of its log under
    terminationMessagePolicy FallbackToLogsOnError) when the pod status carries one."""
    ended = (container_status.get("lastState") or {}).get("terminated") or {}
    if not ended:
        return ""
    text = f"last exit code {ended.get('exitCode')}"
    if ended.get("reason"):
        text += f" ({ended['reason']})"
    message = " ".join(strip_ansi(str(ended.get("message") or "")).split())  # servers log in colour
    if message:
        if len(message) > LAST_MESSAGE_CHARS:
            message = "..." + message[-LAST_MESSAGE_CHARS:]
        text += f": {message}"
    return text


def condition(
    type_: str,
    status: bool | None,
    reason: str,
    message: str,
    generation: int,
    old: list[dict[str, Any]],
    at: str | None = None,
) -> dict[str, Any]:
    """A condition; lastTransitionTime is kept from ``old`` when the status did not change, else ``at``
    (default: now)."""
    value = "Unknown" if status is None else ("True" if status else "False")
    prev = next((c for c in old if c.get("type") == type_), None)
    ltt = prev.get("lastTransitionTime") if prev and prev.get("status") == value else None
    return {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message,
        "lastTransitionTime": ltt or at or now(),
        "observedGeneration": generation,
    }


def get_condition(status: dict[str, Any] | None, type_: str) -> dict[str, Any] | None:
    return next((c for c in (status or {}).get("conditions") or [] if c.get("type") == type_), None)


def merge_patch(old: Any, new: Any) -> Any:
    """A JSON merge patch turning ``old`` into ``new`` (removed keys become null)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    patch: dict[str, Any] = {}
    for k in old.keys() - new.keys():
        patch[k] = None
    for k, v in new.items():
        if k not in old:
            patch[k] = v
        elif old[k] != v:
            patch[k] = merge_patch(old[k], v)
    return patch


# ---------------------------------------------------------------- the status of one resource
Problem = tuple[str, str]  # (reason, message) of a Degraded condition
KEPT_WHEN_REFUSED = ("DatabaseReady", "RedisReady", "PendingRunScaling", "PodSecurity")


@dataclass(frozen=True)
class Observed:
    """What one reconcile saw: the children status reads, by (kind, name) (absent: not there, or not
    ours), the resource's pods, and a problem met while applying (ApplyFailed, NotOwned)."""

    children: Mapping[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    pods: Sequence[dict[str, Any]] = ()
    problem: Problem | None = None


@dataclass(frozen=True)
class Verdict:
    """The status to write, and what the handlers act on."""

    status: dict[str, Any]
    ready: bool = False
    degraded: Problem | None = None


def observed_children(cr: Platform) -> list[tuple[str, str, str]]:
    """(apiVersion, kind, name) of every child ``platform_status`` reads."""
    out = []
    if cr.spec.database.external is None:
        out.append(("apps/v1", "StatefulSet", postgres_name(cr)))
    if cr.spec.redis.external is None:
        out.append(("apps/v1", "Deployment", redis_name(cr)))
    out.append(("apps/v1", "Deployment", api_server_name(cr)))
    if cr.spec.queue.enabled:
        out.append(("apps/v1", "Deployment", queue_name(cr)))
    return out


def _base(body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """The status fields carried over, the old conditions, and the generation observed."""
    old_status = body.get("status") or {}
    generation = int((body.get("metadata") or {}).get("generation") or 1)
    kept = {k: v for k, v in old_status.items() if k in ("liveRevision", "endpoint", "replicas")}
    return {**kept, "observedGeneration": generation}, list(old_status.get("conditions") or []), generation


def refused_status(body: dict[str, Any], problem: Problem, *, now: str) -> Verdict:
    """The status when nothing could be applied (an invalid spec, a missing Secret): Degraded with the
    problem; what was live stays as it was reported."""
    status, old, generation = _base(body)
    reason, message = problem
    conds = [
        condition("Ready", False, reason, message, generation, old, now),
        condition(
            "Progressing", False, reason, "nothing applied until the problem is fixed", generation, old, now
        ),
        condition("Degraded", True, reason, message, generation, old, now),
        *(c for c in old if c.get("type") in KEPT_WHEN_REFUSED),
    ]
    status["conditions"] = conds
    return Verdict({k: v for k, v in status.items() if v is not None}, degraded=problem)


def _backing(
    external: bool, what: str, program: str, name: str, live: dict[str, Any] | None, field: str, counted: str
) -> tuple[bool, str, str]:
    """(ready, reason, message) of the database or Redis: external, or its one managed pod ready."""
    if external:
        return True, "External", f"external {what} (URI from a Secret)"
    n = int(((live or {}).get("status") or {}).get(field) or 0)
    if n >= 1:
        return True, "Running", f"{program} is ready"
    return False, "Starting", f"{name}: {n}/1 pods {counted}"


def platform_status(
    body: dict[str, Any],
    cr: Platform,
    seen: Observed,
    *,
    endpoint: str | None,
    keda: bool,
    hpa_api: str | None,
    now: str,
    pod_security: Assessment | None = None,
) -> Verdict:
    """The status of ``cr`` from what was seen of its children: Ready / Progressing / Degraded with
    their reasons, the backing services' conditions, replica counts, the endpoint, and the live revision
    (it moves to the target revision only once every server pod of it is updated and available)."""
    status, old, generation = _base(body)
    conds: list[dict[str, Any]] = []

    def cond(type_: str, value: bool | None, reason: str, message: str) -> None:
        conds.append(condition(type_, value, reason, message, generation, old, now))

    def child(kind: str, name: str) -> dict[str, Any] | None:
        return seen.children.get((kind, name))

    spec, rev = cr.spec, target_revision(cr)
    # ---- database and redis
    db_ok, db_reason, db_msg = _backing(
        spec.database.external is not None,
        "database",
        "postgres",
        postgres_name(cr),
        child("StatefulSet", postgres_name(cr)),
        "readyReplicas",
        "ready",
    )
    cond("DatabaseReady", db_ok, db_reason, db_msg)
    redis_ok, r_reason, r_msg = _backing(
        spec.redis.external is not None,
        "Redis",
        "redis",
        redis_name(cr),
        child("Deployment", redis_name(cr)),
        "availableReplicas",
        "available",
    )
    cond("RedisReady", redis_ok, r_reason, r_msg)
    # ---- rollout of the server deployments
    api = deployment_rollout(child("Deployment", api_server_name(cr)), rev.id)
    rollouts = [api]
    replicas: dict[str, Any] = {"apiServer": api.counts}
    if spec.queue.enabled:
        q = deployment_rollout(child("Deployment", queue_name(cr)), rev.id)
        rollouts.append(q)
        replicas["queue"] = q.counts
    status["replicas"] = replicas
    complete = all(r.complete for r in rollouts)
    degraded = seen.problem
    if degraded is None:
        failures = pod_failures(list(seen.pods), rev.id, backing_ready=db_ok and redis_ok)
        if failures:
            degraded = (failures[0][0], "; ".join(m for _, m in failures[:3]))
        else:
            stalled = next((r.stalled for r in rollouts if r.stalled and not r.complete), None)
            if stalled:
                degraded = ("ProgressDeadlineExceeded", stalled)
    if complete and not spec.suspend:
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
    ready = False
    if spec.suspend:
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
    if spec.autoscaling.enabled and not spec.suspend:
        if keda:
            cond(
                "PendingRunScaling",
                True,
                "KedaScaledObject",
                f"KEDA scales on CPU, memory and pending runs ({spec.autoscaling.pending_runs_per_replica}"
                " per replica)"
                + (
                    "; the queue workers on pending runs, the api server on CPU and memory"
                    if spec.queue.enabled
                    else ""
                ),
            )
        else:
            cond(
                "PendingRunScaling",
                False,
                "KedaNotInstalled",
                "pending-run scaling is off: the keda.sh/v1alpha1 ScaledObject API is not served (or "
                f"LGP_OPERATOR_KEDA=disabled); an HPA ({hpa_api}) scales on CPU and memory only",
            )
    if pod_security is not None:
        # Informational: a deployment may run below restricted on purpose (an image that needs root).
        cond(
            "PodSecurity",
            pod_security.restricted,
            "Restricted" if pod_security.restricted else "BelowRestricted",
            pod_security.message(),
        )
    status["conditions"] = conds
    return Verdict({k: v for k, v in status.items() if v is not None}, ready=ready, degraded=degraded)


def status_events(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(reason, message, warning) of the Events a status change deserves: a new or changed Degraded
    problem, a revision going live, the resource becoming Ready."""
    out: list[tuple[str, str, bool]] = []
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
        out.append((new_deg["reason"], new_deg["message"], True))
    if old.get("liveRevision") != new.get("liveRevision") and new.get("liveRevision"):
        out.append(("RevisionLive", f"revision {new['liveRevision']['id']} is live", False))
    old_ps, new_ps = get_condition(old, "PodSecurity"), get_condition(new, "PodSecurity")
    if (
        new_ps
        and new_ps["status"] == "False"
        and (not old_ps or (old_ps.get("status"), old_ps.get("message")) != ("False", new_ps["message"]))
    ):
        out.append((new_ps["reason"], new_ps["message"], True))
    old_ready, new_ready = get_condition(old, "Ready"), get_condition(new, "Ready")
    if new_ready and new_ready["status"] == "True" and (not old_ready or old_ready.get("status") != "True"):
        out.append(("Ready", new_ready["message"], False))
    return out
