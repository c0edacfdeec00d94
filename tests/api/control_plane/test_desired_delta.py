"""The listener's desired state as deltas: only the deployments changed after a version, the
acknowledged deletions named as forgotten, and a full answer whenever a delta cannot start there."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from control_plane.core.config import Settings
from control_plane.core.db import make_engine
from control_plane.crud import listeners as listeners_crud
from control_plane.models import utcnow
from tests.api.control_plane.conftest import Api, ListenerApi


def test_a_delta_holds_only_what_changed_and_what_was_forgotten(api: Api, settings: Settings) -> None:
    created = api.listener()
    lis = ListenerApi(api.client, created["token"])
    a, b, c = (api.deployment(created) for _ in range(3))
    full = lis.desired().json()
    assert full["complete"] is True and full["since"] is None and full["forgotten"] == []
    assert {d["id"] for d in full["deployments"]} == {a["id"], b["id"], c["id"]}
    v0 = full["version"]

    r = lis.desired(version=v0, delta="true")
    assert r.status_code == 304  # nothing changed: no body at all

    assert (
        api.post(f"/v1/deployments/{b['id']}/revisions", {"image": "registry.example.com/x:2"}).status_code
        == 201
    )
    delta = lis.desired(version=v0, delta="true").json()
    assert delta["complete"] is False and delta["since"] == v0 and delta["version"] > v0
    assert [d["id"] for d in delta["deployments"]] == [b["id"]]
    assert delta["deployments"][0]["revision"]["number"] == 1  # still in flight; revision 2 is queued
    assert lis.desired(version=v0).json()["complete"] is True  # without delta=true: everything, as before
    v1 = delta["version"]

    # the listener's own status report changes the entry (its revision status): it comes back in a delta
    rev = delta["deployments"][0]["revision"]
    assert lis.status(rev["id"], "DEPLOYING").status_code == 200
    delta = lis.desired(version=v1, delta="true").json()
    assert [(d["id"], d["revision"]["status"]) for d in delta["deployments"]] == [(b["id"], "DEPLOYING")]
    v2 = delta["version"]

    # a tombstone is a change of its own; the acknowledged deletion is named as forgotten
    assert api.delete(f"/v1/deployments/{c['id']}").status_code == 202
    delta = lis.desired(version=v2, delta="true").json()
    assert [(d["id"], d["deleted"]) for d in delta["deployments"]] == [(c["id"], True)]
    v3 = delta["version"]
    assert lis.ack_deleted(c["id"]).status_code == 204
    delta = lis.desired(version=v3, delta="true").json()
    assert delta["deployments"] == [] and delta["forgotten"] == [c["id"]]
    # from the first version: every change since, in one delta
    delta = lis.desired(version=v0, delta="true").json()
    assert {d["id"] for d in delta["deployments"]} == {b["id"]} and delta["forgotten"] == [c["id"]]

    # a version newer than the control plane's (say a restored backup) gets a full answer
    newer = lis.desired(version=delta["version"] + 100, delta="true").json()
    assert newer["complete"] is True and {d["id"] for d in newer["deployments"]} == {a["id"], b["id"]}

    # once forgotten records are pruned, older versions get a full answer; newer ones still a delta
    engine = make_engine(settings)
    try:
        with Session(engine) as s:
            listeners_crud.prune_forgotten(s, before=utcnow() + timedelta(seconds=1))
            s.commit()
            since = s.execute(
                sa.text("SELECT delta_since FROM listener WHERE id = :id"), {"id": created["id"]}
            ).scalar_one()
    finally:
        engine.dispose()
    assert since > v3
    old = lis.desired(version=v3, delta="true").json()
    assert old["complete"] is True and {d["id"] for d in old["deployments"]} == {a["id"], b["id"]}
    assert lis.desired(version=since, delta="true").status_code == 304
