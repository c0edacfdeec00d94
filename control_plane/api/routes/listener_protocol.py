"""/v1/listener/*: what a listener (Authorization: Bearer <token>) calls. The messages are the
contract's (``lgp_contract.protocol``); docs/listener-protocol.md tells the story."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from control_plane.api.common import AUTH_ERRORS, CONFLICT, NOT_FOUND, WRITE_ERRORS
from control_plane.api.deps import BoxDep, CurrentListener, SessionDep, SettingsDep
from control_plane.services import listener_protocol as protocol
from control_plane.services import logs
from lgp_contract.protocol import (
    DeploymentReport,
    DesiredState,
    Heartbeat,
    HeartbeatAck,
    LogAnswer,
    LogRequest,
    LogRequests,
    ReportAccepted,
    RevisionStatusPublic,
    StatusReport,
)

router = APIRouter(prefix="/listener", tags=["listener protocol"], responses=AUTH_ERRORS)


def _etag(version: int) -> str:
    return f'"{version}"'


def _parse_etag(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value.strip().removeprefix("W/").strip('"'))
    except ValueError:
        return None


@router.get(
    "/desired-state",
    response_model=DesiredState,
    responses={
        304: {"description": "Unchanged since `version` (or If-None-Match) after waiting `wait` seconds"}
    },
)
async def desired_state(
    request: Request,
    session: SessionDep,
    listener: CurrentListener,
    settings: SettingsDep,
    box: BoxDep,
    version: Annotated[
        int | None, Query(ge=0, description="The version you have: wait for a newer one.")
    ] = None,
    wait: Annotated[float, Query(ge=0, le=300, description="Seconds to wait for a change (long-poll).")] = 0,
    delta: Annotated[
        bool,
        Query(
            description="With `version`: answer only what changed after it (`complete: false`), or a full "
            "answer when a delta cannot start from that version."
        ),
    ] = False,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Any:
    """Everything this listener must run. With ``version`` (or If-None-Match) and ``wait``, the call
    returns as soon as the state differs from that version (within a second), else 304 after ``wait``.
    With ``delta=true`` too, the answer holds only the deployments that changed after ``version``, so an
    unchanged fleet of thousands costs a few hundred bytes per change, not megabytes."""
    known = version if version is not None else _parse_etag(if_none_match)
    listener_id = listener.id
    await run_in_threadpool(session.close)  # hold no connection while waiting
    engine = request.app.state.engine

    def read_version() -> int:
        with Session(engine) as s:
            return protocol.state_version(s, listener_id)

    async def changed() -> int | None:
        current = await run_in_threadpool(read_version)
        return current if known is None or current != known else None

    hub = request.app.state.hub
    current = await hub.wait_for(listener_id, changed, timeout=min(wait, settings.long_poll_max_seconds))
    if current is None:
        return Response(status_code=304, headers={"ETag": _etag(known or 0)})

    since = known if delta else None

    def build() -> DesiredState:
        with Session(engine) as s:
            return protocol.desired_state(s, listener_id=listener_id, box=box, since=since)

    state = await run_in_threadpool(build)
    body = state.model_dump_json()  # pydantic-core: ~20x jsonable_encoder
    return Response(
        content=body,
        media_type="application/json",
        headers={"ETag": _etag(state.version), "Cache-Control": "no-store"},
    )


@router.post(
    "/revisions/{revision_id}/status",
    response_model=RevisionStatusPublic,
    responses={**NOT_FOUND, **CONFLICT, **WRITE_ERRORS},
)
async def report_status(
    session: SessionDep, listener: CurrentListener, revision_id: uuid.UUID, body: StatusReport
) -> RevisionStatusPublic:
    """A revision transition seen in the cluster. Repeating the current status is a harmless no-op."""

    def work() -> RevisionStatusPublic:
        rev = protocol.report_status(session, listener, revision_id, body)
        return RevisionStatusPublic.model_validate(rev, from_attributes=True)

    return await run_in_threadpool(work)


@router.post(
    "/deployments/{deployment_id}/report",
    status_code=202,
    response_model=ReportAccepted,
    responses={**NOT_FOUND, **WRITE_ERRORS},
)
async def report(
    session: SessionDep, listener: CurrentListener, deployment_id: uuid.UUID, body: DeploymentReport
) -> ReportAccepted:
    """Conditions, Kubernetes events, replica counts and the endpoint of one deployment."""
    accepted = await run_in_threadpool(protocol.report, session, listener, deployment_id, body)
    return ReportAccepted(accepted=accepted)


@router.post("/deployments/{deployment_id}/deleted", status_code=204, responses={**NOT_FOUND, **CONFLICT})
def acknowledge_deletion(
    session: SessionDep, listener: CurrentListener, deployment_id: uuid.UUID
) -> Response:
    """The objects of a tombstoned deployment are gone: forget the deployment (409 if it was not deleted)."""
    protocol.acknowledge_deletion(session, listener, deployment_id)
    return Response(status_code=204)


@router.post("/heartbeat", response_model=HeartbeatAck, responses=WRITE_ERRORS)
async def heartbeat(session: SessionDep, listener: CurrentListener, body: Heartbeat) -> HeartbeatAck:
    return await run_in_threadpool(protocol.heartbeat, session, listener, body)


@router.get("/log-requests", response_model=LogRequests)
async def log_requests(
    request: Request,
    session: SessionDep,
    listener: CurrentListener,
    settings: SettingsDep,
    wait: Annotated[float, Query(ge=0, le=300, description="Seconds to wait for a request (long-poll).")] = 0,
) -> LogRequests:
    """Someone asked for logs of this listener's deployments: each request is handed out once. With
    ``wait``, the call returns as soon as one arrives (within a second), else an empty list after
    ``wait`` seconds (capped by ``LGP_LONG_POLL_MAX_SECONDS``). Answer each within its
    ``answer_within_seconds``."""
    listener_id = listener.id
    await run_in_threadpool(session.close)  # hold no connection while waiting
    engine = request.app.state.engine

    def take() -> list[LogRequest]:
        with Session(engine) as s:
            return logs.take(s, listener_id)

    async def handed() -> list[LogRequest] | None:
        return (await run_in_threadpool(take)) or None

    timeout = min(wait, settings.long_poll_max_seconds)
    found = await request.app.state.log_hub.wait_for(listener_id, handed, timeout=timeout)
    return LogRequests(requests=found or [])


@router.post("/log-requests/{request_id}", status_code=204, responses={**NOT_FOUND, **WRITE_ERRORS})
def answer_log_request(
    session: SessionDep, listener: CurrentListener, request_id: uuid.UUID, body: LogAnswer
) -> Response:
    """The lines for a log request (redacted: the deployment's secret values never leave the cluster).
    404: unknown, another listener's, or expired (its waiter already answered without them): drop it."""
    logs.answer(session, listener, request_id, body)
    return Response(status_code=204)
