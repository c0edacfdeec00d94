"""Keyword-only CRUD functions. Each takes a Session and commits nothing: the route commits once,
so a call's changes, its audit record and its listener notification land together or not at all."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

DEFAULT_TENANT_ID = uuid.UUID("00000000-0000-0000-0000-000000000001")


@dataclass(frozen=True)
class Principal:
    """Who is calling: every query is scoped to ``tenant_id``."""

    tenant_id: uuid.UUID
    actor_type: str  # "api_key" | "admin" | "listener" | "system"
    actor_id: str
    is_admin: bool = False
