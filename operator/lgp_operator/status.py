"""Status from what the cluster reports: rollout state, pod failures, conditions. Pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .builders.common import REVISION_ANNOTATION

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


# A container that crashed once and is backing off before its first restart is not yet a failed
# rollout: the real server's api and queue processes race on migrations against a fresh database and
# one of them may exit once, then start fine. A crash loop counts from this many restarts on.
CRASH_LOOP_MIN_RESTARTS = 2
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


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
                msg += _last_exit(cs)
                out.append((waiting["reason"], msg))
    return out


def _last_exit(container_status: dict[str, Any]) -> str:
    """How the container's previous run ended: exit code and its termination message (with
    terminationMessagePolicy FallbackToLogsOnError, the last log lines of a crash)."""
    term = (container_status.get("lastState") or {}).get("terminated") or {}
    if not term:
        return ""
    text = f"; last exit code {term.get('exitCode')}"
    plain = ANSI_ESCAPE.sub("", term.get("message") or "")  # servers often log in colour
    lines = [ln.strip() for ln in plain.splitlines() if ln.strip()]
    if lines:
        text += f", last log line: {lines[-1][:300]}"
    return text


def condition(
    type_: str, status: bool | None, reason: str, message: str, generation: int, old: list[dict[str, Any]]
) -> dict[str, Any]:
    """A condition; lastTransitionTime is kept from ``old`` when the status did not change."""
    value = "Unknown" if status is None else ("True" if status else "False")
    prev = next((c for c in old if c.get("type") == type_), None)
    ltt = prev.get("lastTransitionTime") if prev and prev.get("status") == value else None
    return {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message,
        "lastTransitionTime": ltt or now(),
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
