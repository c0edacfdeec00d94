"""What the OpenAPI document declares, used to be exact at run time: the full ``Allow`` header of a
405, and 422 for a query parameter no operation declares (a typo in a filter must not be ignored)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI, Request

from control_plane.spec import FieldError


@dataclass(frozen=True)
class PathEntry:
    pattern: re.Pattern[str]
    query: dict[str, frozenset[str]]  # method -> declared query parameter names


def _index(app: FastAPI) -> list[PathEntry]:
    cached: list[PathEntry] | None = getattr(app.state, "openapi_index", None)
    if cached is None:
        cached = []
        for template, ops in app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")
            query = {
                method.upper(): frozenset(
                    p["name"] for p in op.get("parameters", []) if p.get("in") == "query"
                )
                for method, op in ops.items()
            }
            cached.append(PathEntry(pattern, query))
        app.state.openapi_index = cached
    return cached


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    for entry in _index(app):
        if entry.pattern.match(path):
            return sorted(entry.query)
    return []


class UnknownQueryParameter(FieldError):
    pass


async def reject_unknown_query(request: Request) -> None:
    """App-wide dependency: 422 naming the first undeclared (or NUL-carrying) query parameter (async:
    no I/O, so it runs on the event loop, not on a worker thread)."""
    if not request.query_params:
        return
    for name, value in request.query_params.multi_items():
        if "\x00" in value or "\x00" in name:
            raise UnknownQueryParameter(("query", name), "NUL characters are not accepted")
    for entry in _index(request.app):
        if entry.pattern.match(request.url.path):
            declared = entry.query.get(request.method, frozenset())
            for name in request.query_params:
                if name not in declared:
                    raise UnknownQueryParameter(("query", name), "unknown query parameter")
            return
