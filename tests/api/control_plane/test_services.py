"""The service layer without HTTP (as the web UI and the LangGraph-compatible API call it): one unit of work
per operation (admission, the change, the audit record, one commit), and the reads with filters."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import HTTPException
from sqlmodel import Session, select

from control_plane.core.security import SecretBox
from control_plane.crud import DEFAULT_TENANT_ID, Principal
from control_plane.models import AuditLog, DeploymentCreate, DeploymentUpdate, ListenerCreate, Revision
from control_plane.services import Caller, deployments, listeners, revisions
from control_plane.spec import FieldError
from lgp_contract.resource import LangGraphPlatformSpec
from lgp_contract.statuses import RevisionStatus

from .conftest import RecordingClient

ADMIN = Principal(tenant_id=DEFAULT_TENANT_ID, actor_type="admin", actor_id="admin", is_admin=True)


def _caller(session: Session, box: SecretBox, hooks: tuple[Any, ...] = ()) -> Caller:
    return Caller(session=session, principal=ADMIN, box=box, admission=hooks)


def _create(caller: Caller, listener_id: uuid.UUID, name: str, **fields: Any) -> Any:
    data = DeploymentCreate.model_validate(
        {
            "name": name,
            "type": "production",
            "image": "registry.example.com/agent:1.0",
            "listener_id": str(listener_id),
            "namespace": "agents",
            **fields,
        }
    )
    return deployments.create(caller, data)


def test_create_update_and_find_without_http(client: RecordingClient) -> None:
    engine, box = client.app.state.engine, client.app.state.box  # type: ignore[attr-defined]
    seen: list[str] = []
    with Session(engine) as session:
        caller = _caller(session, box, (lambda **kw: seen.append(kw["action"]),))
        listener, _ = listeners.create(caller, ListenerCreate(name="cluster", namespaces=["agents"]))
        d, first = _create(caller, listener.id, "support-bot", secrets={"OPENAI_API_KEY": "sk-x"})
        _create(caller, listener.id, "support-bot-2")
        assert seen == ["deployment.create", "deployment.create"]
        # the revision carries the custom resource's spec as written, validated by the contract's model
        spec = LangGraphPlatformSpec.model_validate(first.spec)
        assert (
            spec.image == "registry.example.com/agent:1.0"
            and spec.env_from_secret == "support-bot-lgp-secrets"
        )
        assert first.status == RevisionStatus.AWAITING_DEPLOY
        # what runs did not change: no revision; it did: a new one
        same, none = deployments.update(caller, d.id, DeploymentUpdate(image=d.image))
        assert none is None and same.latest_revision_id == first.id
        _, second = deployments.update(
            caller, d.id, DeploymentUpdate.model_validate({"image": "registry.example.com/agent:2.0"})
        )
        assert second is not None and second.number == 2
        assert LangGraphPlatformSpec.model_validate(second.spec).image == "registry.example.com/agent:2.0"
        # filters: exact name (LangGraph's `name`), substring (`name_contains`), limit/offset
        exact, n = deployments.find(
            session,
            tenant_id=ADMIN.tenant_id,
            filters=deployments.Filters(name="support-bot"),
            limit=10,
            offset=0,
        )
        assert [x.name for x in exact] == ["support-bot"] and n == 1
        page, total = deployments.find(
            session,
            tenant_id=ADMIN.tenant_id,
            filters=deployments.Filters(name_contains="support"),
            limit=1,
            offset=1,
        )
        assert total == 2 and len(page) == 1
        actions = session.exec(select(AuditLog.action).order_by(AuditLog.id)).all()  # type: ignore[arg-type]
        assert actions.count("deployment.create") == 2 and actions.count("deployment.update") == 2


def test_a_refused_unit_of_work_changes_nothing(client: RecordingClient) -> None:
    engine, box = client.app.state.engine, client.app.state.box  # type: ignore[attr-defined]

    def refuse(**kw: Any) -> None:
        if kw["action"] == "revision.create":
            raise HTTPException(status_code=403, detail="no license")

    with Session(engine) as session:
        caller = _caller(session, box, (refuse,))
        listener, _ = listeners.create(caller, ListenerCreate(name="cluster", namespaces=["agents"]))
        d, _ = _create(caller, listener.id, "agent")
        with pytest.raises(HTTPException):
            revisions.create(caller, d.id, image="registry.example.com/agent:2.0")
        session.rollback()
        with pytest.raises(FieldError) as e:
            _create(caller, listener.id, "other", env=[{"name": "PORT", "value": "1"}])
        assert e.value.loc == ("env", 0, "name")
        session.rollback()
    with Session(engine) as session:
        assert len(session.exec(select(Revision)).all()) == 1
        found, n = deployments.find(
            session, tenant_id=ADMIN.tenant_id, filters=deployments.Filters(), limit=10, offset=0
        )
        assert n == 1 and found[0].name == "agent"
