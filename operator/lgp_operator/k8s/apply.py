"""Apply only what changed: server-side apply, skipped when the live object already matches.

Each applied object carries a hash of what the operator last applied (``lgp.dev/applied-hash``).
An object is left alone when the hash matches and every field we set still has our value on the
server. When a field differs (drift, or the server's canonical form of a value such as ``1000m``),
a server-side dry run decides: if applying would change nothing, nothing is written.

With ``owner_uid``, a same-named object that is not ours (see ``ownership.not_ours``) is never
written: ``NotOurs`` says which object and why.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, Literal

from .kube import Kube
from .ownership import not_ours

HASH_ANNOTATION = "lgp.dev/applied-hash"
Action = Literal["created", "updated", "unchanged"]
VOLATILE_META = ("managedFields", "resourceVersion", "generation")


def desired_hash(obj: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def with_hash(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["metadata"].setdefault("annotations", {})[HASH_ANNOTATION] = desired_hash(obj)
    return out


def is_subset(want: Any, have: Any) -> bool:
    """Every field of ``want`` has the same value in ``have`` (lists: same length, item by item)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and is_subset(v, have[k]) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(map(is_subset, want, have))
    return bool(want == have)


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in obj.items() if k != "status"}
    out["metadata"] = {k: v for k, v in obj.get("metadata", {}).items() if k not in VOLATILE_META}
    return out


class NotOurs(Exception):
    """A same-named object is there and is not ours: it was left alone."""

    def __init__(self, kind: str, namespace: str | None, name: str, why: str) -> None:
        where = f" in namespace {namespace!r}" if namespace else ""
        super().__init__(
            f"{kind} {name!r}{where} already exists and is not ours ({why}): left alone; "
            "delete or rename it, or rename this LangGraphPlatform"
        )
        self.kind = kind
        self.name = name


def apply_if_changed(
    kube: Kube, desired: dict[str, Any], *, owner_uid: str | None = None
) -> tuple[Action, dict[str, Any]]:
    """Apply ``desired`` unless the server already has it; with ``owner_uid``, raise ``NotOurs`` rather
    than write over a same-named object of someone else's."""
    obj = with_hash(desired)
    meta = obj["metadata"]
    live = kube.get(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
    if live is None:
        return "created", kube.apply(obj)
    why = not_ours(live, desired, owner_uid) if owner_uid is not None else None
    if why is not None:
        raise NotOurs(obj["kind"], meta.get("namespace"), meta["name"], why)
    if is_subset(obj, live):
        return "unchanged", live
    live_hash = (live.get("metadata", {}).get("annotations") or {}).get(HASH_ANNOTATION)
    if live_hash == meta["annotations"][HASH_ANNOTATION]:
        dry = kube.apply(obj, dry_run=True)
        if _comparable(dry) == _comparable(live):
            return "unchanged", live
    return "updated", kube.apply(obj)
