"""Tenants and API keys (random, shown once, stored as SHA-256 with a visible prefix)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from control_plane.core.security import API_KEY_PREFIX, hash_credential, new_credential
from control_plane.errors import Conflict, NotFound
from control_plane.models import ApiKey, Tenant, utcnow

LAST_USED_RESOLUTION = timedelta(minutes=1)


def create_tenant(session: Session, *, name: str) -> Tenant:
    if session.exec(select(Tenant).where(Tenant.name == name)).first():
        raise Conflict(f"a tenant named {name!r} exists")
    tenant = Tenant(name=name)
    session.add(tenant)
    session.flush()
    return tenant


def list_tenants(session: Session, *, limit: int, offset: int) -> tuple[list[Tenant], int]:
    count = session.exec(select(sa.func.count()).select_from(Tenant)).one()
    rows = session.exec(select(Tenant).order_by(col(Tenant.created_at)).limit(limit).offset(offset)).all()
    return list(rows), count


def get_tenant(session: Session, *, tenant_id: uuid.UUID) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant")
    return tenant


def create_api_key(session: Session, *, tenant_id: uuid.UUID, name: str) -> tuple[ApiKey, str]:
    """The new key and its plaintext (to show once)."""
    plaintext, prefix, digest = new_credential(API_KEY_PREFIX)
    key = ApiKey(tenant_id=tenant_id, name=name, prefix=prefix, key_hash=digest)
    session.add(key)
    session.flush()
    return key, plaintext


def list_api_keys(
    session: Session, *, tenant_id: uuid.UUID, include_revoked: bool, limit: int, offset: int
) -> tuple[list[ApiKey], int]:
    where = [col(ApiKey.tenant_id) == tenant_id]
    if not include_revoked:
        where.append(col(ApiKey.revoked_at).is_(None))
    count = session.exec(select(sa.func.count()).select_from(ApiKey).where(*where)).one()
    rows = session.exec(
        select(ApiKey).where(*where).order_by(col(ApiKey.created_at)).limit(limit).offset(offset)
    ).all()
    return list(rows), count


def revoke_api_key(session: Session, *, tenant_id: uuid.UUID | None, key_id: uuid.UUID) -> ApiKey:
    """``tenant_id=None``: any tenant (the admin key)."""
    key = session.get(ApiKey, key_id)
    if key is None or (tenant_id is not None and key.tenant_id != tenant_id):
        raise NotFound("api key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
    return key


def authenticate_api_key(session: Session, *, plaintext: str) -> ApiKey | None:
    """The live key with this plaintext, or None. Marks it used (at most once a minute)."""
    key = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_credential(plaintext))).first()
    if key is None or key.revoked_at is not None:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now
        session.add(key)
        session.commit()
        session.refresh(key)
    return key
