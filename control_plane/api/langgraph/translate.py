"""Pure translation between LangGraph's control-plane API (``models``) and lgp's (``DeploymentCreate``,
``DeploymentUpdate``, ``LogQuery``, the tables): no I/O. A refusal is an ``HTTPException`` whose
``detail`` is a string naming the field in the CLI's terms, since langgraph-cli prints a string
``detail`` as it is (and reacts to a few of them: ``listener_id' is required``, ``only available for
'internal_docker' source deployments``).

Statuses: the CLI waits for a revision until DEPLOYED, BUILD_FAILED, DEPLOY_FAILED, CREATE_FAILED or
SKIPPED and polls on anything else for 5 minutes. lgp's INTERRUPTED never deploys and never changes
again, so it is shown as DEPLOY_FAILED (the CLI says "Deployment failed", exit 1); REPLACED was
DEPLOYED and is shown so (the CLI itself shows every DEPLOYED revision after the newest one as
REPLACED). ``lgp_status`` and ``status_message`` keep lgp's own words.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException
from pydantic import ValidationError

from control_plane.models import (
    Deployment,
    DeploymentCreate,
    DeploymentType,
    DeploymentUpdate,
    Listener,
    LogEntry,
    Revision,
    validation_errors,
)
from control_plane.spec import FieldError
from lgp_contract.logs import LEVELS, line_id, parse_time
from lgp_contract.protocol import LogQuery
from lgp_contract.statuses import RevisionStatus

from .models import (
    ComputeConfig,
    DeploymentCreateIn,
    DeploymentOut,
    DeploymentPatchIn,
    ListenerConfigOut,
    ListenerOut,
    LogOut,
    LogsIn,
    ResourceSpecOut,
    RevisionOut,
    SecretIn,
    SecretName,
    SourceConfig,
    SourceConfigOut,
    SourceRevisionConfig,
    SourceRevisionConfigOut,
)

S = RevisionStatus
STATUS = {S.INTERRUPTED: "DEPLOY_FAILED", S.REPLACED: "DEPLOYED"}
"""lgp's statuses the CLI does not know as terminal, as ones it does (the rest are shown as they are)."""
TERMINAL_FOR_THE_CLI = frozenset({"DEPLOYED", "CREATE_FAILED", "BUILD_FAILED", "DEPLOY_FAILED", "SKIPPED"})
"""langgraph-cli 0.4.40's ``_TERMINAL_STATUSES``: it stops waiting on these."""

# lgp's field -> where the CLI's request carried it
FIELD_PATHS: dict[str, str] = {
    "name": "name",
    "image": "source_revision_config.image_uri",
    "listener_id": "source_config.listener_id",
    "namespace": "source_config.listener_config.k8s_namespace",
    "type": "source_config.deployment_type",
    "secrets": "secrets",
    "image_pull_secrets": "source_config.resource_spec.image_pull_secrets",
}
DEPLOYMENT_TYPES = {
    "dev": DeploymentType.DEVELOPMENT,
    "dev_zero": DeploymentType.DEVELOPMENT,
    "development": DeploymentType.DEVELOPMENT,
    "prod": DeploymentType.PRODUCTION,
    "production": DeploymentType.PRODUCTION,
}
NO_BUILDS = (
    "lgp has no image registry and builds nothing: push the image to a registry you manage and deploy it "
    "with `langgraph deploy --image-uri <repository>@sha256:<digest> --listener-id <listener> "
    "--k8s-namespace <namespace>` (`langgraph deploy listeners list` shows the listeners)"
)
NO_AGENTS = "agent mode (--agent-id, --agent-environment) is not part of lgp: deploy by --name"
LISTENER_REQUIRED = (
    "'listener_id' is required: lgp runs deployments through a listener in your cluster "
    "(`langgraph deploy listeners list` shows them)"
)


def bad_request(detail: str) -> HTTPException:
    return HTTPException(status_code=400, detail=detail)


def invalid(detail: str) -> HTTPException:
    return HTTPException(status_code=422, detail=detail)


# ------------------------------------------------------------------------------------------ errors
def field_path(loc: Sequence[Any]) -> str:
    """lgp's field -> the CLI's (``namespace`` -> ``source_config.listener_config.k8s_namespace``)"""
    parts = [str(p) for p in loc if p != "body"]
    if not parts:
        return "body"
    head = FIELD_PATHS.get(parts[0], parts[0])
    rest = [p for p in parts[1:] if not p.startswith("[")]
    return ".".join([head, *rest])


def refusal(exc: FieldError | ValidationError) -> HTTPException:
    """A 422 whose detail is one string: ``field: reason`` for each problem (never the value)."""
    if isinstance(exc, FieldError):
        return invalid(f"{field_path(exc.loc)}: {exc.msg}")
    return invalid("; ".join(f"{field_path(loc)}: {msg}" for loc, msg in validation_errors(exc)))


# ------------------------------------------------------------------------------------------ requests
def _refuse_builds(source: str | None, config: SourceConfig | None, rev: SourceRevisionConfig | None) -> None:
    if source in ("internal_docker", "internal_source"):
        raise bad_request(f"source {source!r}: {NO_BUILDS}")
    if config is not None and (config.install_command or config.build_command):
        raise bad_request(f"source_config.install_command / build_command: {NO_BUILDS}")
    if rev is not None and (rev.source_tarball_path or rev.langgraph_config_path):
        raise bad_request(f"source_revision_config.source_tarball_path: {NO_BUILDS}")


def _secrets(given: Sequence[SecretIn]) -> dict[str, str]:
    out: dict[str, str] = {}
    for s in given:
        if s.name in out:
            raise invalid(f"secrets: {s.name} appears twice")
        out[s.name] = s.value
    return out


def _pull_secrets(config: SourceConfig | None) -> list[str] | None:
    spec = config.resource_spec if config is not None else None
    if spec is None or spec.image_pull_secrets is None:
        return None
    return [ref.name for ref in spec.image_pull_secrets]


def create_request(body: DeploymentCreateIn) -> tuple[uuid.UUID, str | None]:
    """The listener and namespace a create names; refuses what lgp cannot do (builds, agents, no
    listener) with the words the CLI turns into advice."""
    if body.source in ("internal_docker", "internal_source"):
        # the CLI answers this marker with "deploys through a listener ... re-run with --push-to"
        raise bad_request(f"{LISTENER_REQUIRED}. {NO_BUILDS}")
    _refuse_builds(body.source, body.source_config, body.source_revision_config)
    if body.agent is not None:
        raise bad_request(f"agent: {NO_AGENTS}")
    if body.source_config.listener_id is None:
        raise bad_request(LISTENER_REQUIRED)
    listener_config = body.source_config.listener_config
    return body.source_config.listener_id, listener_config.k8s_namespace if listener_config else None


def namespace_for(given: str | None, listener: Listener) -> str:
    """The namespace asked for, or the listener's only one."""
    if given:
        return given
    if len(listener.namespaces) == 1:
        return listener.namespaces[0]
    choices = ", ".join(listener.namespaces) or "none"
    raise bad_request(
        f"source_config.listener_config.k8s_namespace is required: listener {listener.id} serves "
        f"several namespaces ({choices})"
    )


def deployment_create(body: DeploymentCreateIn, listener: Listener, namespace: str) -> DeploymentCreate:
    """A create as lgp's ``DeploymentCreate`` (422 naming the CLI's field when a value is invalid)."""
    image = body.source_revision_config.image_uri
    if not image:
        raise invalid("source_revision_config.image_uri: required for an external_docker deployment")
    kind = (body.source_config.deployment_type or "dev").lower()
    if kind not in DEPLOYMENT_TYPES:
        raise invalid(f"source_config.deployment_type: one of {', '.join(sorted(DEPLOYMENT_TYPES))}")
    fields: dict[str, Any] = {
        "name": body.name,
        "type": DEPLOYMENT_TYPES[kind],
        "image": image,
        "listener_id": listener.id,
        "namespace": namespace,
        "secrets": _secrets(body.secrets),
    }
    pull = _pull_secrets(body.source_config)
    if pull:
        fields["image_pull_secrets"] = pull
    try:
        return DeploymentCreate.model_validate(fields)
    except ValidationError as e:
        raise refusal(e) from None


def deployment_update(body: DeploymentPatchIn) -> tuple[DeploymentUpdate, bool]:
    """A patch as lgp's ``DeploymentUpdate``, and whether it deploys an image (then a new revision
    comes even when nothing changed: the CLI waits for the newest revision). ``secrets`` set the values
    given and keep the rest: the CLI sends the project's whole list, ``[]`` without a ``.env``."""
    _refuse_builds(body.revision_source, body.source_config, body.source_revision_config)
    fields: dict[str, Any] = {}
    image = body.source_revision_config.image_uri if body.source_revision_config else None
    if image:
        fields["image"] = image
    if body.secrets:
        fields["secrets"] = _secrets(body.secrets)
    config = body.source_config
    if config is not None:
        pull = _pull_secrets(config)
        if pull is not None:
            fields["image_pull_secrets"] = pull
        if config.listener_id is not None:
            fields["listener_id"] = config.listener_id
        if config.listener_config is not None and config.listener_config.k8s_namespace:
            fields["namespace"] = config.listener_config.k8s_namespace
    try:
        return DeploymentUpdate.model_validate(fields), bool(image)
    except ValidationError as e:
        raise refusal(e) from None


def _when(value: str | float | None, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value) / 1000, tz=UTC)
        return parse_time(value)
    except (ValueError, OverflowError, OSError):
        raise invalid(
            f"{field}: not an ISO 8601 time (e.g. 2026-03-08T00:00:00Z) or epoch milliseconds"
        ) from None


def log_query(body: LogsIn, revision_id: uuid.UUID | None) -> LogQuery:
    level = body.level.upper() if body.level else None
    if level is not None and level not in LEVELS:
        raise invalid(f"level: one of {', '.join(LEVELS)}")
    since, until = _when(body.start_time, "start_time"), _when(body.end_time, "end_time")
    if since is not None and until is not None and until <= since:
        raise invalid("end_time: must be later than start_time")
    return LogQuery(
        revision_id=revision_id,
        since=since,
        until=until,
        level=level,
        text=body.query or None,
        limit=body.limit,
        order=body.order,
    )


# ------------------------------------------------------------------------------------------ answers
def revision_status(status: str) -> str:
    return STATUS.get(S(status), status)


def deployment_out(d: Deployment) -> DeploymentOut:
    return DeploymentOut(
        id=d.id,
        name=d.name,
        tenant_id=d.tenant_id,
        source="external_docker",
        source_config=SourceConfigOut(
            listener_id=d.listener_id,
            listener_config=ListenerConfigOut(k8s_namespace=d.namespace),
            resource_spec=ResourceSpecOut(
                image_pull_secrets=[SecretName(name=n) for n in d.image_pull_secrets]
            ),
            custom_url=d.endpoint,
            deployment_type="prod" if d.type == DeploymentType.PRODUCTION else "dev",
        ),
        source_revision_config=SourceRevisionConfigOut(image_uri=d.image),
        secrets=[SecretName(name=n) for n in sorted(d.secret_names)],
        status=d.status,
        latest_revision_id=d.latest_revision_id,
        active_revision_id=d.active_revision_id,
        created_at=d.created_at,
        updated_at=d.updated_at,
    )


def revision_out(r: Revision) -> RevisionOut:
    message = r.status_message
    if r.status == S.INTERRUPTED:
        message = f"INTERRUPTED: {message}" if message else "INTERRUPTED"
    return RevisionOut(
        id=r.id,
        deployment_id=r.deployment_id,
        number=r.number,
        status=revision_status(r.status),
        lgp_status=r.status,
        status_reason=r.status_reason,
        status_message=message,
        source="external_docker",
        source_revision_config=SourceRevisionConfigOut(image_uri=str(r.config.get("image", ""))),
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def listener_out(listener: Listener, online: bool) -> ListenerOut:
    return ListenerOut(
        id=listener.id,
        name=listener.name,
        compute_id=listener.name,
        compute_config=ComputeConfig(k8s_namespaces=list(listener.namespaces)),
        online=online,
        created_at=listener.created_at,
        updated_at=listener.updated_at,
    )


def log_out(entry: LogEntry) -> LogOut:
    return LogOut(
        id=entry.id, timestamp=entry.timestamp.isoformat(), level=entry.level, message=entry.message
    )


def logs_out(entries: Sequence[LogEntry], notice: str | None, order: str, now: datetime) -> list[LogOut]:
    """The lines, and lgp's notice (why container lines are missing) as the newest line: the CLI shows
    lines only. Its id depends on its words alone, so a follower shows it once."""
    out = [log_out(e) for e in entries]
    if notice:
        line = LogOut(
            id=f"lgp-notice-{line_id('notice', notice)}",
            timestamp=now.isoformat(),
            level="WARNING",
            message=f"[lgp] {notice}",
        )
        out = [*out, line] if order == "asc" else [line, *out]
    return out


def build_logs(revision: Revision) -> list[LogOut]:
    """lgp builds nothing: one line saying so, and where the image came from."""
    return [
        LogOut(
            id=f"lgp-no-build-{revision.id}",
            timestamp=revision.created_at.isoformat(),
            level="INFO",
            message=f"[lgp] no build: revision {revision.number} deploys the image "
            f"{revision.config.get('image', '?')}, built and pushed outside lgp. Its containers' logs: "
            "`langgraph deploy logs` (without --type build).",
        )
    ]
