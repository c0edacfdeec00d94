"""A deployment's logs: its containers' lines, read in the cluster by its listener on demand, merged with
the events the control plane holds (Kubernetes events, revision transitions).

The control plane never connects to a cluster. ``read`` stores a log request for the deployment's
listener (which takes it over its long-poll, reads ``pods/log``, redacts and posts the lines back) and
waits for the answer at most ``LGP_LOG_WAIT_SECONDS``, holding no database connection meanwhile. When
the listener is offline, busy or late, the answer has the events only and says why (``notice``): an
answer always comes, fast. The deployment's own secret values are redacted again here, whatever the
listener sent. ``follow`` repeats the request for new lines.

The /v1 route, the LangGraph-compatible API and the web UI all call these.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from anyio import to_thread
from sqlalchemy.engine import Engine
from sqlmodel import Session

from control_plane.core.config import Settings
from control_plane.core.notify import Hub
from control_plane.core.security import SecretBox
from control_plane.crud import Principal
from control_plane.crud import deployments as deployments_crud
from control_plane.crud import listeners as listeners_crud
from control_plane.crud import logs as crud
from control_plane.crud import revisions as revisions_crud
from control_plane.errors import NotFound
from control_plane.models import (
    ContainerLogs,
    Deployment,
    DeploymentEvent,
    EventKind,
    Listener,
    LogEntry,
    LogsPublic,
    Revision,
    utcnow,
)
from control_plane.spec import secret_data
from lgp_contract.logs import Redactor, at_least, clip, line_id, matches
from lgp_contract.protocol import LogAnswer, LogLine, LogQuery, LogRequest
from lgp_contract.statuses import RevisionStatus

ANSWER_MARGIN_SECONDS = 1.0  # the listener answers this much before the waiter gives up
FOLLOW_SEEN_IDS = 5000  # ids a follower remembers to skip lines it already sent


@dataclass(frozen=True)
class LogsContext:
    """What reading logs needs: the database, the log notifications hub, the settings, the secret box."""

    engine: Engine
    hub: Hub
    settings: Settings
    box: SecretBox


@dataclass
class Reading:
    """One logs answer, and whether the listener could be asked at all."""

    page: LogsPublic
    listener_offline: bool = False


@dataclass
class _Asked:
    request_id: uuid.UUID | None
    listener: str
    events: list[LogEntry]
    redact: Redactor = field(repr=False)
    notice: str | None = None
    offline: bool = False


# ------------------------------------------------------------------------------------------ reading
async def read(ctx: LogsContext, principal: Principal, deployment_id: uuid.UUID, query: LogQuery) -> Reading:
    """The logs answer for ``query`` (NotFound: the deployment or revision is not in the tenant)."""
    asked = await to_thread.run_sync(_ask, ctx, principal, deployment_id, query)
    answer: LogAnswer | None = None
    notice = asked.notice
    if asked.request_id is not None:
        request_id = asked.request_id

        async def check() -> LogAnswer | None:
            return await to_thread.run_sync(_answered, ctx, request_id)

        try:
            answer = await ctx.hub.wait_for(request_id, check, timeout=ctx.settings.log_wait_seconds)
        finally:
            await to_thread.run_sync(_forget, ctx, request_id)
        if answer is None:
            notice = (
                f"listener {asked.listener!r} did not answer within {ctx.settings.log_wait_seconds:g} s: "
                "showing events only"
            )
        elif answer.error:
            notice = f"listener {asked.listener!r} could not read the logs: {answer.error}"
        elif answer.truncated:
            notice = "more lines matched than one answer holds: narrow the time range or the filters"
    entries = [*container_entries(answer, asked.redact), *asked.events]
    containers: ContainerLogs = "unavailable"
    if answer is not None and not answer.error:
        containers = "truncated" if answer.truncated else "complete"
    page = LogsPublic(data=select_entries(entries, query), containers=containers, notice=notice)
    return Reading(page=page, listener_offline=asked.offline)


async def check(
    ctx: LogsContext, principal: Principal, deployment_id: uuid.UUID, revision_id: uuid.UUID | None
) -> None:
    """NotFound unless the deployment (and the revision, of that deployment) is in the tenant."""

    def run() -> None:
        with Session(ctx.engine) as session:
            _deployment(session, principal, deployment_id, revision_id)

    await to_thread.run_sync(run)


def _deployment(
    session: Session, principal: Principal, deployment_id: uuid.UUID, revision_id: uuid.UUID | None
) -> tuple[Deployment, Revision | None]:
    tenant_id = principal.tenant_id
    d = deployments_crud.get_deployment(session, tenant_id=tenant_id, deployment_id=deployment_id)
    if revision_id is None:
        return d, None
    rev = revisions_crud.get_revision(session, tenant_id=tenant_id, revision_id=revision_id)
    if rev.deployment_id != d.id:
        raise NotFound("revision")
    return d, rev


def _ask(ctx: LogsContext, principal: Principal, deployment_id: uuid.UUID, query: LogQuery) -> _Asked:
    """Check access, read the events and the secret values, and ask the listener if it can answer."""
    settings = ctx.settings
    with Session(ctx.engine) as session:
        d, rev = _deployment(session, principal, deployment_id, query.revision_id)
        sealed = [d.secrets_sealed, rev.secrets_sealed if rev is not None else None]
        redact = Redactor(v for s in sealed if s for v in secret_data(ctx.box.open(s)).values())
        events = crud.events(session, deployment_id=d.id, revision_id=query.revision_id, query=query)
        listener = session.get(Listener, d.listener_id)
        name = listener.name if listener is not None else str(d.listener_id)
        now = utcnow()
        asked = _Asked(request_id=None, listener=name, events=event_entries(events, redact), redact=redact)
        if listener is None or not listeners_crud.online(
            listener, offline_after=settings.listener_offline_after_seconds, now=now
        ):
            beat = listener.last_heartbeat_at if listener is not None else None
            since = f"since {beat:%Y-%m-%d %H:%M:%S} UTC" if beat else "yet"
            asked.notice = (
                f"container logs come from the cluster through listener {name!r}, which has not been "
                f"heard from {since}: showing events only"
            )
            asked.offline = True
            return asked
        waiting = crud.pending(session, listener_id=listener.id, now=now)
        if waiting >= settings.log_max_pending_per_listener:
            asked.notice = (
                f"listener {name!r} has {waiting} log requests waiting: showing events only; "
                "try again shortly"
            )
            return asked
        record = crud.create_request(
            session,
            deployment=d,
            query=query,
            expires_at=now + timedelta(seconds=settings.log_wait_seconds),
        )
        session.commit()
        asked.request_id = record.id
        return asked


def _answered(ctx: LogsContext, request_id: uuid.UUID) -> LogAnswer | None:
    with Session(ctx.engine) as session:
        raw = crud.answered(session, request_id=request_id)
    return None if raw is None else LogAnswer.model_validate(raw)


def _forget(ctx: LogsContext, request_id: uuid.UUID) -> None:
    with Session(ctx.engine) as session:
        crud.delete(session, request_id=request_id)
        session.commit()


# --------------------------------------------------------------------------- the listener's side
def take(session: Session, listener_id: uuid.UUID) -> list[LogRequest]:
    """The log requests waiting for this listener, handed out once (committed here)."""
    now = utcnow()
    rows = crud.take(session, listener_id=listener_id, now=now)
    session.commit()
    return [
        LogRequest(
            id=r.id,
            deployment_id=r.deployment_id,
            query=LogQuery.model_validate(r.query),
            answer_within_seconds=max(0.0, (r.expires_at - now).total_seconds() - ANSWER_MARGIN_SECONDS),
        )
        for r in rows
    ]


def answer(session: Session, listener: Listener, request_id: uuid.UUID, body: LogAnswer) -> None:
    """The listener's lines for a request (NotFound when the request is gone: answered late)."""
    crud.answer(session, listener=listener, request_id=request_id, answer=body, now=utcnow())
    session.commit()


# ------------------------------------------------------------------------------------------ follow
async def follow(
    ctx: LogsContext, principal: Principal, deployment_id: uuid.UUID, query: LogQuery
) -> AsyncIterator[LogEntry]:
    """The newest lines (oldest first), then new lines as they come, every
    ``LGP_LOG_FOLLOW_INTERVAL_SECONDS``, for at most ``LGP_LOG_FOLLOW_MAX_SECONDS``. Ends when the
    listener is offline or the deployment is gone, with a notice saying so."""
    settings = ctx.settings
    seen: OrderedDict[str, None] = OrderedDict()
    since = query.since
    started = utcnow() - timedelta(seconds=5)  # nothing seen yet: new lines are those from about now on
    last_notice: str | None = None
    deadline = time.monotonic() + settings.log_follow_max_seconds
    ask = query.model_copy(update={"order": "desc", "until": None})
    while True:
        try:
            reading = await read(ctx, principal, deployment_id, ask)
        except NotFound:
            yield notice_entry("the deployment is gone: following stopped")
            return
        page = reading.page
        if page.notice and page.notice != last_notice:
            yield notice_entry(page.notice)
        last_notice = page.notice
        fresh = page.data if ask.order == "asc" else list(reversed(page.data))
        for entry in fresh:
            if entry.id in seen:
                continue
            seen[entry.id] = None
            if len(seen) > FOLLOW_SEEN_IDS:
                seen.popitem(last=False)
            since = entry.timestamp if since is None else max(since, entry.timestamp)
            yield entry
        if reading.listener_offline:
            yield notice_entry("following stopped: the listener is offline")
            return
        if time.monotonic() + settings.log_follow_interval_seconds > deadline:
            yield notice_entry(f"following stopped after {settings.log_follow_max_seconds:g} s: ask again")
            return
        await asyncio.sleep(settings.log_follow_interval_seconds)
        ask = query.model_copy(update={"order": "asc", "until": None, "since": since or started})


# ------------------------------------------------------------------------------- pure assembling
def container_entries(answer: LogAnswer | None, redact: Redactor) -> list[LogEntry]:
    """The listener's lines as entries, redacted once more."""
    if answer is None:
        return []
    return [container_entry(line, redact) for line in answer.lines]


def container_entry(line: LogLine, redact: Redactor) -> LogEntry:
    message = clip(redact(line.message))
    return LogEntry(
        id=line_id(line.pod, line.container, line.previous, line.timestamp.isoformat(), line.message),
        timestamp=line.timestamp,
        level=line.level,
        message=message,
        source="container",
        pod=line.pod,
        container=line.container,
        previous=line.previous,
        revision_id=line.revision_id,
    )


def event_entries(events: Iterable[DeploymentEvent], redact: Redactor) -> list[LogEntry]:
    return [event_entry(e, redact) for e in events]


def event_entry(event: DeploymentEvent, redact: Redactor) -> LogEntry:
    """A Kubernetes event (``Warning``: WARNING) or a revision transition (to DEPLOY_FAILED: ERROR) as a
    line."""
    payload = event.payload or {}
    level = "INFO"
    if event.kind == EventKind.KUBERNETES_EVENT:
        where = payload.get("object") or "-"
        text = f"[event] {where}: {event.reason or ''}: {event.message or ''}"
        if payload.get("type") == "Warning":
            level = "WARNING"
    else:
        change = f"{payload.get('from', '?')} -> {payload.get('to', '?')}"
        text = f"[revision] {change} ({event.reason or ''}): {event.message or ''}"
        if payload.get("to") == RevisionStatus.DEPLOY_FAILED:
            level = "ERROR"
        elif payload.get("to") == RevisionStatus.INTERRUPTED:
            level = "WARNING"
    return LogEntry(
        id=f"event-{event.id}",
        timestamp=event.occurred_at,
        level=level,
        message=clip(redact(text)),
        source="event",
        revision_id=str(event.revision_id) if event.revision_id else None,
    )


def notice_entry(text: str, at: datetime | None = None) -> LogEntry:
    when = at or utcnow()
    return LogEntry(
        id=line_id("notice", when.isoformat(), text),
        timestamp=when,
        level="WARNING",
        message=text,
        source="notice",
    )


def select_entries(entries: Iterable[LogEntry], query: LogQuery) -> list[LogEntry]:
    """Filter by the query (window, level, text), order, and keep ``limit``: the newest (desc) or the
    oldest from ``since`` on (asc)."""
    kept = [
        e
        for e in entries
        if (query.since is None or e.timestamp >= query.since)
        and (query.until is None or e.timestamp < query.until)
        and at_least(e.level, query.level)
        and matches(e.message, query.text)
    ]
    kept.sort(key=lambda e: (e.timestamp, e.id), reverse=query.order == "desc")
    return kept[: query.limit]
