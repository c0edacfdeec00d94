"""The OpenAPI document lists every status a route can answer, including those that come from the
middleware and the app-wide handlers rather than the route itself, so no client (and no schemathesis
seed) meets an undocumented one."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

_ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}
WRITE_METHODS = ("post", "put", "patch", "delete")
BODY_METHODS = ("post", "put", "patch")

# status -> (methods it applies to, description); where it comes from is named in the description
APP_WIDE: dict[str, tuple[tuple[str, ...], str]] = {
    "422": (
        ("get", "head", *WRITE_METHODS),
        "Invalid input: `loc` names the field (also an unknown query parameter, a malformed "
        "Idempotency-Key, or a value the database cannot store)",
    ),
    "503": (
        ("get", "head", *WRITE_METHODS),
        "The database is unavailable: retry after Retry-After seconds",
    ),
    "409": (
        WRITE_METHODS,
        "Conflict: a duplicate, a refused transition, a concurrent change, or (POST) a request with "
        "the same Idempotency-Key still in progress (retry after Retry-After seconds)",
    ),
    "413": (BODY_METHODS, "Request body too large"),
}


def add_app_wide_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the app-wide statuses to every operation that can reach them; keep what a route documents."""
    has_error_model = "ErrorResponse" in schema.get("components", {}).get("schemas", {})
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, (methods, description) in APP_WIDE.items():
                if method in methods and status not in responses:
                    responses[status] = {"description": description}
                    if has_error_model:
                        responses[status]["content"] = {"application/json": {"schema": _ERROR_SCHEMA}}
    return schema


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_app_wide_responses(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
