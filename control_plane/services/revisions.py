"""Revisions: a new one from the current settings (optionally a new image), a rollback (redeploy),
an interruption, and the reads."""

from __future__ import annotations

import uuid

from control_plane.crud import revisions as crud
from control_plane.crud.revisions import get_revision as get
from control_plane.crud.revisions import list_revisions as find
from control_plane.models import Revision

from . import Caller

__all__ = ["create", "find", "get", "interrupt", "redeploy"]


def create(caller: Caller, deployment_id: uuid.UUID, *, image: str | None = None) -> Revision:
    """Deploy the current settings again, with ``image`` if given (it becomes the deployment's)."""
    caller.admit("revision.create", deployment_id=deployment_id)
    rev = crud.new_revision(
        caller.session,
        tenant_id=caller.principal.tenant_id,
        deployment_id=deployment_id,
        image=image,
        created_by=caller.principal.actor_id,
    )
    given = {"image": image} if image is not None else {}
    caller.record(
        "revision.create",
        "revision",
        rev.id,
        {**given, "number": rev.number, "deployment_id": str(deployment_id)},
    )
    caller.commit(rev)
    return rev


def redeploy(caller: Caller, revision_id: uuid.UUID) -> Revision:
    """Roll back: a new revision with this one's settings and secrets."""
    caller.admit("revision.create", revision_id=revision_id)
    rev = crud.redeploy(
        caller.session,
        tenant_id=caller.principal.tenant_id,
        revision_id=revision_id,
        created_by=caller.principal.actor_id,
    )
    caller.record(
        "revision.redeploy",
        "revision",
        rev.id,
        {"source_revision_id": str(revision_id), "number": rev.number},
    )
    caller.commit(rev)
    return rev


def interrupt(caller: Caller, revision_id: uuid.UUID) -> Revision:
    """Stop a revision that has not finished (TransitionRefused, a 409, otherwise)."""
    rev = crud.interrupt(caller.session, tenant_id=caller.principal.tenant_id, revision_id=revision_id)
    caller.record("revision.interrupt", "revision", rev.id, {"status": rev.status})
    caller.commit(rev)
    return rev
