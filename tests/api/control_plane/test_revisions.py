"""Revisions over HTTP: the lifecycle driven by listener reports, overtaking, rollback, interrupt, the deploy
deadline, and events per deployment and per revision."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from control_plane.core.config import Settings
from control_plane.main import create_app
from tests.api.control_plane.conftest import ADMIN_KEY, Api, ListenerApi, RecordingClient, make_settings


def setup(api: Api, **fields: Any) -> tuple[dict[str, Any], ListenerApi, dict[str, Any]]:
    listener = api.listener()
    d = api.deployment(listener, **fields)
    return listener, ListenerApi(api.client, listener["token"]), d


def statuses(api: Api, deployment_id: str) -> list[tuple[int, str]]:
    data = api.get(f"/v1/deployments/{deployment_id}/revisions").json()["data"]
    return [(r["number"], r["status"]) for r in data]


def test_lifecycle_to_deployed_and_replaced(api: Api) -> None:
    _, lis, d = setup(api)
    rev1 = d["latest_revision_id"]
    assert lis.status(rev1, "DEPLOYING").status_code == 200
    assert api.get(f"/v1/deployments/{d['id']}").json()["status"] == "DEPLOYING"
    r = lis.status(rev1, "DEPLOYED")
    assert r.status_code == 200 and r.json()["status"] == "DEPLOYED"
    dep = api.get(f"/v1/deployments/{d['id']}").json()
    assert dep["status"] == "READY" and dep["active_revision_id"] == rev1

    rev2 = api.post(f"/v1/deployments/{d['id']}/revisions", {"image": "agent:2"}).json()
    assert rev2["status"] == "AWAITING_DEPLOY" and rev2["spec"]["image"] == "agent:2"
    assert api.get(f"/v1/deployments/{d['id']}").json()["image"] == "agent:2"
    assert lis.status(rev2["id"], "DEPLOYED").status_code == 200  # passes through DEPLOYING
    assert statuses(api, d["id"]) == [(2, "DEPLOYED"), (1, "REPLACED")]
    dep = api.get(f"/v1/deployments/{d['id']}").json()
    assert dep["active_revision_id"] == rev2["id"] and dep["status"] == "READY"
    kinds = [
        (e["kind"], e["payload"].get("to"))
        for e in api.get(f"/v1/revisions/{rev2['id']}/events").json()["data"]
    ]
    assert ("revision_status", "DEPLOYING") in kinds and ("revision_status", "DEPLOYED") in kinds


def test_one_in_flight_and_newer_revisions_skip_queued_ones(api: Api) -> None:
    _, lis, d = setup(api)
    rev1 = d["latest_revision_id"]
    lis.status(rev1, "DEPLOYING")
    r2 = api.post(f"/v1/deployments/{d['id']}/revisions", {}).json()
    r3 = api.post(f"/v1/deployments/{d['id']}/revisions", {}).json()
    assert statuses(api, d["id"]) == [(3, "QUEUED"), (2, "SKIPPED"), (1, "DEPLOYING")]
    skipped = api.get(f"/v1/revisions/{r2['id']}").json()
    assert skipped["status_reason"] == "Superseded" and "3" in skipped["status_message"]
    assert lis.status(r3["id"], "DEPLOYING").status_code == 409  # not yet handed to the listener
    lis.status(rev1, "DEPLOY_FAILED", reason="ImagePullBackOff", message="image agent:1 not found")
    assert statuses(api, d["id"]) == [(3, "AWAITING_DEPLOY"), (2, "SKIPPED"), (1, "DEPLOY_FAILED")]
    failed = api.get(f"/v1/revisions/{rev1}").json()
    assert failed["status_reason"] == "ImagePullBackOff" and failed["finished_at"]


def test_refused_transitions_are_409_and_repeats_are_no_ops(api: Api) -> None:
    _, lis, d = setup(api)
    rev = d["latest_revision_id"]
    assert lis.status(rev, "DEPLOYING").status_code == 200
    assert lis.status(rev, "DEPLOYING").status_code == 200  # a retry
    assert lis.status(rev, "DEPLOYED").status_code == 200
    r = lis.status(rev, "DEPLOY_FAILED")
    assert r.status_code == 409 and "DEPLOYED" in r.json()["detail"]
    assert api.post(f"/v1/revisions/{rev}/interrupt").status_code == 409
    r = lis.status(rev, "REPLACED")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "status"]


def test_interrupt(api: Api) -> None:
    _, lis, d = setup(api)
    rev1 = d["latest_revision_id"]
    lis.status(rev1, "DEPLOYED")
    rev2 = api.post(f"/v1/deployments/{d['id']}/revisions", {"image": "agent:2"}).json()["id"]
    lis.status(rev2, "DEPLOYING")
    r = api.post(f"/v1/revisions/{rev2}/interrupt")
    assert r.status_code == 200 and r.json()["status"] == "INTERRUPTED"
    assert lis.status(rev2, "DEPLOYED").status_code == 409  # the listener learns it was stopped
    dep = api.get(f"/v1/deployments/{d['id']}").json()
    assert dep["active_revision_id"] == rev1 and dep["status"] == "READY"
    desired = lis.desired().json()["deployments"][0]
    assert desired["revision"]["id"] == rev1  # the cluster goes back to what was running


def test_redeploy_rolls_back_settings_and_secrets(api: Api) -> None:
    first_secret = api.guard.secret()
    _, lis, d = setup(api, secrets={"TOKEN": first_secret})
    rev1 = d["latest_revision_id"]
    lis.status(rev1, "DEPLOYED")
    api.patch(
        f"/v1/deployments/{d['id']}",
        {
            "image": "agent:2",
            "secrets": {"TOKEN": api.guard.secret()},
            "env": [{"name": "MODE", "value": "new"}],
        },
    )
    rev2 = api.get(f"/v1/deployments/{d['id']}").json()["latest_revision_id"]
    lis.status(rev2, "DEPLOYED")
    r = api.post(f"/v1/revisions/{rev1}/redeploy")
    assert r.status_code == 201, r.text
    rev3 = r.json()
    assert rev3["number"] == 3 and rev3["source_revision_id"] == rev1
    assert rev3["config"]["image"] == d["image"] and rev3["config"]["env"] == []
    dep = api.get(f"/v1/deployments/{d['id']}").json()
    assert dep["image"] == d["image"] and dep["env"] == [] and dep["latest_revision_id"] == rev3["id"]
    desired = lis.desired().json()["deployments"][0]
    assert desired["revision"]["id"] == rev3["id"]
    assert desired["secret"]["data"] == {"TOKEN": first_secret}
    assert api.post(f"/v1/revisions/{uuid.uuid4()}/redeploy").status_code == 404


def test_events_from_reports(api: Api) -> None:
    _, lis, d = setup(api)
    rev = d["latest_revision_id"]
    lis.status(rev, "DEPLOYING")
    r = lis.report(
        d["id"],
        revision_id=rev,
        conditions=[{"type": "Ready", "status": "False", "reason": "PodsNotReady", "message": "0/1 ready"}],
        events=[
            {
                "type": "Warning",
                "reason": "BackOff",
                "message": "Back-off pulling image",
                "object": "Pod/x",
                "count": 3,
            }
        ],
        replicas={"desired": 1, "ready": 0},
        endpoint="http://agent.agents.svc:8000",
    )
    assert r.status_code == 202 and r.json() == {"accepted": 4}
    events = api.get(f"/v1/deployments/{d['id']}/events").json()
    reasons = {(e["kind"], e["reason"]) for e in events["data"]}
    assert {
        ("condition", "PodsNotReady"),
        ("kubernetes_event", "BackOff"),
        ("replicas", "Replicas"),
        ("endpoint", "Endpoint"),
    } <= reasons
    only_k8s = api.get(f"/v1/deployments/{d['id']}/events", params={"kind": "kubernetes_event"}).json()
    assert only_k8s["count"] == 1 and only_k8s["data"][0]["payload"]["count"] == 3
    per_rev = api.get(f"/v1/revisions/{rev}/events").json()
    assert per_rev["count"] == events["count"]
    dep = api.get(f"/v1/deployments/{d['id']}").json()
    assert dep["endpoint"] == "http://agent.agents.svc:8000" and dep["replicas"]["ready"] == 0
    assert dep["conditions"][0]["reason"] == "PodsNotReady"
    assert lis.report(d["id"], revision_id=str(uuid.uuid4())).status_code == 404
    assert lis.report(str(uuid.uuid4())).status_code == 404
    r = lis.report(d["id"], replicas={"ready": -1})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "replicas", "ready"]


@pytest.fixture
def fast_deadline_client(postgres_url: str) -> Iterator[RecordingClient]:
    settings: Settings = make_settings(
        postgres_url, revision_deploy_timeout_seconds=1, reaper_interval_seconds=0.1
    )
    with RecordingClient(create_app(settings)) as c:
        yield c


def test_deploy_deadline_fails_a_stuck_revision(
    fast_deadline_client: RecordingClient, secret_guard: Any
) -> None:
    from tests.api.control_plane.conftest import new_tenant

    api = new_tenant(Api(fast_deadline_client, ADMIN_KEY, secret_guard))
    _, lis, d = setup(api)
    rev = d["latest_revision_id"]
    lis.status(rev, "DEPLOYING")
    deadline = time.monotonic() + 15
    while api.get(f"/v1/revisions/{rev}").json()["status"] != "DEPLOY_FAILED":
        assert time.monotonic() < deadline, "the deadline was not enforced"
        time.sleep(0.1)
    failed = api.get(f"/v1/revisions/{rev}").json()
    assert failed["status_reason"] == "DeadlineExceeded" and "1s" in failed["status_message"]
    assert api.get(f"/v1/deployments/{d['id']}").json()["status"] == "FAILED"
    assert lis.status(rev, "DEPLOYED").status_code == 409


def test_revision_list_filter_and_404(api: Api) -> None:
    _, lis, d = setup(api)
    api.post(f"/v1/deployments/{d['id']}/revisions", {})
    assert api.get(f"/v1/deployments/{d['id']}/revisions", params={"status": "QUEUED"}).json()["count"] == 1
    assert api.get(f"/v1/deployments/{d['id']}/revisions", params={"status": "BOGUS"}).status_code == 422
    missing = uuid.uuid4()
    for call in (
        api.get(f"/v1/revisions/{missing}"),
        api.post(f"/v1/revisions/{missing}/interrupt"),
        api.get(f"/v1/revisions/{missing}/events"),
        lis.status(str(missing), "DEPLOYING"),
    ):
        assert call.status_code == 404


def test_reaper_drops_old_events_and_idempotency_records(api: Api, settings: Settings) -> None:
    import sqlalchemy as sa

    from control_plane.services.maintenance import reap_once

    _, lis, d = setup(api)
    lis.status(d["latest_revision_id"], "DEPLOYING")
    api.post("/v1/listeners", {"name": "idem", "namespaces": []}, headers={"Idempotency-Key": "old"})
    before = api.get(f"/v1/deployments/{d['id']}/events").json()["count"]
    assert before >= 2
    engine = sa.create_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            oldest = conn.execute(sa.text("SELECT min(id) FROM deployment_event")).scalar_one()
            conn.execute(
                sa.text("UPDATE deployment_event SET created_at = now() - interval '31 days' WHERE id = :i"),
                {"i": oldest},
            )
            conn.execute(sa.text("UPDATE idempotency_record SET created_at = now() - interval '2 days'"))
        reap_once(engine, settings)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM idempotency_record")).scalar_one() == 0
    finally:
        engine.dispose()
    assert api.get(f"/v1/deployments/{d['id']}/events").json()["count"] == before - 1
