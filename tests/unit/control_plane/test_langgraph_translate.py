"""The LangGraph-compatible API's pure translation: statuses the CLI waits on, field paths in its terms,
the bodies it sends into lgp's models, refusals with the words it reacts to, logs in and out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import HTTPException

from control_plane.api.langgraph import translate
from control_plane.api.langgraph.models import DeploymentCreateIn, DeploymentPatchIn, LogsIn
from control_plane.models import Deployment, DeploymentType, Listener, LogEntry, Revision
from control_plane.spec import FieldError
from lgp_contract.statuses import SETTLED, UNFINISHED, RevisionStatus

LISTENER = Listener(
    id=uuid.uuid4(),
    tenant_id=uuid.uuid4(),
    name="edge",
    namespaces=["agents"],
    token_prefix="p",
    token_hash="h",
)
IMAGE = "registry.example.com/a/b@sha256:" + "a" * 64


def refused(call: Any, *args: Any, **kw: Any) -> HTTPException:
    with pytest.raises(HTTPException) as info:
        call(*args, **kw)
    return info.value


@pytest.mark.parametrize("status", list(RevisionStatus))
def test_every_settled_status_ends_the_clis_wait_and_no_unfinished_one_does(status: RevisionStatus) -> None:
    shown = translate.revision_status(status)
    if status in SETTLED:
        assert shown in translate.TERMINAL_FOR_THE_CLI, f"the CLI would poll {status} ({shown}) for 300 s"
    if status in UNFINISHED:
        assert shown == status.value and shown not in translate.TERMINAL_FOR_THE_CLI


def test_the_status_table() -> None:
    assert translate.revision_status("INTERRUPTED") == "DEPLOY_FAILED"  # "Deployment failed", exit 1
    assert translate.revision_status("REPLACED") == "DEPLOYED"
    assert translate.revision_status("SKIPPED") == "SKIPPED"
    assert translate.revision_status("DEPLOY_FAILED") == "DEPLOY_FAILED"


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("namespace",), "source_config.listener_config.k8s_namespace"),
        (("body", "image"), "source_revision_config.image_uri"),
        (("secrets", "PORT"), "secrets.PORT"),
        (("secrets", "bad name", "[key]"), "secrets.bad name"),
        (("image_pull_secrets", 0), "source_config.resource_spec.image_pull_secrets.0"),
        (("name",), "name"),
        ((), "body"),
    ],
)
def test_field_paths_in_the_clis_terms(loc: tuple[str, ...], path: str) -> None:
    assert translate.field_path(loc) == path


def test_a_field_error_is_one_string() -> None:
    e = translate.refusal(FieldError(("namespace",), "the listener may not manage this namespace"))
    assert e.status_code == 422
    assert (
        e.detail == "source_config.listener_config.k8s_namespace: the listener may not manage this namespace"
    )


def create_in(**kw: object) -> DeploymentCreateIn:
    body = {
        "source": "external_docker",
        "name": "probe-a",
        "source_config": {"listener_id": str(LISTENER.id), "listener_config": {"k8s_namespace": "agents"}},
        "source_revision_config": {"image_uri": IMAGE},
        **kw,
    }
    return DeploymentCreateIn.model_validate(body)


def test_a_create_becomes_a_deployment_create() -> None:
    body = create_in(
        secrets=[{"name": "OPENAI_API_KEY", "value": "v"}],
        source_config={
            "listener_id": str(LISTENER.id),
            "resource_spec": {
                "image_pull_secrets": [{"name": "regcred"}],
                "min_scale": 1,
            },  # unknown: ignored
        },
        tracked_packages=["x"],  # unknown at the top: ignored
    )
    listener_id, namespace = translate.create_request(body)
    assert listener_id == LISTENER.id and namespace is None
    data = translate.deployment_create(body, LISTENER, translate.namespace_for(namespace, LISTENER))
    assert data.type == DeploymentType.DEVELOPMENT and data.image == IMAGE and data.namespace == "agents"
    assert data.secrets == {"OPENAI_API_KEY": "v"} and data.image_pull_secrets == ["regcred"]
    prod = create_in(source_config={"listener_id": str(LISTENER.id), "deployment_type": "prod"})
    assert translate.deployment_create(prod, LISTENER, "agents").type == DeploymentType.PRODUCTION


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"source_config": {}}, 400, "listener_id' is required"),
        ({"source": "internal_docker"}, 400, "listener_id' is required"),
        ({"source": "internal_source"}, 400, "--image-uri"),
        ({"agent": {"agent_id": "a"}}, 400, "agent"),
        (
            {"source_config": {"listener_id": str(LISTENER.id), "install_command": "pip install x"}},
            400,
            "builds",
        ),
    ],
)
def test_creates_lgp_cannot_do(body: dict[str, object], status: int, words: str) -> None:
    e = refused(translate.create_request, create_in(**body))
    assert e.status_code == status and words in str(e.detail)


def test_bad_create_values_name_the_clis_field() -> None:
    e = refused(translate.deployment_create, create_in(source_revision_config={}), LISTENER, "agents")
    assert e.detail == "source_revision_config.image_uri: required for an external_docker deployment"
    e = refused(translate.deployment_create, create_in(name="Not_OK"), LISTENER, "agents")
    assert str(e.detail).startswith("name: must be a DNS label")
    e = refused(
        translate.deployment_create,
        create_in(secrets=[{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]),
        LISTENER,
        "agents",
    )
    assert e.detail == "secrets: A appears twice"
    two = Listener(**{**LISTENER.model_dump(), "namespaces": ["a", "b"]})
    e = refused(translate.namespace_for, None, two)
    assert e.status_code == 400 and "several namespaces (a, b)" in str(e.detail)


def test_a_patch_sets_the_secrets_given_and_keeps_the_rest() -> None:
    data, deploys = translate.deployment_update(
        DeploymentPatchIn.model_validate({"source_revision_config": {"image_uri": IMAGE}, "secrets": []})
    )
    assert deploys and data.image == IMAGE and data.secrets is None  # [] removes nothing
    data, deploys = translate.deployment_update(
        DeploymentPatchIn.model_validate({"secrets": [{"name": "A", "value": "1"}]})
    )
    assert not deploys and data.secrets == {"A": "1"} and data.image is None
    e = refused(
        translate.deployment_update, DeploymentPatchIn.model_validate({"revision_source": "internal_docker"})
    )
    assert e.status_code == 400 and "--image-uri" in str(e.detail)


def test_log_bodies() -> None:
    q = translate.log_query(
        LogsIn.model_validate(
            {
                "limit": 50,
                "order": "asc",
                "level": "error",
                "query": "boom",
                "start_time": "2026-03-08T00:00:00Z",
            }
        ),
        None,
    )
    assert (q.limit, q.order, q.level, q.text) == (50, "asc", "ERROR", "boom")
    assert q.since == datetime(2026, 3, 8, tzinfo=UTC) and q.until is None
    q = translate.log_query(LogsIn.model_validate({"start_time": 1772928000000}), uuid.UUID(int=1))
    assert q.since == datetime(2026, 3, 8, tzinfo=UTC) and q.revision_id == uuid.UUID(int=1)
    for body, words in (
        ({"level": "LOUD"}, "level: one of"),
        ({"start_time": "soon"}, "start_time: not an ISO 8601 time"),
        (
            {"start_time": "2026-03-09T00:00:00Z", "end_time": "2026-03-08T00:00:00Z"},
            "end_time: must be later",
        ),
    ):
        e = refused(translate.log_query, LogsIn.model_validate(body), None)
        assert e.status_code == 422 and str(e.detail).startswith(words)


def test_the_notice_is_the_newest_line_with_a_stable_id() -> None:
    at = datetime(2026, 3, 8, tzinfo=UTC)
    entries = [LogEntry(id="a", timestamp=at, level="INFO", message="x", source="container")]
    desc = translate.logs_out(entries, "listener 'x' is offline", "desc", at)
    asc = translate.logs_out(entries, "listener 'x' is offline", "asc", at)
    assert desc[0].message.startswith("[lgp] ") and desc[0].level == "WARNING" and desc[1].id == "a"
    assert asc[-1].message == desc[0].message and asc[-1].id == desc[0].id  # a follower shows it once
    assert [x.id for x in translate.logs_out(entries, None, "desc", at)] == ["a"]


def test_answers_carry_what_the_cli_reads() -> None:
    now = datetime(2026, 3, 8, tzinfo=UTC)
    d = Deployment(
        id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        name="probe-a",
        type=DeploymentType.PRODUCTION,
        image=IMAGE,
        listener_id=LISTENER.id,
        namespace="agents",
        endpoint="http://agent.example.com/",
        secret_names=["B", "A"],
        image_pull_secrets=["regcred"],
        status="READY",
        created_at=now,
        updated_at=now,
    )
    out = translate.deployment_out(d)
    assert out.source == "external_docker" and out.source_config.custom_url == "http://agent.example.com/"
    assert out.source_config.deployment_type == "prod" and [s.name for s in out.secrets] == ["A", "B"]
    rev = Revision(
        id=uuid.uuid4(),
        tenant_id=d.tenant_id,
        deployment_id=d.id,
        number=3,
        status=RevisionStatus.INTERRUPTED,
        status_message="interrupted by a user",
        config={"image": IMAGE},
        created_at=now,
        updated_at=now,
    )
    r = translate.revision_out(rev)
    assert (r.status, r.lgp_status, r.status_message) == (
        "DEPLOY_FAILED",
        "INTERRUPTED",
        "INTERRUPTED: interrupted by a user",
    )
    [line] = translate.build_logs(rev)
    assert "no build" in line.message and IMAGE in line.message
    listener = translate.listener_out(LISTENER, online=True)
    assert listener.compute_id == "edge" and listener.compute_config.k8s_namespaces == ["agents"]
