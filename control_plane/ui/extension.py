"""A small server-rendered web UI under ``/ui`` (loaded by ``create_app`` through ``EXTENSIONS``).

- Sign in with an API key: it is kept in an HttpOnly, SameSite=Strict cookie (Secure over https) and
  never rendered into a page. Every page acts as that key's principal, in its tenant.
- Every change calls the same route functions the JSON API serves (``control_plane.api.routes``), so
  validation, the revision state machine, the audit log and the admission hooks (the license check)
  apply exactly as they do over the API. Bad input is shown next to its form field (the API's 422),
  403 and 409 as a plain message.
- Every POST form carries a CSRF token (double submit: a random cookie and a hidden field that must
  match); a POST without it is refused with 403.
- Secret values are write-only: the create form never renders them back, pages show secret names only.
- The UI routes are left out of the OpenAPI document.
"""

from __future__ import annotations

import hmac
import secrets as pysecrets
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import DictLoader, Environment, select_autoescape
from pydantic import ValidationError
from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from control_plane.api.common import deployment_public, listener_public
from control_plane.api.deps import SessionDep, SettingsDep, get_box, get_principal
from control_plane.api.routes import deployments as deployment_routes
from control_plane.api.routes import revisions as revision_routes
from control_plane.core.config import Settings
from control_plane.crud import Principal
from control_plane.crud import deployments as deployments_crud
from control_plane.crud import events as events_crud
from control_plane.crud import listeners as listeners_crud
from control_plane.crud import revisions as revisions_crud
from control_plane.errors import Conflict, Forbidden, NotFound
from control_plane.models import DeploymentCreate, DeploymentType, Revision, RevisionCreate
from control_plane.spec import FieldError
from control_plane.state_machine import IN_FLIGHT, RevisionStatus, TransitionRefused

from .templates import CSS, TEMPLATES

KEY_COOKIE = "lgp_ui_key"
CSRF_COOKIE = "lgp_ui_csrf"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 256 * 1024
IN_FLIGHT_STATUSES = frozenset({RevisionStatus.QUEUED, *IN_FLIGHT})
REDEPLOYABLE = frozenset(
    {
        RevisionStatus.DEPLOYED,
        RevisionStatus.REPLACED,
        RevisionStatus.DEPLOY_FAILED,
        RevisionStatus.INTERRUPTED,
    }
)
# the create form's fields, in the order the page shows them; a 422's loc maps onto one of them
FORM_FIELDS = (
    "name",
    "type",
    "image",
    "listener_id",
    "namespace",
    "replicas",
    "ingress_host",
    "env",
    "secrets",
)
LOC_TO_FIELD = {"resources": "replicas", "ingress": "ingress_host", "database": "env", "redis": "env"}

env = Environment(
    loader=DictLoader(TEMPLATES), autoescape=select_autoescape(default=True, default_for_string=True)
)


class SignInRequired(Exception):
    """No valid key cookie: the page redirects to the sign-in form."""


# ------------------------------------------------------------------------------------------ helpers
def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _csrf_token(request: Request) -> str:
    token = request.cookies.get(CSRF_COOKIE)
    if token and 20 <= len(token) <= 100:
        return token
    new: str = request.state.__dict__.setdefault("new_csrf", pysecrets.token_urlsafe(32))
    return new


def _set_cookies(request: Request, response: Response) -> Response:
    new = request.state.__dict__.get("new_csrf")
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=_secure(request), path="/ui"
        )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def render(
    request: Request, name: str, status_code: int = 200, principal: Principal | None = None, **context: Any
) -> HTMLResponse:
    context.setdefault("error", None)
    context.setdefault("notice", None)
    context.setdefault("refresh", None)
    context.setdefault("refresh_url", None)
    who = ""
    if principal is not None:
        who = "admin" if principal.is_admin else f"key {principal.actor_id[:8]}"
    html = env.get_template(name).render(
        csrf=_csrf_token(request), signed_in=principal is not None, who=who, **context
    )
    response = HTMLResponse(html, status_code=status_code)
    _set_cookies(request, response)
    return response


def redirect(request: Request, url: str) -> Response:
    return _set_cookies(request, RedirectResponse(url, status_code=303))


async def form_data(request: Request) -> dict[str, str]:
    """The urlencoded form, CSRF-checked: 403 without a token matching the cookie."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status_code=413, detail="the form is too large")
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100))
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(status_code=400, detail="the form could not be read") from None
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = fields.pop(CSRF_FIELD, "")
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise HTTPException(status_code=403, detail="csrf")
    return fields


FormDep = Annotated[dict[str, str], Depends(form_data)]


def ui_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    key = request.cookies.get(KEY_COOKIE)
    if not key:
        raise SignInRequired()
    try:
        return get_principal(session, settings, key)
    except HTTPException:
        raise SignInRequired() from None


UiPrincipal = Annotated[Principal, Depends(ui_principal)]


def _plain(exc: Exception) -> tuple[int, str]:
    """403 / 404 / 409 as words a person reads; the caller rolls the session back."""
    if isinstance(exc, HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "the request was refused"
        if exc.status_code == 403:
            return 403, f"Not allowed: {detail}"
        return exc.status_code, detail
    if isinstance(exc, Forbidden):
        return 403, f"Not allowed: {exc}"
    if isinstance(exc, NotFound):
        return 404, f"Not found: no such {exc} in your tenant"
    if isinstance(exc, TransitionRefused):
        return 409, f"Refused: {exc}"
    if isinstance(exc, Conflict):
        return 409, f"Refused: {exc}"
    if isinstance(exc, FieldError):
        return 422, f"Refused: {'.'.join(map(str, exc.loc))}: {exc.msg}"
    if isinstance(exc, sa.exc.IntegrityError):
        return 409, "Refused: the change conflicts with existing data (a concurrent change?); retry."
    if isinstance(exc, sa.exc.DataError):
        return 422, "Refused: a value cannot be stored (NUL characters are not accepted)."
    return 500, "internal error"


ACTION_ERRORS = (
    HTTPException,
    Forbidden,
    NotFound,
    Conflict,
    TransitionRefused,
    FieldError,
    sa.exc.IntegrityError,
    sa.exc.DataError,
)


def _field_errors(errors: Sequence[tuple[Sequence[Any], str]], default: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for loc, msg in errors:
        parts = [p for p in loc if p != "body"]
        head = str(parts[0]) if parts else default
        field = LOC_TO_FIELD.get(head, head if head in FORM_FIELDS else default)
        where = ".".join(str(p) for p in parts[1:] if isinstance(p, int | str) and not str(p).startswith("["))
        text = f"{where}: {msg}" if where and field in ("env", "secrets") else msg
        out.setdefault(field, text)
    return out


DNS_LABEL_HINT = (
    "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit"
)
PATTERN_HINTS = {
    "name": DNS_LABEL_HINT,
    "namespace": DNS_LABEL_HINT,
    "image": "must be an image repository with a tag or a digest, e.g. registry.example.com/team/agent:1.0",
    "ingress": "must be a DNS name, e.g. agent.example.com",
    "env": "a variable name takes letters, digits and '_', and does not start with a digit",
    "secrets": "a variable name takes letters, digits and '_', and does not start with a digit",
}


def _pydantic_errors(exc: ValidationError) -> list[tuple[Sequence[Any], str]]:
    """Only loc and msg, never the input (it may hold a secret value); a pattern in plain words."""
    out: list[tuple[Sequence[Any], str]] = []
    for e in exc.errors():
        loc = e.get("loc", ())
        msg = e.get("msg", "invalid")
        if e.get("type") == "string_pattern_mismatch" and loc and str(loc[0]) in PATTERN_HINTS:
            msg = PATTERN_HINTS[str(loc[0])]
        out.append((loc, msg))
    return out


def _lines(text: str, field: str, errors: dict[str, str]) -> dict[str, str]:
    """NAME=value lines; a line without "=" is an error naming its line number (not its content)."""
    out: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            errors.setdefault(field, f"line {n}: write NAME=value")
            continue
        if name.strip() in out:
            errors.setdefault(field, f"line {n}: {name.strip()} is given twice")
            continue
        out[name.strip()] = value
    return out


def _deployment_body(form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {k: form.get(k, "").strip() for k in ("name", "type", "image", "namespace")}
    body["listener_id"] = form.get("listener_id", "").strip() or None
    replicas = form.get("replicas", "").strip()
    if replicas:
        if replicas.isdigit():
            body["resources"] = {"server": {"replicas": int(replicas)}}
        else:
            errors["replicas"] = "must be a whole number"
    host = form.get("ingress_host", "").strip()
    if host:
        body["ingress"] = {"host": host}
    env_vars = _lines(form.get("env", ""), "env", errors)
    body["env"] = [{"name": k, "value": v} for k, v in env_vars.items()]
    body["secrets"] = _lines(form.get("secrets", ""), "secrets", errors)
    return body


def _why(d: Any, revisions: list[Revision]) -> tuple[dict[str, str] | None, bool]:
    """One sentence on what the latest revision waits for or why it failed."""
    latest = next((r for r in revisions if r.id == d.latest_revision_id), revisions[0] if revisions else None)
    if latest is None:
        return None, False
    status = latest.status
    detail = " ".join(x for x in (latest.status_reason, latest.status_message) if x)
    if status == RevisionStatus.QUEUED:
        return {
            "title": f"Revision #{latest.number} is queued:",
            "text": detail or "an earlier one is in flight.",
        }, False
    if status == RevisionStatus.AWAITING_DEPLOY:
        return {
            "title": f"Revision #{latest.number} waits for the listener:",
            "text": detail or "it has not picked it up yet (is the listener online?).",
        }, False
    if status == RevisionStatus.DEPLOYING:
        return {
            "title": f"Revision #{latest.number} is deploying:",
            "text": detail or "the rollout is under way.",
        }, False
    if status in (RevisionStatus.DEPLOY_FAILED, RevisionStatus.INTERRUPTED):
        return {
            "title": f"Revision #{latest.number} {status.replace('_', ' ').lower()}:",
            "text": detail or "-",
        }, True
    return None, False


# ------------------------------------------------------------------------------------------- routes
router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("")
def ui_root(request: Request) -> Response:
    return redirect(request, "/ui/deployments")


@router.get("/static/ui.css")
def stylesheet() -> Response:
    return Response(CSS, media_type="text/css", headers={"Cache-Control": "max-age=300"})


@router.get("/login")
def login_form(request: Request) -> Response:
    return render(request, "login.html")


@router.post("/login")
def login(request: Request, session: SessionDep, settings: SettingsDep, form: FormDep) -> Response:
    key = form.get("api_key", "").strip()
    try:
        if not key:
            raise HTTPException(status_code=401)
        get_principal(session, settings, key)
    except HTTPException:
        return render(
            request, "login.html", status_code=401, error="Sign-in failed: the API key is unknown or revoked."
        )
    response = redirect(request, "/ui/deployments")
    response.set_cookie(
        KEY_COOKIE, key, httponly=True, samesite="strict", secure=_secure(request), path="/ui"
    )
    return response


@router.post("/logout")
def logout(request: Request, form: FormDep) -> Response:
    response = redirect(request, "/ui/login")
    response.delete_cookie(KEY_COOKIE, path="/ui", httponly=True, samesite="strict", secure=_secure(request))
    return response


@router.get("/deployments")
def deployments_page(
    request: Request, session: SessionDep, principal: UiPrincipal, name: str | None = None
) -> Response:
    name_filter = (name or "").strip()[:53]
    rows, count = deployments_crud.list_deployments(
        session,
        tenant_id=principal.tenant_id,
        name=name_filter or None,
        status=None,
        type_=None,
        listener_id=None,
        limit=200,
        offset=0,
    )
    active_ids = [d.active_revision_id for d in rows if d.active_revision_id]
    numbers: dict[uuid.UUID, int] = {}
    if active_ids:
        found = session.exec(select(Revision.id, Revision.number).where(col(Revision.id).in_(active_ids)))
        numbers = {rid: number for rid, number in found}
    items = []
    for d in rows:
        reps = d.replicas or {}
        replicas = (
            f"{reps.get('ready', 0) or 0}/{reps['desired']}" if reps.get("desired") is not None else "-"
        )
        items.append(
            {
                "id": d.id,
                "name": d.name,
                "type": d.type,
                "status": d.status,
                "image": d.image,
                "active_number": numbers.get(d.active_revision_id) if d.active_revision_id else None,
                "endpoint": d.endpoint,
                "replicas": replicas,
            }
        )
    return render(
        request,
        "deployments.html",
        principal=principal,
        deployments=items,
        count=count,
        name_filter=name_filter,
        notice=_notice(request),
    )


NOTICES = {
    "created": "Deployment created: its first revision waits for the listener.",
    "revision": "New revision created.",
    "redeployed": "Redeploy started as a new revision.",
    "interrupted": "Revision interrupted.",
    "deleted": "Deployment marked for deletion: the listener removes its objects.",
}


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("done", ""))


def _new_form(
    request: Request,
    session: Session,
    principal: Principal,
    form: dict[str, str] | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    listeners, _ = listeners_crud.list_listeners(session, tenant_id=principal.tenant_id, limit=500, offset=0)
    values = {f: "" for f in FORM_FIELDS if f != "secrets"}
    if form:
        values.update({k: v for k, v in form.items() if k in values})
    if not values["type"]:
        values["type"] = DeploymentType.DEVELOPMENT.value
    if not values["namespace"] and listeners and listeners[0].namespaces:
        values["namespace"] = listeners[0].namespaces[0]
    context.setdefault("field_errors", {})
    return render(
        request,
        "new_deployment.html",
        status_code=status_code,
        principal=principal,
        form=values,
        listeners=listeners,
        types=[t.value for t in DeploymentType],
        **context,
    )


@router.get("/deployments/new")
def new_deployment_page(request: Request, session: SessionDep, principal: UiPrincipal) -> Response:
    return _new_form(request, session, principal)


@router.post("/deployments/new")
def create_deployment(
    request: Request, session: SessionDep, principal: UiPrincipal, form: FormDep
) -> Response:
    errors: dict[str, str] = {}
    raw = _deployment_body(form, errors)
    had_secrets = bool(raw["secrets"])
    body: DeploymentCreate | None = None
    if not errors:
        try:
            body = DeploymentCreate.model_validate(raw)
        except ValidationError as e:
            errors = _field_errors(_pydantic_errors(e), "name")
    if body is not None and not errors:
        try:
            d = deployment_routes.create_deployment(request, session, principal, get_box(request), body)
            return redirect(request, f"/ui/deployments/{d.id}?done=created")
        except FieldError as e:
            session.rollback()
            errors = _field_errors([(e.loc, e.msg)], "name")
        except ACTION_ERRORS as e:
            session.rollback()
            status, message = _plain(e)
            return _new_form(
                request, session, principal, form, status, error=message, secrets_dropped=had_secrets
            )
    return _new_form(
        request,
        session,
        principal,
        form,
        422,
        field_errors=errors,
        error="Please correct the fields marked below.",
        secrets_dropped=had_secrets,
    )


def _detail(
    request: Request,
    session: Session,
    principal: Principal,
    deployment_id: uuid.UUID,
    status_code: int = 200,
    **context: Any,
) -> Response:
    d = deployment_public(
        deployments_crud.get_deployment(session, tenant_id=principal.tenant_id, deployment_id=deployment_id)
    )
    rows, _ = revisions_crud.list_revisions(
        session, tenant_id=principal.tenant_id, deployment_id=deployment_id, status=None, limit=50, offset=0
    )
    numbers = {r.id: r.number for r in rows}
    # RevisionPublic carries secret names, never values
    revisions = [
        {
            **deployment_routes.revision_public(r).model_dump(),
            "source_revision_number": numbers.get(r.source_revision_id) if r.source_revision_id else None,
        }
        for r in rows
    ]
    events, _ = events_crud.list_events(
        session,
        tenant_id=principal.tenant_id,
        deployment_id=deployment_id,
        revision_id=None,
        kind=None,
        limit=15,
        offset=0,
    )
    in_flight = any(r.status in IN_FLIGHT_STATUSES for r in rows)
    why, why_bad = _why(d, rows)
    try:
        listener = listeners_crud.get_listener(
            session, tenant_id=principal.tenant_id, listener_id=d.listener_id
        )
        listener_name = listener.name
    except NotFound:
        listener_name = str(d.listener_id)
    reps = d.replicas
    replicas = (
        f"{reps.ready or 0} ready of {reps.desired}" if reps.desired is not None else "not reported yet"
    )
    context.setdefault("field_errors", {})
    context.setdefault("form_image", "")
    context.setdefault("notice", _notice(request))
    return render(
        request,
        "deployment.html",
        status_code=status_code,
        principal=principal,
        d=d,
        revisions=revisions,
        events=events,
        in_flight=in_flight,
        refresh=3 if in_flight or d.status == "DELETING" else None,
        refresh_url=f"/ui/deployments/{d.id}",
        why=why,
        why_bad=why_bad,
        listener_name=listener_name,
        replicas=replicas,
        in_flight_statuses=IN_FLIGHT_STATUSES,
        redeployable=REDEPLOYABLE,
        **context,
    )


@router.get("/deployments/{deployment_id}")
def deployment_page(
    request: Request, session: SessionDep, principal: UiPrincipal, deployment_id: uuid.UUID
) -> Response:
    return _detail(request, session, principal, deployment_id)


def _act(
    request: Request,
    session: Session,
    principal: Principal,
    deployment_id: uuid.UUID,
    action: Callable[[], Any],
    done: str,
) -> Response:
    try:
        action()
    except ACTION_ERRORS as e:
        session.rollback()
        status, message = _plain(e)
        return _detail(request, session, principal, deployment_id, status_code=status, error=message)
    return redirect(request, f"/ui/deployments/{deployment_id}?done={quote(done)}")


@router.post("/deployments/{deployment_id}/revisions")
def create_revision(
    request: Request, session: SessionDep, principal: UiPrincipal, deployment_id: uuid.UUID, form: FormDep
) -> Response:
    image = form.get("image", "").strip()
    try:
        body = RevisionCreate.model_validate({"image": image or None})
    except ValidationError as e:
        errors = _field_errors(_pydantic_errors(e), "image")
        return _detail(
            request,
            session,
            principal,
            deployment_id,
            status_code=422,
            field_errors={"image": errors.get("image", "invalid")},
            form_image=image,
            error="The new revision was not created: see the image field.",
        )
    return _act(
        request,
        session,
        principal,
        deployment_id,
        lambda: deployment_routes.create_revision(request, session, principal, deployment_id, body),
        "revision",
    )


def _revision_deployment(session: Session, principal: Principal, revision_id: uuid.UUID) -> uuid.UUID:
    return revisions_crud.get_revision(
        session, tenant_id=principal.tenant_id, revision_id=revision_id
    ).deployment_id


@router.post("/revisions/{revision_id}/redeploy")
def redeploy(
    request: Request, session: SessionDep, principal: UiPrincipal, revision_id: uuid.UUID, form: FormDep
) -> Response:
    deployment_id = _revision_deployment(session, principal, revision_id)
    return _act(
        request,
        session,
        principal,
        deployment_id,
        lambda: revision_routes.redeploy(request, session, principal, revision_id),
        "redeployed",
    )


@router.post("/revisions/{revision_id}/interrupt")
def interrupt(
    request: Request, session: SessionDep, principal: UiPrincipal, revision_id: uuid.UUID, form: FormDep
) -> Response:
    deployment_id = _revision_deployment(session, principal, revision_id)
    return _act(
        request,
        session,
        principal,
        deployment_id,
        lambda: revision_routes.interrupt(session, principal, revision_id),
        "interrupted",
    )


@router.post("/deployments/{deployment_id}/delete")
def delete(
    request: Request, session: SessionDep, principal: UiPrincipal, deployment_id: uuid.UUID, form: FormDep
) -> Response:
    d = deployments_crud.get_deployment(session, tenant_id=principal.tenant_id, deployment_id=deployment_id)
    if form.get("confirm", "").strip() != d.name:
        return _detail(
            request,
            session,
            principal,
            deployment_id,
            status_code=422,
            field_errors={"confirm": "type the deployment's name to confirm"},
            error="Not deleted: the name did not match.",
        )
    try:
        deployment_routes.delete_deployment(session, principal, deployment_id)
    except ACTION_ERRORS as e:
        session.rollback()
        status, message = _plain(e)
        return _detail(request, session, principal, deployment_id, status_code=status, error=message)
    return redirect(request, "/ui/deployments?done=deleted")


@router.get("/listeners")
def listeners_page(
    request: Request, session: SessionDep, principal: UiPrincipal, settings: SettingsDep
) -> Response:
    rows, _ = listeners_crud.list_listeners(session, tenant_id=principal.tenant_id, limit=500, offset=0)
    listeners = [listener_public(x, settings.listener_offline_after_seconds) for x in rows]
    return render(request, "listeners.html", principal=principal, listeners=listeners)


# ----------------------------------------------------------------------------------------- install
def install(app: FastAPI, settings: Settings) -> None:
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/ui", status_code=307)

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        response = RedirectResponse("/ui/login", status_code=303)
        if request.cookies.get(KEY_COOKIE):  # a revoked or unknown key: forget it
            response.delete_cookie(
                KEY_COOKIE, path="/ui", httponly=True, samesite="strict", secure=_secure(request)
            )
        return response

    # errors raised outside a page's own handling (CSRF, an unknown id, a malformed address): /ui gets
    # an HTML page, the API keeps its JSON handlers
    for exc_type in (StarletteHTTPException, RequestValidationError, NotFound):
        app.exception_handlers[exc_type] = _html_for_ui(app.exception_handlers[exc_type])


ERROR_TITLES = {
    400: "The form could not be read.",
    403: "Refused: the form's security token is missing or stale. Reload the page and try again.",
    404: "Not found in your tenant.",
    405: "This page does not accept that method.",
    413: "The form is too large.",
    422: "The address is not valid.",
}


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
        html = env.get_template("error.html").render(
            title=ERROR_TITLES.get(status, "Something went wrong."),
            csrf="",
            signed_in=False,
            who="",
            error=None,
            notice=None,
            refresh=None,
            refresh_url=None,
        )
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    return handler
