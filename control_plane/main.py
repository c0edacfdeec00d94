"""The app factory: ``create_app(settings)``.

Extensions (for example ``control_plane.licensing``) plug in without editing this file: a module
``control_plane.<name>.extension`` with ``install(app, settings)`` may include routers and append
admission hooks to ``app.state.admission_hooks``; each hook is called as
``hook(session=..., principal=..., action=..., **context)`` before the change and refuses it by raising
``fastapi.HTTPException``. Actions and their context: ``deployment.create`` (body: DeploymentCreate),
``deployment.update`` (deployment_id, body: DeploymentUpdate; it creates a revision when what runs
changes), ``revision.create`` (deployment_id for a new revision, or revision_id for a redeploy).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from control_plane.api import langgraph, openapi
from control_plane.api.main import api_router
from control_plane.api.middleware import RETRY_AFTER_SECONDS, BodyMiddleware, MetricsMiddleware
from control_plane.api.routes import health
from control_plane.api.strict import UnknownQueryParameter, allowed_methods, reject_unknown_query
from control_plane.core.config import Settings
from control_plane.core.db import (
    LOG_CHANNEL,
    NOTIFY_CHANNEL,
    libpq_dsn,
    make_engine,
    migrate,
    wait_for_database,
)
from control_plane.core.metrics import Metrics
from control_plane.core.notify import Hub, NotifyListener
from control_plane.core.reaper import Reaper
from control_plane.core.security import SecretBox
from control_plane.errors import Conflict, Forbidden, NotFound
from control_plane.services import maintenance
from control_plane.spec import FieldError
from control_plane.state_machine import TransitionRefused

log = logging.getLogger("control_plane")
EXTENSIONS = ("control_plane.licensing.extension", "control_plane.ui.extension")


def _error(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):  # not JSON, not UTF-8
            return _error(
                422, [{"loc": ["body"], "msg": "the body is not valid JSON", "type": "json_invalid"}]
            )
        if exc.status_code == 405:
            methods = allowed_methods(app, request.url.path)
            if methods:
                headers["Allow"] = ", ".join(methods)
        return await http_exception_handler(
            request, StarletteHTTPException(exc.status_code, exc.detail, headers)
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # never echo the input back: it may hold a secret value
        return _error(
            422,
            [
                {"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid"), "type": e.get("type", "")}
                for e in exc.errors()
            ],
        )

    @app.exception_handler(FieldError)
    async def field_error(_: Request, exc: FieldError) -> JSONResponse:
        loc = list(exc.loc) if isinstance(exc, UnknownQueryParameter) else ["body", *exc.loc]
        return _error(422, [{"loc": loc, "msg": exc.msg, "type": "value_error"}])

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> JSONResponse:
        return _error(409, str(exc))

    @app.exception_handler(TransitionRefused)
    async def refused(_: Request, exc: TransitionRefused) -> JSONResponse:
        return _error(409, str(exc))

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return _error(403, str(exc))

    @app.exception_handler(sa.exc.DataError)
    async def data_error(_: Request, exc: sa.exc.DataError) -> JSONResponse:
        # the database refused a value the schema allowed, e.g. a NUL character inside a string
        return _error(
            422,
            [
                {
                    "loc": ["body"],
                    "msg": "a value cannot be stored (NUL characters are not accepted)",
                    "type": "value_error",
                }
            ],
        )

    @app.exception_handler(sa.exc.IntegrityError)
    async def integrity(_: Request, exc: sa.exc.IntegrityError) -> JSONResponse:
        return _error(409, "the change conflicts with existing data (a concurrent change?); retry")

    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        return _error(
            503, "the database is unavailable; retry later", {"Retry-After": str(RETRY_AFTER_SECONDS)}
        )

    for exc_type in (
        sa.exc.OperationalError,
        sa.exc.InterfaceError,
        sa.exc.TimeoutError,
        psycopg.OperationalError,
    ):
        app.add_exception_handler(exc_type, unavailable)

    @app.exception_handler(sa.exc.DBAPIError)
    async def dbapi(request: Request, exc: sa.exc.DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await unavailable(request, exc)
        log.error("database error: %s", type(exc.orig).__name__ if exc.orig else type(exc).__name__)
        return _error(500, "internal error")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()  # type: ignore[call-arg]
    engine = make_engine(settings)
    hub, log_hub = Hub(), Hub()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(
            wait_for_database,
            settings.database_url,
            settings.startup_db_wait_seconds,
            settings.db_connect_timeout_seconds,
        )
        if settings.migrate_on_start:
            await run_in_threadpool(migrate, settings.database_url)
        notifier = NotifyListener(
            libpq_dsn(settings.database_url),
            {NOTIFY_CHANNEL: hub, LOG_CHANNEL: log_hub},
            settings.db_connect_timeout_seconds,
        )
        reaper = Reaper(lambda: maintenance.reap_once(engine, settings), settings.reaper_interval_seconds)
        notifier.start()
        reaper.start()
        app.state.notifier = notifier
        try:
            yield
        finally:
            notifier.stop()
            reaper.stop()
            await run_in_threadpool(notifier.join, 5)
            await run_in_threadpool(reaper.join, 5)
            engine.dispose()

    app = FastAPI(
        title="lgp control plane",
        version="0.1.0",
        description="Deployments, revisions, listeners, API keys and secrets for LangGraph agent servers.",
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query)],
    )
    box = SecretBox(settings.encryption_key_list)
    metrics = Metrics(engine)
    app.state.settings, app.state.engine, app.state.box = settings, engine, box
    app.state.hub, app.state.log_hub, app.state.metrics = hub, log_hub, metrics
    app.state.admission_hooks = []
    _install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(api_router)
    app.include_router(langgraph.router)
    for name in EXTENSIONS:
        parent = name.rsplit(".", 1)[0]
        if importlib.util.find_spec(parent) is not None and importlib.util.find_spec(name) is not None:
            importlib.import_module(name).install(app, settings)
    app.add_middleware(
        BodyMiddleware,
        max_bytes=settings.max_request_bytes,
        engine=engine,
        box=box,
        ttl_seconds=settings.idempotency_ttl_seconds,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    openapi.install(app)
    return app
