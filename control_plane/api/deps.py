"""Dependencies: the database session, the settings, the secret box, and who is calling.

FastAPI runs a plain ``def`` dependency on a worker thread: one thread hop each. The ones that do no
I/O are therefore ``async`` (they run on the event loop at no cost); only the principal (a database
lookup) and the session's close hop to a thread. The sync functions stay for direct callers (the UI)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from control_plane.core.config import Settings
from control_plane.core.security import SecretBox, same_secret
from control_plane.crud import DEFAULT_TENANT_ID, Principal
from control_plane.crud import keys as keys_crud
from control_plane.crud import listeners as listeners_crud
from control_plane.models import Listener
from control_plane.services import Caller
from control_plane.services.logs import LogsContext

T = TypeVar("T")
api_key_header = APIKeyHeader(name="X-Api-Key", auto_error=False, description="A tenant API key.")
listener_bearer = HTTPBearer(auto_error=False, description="A listener token.")


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session (creating one does no I/O); closing it returns its connection, on a worker thread."""
    session = Session(request.app.state.engine)
    try:
        yield session
    finally:
        if session.in_transaction():  # it holds a connection: closing it is I/O
            await run_in_threadpool(session.close)
        else:
            session.close()  # closed already (``in_thread``) or never used: nothing to wait for


async def in_thread(session: Session, work: Callable[[], T]) -> T:
    """Run a route's whole operation on one worker thread and close the session there at the end, so a
    request costs one thread hop for the work (and one for the principal), not four."""

    def run() -> T:
        try:
            return work()
        finally:
            session.close()

    return await run_in_threadpool(run)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.box
    return box


def get_logs_context(request: Request) -> LogsContext:
    state = request.app.state
    return LogsContext(engine=state.engine, hub=state.log_hub, settings=state.settings, box=state.box)


async def _settings(request: Request) -> Settings:
    return get_settings(request)


async def _box(request: Request) -> SecretBox:
    return get_box(request)


async def _logs_context(request: Request) -> LogsContext:
    return get_logs_context(request)


SessionDep = Annotated[Session, Depends(get_db)]
LogsDep = Annotated[LogsContext, Depends(_logs_context)]
SettingsDep = Annotated[Settings, Depends(_settings)]
BoxDep = Annotated[SecretBox, Depends(_box)]


def _unauthorized(msg: str, scheme: str) -> HTTPException:
    return HTTPException(status_code=401, detail=msg, headers={"WWW-Authenticate": scheme})


def get_principal(
    session: SessionDep, settings: SettingsDep, key: Annotated[str | None, Security(api_key_header)]
) -> Principal:
    if not key:
        raise _unauthorized("an API key is required (header X-Api-Key)", "ApiKey")
    admin = settings.admin_api_key.get_secret_value() if settings.admin_api_key else None
    if admin and same_secret(key, admin):
        return Principal(tenant_id=DEFAULT_TENANT_ID, actor_type="admin", actor_id="admin", is_admin=True)
    api_key = keys_crud.authenticate_api_key(session, plaintext=key)
    if api_key is None:
        raise _unauthorized("the API key is unknown or revoked", "ApiKey")
    return Principal(tenant_id=api_key.tenant_id, actor_type="api_key", actor_id=str(api_key.id))


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def get_admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_admin:
        raise HTTPException(status_code=403, detail="only the admin key may do this")
    return principal


AdminPrincipal = Annotated[Principal, Depends(get_admin)]


def get_listener(
    session: SessionDep, creds: Annotated[HTTPAuthorizationCredentials | None, Security(listener_bearer)]
) -> Listener:
    if creds is None or not creds.credentials:
        raise _unauthorized("a listener token is required (Authorization: Bearer ...)", "Bearer")
    listener = listeners_crud.authenticate_listener(session, token=creds.credentials)
    if listener is None:
        raise _unauthorized("the listener token is unknown", "Bearer")
    return listener


CurrentListener = Annotated[Listener, Depends(get_listener)]

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")]


def caller(request: Request, session: Session, principal: Principal, box: SecretBox | None = None) -> Caller:
    """The unit of work's caller for a request: its session, principal, secret box and the app's
    admission hooks (the license check)."""
    return Caller(
        session=session,
        principal=principal,
        box=box,
        admission=getattr(request.app.state, "admission_hooks", ()),
    )
