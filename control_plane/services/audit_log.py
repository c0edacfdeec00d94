"""The audit log, read: every change in a tenant, newest first (a read needs no unit of work)."""

from __future__ import annotations

from control_plane.crud.audit import list_entries as find

__all__ = ["find"]
