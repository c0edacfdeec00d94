"""What a listener does to the control plane (``/v1/listener/*``): read its desired state, report a
revision's status and what it sees, acknowledge a deletion, send a heartbeat."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from control_plane.core.security import SecretBox
from control_plane.crud import Principal
from control_plane.crud import deployments as deployments_crud
from control_plane.crud import events as events_crud
from control_plane.crud import listeners as listeners_crud
from control_plane.crud import revisions as revisions_crud
from control_plane.errors import NotFound
from control_plane.models import Listener, Revision, utcnow
from lgp_contract.protocol import DeploymentReport, DesiredState, Heartbeat, HeartbeatAck, StatusReport

from . import Caller


def acting(session: Session, listener: Listener) -> Caller:
    """The listener as the one who acts (audit records name it)."""
    principal = Principal(tenant_id=listener.tenant_id, actor_type="listener", actor_id=str(listener.id))
    return Caller(session=session, principal=principal)


def state_version(session: Session, listener_id: uuid.UUID) -> int:
    """The listener's desired-state version now (-1: the listener is gone)."""
    listener = session.get(Listener, listener_id)
    return listener.state_version if listener is not None else -1


def desired_state(
    session: Session, *, listener_id: uuid.UUID, box: SecretBox, since: int | None = None
) -> DesiredState:
    """Everything this listener must run, secret values decrypted for it alone; with ``since``, what
    changed after that version (a delta) when one can be answered. Read in one snapshot (REPEATABLE
    READ), so the version and the entries agree."""
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    listener = session.get(Listener, listener_id)
    if listener is None:
        raise NotFound("listener")
    return revisions_crud.desired_state(session, listener=listener, box=box, since=since)


def report_status(
    session: Session, listener: Listener, revision_id: uuid.UUID, report: StatusReport
) -> Revision:
    """A revision transition seen in the cluster; repeating the current status changes nothing."""
    rev = revisions_crud.report_status(
        session,
        listener=listener,
        revision_id=revision_id,
        status=report.status,
        reason=report.reason,
        message=report.message,
    )
    caller = acting(session, listener)
    caller.record("revision.status", "revision", rev.id, report.model_dump(exclude_none=True))
    caller.commit(rev)
    return rev


def report(session: Session, listener: Listener, deployment_id: uuid.UUID, report: DeploymentReport) -> int:
    """Conditions, Kubernetes events, replica counts and the endpoint of one deployment: events stored."""
    n = events_crud.add_report(session, listener=listener, deployment_id=deployment_id, report=report)
    session.commit()
    return n


def acknowledge_deletion(session: Session, listener: Listener, deployment_id: uuid.UUID) -> None:
    """The objects of a tombstoned deployment are gone: forget the deployment."""
    d = deployments_crud.purge_deployment(session, listener=listener, deployment_id=deployment_id)
    caller = acting(session, listener)
    caller.record("deployment.purge", "deployment", deployment_id, {"name": d.name})
    caller.commit()


def heartbeat(session: Session, listener: Listener, beat: Heartbeat) -> HeartbeatAck:
    listeners_crud.heartbeat(session, listener=listener, version=beat.version, info=beat.info)
    session.commit()
    session.refresh(listener)
    return HeartbeatAck(server_time=utcnow(), version=listener.state_version)
