"""revision.spec holds the LangGraphPlatform spec as written, not a shape close to it

Before, a revision's spec was a snapshot "close to the custom resource" (``envFrom`` entries,
``database.type`` with ``external.uriSecretRef``, ``ingress.host: null``) that the listener translated.
Now the control plane builds the custom resource's spec itself (``lgp_contract.resource``) and the
listener applies it as it is. This migration rewrites every stored spec the way the listener's
translation did, so the objects in the clusters stay byte for byte the same; the downgrade writes
the old shape back.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the keys the listener's translation passed through unchanged
KEPT = (
    "image",
    "imagePullPolicy",
    "imagePullSecrets",
    "revision",
    "env",
    "apiServer",
    "queue",
    "autoscaling",
    "ingress",
    "placement",
    "suspend",
    "terminationGracePeriodSeconds",
    "preStopDrainSeconds",
)


def _backing_as_resource(src: dict[str, Any] | None) -> dict[str, Any]:
    if not src:
        return {"managed": {}}
    if src.get("type") == "external" or "external" in src:
        external = src.get("external") or {}
        ref = external.get("uriSecretRef") or external.get("secretRef") or {}
        return {"external": {"secretRef": {"name": ref.get("name"), "key": ref.get("key", "uri")}}}
    return {"managed": dict(src.get("managed") or {})}


def as_resource(old: dict[str, Any]) -> dict[str, Any]:
    """The old snapshot -> the LangGraphPlatform spec as written (what the listener applied)."""
    new = {k: old[k] for k in KEPT if old.get(k) is not None}
    for kind in ("database", "redis"):
        if kind in old:
            new[kind] = _backing_as_resource(old[kind])
    if isinstance(new.get("ingress"), dict):
        new["ingress"] = {k: v for k, v in new["ingress"].items() if v is not None}
    refs = [e["secretRef"]["name"] for e in old.get("envFrom", []) if (e.get("secretRef") or {}).get("name")]
    if old.get("envFromSecret"):
        refs.insert(0, old["envFromSecret"])
    refs += old.get("envFromSecrets") or []
    if refs:
        new["envFromSecret"] = refs[0]
    if len(refs) > 1:
        new["envFromSecrets"] = refs[1:]
    return new


def as_snapshot(new: dict[str, Any]) -> dict[str, Any]:
    """The LangGraphPlatform spec -> the old snapshot shape."""
    old = {k: v for k, v in new.items() if k not in ("envFromSecret", "envFromSecrets")}
    names = [new.get("envFromSecret"), *(new.get("envFromSecrets") or [])]
    old["envFrom"] = [{"secretRef": {"name": n}} for n in names if n]
    for kind in ("database", "redis"):
        src = new.get(kind) or {"managed": {}}
        if "external" in src:
            old[kind] = {"type": "external", "external": {"uriSecretRef": src["external"]["secretRef"]}}
        else:
            old[kind] = {"type": "managed", "managed": src.get("managed") or {}}
    ingress = new.get("ingress") or {}
    old["ingress"] = {
        "enabled": bool(ingress.get("enabled")),
        "host": ingress.get("host"),
        "path": ingress.get("path", "/"),
    }
    return old


def _is_snapshot(spec: dict[str, Any]) -> bool:
    return "envFrom" in spec or any("type" in (spec.get(k) or {}) for k in ("database", "redis"))


def _rewrite(convert: Callable[[dict[str, Any]], dict[str, Any]], wanted: bool) -> None:
    table = sa.table("revision", sa.column("id", sa.Uuid()), sa.column("spec", JSONB))
    conn = op.get_bind()
    rows = conn.execute(sa.select(table.c.id, table.c.spec)).all()
    changed = [
        {"rid": rid, "new_spec": convert(spec)} for rid, spec in rows if spec and _is_snapshot(spec) is wanted
    ]
    if changed:
        conn.execute(
            table.update().where(table.c.id == sa.bindparam("rid")).values(spec=sa.bindparam("new_spec")),
            changed,
        )


def upgrade() -> None:
    _rewrite(as_resource, wanted=True)


def downgrade() -> None:
    _rewrite(as_snapshot, wanted=False)
