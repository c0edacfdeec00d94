"""The UI's routes under ``/ui``: each reads or changes through ``actions``, parses forms with
``forms`` and renders a template. Bad input is shown next to its form field (the API's 422), 403 and
409 as a plain message. Secret values are write-only: pages show secret names only. The routes are
left out of the OpenAPI document."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import yaml
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlmodel import Session

from control_plane.models import DeploymentPublic, DeploymentType, Revision, utcnow
from control_plane.spec import FieldError
from control_plane.state_machine import IN_FLIGHT, RevisionStatus
from lgp_contract.logs import LEVELS
from lgp_contract.protocol import LogQuery

from . import actions
from .actions import ACTION_ERRORS, Principal, SessionDep, SettingsDep
from .auth import FormDep, UiPrincipal, sign_in, sign_out
from .forms import FORM_FIELDS, field_errors, parse_deployment, parse_revision
from .rendering import STYLESHEET, redirect, render

IN_FLIGHT_STATUSES = frozenset({RevisionStatus.QUEUED, *IN_FLIGHT})
REDEPLOYABLE = frozenset(
    {
        RevisionStatus.DEPLOYED,
        RevisionStatus.REPLACED,
        RevisionStatus.DEPLOY_FAILED,
        RevisionStatus.INTERRUPTED,
    }
)
NOTICES = {
    "created": "Deployment created: its first revision waits for the listener.",
    "revision": "New revision created.",
    "redeployed": "Redeploy started as a new revision.",
    "interrupted": "Revision interrupted.",
    "deleted": "Deployment marked for deletion: the listener removes its objects.",
}
# what a revision on its way waits for: (title, text when the listener gave no reason)
WAITING = {
    RevisionStatus.QUEUED.value: ("is queued:", "an earlier one is in flight."),
    RevisionStatus.AWAITING_DEPLOY.value: (
        "waits for the listener:",
        "it has not picked it up yet (is the listener online?).",
    ),
    RevisionStatus.DEPLOYING.value: ("is deploying:", "the rollout is under way."),
}

router = APIRouter(prefix="/ui", include_in_schema=False)


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("done", ""))


def why(d: DeploymentPublic, revisions: list[Revision]) -> tuple[dict[str, str] | None, bool]:
    """One sentence on what the latest revision waits for or why it failed; True when it failed."""
    latest = next((r for r in revisions if r.id == d.latest_revision_id), revisions[0] if revisions else None)
    if latest is None:
        return None, False
    status = latest.status
    detail = " ".join(x for x in (latest.status_reason, latest.status_message) if x)
    if str(status) in WAITING:
        title, default = WAITING[str(status)]
        return {"title": f"Revision #{latest.number} {title}", "text": detail or default}, False
    if status in (RevisionStatus.DEPLOY_FAILED, RevisionStatus.INTERRUPTED):
        return {
            "title": f"Revision #{latest.number} {status.replace('_', ' ').lower()}:",
            "text": detail or "-",
        }, True
    return None, False


# ---------------------------------------------------------------------------------- sign-in, assets
@router.get("")
def ui_root(request: Request) -> Response:
    return redirect(request, "/ui/deployments")


@router.get("/static/ui.css")
def stylesheet() -> Response:
    return Response(STYLESHEET, media_type="text/css", headers={"Cache-Control": "max-age=300"})


@router.get("/login")
def login_form(request: Request) -> Response:
    return render(request, "login.html")


@router.post("/login")
def login(request: Request, session: SessionDep, settings: SettingsDep, form: FormDep) -> Response:
    key = form.get("api_key", "").strip()
    if not key or actions.principal_for_key(session, settings, key) is None:
        return render(
            request, "login.html", status_code=401, error="Sign-in failed: the API key is unknown or revoked."
        )
    return sign_in(request, redirect(request, "/ui/deployments"), key)


@router.post("/logout")
def logout(request: Request, form: FormDep) -> Response:
    return sign_out(request, redirect(request, "/ui/login"))


# -------------------------------------------------------------------------------------- deployments
@router.get("/deployments")
def deployments_page(
    request: Request, session: SessionDep, principal: UiPrincipal, name: str | None = None
) -> Response:
    name_filter = (name or "").strip()[:53]
    rows, count, numbers = actions.deployments(session, principal, name_filter or None, limit=200)
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


def _new_form(
    request: Request,
    session: Session,
    principal: Principal,
    form: dict[str, str] | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    listeners = actions.listeners(session, principal)
    values = {f: "" for f in FORM_FIELDS if f != "secrets"}  # a checkbox sends "on" or nothing
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
    body, errors, had_secrets = parse_deployment(form)
    if body is not None:
        try:
            d = actions.create_deployment(request, session, principal, body)
            return redirect(request, f"/ui/deployments/{d.id}?done=created")
        except FieldError as e:
            session.rollback()
            errors = field_errors([(e.loc, e.msg)], "name")
        except ACTION_ERRORS as e:
            session.rollback()
            status, message = actions.refusal(e)
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
    d = actions.deployment(session, principal, deployment_id)
    rows = actions.revisions(session, principal, deployment_id, limit=50)
    numbers = {r.id: r.number for r in rows}
    # RevisionPublic carries secret names, never values
    revisions = [
        {
            **actions.revision_public(r).model_dump(),
            "source_revision_number": numbers.get(r.source_revision_id) if r.source_revision_id else None,
        }
        for r in rows
    ]
    in_flight = any(r.status in IN_FLIGHT_STATUSES for r in rows)
    why_text, why_bad = why(d, rows)
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
        events=actions.events(session, principal, deployment_id, limit=15),
        in_flight=in_flight,
        refresh=3 if in_flight or d.status == "DELETING" else None,
        refresh_url=f"/ui/deployments/{d.id}",
        why=why_text,
        why_bad=why_bad,
        listener_name=actions.listener_name(session, principal, d.listener_id),
        replicas=replicas,
        kubernetes=yaml.safe_dump(d.kubernetes.stored(), sort_keys=False) if d.kubernetes else None,
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
    """Run a change; on refusal, the deployment's page again with the reason in words."""
    try:
        action()
    except ACTION_ERRORS as e:
        session.rollback()
        status, message = actions.refusal(e)
        return _detail(request, session, principal, deployment_id, status_code=status, error=message)
    return redirect(request, done)


@router.post("/deployments/{deployment_id}/revisions")
def create_revision(
    request: Request, session: SessionDep, principal: UiPrincipal, deployment_id: uuid.UUID, form: FormDep
) -> Response:
    body, image, image_error = parse_revision(form)
    if body is None:
        return _detail(
            request,
            session,
            principal,
            deployment_id,
            status_code=422,
            field_errors={"image": image_error},
            form_image=image,
            error="The new revision was not created: see the image field.",
        )
    return _act(
        request,
        session,
        principal,
        deployment_id,
        lambda: actions.create_revision(request, session, principal, deployment_id, body),
        f"/ui/deployments/{deployment_id}?done=revision",
    )


def _on_revision(
    request: Request,
    session: Session,
    principal: Principal,
    revision_id: uuid.UUID,
    change: Callable[[], Any],
    done: str,
) -> Response:
    """A change to a revision, answered on its deployment's page."""
    deployment_id = actions.revision_deployment(session, principal, revision_id)
    return _act(
        request, session, principal, deployment_id, change, f"/ui/deployments/{deployment_id}?done={done}"
    )


@router.post("/revisions/{revision_id}/redeploy")
def redeploy(
    request: Request, session: SessionDep, principal: UiPrincipal, revision_id: uuid.UUID, form: FormDep
) -> Response:
    return _on_revision(
        request,
        session,
        principal,
        revision_id,
        lambda: actions.redeploy(request, session, principal, revision_id),
        "redeployed",
    )


@router.post("/revisions/{revision_id}/interrupt")
def interrupt(
    request: Request, session: SessionDep, principal: UiPrincipal, revision_id: uuid.UUID, form: FormDep
) -> Response:
    return _on_revision(
        request,
        session,
        principal,
        revision_id,
        lambda: actions.interrupt(session, principal, revision_id),
        "interrupted",
    )


@router.post("/deployments/{deployment_id}/delete")
def delete(
    request: Request, session: SessionDep, principal: UiPrincipal, deployment_id: uuid.UUID, form: FormDep
) -> Response:
    d = actions.deployment(session, principal, deployment_id)
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
    return _act(
        request,
        session,
        principal,
        deployment_id,
        lambda: actions.delete_deployment(session, principal, deployment_id),
        "/ui/deployments?done=deleted",
    )


# ---------------------------------------------------------------------------------------------- logs
LOG_WINDOWS = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
}
LOG_LIMITS = (100, 200, 500, 1000)
FOLLOW_SECONDS = 3


@router.get("/deployments/{deployment_id}/logs")
async def logs_page(
    request: Request,
    session: SessionDep,
    principal: UiPrincipal,
    deployment_id: uuid.UUID,
    revision: str = "",
    since: str = "1h",
    level: str = "",
    q: str = "",
    limit: int = 200,
    follow: str = "",
) -> Response:
    """The Logs panel: the deployment's container lines and events, newest first, filtered; with
    follow the page refreshes itself every few seconds."""
    d = await run_in_threadpool(actions.deployment, session, principal, deployment_id)
    rows = await run_in_threadpool(actions.revisions, session, principal, deployment_id, 50)
    chosen_revision = revision if revision in {str(r.id) for r in rows} else ""
    window = since if since in LOG_WINDOWS else ""
    min_level = level.upper() if level.upper() in LEVELS else ""
    text = q.strip()[:256]
    size = limit if limit in LOG_LIMITS else 200
    query = LogQuery(
        revision_id=uuid.UUID(chosen_revision) if chosen_revision else None,
        since=utcnow() - LOG_WINDOWS[window] if window else None,
        level=min_level or None,  # type: ignore[arg-type]
        text=text or None,
        limit=size,
    )
    form: dict[str, Any] = {
        "revision": chosen_revision,
        "since": window,
        "level": min_level,
        "q": text,
        "limit": size,
        "follow": "1" if follow else "",
    }
    page = await actions.deployment_logs(request, principal, deployment_id, query)
    here = f"/ui/deployments/{d.id}/logs?" + urlencode({k: v for k, v in form.items() if v != ""})
    return render(
        request,
        "logs.html",
        principal=principal,
        d=d,
        revisions=[{"id": str(r.id), "number": r.number, "status": r.status} for r in rows],
        form=form,
        windows=list(LOG_WINDOWS),
        levels=LEVELS,
        limits=LOG_LIMITS,
        logs=page,
        refresh=FOLLOW_SECONDS if form["follow"] else None,
        refresh_url=here,
    )


# ---------------------------------------------------------------------------------------- listeners
@router.get("/listeners")
def listeners_page(
    request: Request, session: SessionDep, principal: UiPrincipal, settings: SettingsDep
) -> Response:
    listeners = actions.listeners_public(session, principal, settings)
    return render(request, "listeners.html", principal=principal, listeners=listeners)
