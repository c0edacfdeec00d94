"""Tenants and their API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlmodel import Field, SQLModel

from .common import Name, timestamp, utcnow


class TenantBase(SQLModel):
    name: Name


class Tenant(TenantBase, table=True):
    __tablename__ = "tenant"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=53, unique=True)
    created_at: datetime = timestamp(default_factory=utcnow)


class TenantCreate(TenantBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class TenantPublic(TenantBase):
    id: uuid.UUID
    created_at: datetime


class TenantsPublic(BaseModel):
    data: list[TenantPublic]
    count: int
    limit: int
    offset: int


class ApiKeyBase(SQLModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ApiKey(ApiKeyBase, table=True):
    __tablename__ = "api_key"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True, ondelete="CASCADE")
    prefix: str = Field(max_length=32)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = timestamp(default_factory=utcnow)
    last_used_at: datetime | None = timestamp(default=None)
    revoked_at: datetime | None = timestamp(default=None)


class ApiKeyCreate(ApiKeyBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]
    tenant_id: uuid.UUID | None = Field(
        default=None, description="Admin key only: the tenant the new key belongs to (default: the caller's)."
    )


class ApiKeyPublic(ApiKeyBase):
    id: uuid.UUID
    tenant_id: uuid.UUID
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The key itself: shown this once, stored only as a hash.")


class ApiKeysPublic(BaseModel):
    data: list[ApiKeyPublic]
    count: int
    limit: int
    offset: int
