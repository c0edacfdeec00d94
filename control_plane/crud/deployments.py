"""Deployments: create (with revision 1), list, get, update (a new revision when what runs changes),
delete (a tombstone until the listener confirms) and purge."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from control_plane.core.security import SecretBox
from control_plane.crud import Principal
from control_plane.crud import listeners as listeners_crud
from control_plane.crud import revisions as revisions_crud
from control_plane.errors import Conflict, NotFound
from control_plane.models import (
    DatabaseConfig,
    Deployment,
    DeploymentCreate,
    DeploymentStatus,
    DeploymentUpdate,
    EnvVar,
    Listener,
    RedisConfig,
    Revision,
    utcnow,
)
from control_plane.spec import (
    FieldError,
    check_backing,
    check_env,
    ingress_dict,
    kubernetes_dict,
    resolve_resources,
)

IMMUTABLE = ("name", "type", "listener_id", "namespace")


def _secrets(box: SecretBox, sealed: str | None) -> dict[str, Any]:
    return box.open(sealed) if sealed else {"env": {}, "database_uri": None, "redis_uri": None}


def _seal(box: SecretBox, secrets: dict[str, Any]) -> str | None:
    if not secrets["env"] and not secrets.get("database_uri") and not secrets.get("redis_uri"):
        return None
    return box.seal(secrets)


def _what_runs(d: Deployment, secrets: dict[str, Any]) -> tuple[Any, ...]:
    return (
        d.image,
        d.resources,
        d.env,
        d.ingress,
        d.secret_refs,
        d.image_pull_secrets,
        d.database_type,
        d.redis_type,
        d.kubernetes,
        secrets,
    )


def _listener_for(
    session: Session, *, tenant_id: uuid.UUID, listener_id: uuid.UUID, namespace: str
) -> Listener:
    listener = session.get(Listener, listener_id)
    if listener is None or listener.tenant_id != tenant_id:
        raise FieldError(("listener_id",), "no such listener")
    if namespace not in listener.namespaces:
        allowed = ", ".join(listener.namespaces) or "none"
        raise FieldError(("namespace",), f"the listener may not manage this namespace (allowed: {allowed})")
    return listener


def create_deployment(
    session: Session, *, principal: Principal, data: DeploymentCreate, box: SecretBox
) -> tuple[Deployment, Revision]:
    _listener_for(
        session, tenant_id=principal.tenant_id, listener_id=data.listener_id, namespace=data.namespace
    )
    if session.exec(
        select(Deployment.id).where(Deployment.tenant_id == principal.tenant_id, Deployment.name == data.name)
    ).first():
        raise Conflict(f"a deployment named {data.name!r} exists")
    resources = resolve_resources(data.type.value, data.resources)
    check_env(data.env, list(data.secrets))
    check_backing(data.database, data.redis, have_db_uri=False, have_redis_uri=False)
    secrets = {
        "env": dict(data.secrets),
        "database_uri": data.database.uri if data.database.type == "external" else None,
        "redis_uri": data.redis.uri if data.redis.type == "external" else None,
    }
    deployment = Deployment(
        tenant_id=principal.tenant_id,
        name=data.name,
        type=data.type,
        image=data.image,
        listener_id=data.listener_id,
        namespace=data.namespace,
        resources=resources,
        env=[e.model_dump() for e in data.env],
        ingress=ingress_dict(data.ingress),
        secret_refs=list(data.secret_refs),
        image_pull_secrets=list(dict.fromkeys(data.image_pull_secrets)),
        database_type=data.database.type,
        redis_type=data.redis.type,
        secret_names=sorted(data.secrets),
        kubernetes=kubernetes_dict(data.kubernetes),
        secrets_sealed=_seal(box, secrets),
    )
    session.add(deployment)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError as e:
        raise Conflict(f"a deployment named {data.name!r} exists") from e
    revision = revisions_crud.create_revision(session, deployment=deployment, created_by=principal.actor_id)
    return deployment, revision


def get_deployment(session: Session, *, tenant_id: uuid.UUID, deployment_id: uuid.UUID) -> Deployment:
    deployment = session.get(Deployment, deployment_id)
    if deployment is None or deployment.tenant_id != tenant_id:
        raise NotFound("deployment")
    return deployment


def encode_cursor(created_at: datetime, deployment_id: uuid.UUID) -> str:
    """Where the next page starts: after the deployment created then with this id (newest first)."""
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{deployment_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """``encode_cursor``'s position; ValueError when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, ident = raw.partition("|")
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("no time zone")
        return when, uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError, binascii.Error) as e:
        raise ValueError("not a cursor from a previous page") from e


def list_deployments(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    name: str | None,
    status: str | None,
    type_: str | None,
    listener_id: uuid.UUID | None,
    limit: int,
    offset: int,
    exact_name: str | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> tuple[list[Deployment], int]:
    """``name``: the name contains it (case-insensitive); ``exact_name``: the name is it. ``after``: a
    keyset position (``decode_cursor``): the page starts after it, found through the index on
    (tenant_id, created_at) however deep it is, where ``offset`` makes Postgres walk every row before."""
    where: list[Any] = [col(Deployment.tenant_id) == tenant_id]
    if exact_name:
        where.append(col(Deployment.name) == exact_name)
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(col(Deployment.name).ilike(f"%{escaped}%", escape="\\"))
    if status:
        where.append(col(Deployment.status) == status)
    if type_:
        where.append(col(Deployment.type) == type_)
    if listener_id:
        where.append(col(Deployment.listener_id) == listener_id)
    count = session.exec(select(sa.func.count()).select_from(Deployment).where(*where)).one()
    page = list(where)
    if after is not None:
        at, ident = after
        page.append(
            sa.or_(
                col(Deployment.created_at) < at,
                sa.and_(col(Deployment.created_at) == at, col(Deployment.id) > ident),
            )
        )
    rows = session.exec(
        select(Deployment)
        .where(*page)
        .order_by(col(Deployment.created_at).desc(), col(Deployment.id))
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), count


def update_deployment(
    session: Session,
    *,
    principal: Principal,
    deployment_id: uuid.UUID,
    data: DeploymentUpdate,
    box: SecretBox,
    always_revision: bool = False,
) -> tuple[Deployment, Revision | None]:
    """Applies the change; returns the new revision, or None when what runs did not change (with
    ``always_revision``: a new revision even then, a redeploy of the same settings)."""
    d = revisions_crud.lock_deployment(session, tenant_id=principal.tenant_id, deployment_id=deployment_id)
    if d.deleted_at is not None:
        raise Conflict("the deployment is being deleted")
    sent = data.model_fields_set
    for field in IMMUTABLE:
        if (
            field in sent
            and getattr(data, field) is not None
            and str(getattr(data, field)) != str(getattr(d, field))
        ):
            raise FieldError((field,), "cannot change after creation")
    old_secrets = _secrets(box, d.secrets_sealed)
    before = _what_runs(d, old_secrets)
    env_secrets: dict[str, str] = dict(old_secrets["env"])
    secrets: dict[str, Any] = {
        "env": env_secrets,
        "database_uri": old_secrets.get("database_uri"),
        "redis_uri": old_secrets.get("redis_uri"),
    }

    image = data.image if data.image is not None else d.image
    resources = (
        resolve_resources(d.type, data.resources, d.resources) if data.resources is not None else d.resources
    )
    env = [e.model_dump() for e in data.env] if data.env is not None else d.env
    ingress = ingress_dict(data.ingress) if "ingress" in sent else d.ingress
    secret_refs = list(data.secret_refs) if data.secret_refs is not None else d.secret_refs
    pull_secrets = (
        list(dict.fromkeys(data.image_pull_secrets))
        if data.image_pull_secrets is not None
        else d.image_pull_secrets
    )
    if data.secrets is not None:
        for k, v in data.secrets.items():
            if v is None:
                env_secrets.pop(k, None)
            else:
                env_secrets[k] = v
    database = data.database or DatabaseConfig(type=d.database_type)  # type: ignore[arg-type]
    redis = data.redis or RedisConfig(type=d.redis_type)  # type: ignore[arg-type]
    check_backing(
        database,
        redis,
        have_db_uri=bool(secrets.get("database_uri")) and d.database_type == "external",
        have_redis_uri=bool(secrets.get("redis_uri")) and d.redis_type == "external",
    )
    for kind, cfg in (("database", database), ("redis", redis)):
        if cfg.type == "managed":
            secrets[f"{kind}_uri"] = None
        elif cfg.uri is not None:
            secrets[f"{kind}_uri"] = cfg.uri
    check_env([EnvVar(**e) for e in env], list(env_secrets))

    d.image, d.resources, d.env, d.ingress, d.secret_refs = image, resources, env, ingress, secret_refs
    d.image_pull_secrets = pull_secrets
    d.database_type, d.redis_type = database.type, redis.type
    d.secret_names = sorted(env_secrets)
    if "kubernetes" in sent:
        d.kubernetes = kubernetes_dict(data.kubernetes)
    if _what_runs(d, secrets) == before and not always_revision:
        return d, None
    d.secrets_sealed = _seal(box, secrets)
    d.updated_at = utcnow()
    session.add(d)
    revision = revisions_crud.create_revision(session, deployment=d, created_by=principal.actor_id)
    return d, revision


def delete_deployment(session: Session, *, principal: Principal, deployment_id: uuid.UUID) -> Deployment:
    """Marks it deleted (a tombstone in the listener's desired state) and interrupts unfinished revisions."""
    d = revisions_crud.lock_deployment(session, tenant_id=principal.tenant_id, deployment_id=deployment_id)
    if d.deleted_at is not None:
        return d
    revisions_crud.interrupt_unfinished(session, deployment=d)
    d.deleted_at = d.updated_at = utcnow()
    d.status = DeploymentStatus.DELETING
    session.add(d)
    listeners_crud.bump_version(session, listener_id=d.listener_id, deployment_id=d.id)
    return d


def purge_deployment(session: Session, *, listener: Listener, deployment_id: uuid.UUID) -> Deployment:
    """The listener confirms the objects are gone: the deployment, its revisions and events go too."""
    d = session.exec(select(Deployment).where(Deployment.id == deployment_id).with_for_update()).first()
    if d is None or d.listener_id != listener.id:
        raise NotFound("deployment")
    if d.deleted_at is None:
        raise Conflict("the deployment was not deleted by a user: refusing to forget it")
    session.delete(d)
    listeners_crud.forget(session, listener_id=listener.id, deployment_id=d.id)
    return d
