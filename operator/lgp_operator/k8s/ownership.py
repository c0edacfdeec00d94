"""Whose is an object: the operator writes and deletes only what belongs to the LangGraphPlatform it
reconciles, and leaves a same-named stranger alone (as CloudNativePG's service reconciler checks the
owner before it patches). Pure functions."""

from __future__ import annotations

from typing import Any

MANAGED_BY = "app.kubernetes.io/managed-by"
INSTANCE = "app.kubernetes.io/instance"


def owned_by(obj: dict[str, Any], uid: str) -> bool:
    """Whether ``obj`` has an owner reference to the object with this uid."""
    return any(ref.get("uid") == uid for ref in (obj.get("metadata") or {}).get("ownerReferences") or [])


def not_ours(live: dict[str, Any], desired: dict[str, Any], owner_uid: str) -> str | None:
    """Why ``live``, a same-named object already there, is not ours to overwrite with ``desired``; None
    when it is ours.

    Ours means an owner reference to our resource (``owner_uid``), or, for an object with no controller
    at all (a database Secret kept by retainOnDelete, made with no owner reference), the same
    managed-by and instance labels as ``desired``.
    """
    if owned_by(live, owner_uid):
        return None
    meta = live.get("metadata") or {}
    controller = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
    if controller is not None:
        return f"it is controlled by {controller.get('kind')} {controller.get('name')!r}"
    want = (desired.get("metadata") or {}).get("labels") or {}
    have = meta.get("labels") or {}
    keys = (MANAGED_BY, INSTANCE)
    if all(want.get(k) is not None and have.get(k) == want.get(k) for k in keys):
        return None
    return "it has no owner reference to this LangGraphPlatform and is not labelled " + ", ".join(
        f"{k}={want.get(k)}" for k in keys
    )
