"""The /v1 router: one include per resource. Extensions add theirs in create_app (see main.py)."""

from __future__ import annotations

from fastapi import APIRouter

from control_plane.api.routes import audit_log, deployments, keys, listener_protocol, listeners, revisions

api_router = APIRouter(prefix="/v1")
api_router.include_router(deployments.router)
api_router.include_router(revisions.router)
api_router.include_router(listeners.router)
api_router.include_router(listener_protocol.router)
api_router.include_router(keys.router)
api_router.include_router(audit_log.router)
