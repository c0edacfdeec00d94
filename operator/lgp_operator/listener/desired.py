"""The desired state, read, and the objects the listener applies for one deployment. Pure: no I/O.

The control plane sends each revision's spec as the LangGraphPlatform spec it is
(``lgp_contract.protocol.DesiredRevision``); the listener applies it as it comes and adds only its
labels. A deployment whose entry this listener cannot read (say a spec field it does not know yet) is
kept as ``Unreadable``, refused and reported, while every other deployment goes on.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from lgp_contract.names import LABEL_DEPLOYMENT_ID, LABEL_LISTENER_ID
from lgp_contract.protocol import DeploymentRef, DesiredDeployment, DesiredState, RevisionRef
from lgp_contract.resource import API_VERSION, KIND

FIELD_MANAGER = "lgp-listener"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"


def digest(obj: Any) -> str:
    """A short stable hash of JSON-able data: what the listener compares to skip unchanged work."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


class UnreadableState(ValueError):
    """The desired state itself (not one deployment of it) cannot be read."""


@dataclass(frozen=True)
class Unreadable:
    """A deployment whose entry cannot be read; ``field`` names where, as ``spec.image`` or ``revision``."""

    deployment: DeploymentRef
    revision: RevisionRef | None
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


Entry = DesiredDeployment | Unreadable


@dataclass(frozen=True)
class Desired:
    """A desired state as received: ``complete`` (every deployment) or a delta since ``since`` (the
    deployments that changed, and ``forgotten``: those whose deletion was acknowledged meanwhile)."""

    version: int
    listener_id: str
    deployments: list[Entry]
    complete: bool = True
    since: int | None = None
    forgotten: tuple[str, ...] = ()


def entry_id(entry: Entry) -> str:
    return str(entry.deployment.id if isinstance(entry, Unreadable) else entry.id)


def parse(raw: dict[str, Any]) -> Desired:
    """The desired state as sent -> typed entries, one per deployment."""
    try:
        state = DesiredState.model_validate(raw)
        entries: list[Entry] = list(state.deployments)
    except ValidationError:
        # find the entries that cannot be read, keep the others
        try:
            state = DesiredState.model_validate({**raw, "deployments": []})
            entries = [_entry(d) for d in raw.get("deployments") or []]
        except (ValidationError, TypeError, AttributeError) as e:
            raise UnreadableState(f"the desired state cannot be read: {e}") from None
    if not state.complete and state.since is None:
        raise UnreadableState("the desired state is a delta without the version it starts from")
    return Desired(
        state.version,
        str(state.listener_id),
        entries,
        complete=state.complete,
        since=state.since,
        forgotten=tuple(str(i) for i in state.forgotten),
    )


class DeltaMismatch(ValueError):
    """A delta that does not fit the copy the listener holds: ask for a full answer."""


def merge(base: Desired | None, received: Desired) -> Desired:
    """The complete desired state after ``received``: itself when complete; else ``base`` (a complete
    state at a version no older than the delta's base) with the delta's entries put in place and the
    forgotten deployments left out. Entries missing from a delta stay as they were: a delta never
    removes anything but what it names as forgotten (their objects are already gone)."""
    if received.complete:
        return received
    if base is None or not base.complete or received.since is None or base.version < received.since:
        raise DeltaMismatch(
            f"a delta since version {received.since} does not fit the copy at version "
            f"{None if base is None else base.version}"
        )
    entries = {entry_id(e): e for e in base.deployments}
    for gone in received.forgotten:
        entries.pop(gone, None)
    for e in received.deployments:
        entries[entry_id(e)] = e
    return Desired(received.version, received.listener_id, list(entries.values()))


def _entry(raw: dict[str, Any]) -> Entry:
    try:
        return DesiredDeployment.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        revision = raw.get("revision")
        return Unreadable(
            deployment=DeploymentRef.model_validate(raw),  # without these there is no one to refuse
            revision=RevisionRef.model_validate(revision) if revision else None,
            field=loc.removeprefix("revision.") if loc.startswith("revision.spec") else loc or "deployment",
            message=str(first["msg"]),
        )


@dataclass(frozen=True)
class DesiredObjects:
    """What the listener applies for one deployment: its Secret (if any), then its LangGraphPlatform."""

    deployment_id: str
    name: str
    namespace: str
    revision_id: str | None
    secret: dict[str, Any] | None
    platform: dict[str, Any]


def labels(deployment: DeploymentRef, listener_id: str) -> dict[str, str]:
    return {
        LABEL_MANAGED_BY: FIELD_MANAGER,
        LABEL_DEPLOYMENT_ID: str(deployment.id),
        LABEL_LISTENER_ID: listener_id,
    }


def desired_objects(d: DesiredDeployment, listener_id: str) -> DesiredObjects:
    """The Secret and the LangGraphPlatform of one deployment that has a revision to run."""
    if d.revision is None:
        raise ValueError(f"deployment {d.id} has no revision to deploy yet")
    meta = {"name": d.name, "namespace": d.namespace, "labels": labels(d, listener_id)}
    secret = None
    if d.secret is not None:
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {**meta, "name": d.secret.name},
            # base64 as the API server stores it, so an unchanged Secret compares equal and is not written
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in d.secret.data.items()},
        }
    platform = {"apiVersion": API_VERSION, "kind": KIND, "metadata": meta, "spec": d.revision.spec.written()}
    return DesiredObjects(
        deployment_id=str(d.id),
        name=d.name,
        namespace=d.namespace,
        revision_id=str(d.revision.id),
        secret=secret,
        platform=platform,
    )
