"""Revisions: immutable snapshots of what runs, moved through the lifecycle of state_machine.py.

Every function that changes a deployment's revisions first locks the deployment row, so revision
numbers, "one in flight" and the active revision stay consistent across server processes (the
partial unique index ``uq_revision_in_flight`` backs the rule up)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from control_plane.core.security import SecretBox
from control_plane.crud import listeners as listeners_crud
from control_plane.errors import Conflict, NotFound
from control_plane.models import (
    Deployment,
    DeploymentEvent,
    DeploymentSettings,
    DeploymentStatus,
    EventKind,
    ForgottenDeployment,
    Listener,
    Revision,
    utcnow,
)
from control_plane.spec import build_spec, secret_data
from control_plane.state_machine import Actor, check_transition
from lgp_contract.names import listener_secret_name
from lgp_contract.protocol import DesiredDeployment, DesiredRevision, DesiredSecret, DesiredState
from lgp_contract.resource import LangGraphPlatformSpec
from lgp_contract.statuses import IN_FLIGHT, PENDING, UNFINISHED, RevisionStatus

S = RevisionStatus


def lock_deployment(session: Session, *, tenant_id: uuid.UUID | None, deployment_id: uuid.UUID) -> Deployment:
    d = session.exec(
        select(Deployment)
        .where(Deployment.id == deployment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if d is None or (tenant_id is not None and d.tenant_id != tenant_id):
        raise NotFound("deployment")
    return d


def _transition(
    session: Session,
    rev: Revision,
    target: RevisionStatus,
    actor: Actor,
    *,
    reason: str | None = None,
    message: str | None = None,
) -> None:
    check_transition(rev.status, target, actor)
    now = utcnow()
    previous = rev.status
    rev.status, rev.status_reason, rev.status_message, rev.updated_at = target, reason, message, now
    if target == S.DEPLOYING:
        rev.deploy_started_at = now
    if target not in IN_FLIGHT:
        rev.finished_at = rev.finished_at or now
    session.add(rev)
    session.add(
        DeploymentEvent(
            tenant_id=rev.tenant_id,
            deployment_id=rev.deployment_id,
            revision_id=rev.id,
            kind=EventKind.REVISION_STATUS,
            reason=reason or target.value,
            message=message or f"revision {rev.number}: {previous} -> {target.value}",
            payload={"from": previous, "to": target.value, "actor": actor.value},
        )
    )
    session.flush()  # one UPDATE at a time: the in-flight unique index sees every step in order


def _revisions(session: Session, deployment_id: uuid.UUID, *statuses: str) -> list[Revision]:
    return list(
        session.exec(
            select(Revision)
            .where(Revision.deployment_id == deployment_id, col(Revision.status).in_(statuses))
            .order_by(col(Revision.number).desc())
        ).all()
    )


def refresh_status(session: Session, deployment: Deployment) -> None:
    if deployment.deleted_at is not None:
        deployment.status = DeploymentStatus.DELETING
    else:
        in_flight = _revisions(session, deployment.id, *IN_FLIGHT)
        latest = (
            session.get(Revision, deployment.latest_revision_id) if deployment.latest_revision_id else None
        )
        if in_flight:
            deployment.status = (
                DeploymentStatus.DEPLOYING if in_flight[0].status == S.DEPLOYING else DeploymentStatus.PENDING
            )
        elif latest is None or latest.status in PENDING:
            deployment.status = DeploymentStatus.PENDING
        elif latest.status == S.DEPLOYED:
            deployment.status = DeploymentStatus.READY
        elif latest.status == S.DEPLOY_FAILED:
            deployment.status = DeploymentStatus.FAILED
        elif latest.status == S.INTERRUPTED:
            deployment.status = (
                DeploymentStatus.READY if deployment.active_revision_id else DeploymentStatus.INTERRUPTED
            )
        else:
            deployment.status = (
                DeploymentStatus.READY if deployment.active_revision_id else DeploymentStatus.PENDING
            )
    session.add(deployment)


def _advance(session: Session, deployment: Deployment) -> None:
    """Nothing in flight: the newest queued revision goes to the listener."""
    if not _revisions(session, deployment.id, *IN_FLIGHT):
        queued = _revisions(session, deployment.id, S.QUEUED)
        if queued:
            _transition(
                session,
                queued[0],
                S.AWAITING_DEPLOY,
                Actor.SYSTEM,
                reason="AwaitingDeploy",
                message="waiting for the listener to apply it",
            )
    refresh_status(session, deployment)


def create_revision(
    session: Session,
    *,
    deployment: Deployment,
    created_by: str | None,
    source_revision_id: uuid.UUID | None = None,
) -> Revision:
    """A new QUEUED revision from the deployment's current settings (the deployment must be locked)."""
    number = deployment.revision_count + 1
    rev_id = uuid.uuid4()
    settings = deployment.settings()
    spec = build_spec(
        name=deployment.name, settings=settings, revision_id=str(rev_id), revision_number=number
    )
    rev = Revision(
        id=rev_id,
        tenant_id=deployment.tenant_id,
        deployment_id=deployment.id,
        number=number,
        status=S.QUEUED,
        config=settings.model_dump(mode="json"),
        spec=spec.written(),
        secret_names=list(deployment.secret_names),
        secrets_sealed=deployment.secrets_sealed,
        source_revision_id=source_revision_id,
        created_by=created_by,
    )
    session.add(rev)
    session.flush()
    for old in _revisions(session, deployment.id, S.QUEUED):
        if old.id != rev.id:
            _transition(
                session,
                old,
                S.SKIPPED,
                Actor.SYSTEM,
                reason="Superseded",
                message=f"revision {number} was created before this one was deployed",
            )
    deployment.latest_revision_id, deployment.revision_count = rev.id, number
    deployment.updated_at = utcnow()
    _advance(session, deployment)
    listeners_crud.bump_version(session, listener_id=deployment.listener_id, deployment_id=deployment.id)
    return rev


def new_revision(
    session: Session, *, tenant_id: uuid.UUID, deployment_id: uuid.UUID, image: str | None, created_by: str
) -> Revision:
    d = lock_deployment(session, tenant_id=tenant_id, deployment_id=deployment_id)
    if d.deleted_at is not None:
        raise Conflict("the deployment is being deleted")
    if image is not None:
        d.image = image
    return create_revision(session, deployment=d, created_by=created_by)


def get_revision(session: Session, *, tenant_id: uuid.UUID, revision_id: uuid.UUID) -> Revision:
    rev = session.get(Revision, revision_id)
    if rev is None or rev.tenant_id != tenant_id:
        raise NotFound("revision")
    return rev


def list_revisions(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    deployment_id: uuid.UUID,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Revision], int]:
    d = session.get(Deployment, deployment_id)
    if d is None or d.tenant_id != tenant_id:
        raise NotFound("deployment")
    where: list[Any] = [col(Revision.deployment_id) == deployment_id]
    if status:
        where.append(col(Revision.status) == status)
    count = session.exec(select(sa.func.count()).select_from(Revision).where(*where)).one()
    rows = session.exec(
        select(Revision).where(*where).order_by(col(Revision.number).desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), count


def redeploy(session: Session, *, tenant_id: uuid.UUID, revision_id: uuid.UUID, created_by: str) -> Revision:
    """Rollback: a new revision with an old one's settings and secrets; the deployment takes them too."""
    src = get_revision(session, tenant_id=tenant_id, revision_id=revision_id)
    d = lock_deployment(session, tenant_id=tenant_id, deployment_id=src.deployment_id)
    if d.deleted_at is not None:
        raise Conflict("the deployment is being deleted")
    d.restore(DeploymentSettings.model_validate(src.config))
    d.secret_names, d.secrets_sealed = list(src.secret_names), src.secrets_sealed
    return create_revision(session, deployment=d, created_by=created_by, source_revision_id=src.id)


def interrupt(session: Session, *, tenant_id: uuid.UUID, revision_id: uuid.UUID) -> Revision:
    rev = get_revision(session, tenant_id=tenant_id, revision_id=revision_id)
    d = lock_deployment(session, tenant_id=tenant_id, deployment_id=rev.deployment_id)
    session.refresh(rev)
    _transition(
        session, rev, S.INTERRUPTED, Actor.USER, reason="Interrupted", message="interrupted by a user"
    )
    _advance(session, d)
    listeners_crud.bump_version(session, listener_id=d.listener_id, deployment_id=d.id)
    return rev


def interrupt_unfinished(session: Session, *, deployment: Deployment) -> None:
    """On delete: queued and in-flight revisions stop (the deployment is locked)."""
    for rev in _revisions(session, deployment.id, *UNFINISHED):
        _transition(
            session,
            rev,
            S.INTERRUPTED,
            Actor.USER,
            reason="DeploymentDeleted",
            message="the deployment was deleted",
        )


def report_status(
    session: Session,
    *,
    listener: Listener,
    revision_id: uuid.UUID,
    status: str,
    reason: str | None,
    message: str | None,
) -> Revision:
    """A transition the listener saw. Repeating the current status is a no-op (retries are safe);
    DEPLOYED for an AWAITING_DEPLOY revision passes through DEPLOYING."""
    rev = session.get(Revision, revision_id)
    if rev is None:
        raise NotFound("revision")
    d = lock_deployment(session, tenant_id=None, deployment_id=rev.deployment_id)
    if d.listener_id != listener.id:
        raise NotFound("revision")
    session.refresh(rev)
    target = S(status)
    if rev.status == target:
        return rev
    if target == S.DEPLOYED and rev.status == S.AWAITING_DEPLOY:
        _transition(
            session, rev, S.DEPLOYING, Actor.LISTENER, reason="Deploying", message="applied by the listener"
        )
    _transition(session, rev, target, Actor.LISTENER, reason=reason, message=message)
    if target == S.DEPLOYED:
        for old in _revisions(session, d.id, S.DEPLOYED):
            if old.id != rev.id:
                _transition(
                    session,
                    old,
                    S.REPLACED,
                    Actor.SYSTEM,
                    reason="Replaced",
                    message=f"revision {rev.number} is now deployed",
                )
        d.active_revision_id = rev.id
    _advance(session, d)
    listeners_crud.bump_version(session, listener_id=d.listener_id, deployment_id=d.id)
    return rev


def expire_overdue(session: Session, *, timeout_seconds: float, now: datetime | None = None) -> int:
    """Revisions DEPLOYING for longer than the deadline fail with a reason. Safe in several processes."""
    cutoff = (now or utcnow()) - timedelta(seconds=timeout_seconds)
    overdue = session.exec(
        select(Revision.id, Revision.deployment_id).where(
            Revision.status == S.DEPLOYING, col(Revision.deploy_started_at) < cutoff
        )
    ).all()
    done = 0
    for rev_id, deployment_id in overdue:
        d = lock_deployment(session, tenant_id=None, deployment_id=deployment_id)
        rev = session.get(Revision, rev_id, populate_existing=True)
        if (
            rev is None
            or rev.status != S.DEPLOYING
            or rev.deploy_started_at is None
            or rev.deploy_started_at >= cutoff
        ):
            session.commit()
            continue
        _transition(
            session,
            rev,
            S.DEPLOY_FAILED,
            Actor.SYSTEM,
            reason="DeadlineExceeded",
            message=f"still DEPLOYING after {timeout_seconds:g}s; the events of this revision show what the "
            "cluster reported",
        )
        _advance(session, d)
        listeners_crud.bump_version(session, listener_id=d.listener_id, deployment_id=d.id)
        session.commit()
        done += 1
    return done


def desired_state(
    session: Session, *, listener: Listener, box: SecretBox, since: int | None = None
) -> DesiredState:
    """Per deployment of the listener: the revision to run (in flight, else the active one, else the
    last one that reached the cluster), its secrets, or a tombstone. With ``since`` (a version the
    listener has) a delta: only the deployments stamped with a later version, and the ones forgotten
    since; a full answer instead when deltas cannot start from ``since`` (too old, or newer than now).
    Only the columns the answer needs are read (not the settings, conditions or revision configs)."""
    delta = since is not None and listener.delta_since <= since <= listener.state_version
    query = sa.select(
        col(Deployment.id),
        col(Deployment.name),
        col(Deployment.namespace),
        col(Deployment.deleted_at),
        col(Deployment.active_revision_id),
    ).where(col(Deployment.listener_id) == listener.id)
    if delta:
        query = query.where(col(Deployment.state_version) > since)
    deployments = session.execute(query.order_by(col(Deployment.created_at))).all()
    ids = [d.id for d in deployments]
    by_dep: dict[uuid.UUID, Any] = {}
    columns = (
        col(Revision.id),
        col(Revision.deployment_id),
        col(Revision.number),
        col(Revision.status),
        col(Revision.spec),
        col(Revision.secrets_sealed),
    )
    if ids:
        for rev in session.execute(
            sa.select(*columns).where(
                col(Revision.deployment_id).in_(ids), col(Revision.status).in_(IN_FLIGHT)
            )
        ).all():
            by_dep[rev.deployment_id] = rev
        active = [d.active_revision_id for d in deployments if d.id not in by_dep and d.active_revision_id]
        if active:
            for rev in session.execute(sa.select(*columns).where(col(Revision.id).in_(active))).all():
                by_dep[rev.deployment_id] = rev
        rest = [d.id for d in deployments if d.id not in by_dep and d.deleted_at is None]
        if rest:
            for rev in session.execute(
                sa.select(*columns)
                .where(col(Revision.deployment_id).in_(rest), col(Revision.deploy_started_at).is_not(None))
                .order_by(col(Revision.deployment_id), col(Revision.number).desc())
                .distinct(col(Revision.deployment_id))
            ).all():
                by_dep[rev.deployment_id] = rev
    out = []
    for d in deployments:
        chosen = by_dep.get(d.id) if d.deleted_at is None else None
        out.append(
            DesiredDeployment(
                id=d.id,
                name=d.name,
                namespace=d.namespace,
                deleted=d.deleted_at is not None,
                revision=None
                if chosen is None
                else DesiredRevision(
                    id=chosen.id,
                    number=chosen.number,
                    status=RevisionStatus(chosen.status),
                    spec=LangGraphPlatformSpec.model_validate(chosen.spec),
                ),
                secret=None
                if chosen is None or not chosen.secrets_sealed
                else DesiredSecret(
                    name=listener_secret_name(d.name), data=secret_data(box.open(chosen.secrets_sealed))
                ),
            )
        )
    forgotten: list[uuid.UUID] = []
    if delta:
        forgotten = list(
            session.exec(
                select(ForgottenDeployment.deployment_id).where(
                    ForgottenDeployment.listener_id == listener.id,
                    col(ForgottenDeployment.state_version) > since,
                )
            ).all()
        )
    return DesiredState(
        version=listener.state_version,
        listener_id=listener.id,
        namespaces=listener.namespaces,
        deployments=out,
        complete=not delta,
        since=since if delta else None,
        forgotten=forgotten,
    )
