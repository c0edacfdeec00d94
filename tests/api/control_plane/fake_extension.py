"""A stand-in extension (like control_plane.licensing): a router of its own and an admission hook."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException

from control_plane.core.config import Settings

router = APIRouter(prefix="/v1/extension")
SEEN: list[tuple[str, dict[str, Any]]] = []


@router.get("/ping")
def ping() -> dict[str, bool]:
    return {"pong": True}


def refuse_unlicensed(*, session: Any, principal: Any, action: str, **context: Any) -> None:
    SEEN.append((action, context))
    body = context.get("body")
    if action == "deployment.create" and body is not None and body.name.startswith("unlicensed"):
        raise HTTPException(status_code=403, detail="no license for this deployment")


def install(app: FastAPI, settings: Settings) -> None:
    app.include_router(router)
    app.state.admission_hooks.append(refuse_unlicensed)
