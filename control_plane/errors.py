"""Domain errors raised by the CRUD layer; the app maps them to HTTP statuses (404, 409, 422, 403)."""

from __future__ import annotations


class NotFound(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")


class Conflict(Exception):
    """409: a duplicate name, a refused transition, an object in use."""


class Forbidden(Exception):
    """403: authenticated, but this credential may not do that."""
