"""The web UI's entry point, loaded by ``create_app`` through ``EXTENSIONS``: ``install`` adds the pages
under ``/ui`` and gives ``/ui`` HTML error pages where the API keeps its JSON ones."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from control_plane.core.config import Settings
from control_plane.errors import NotFound

from .auth import KEY_COOKIE, SignInRequired, sign_out
from .pages import router
from .rendering import error_page

ERROR_TITLES = {
    400: "The form could not be read.",
    403: "Refused: the form's security token is missing or stale. Reload the page and try again.",
    404: "Not found in your tenant.",
    405: "This page does not accept that method.",
    413: "The form is too large.",
    422: "The address is not valid.",
}


def install(app: FastAPI, settings: Settings) -> None:
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/ui", status_code=307)

    @app.get("/o/{tenant_id}/host/deployments/{deployment_id}", include_in_schema=False)
    def langgraph_status_url(tenant_id: uuid.UUID, deployment_id: uuid.UUID) -> Response:
        """The status URL `langgraph deploy` prints (LangSmith's path) opens the deployment's page."""
        return RedirectResponse(f"/ui/deployments/{deployment_id}", status_code=307)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        response = RedirectResponse("/ui/login", status_code=303)
        if request.cookies.get(KEY_COOKIE):  # a revoked or unknown key: forget it
            sign_out(request, response)
        return response

    # errors raised outside a page's own handling (CSRF, an unknown id, a malformed address): /ui gets
    # an HTML page, the API keeps its JSON handlers
    for exc_type in (StarletteHTTPException, RequestValidationError, NotFound):
        app.exception_handlers[exc_type] = _html_for_ui(app.exception_handlers[exc_type])


def _html_for_ui(json_handler: Callable[..., Any]) -> Callable[..., Any]:
    async def handler(request: Request, exc: Exception) -> Response:
        if not (request.url.path == "/ui" or request.url.path.startswith("/ui/")):
            response: Response = await json_handler(request, exc)
            return response
        if isinstance(exc, StarletteHTTPException):
            status = exc.status_code
        elif isinstance(exc, NotFound):
            status = 404
        else:
            status = 422
        return error_page(status, ERROR_TITLES.get(status, "Something went wrong."))

    return handler
