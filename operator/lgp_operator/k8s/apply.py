"""Apply only what changed: server-side apply, skipped when the live object already matches.

Each applied object carries a hash of what the operator last applied (``lgp.dev/applied-hash``).
An object is left alone when the hash matches and every field we set still has our value on the
server. When a field differs (drift, or the server's canonical form of a value such as ``1000m``),
a server-side dry run decides: if applying would change nothing, nothing is written.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, Literal

from .kube import Kube

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


def apply_if_changed(kube: Kube, desired: dict[str, Any]) -> tuple[Action, dict[str, Any]]:
    obj = with_hash(desired)
    meta = obj["metadata"]
    live = kube.get(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
    if live is None:
        return "created", kube.apply(obj)
    if is_subset(obj, live):
        return "unchanged", live
    live_hash = (live.get("metadata", {}).get("annotations") or {}).get(HASH_ANNOTATION)
    if live_hash == meta["annotations"][HASH_ANNOTATION]:
        dry = kube.apply(obj, dry_run=True)
        if _comparable(dry) == _comparable(live):
            return "unchanged", live
    return "updated", kube.apply(obj)
