"""/ok, /healthz (the process runs), /readyz (the database answers), /metrics (Prometheus)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from control_plane.api.middleware import DB_ERRORS, RETRY_AFTER_SECONDS
from control_plane.models import ErrorResponse

router = APIRouter(tags=["health"])


class Ok(BaseModel):
    ok: bool = True


class Health(BaseModel):
    status: str


@router.get("/ok", response_model=Ok)
def ok() -> Ok:
    return Ok()


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": ErrorResponse}})
async def readyz(request: Request) -> Response:
    def ping() -> None:
        with request.app.state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    try:
        await run_in_threadpool(ping)
    except DB_ERRORS:
        return JSONResponse(
            {"detail": "the database is unreachable"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return JSONResponse({"status": "ready"})


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(request: Request) -> Response:
    data = await run_in_threadpool(generate_latest, request.app.state.metrics.registry)
    return Response(content=data, media_type=CONTENT_TYPE_LATEST)
