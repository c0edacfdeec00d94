"""The listener protocol's messages (``/v1/listener/*``; ``docs/listener-protocol.md`` tells the story).

The control plane answers with these models and parses the listener's requests with them; the
listener parses the answers and sends the requests. Requests refuse unknown fields (422); answers
ignore them, so a listener keeps working against a newer control plane. Field names are snake_case
on the wire, except inside ``DesiredRevision.spec``, which is the custom resource's spec as it is
applied (camelCase, only the fields given).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from .logs import MAX_LINES, MAX_MESSAGE_CHARS, Level
from .resource import Condition, WrittenSpec
from .statuses import RevisionStatus

PREFIX = "/v1/listener"

ShortText = Annotated[str, StringConstraints(max_length=256)]
LongText = Annotated[str, StringConstraints(max_length=4096)]


class Request(BaseModel):
    """What the listener sends: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- GET /desired-state
class RevisionRef(BaseModel):
    id: uuid.UUID = Field(description="The revision's id (also the spec's revision.id).")
    number: int = Field(description="The revision's number in its deployment (1, 2, 3 ...).")
    status: RevisionStatus = Field(
        description="AWAITING_DEPLOY: apply it, report DEPLOYING; DEPLOYING: being rolled out, watch it; "
        "DEPLOYED: keep it applied; rarely DEPLOY_FAILED or INTERRUPTED when nothing ever deployed "
        "(keep it applied, report nothing)."
    )


class DesiredRevision(RevisionRef):
    """The revision to run. Its spec is final: apply it as the LangGraphPlatform's spec, adding only
    labels and annotations."""

    spec: WrittenSpec = Field(description="As written: camelCase, only the fields the control plane set.")


class DesiredSecret(BaseModel):
    name: str = Field(description="The Kubernetes Secret to write in the deployment's namespace.")
    data: dict[str, str] = Field(
        repr=False, description="Its key/values, decrypted for this listener only. Never log them."
    )


class DeploymentRef(BaseModel):
    id: uuid.UUID = Field(description="The deployment's id: label lgp.dev/deployment-id on the objects.")
    name: str = Field(description="The LangGraphPlatform's name (immutable; a DNS-1123 label).")
    namespace: str = Field(description="Where it lives (immutable; one of the listener's namespaces).")
    deleted: bool = Field(description="Tombstone: delete the objects, then acknowledge.")


class DesiredDeployment(DeploymentRef):
    revision: DesiredRevision | None = Field(
        description="What to run, or null: nothing to apply yet, leave existing objects alone."
    )
    secret: DesiredSecret | None = Field(
        description="The Secret to write, or null: the deployment has no secret values."
    )


class DesiredState(BaseModel):
    """Everything one listener must run (``complete``), or what changed of it since a version (a delta,
    asked for with ``delta=true``)."""

    version: int = Field(description="Grows with every change that can alter this state.")
    listener_id: uuid.UUID = Field(description="This listener's id.")
    namespaces: list[str] = Field(description="The namespaces this listener may manage.")
    deployments: list[DesiredDeployment] = Field(
        description="Complete: one entry per deployment of this listener. A delta: only the deployments "
        "whose entry changed after `since`; every other one is as in your copy."
    )
    complete: bool = Field(
        default=True,
        description="true: every deployment is listed (a full answer). false: a delta since `since`. Only a "
        "full answer says what exists; a deployment missing from either is never a reason to delete.",
    )
    since: int | None = Field(default=None, description="A delta's base: the version it is a change from.")
    forgotten: list[uuid.UUID] = Field(
        default_factory=list,
        description="A delta only: deployments whose deletion you acknowledged after `since` (their objects "
        "are gone): drop them from your copy.",
    )


# ---------------------------------------------------------------- POST /revisions/{id}/status
class StatusReport(Request):
    """A revision transition observed by the listener."""

    status: Literal["DEPLOYING", "DEPLOYED", "DEPLOY_FAILED"] = Field(
        description="DEPLOYING once applied; DEPLOYED once live and Ready; DEPLOY_FAILED with why."
    )
    reason: ShortText | None = Field(default=None, description="CamelCase reason, e.g. ImagePullBackOff.")
    message: LongText | None = Field(default=None, description="A sentence a person can act on.")


class RevisionStatusPublic(BaseModel):
    """The revision's state after a status report."""

    id: uuid.UUID
    deployment_id: uuid.UUID
    number: int
    status: RevisionStatus
    status_reason: str | None
    status_message: str | None


# ---------------------------------------------------------------- POST /deployments/{id}/report
class ConditionReport(Request):
    """One of the LangGraphPlatform's conditions."""

    type: ShortText
    status: Literal["True", "False", "Unknown"]
    reason: ShortText | None = None
    message: LongText | None = None
    last_transition_time: datetime | None = None

    @classmethod
    def of(cls, condition: Condition) -> ConditionReport:
        """A custom resource's condition as reported (empty fields left out)."""
        fields = condition.model_dump(include={"type", "status", "reason", "message", "last_transition_time"})
        return cls.model_validate({k: v for k, v in fields.items() if v})


class KubernetesEventReport(Request):
    """A Kubernetes event about the LangGraphPlatform or one of its children."""

    type: Literal["Normal", "Warning"] = "Normal"
    reason: ShortText
    message: LongText | None = None
    object: ShortText | None = Field(
        default=None, description="kind/name of the object, e.g. Pod/agent-api-0."
    )
    count: StrictInt | None = Field(default=None, ge=0)
    timestamp: datetime | None = None


class Replicas(BaseModel):
    """Replica counts of the api server (any subset)."""

    desired: StrictInt | None = Field(default=None, ge=0)
    ready: StrictInt | None = Field(default=None, ge=0)
    available: StrictInt | None = Field(default=None, ge=0)
    updated: StrictInt | None = Field(default=None, ge=0)


class DeploymentReport(Request):
    """What the listener saw of one deployment: any subset of the fields."""

    revision_id: uuid.UUID | None = Field(
        default=None, description="The revision these observations belong to."
    )
    conditions: list[ConditionReport] = Field(
        default_factory=list, max_length=50, description="They replace the deployment's shown conditions."
    )
    events: list[KubernetesEventReport] = Field(default_factory=list, max_length=200)
    replicas: Replicas | None = None
    endpoint: Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://\S+$")] | None = Field(
        default=None, description="The URL the deployment answers on."
    )


class ReportAccepted(BaseModel):
    accepted: int = Field(description="Events recorded.")


# ---------------------------------------------------------------- POST /heartbeat
class Heartbeat(Request):
    version: StrictInt | None = Field(
        default=None, ge=0, description="The desired-state version the listener applied."
    )
    info: dict[str, Annotated[str, StringConstraints(max_length=256)]] = Field(
        default_factory=dict,
        max_length=20,
        description="Free-form facts, e.g. cluster version, listener version.",
    )


class HeartbeatAck(BaseModel):
    server_time: datetime
    version: int = Field(description="The current desired-state version.")


# ---------------------------------------------------------------- GET /log-requests (long-poll)
class LogQuery(BaseModel):
    """Which lines: the deployment's server and queue-worker containers (those of one revision's pods
    when ``revision_id`` is set), in a time window, filtered; the newest ``limit`` (``order`` desc) or
    the oldest ``limit`` from ``since`` on (``order`` asc, what a follower asks for)."""

    revision_id: uuid.UUID | None = Field(
        default=None, description="Only pods annotated lgp.dev/revision with this id."
    )
    since: datetime | None = Field(default=None, description="Lines at or after this time.")
    until: datetime | None = Field(default=None, description="Lines before this time.")
    level: Level | None = Field(
        default=None, description="This level or a more severe one (a line stating none counts as INFO)."
    )
    text: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description="Lines containing this, case-insensitive (matched after redaction)."
    )
    limit: int = Field(default=100, ge=1, le=MAX_LINES, description="Most lines to answer with.")
    order: Literal["asc", "desc"] = Field(
        default="desc", description="desc: the newest lines; asc: the oldest from since on."
    )


class LogRequest(BaseModel):
    """A person asked for a deployment's logs: read them from the cluster and answer (POST
    /log-requests/{id}) within ``answer_within_seconds``, or not at all."""

    id: uuid.UUID = Field(description="The request's id, to answer under.")
    deployment_id: uuid.UUID = Field(description="Whose logs: one of this listener's deployments.")
    query: LogQuery
    answer_within_seconds: float = Field(
        description="After this the person got an answer without container logs; a late answer is dropped."
    )


class LogRequests(BaseModel):
    """The log requests waiting for this listener (each handed out once)."""

    requests: list[LogRequest] = Field(description="Empty when none came during the wait.")


# ---------------------------------------------------------------- POST /log-requests/{id}
class LogLine(Request):
    """One line of a container's log, redacted: the deployment's secret values never leave the cluster."""

    timestamp: datetime = Field(description="When the container wrote it (the kubelet's timestamp).")
    pod: ShortText
    container: ShortText
    previous: bool = Field(default=False, description="From the container's previous run (it restarted).")
    revision_id: ShortText | None = Field(
        default=None, description="The revision the pod runs (its lgp.dev/revision annotation)."
    )
    level: Level | None = Field(default=None, description="The level the line states, if any.")
    message: Annotated[str, StringConstraints(max_length=MAX_MESSAGE_CHARS)]


class LogAnswer(Request):
    """The lines that match, at most the query's limit, or why there are none."""

    lines: list[LogLine] = Field(default_factory=list, max_length=MAX_LINES)
    truncated: bool = Field(
        default=False, description="More lines matched than were read or sent (a limit cut them)."
    )
    error: LongText | None = Field(
        default=None, description="Why the logs could not be read, e.g. pods/log is forbidden."
    )
