"""Deployments over HTTP: create, list (filters, paging), get, update (revisions), delete, errors."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.control_plane.conftest import Api


def test_create_fills_type_defaults_and_queues_revision_one(api: Api) -> None:
    listener = api.listener()
    d = api.deployment(listener, type="production", resources={"server": {"max_replicas": 4}})
    assert d["resources"]["server"] == {
        "replicas": None,
        "min_replicas": 1,
        "max_replicas": 4,
        "cpu": "2",
        "memory": "2Gi",
    }
    assert d["status"] == "PENDING" and d["active_revision_id"] is None
    revs = api.get(f"/v1/deployments/{d['id']}/revisions").json()
    assert revs["count"] == 1
    rev = revs["data"][0]
    assert rev["id"] == d["latest_revision_id"] and rev["number"] == 1 and rev["status"] == "AWAITING_DEPLOY"
    assert rev["spec"]["autoscaling"] == {"enabled": True, "minReplicas": 1, "maxReplicas": 4}
    assert api.get(f"/v1/deployments/{d['id']}").json() == d


def test_secrets_are_write_only(api: Api) -> None:
    listener = api.listener()
    token = api.guard.secret()
    db_uri = f"postgresql://agent:{api.guard.secret()}@db.example.com:5432/agent"
    d = api.deployment(
        listener,
        secrets={"OPENAI_API_KEY": token},
        env=[{"name": "LOG_LEVEL", "value": "debug"}],
        database={"type": "external", "uri": db_uri},
    )
    assert d["secret_names"] == ["OPENAI_API_KEY"]
    assert d["database"] == {"type": "external"}
    assert d["env"] == [{"name": "LOG_LEVEL", "value": "debug"}]
    for url in (f"/v1/deployments/{d['id']}", "/v1/deployments", f"/v1/deployments/{d['id']}/revisions"):
        text = api.get(url).text
        assert token not in text and db_uri not in text


def test_list_filters_and_paging(api: Api) -> None:
    a, b = api.listener(), api.listener(namespaces=("team-b",))
    api.deployment(a, name="support-bot")
    api.deployment(a, name="sales-bot", type="production")
    api.deployment(b, name="support-eu")
    everything = api.get("/v1/deployments").json()
    assert everything["count"] == 3 and len(everything["data"]) == 3
    assert [d["name"] for d in everything["data"]] == [
        "support-eu",
        "sales-bot",
        "support-bot",
    ]  # newest first

    def names(**params: object) -> set[str]:
        return {d["name"] for d in api.get("/v1/deployments", params=params).json()["data"]}

    assert names(name="SUPPORT") == {"support-bot", "support-eu"}
    assert names(type="production") == {"sales-bot"}
    assert names(listener_id=b["id"]) == {"support-eu"}
    assert names(status="PENDING") == {"support-bot", "sales-bot", "support-eu"}
    assert names(status="READY") == set()
    assert names(name="%") == set()  # LIKE wildcards are literal
    page = api.get("/v1/deployments", params={"limit": 2, "offset": 2}).json()
    assert page["count"] == 3 and [d["name"] for d in page["data"]] == ["support-bot"]
    assert (page["limit"], page["offset"]) == (2, 2)


def test_keyset_pages_walk_the_same_list_as_offsets(api: Api) -> None:
    listener = api.listener()
    for i in range(5):
        api.deployment(listener, name=f"agent-{i}")
    offsets = [d["id"] for d in api.get("/v1/deployments", params={"limit": 100}).json()["data"]]
    assert len(offsets) == 5
    seen: list[str] = []
    page = api.get("/v1/deployments", params={"limit": 2}).json()
    while True:
        assert page["count"] == 5 and len(page["data"]) <= 2
        seen += [d["id"] for d in page["data"]]
        if page["next_cursor"] is None:
            break
        page = api.get("/v1/deployments", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert seen == offsets  # newest first, nothing twice, nothing missed
    # with a filter, the cursor keeps it
    first = api.get("/v1/deployments", params={"limit": 1, "name": "agent-1"}).json()
    assert first["count"] == 1 and first["next_cursor"] is None
    for params, msg in (
        ({"cursor": "not-a-cursor"}, "not a cursor"),
        ({"cursor": page_cursor(api), "offset": 1}, "offset"),
    ):
        r = api.get("/v1/deployments", params=params)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "cursor"], r.text
        assert msg in r.json()["detail"][0]["msg"]


def page_cursor(api: Api) -> str:
    cursor: str = api.get("/v1/deployments", params={"limit": 1}).json()["next_cursor"]
    return cursor


def test_duplicate_name_conflicts(api: Api) -> None:
    listener = api.listener()
    api.deployment(listener, name="agent")
    r = api.post(
        "/v1/deployments",
        {
            "name": "agent",
            "type": "development",
            "image": "agent:1",
            "listener_id": listener["id"],
            "namespace": "agents",
        },
    )
    assert r.status_code == 409 and "agent" in r.json()["detail"]


def test_bad_input_names_the_field(api: Api) -> None:
    listener = api.listener()
    base = {
        "name": "ok",
        "type": "development",
        "image": "agent:1",
        "listener_id": listener["id"],
        "namespace": "agents",
    }
    cases: list[tuple[dict[str, Any], list[Any]]] = [
        ({"name": "Not_DNS"}, ["body", "name"]),
        ({"name": "a" * 41}, ["body", "name"]),  # the operator's limit (its children add suffixes)
        ({"type": "staging"}, ["body", "type"]),
        ({"image": "agent"}, ["body", "image"]),
        ({"namespace": "other"}, ["body", "namespace"]),
        ({"listener_id": str(uuid.uuid4())}, ["body", "listener_id"]),
        ({"resources": {"server": {"cpu": "many"}}}, ["body", "resources", "server", "cpu"]),
        (
            {"resources": {"server": {"min_replicas": 5, "max_replicas": 2}}},
            ["body", "resources", "server", "max_replicas"],
        ),
        ({"env": [{"name": "PORT", "value": "1"}]}, ["body", "env", 0, "name"]),
        ({"env": [{"name": "1BAD", "value": "1"}]}, ["body", "env", 0, "name"]),
        ({"secrets": {"A": "x"}, "env": [{"name": "A", "value": "y"}]}, ["body", "secrets", "A"]),
        ({"database": {"type": "external"}}, ["body", "database", "uri"]),
        ({"database": {"type": "managed", "uri": "postgresql://x@y/z"}}, ["body", "database", "uri"]),
        ({"redis": {"type": "external", "uri": "http://nope"}}, ["body", "redis", "uri"]),
        ({"ingress": {"host": "Bad Host"}}, ["body", "ingress", "host"]),
        ({"surprise": 1}, ["body", "surprise"]),
    ]
    for override, loc in cases:
        r = api.post("/v1/deployments", {**base, **override})
        assert r.status_code == 422, (override, r.text)
        detail = r.json()["detail"]
        assert any(e["loc"] == loc for e in detail), (override, detail)
        assert all("input" not in e for e in detail)
    assert api.get("/v1/deployments").json()["count"] == 0


def test_unknown_ids_are_404(api: Api) -> None:
    missing = uuid.uuid4()
    assert api.get(f"/v1/deployments/{missing}").status_code == 404
    assert api.patch(f"/v1/deployments/{missing}", {"image": "a:1"}).status_code == 404
    assert api.delete(f"/v1/deployments/{missing}").status_code == 404
    assert api.get(f"/v1/deployments/{missing}/revisions").status_code == 404
    assert api.get(f"/v1/deployments/{missing}/events").status_code == 404
    assert api.post(f"/v1/deployments/{missing}/revisions", {}).status_code == 404
    assert api.get("/v1/deployments/not-a-uuid").status_code == 422


def test_update_creates_a_revision_only_when_what_runs_changes(api: Api) -> None:
    listener = api.listener()
    d = api.deployment(listener, secrets={"TOKEN": api.guard.secret()})
    r = api.patch(
        f"/v1/deployments/{d['id']}", {"image": "agent:2", "resources": {"server": {"memory": "2Gi"}}}
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["image"] == "agent:2" and updated["resources"]["server"]["memory"] == "2Gi"
    assert updated["resources"]["server"]["cpu"] == "1"  # untouched fields keep their value
    assert updated["latest_revision_id"] != d["latest_revision_id"]
    revs = api.get(f"/v1/deployments/{d['id']}/revisions").json()["data"]
    assert [(x["number"], x["status"]) for x in revs] == [(2, "QUEUED"), (1, "AWAITING_DEPLOY")]
    assert revs[0]["spec"]["image"] == "agent:2"

    same = api.patch(f"/v1/deployments/{d['id']}", {"image": "agent:2", "name": d["name"]})
    assert same.status_code == 200 and same.json()["latest_revision_id"] == updated["latest_revision_id"]

    new_secret = api.guard.secret()
    r = api.patch(f"/v1/deployments/{d['id']}", {"secrets": {"TOKEN": None, "OTHER": new_secret}})
    assert r.json()["secret_names"] == ["OTHER"]
    revs = api.get(f"/v1/deployments/{d['id']}/revisions").json()["data"]
    assert [(x["number"], x["status"]) for x in revs[:2]] == [(3, "QUEUED"), (2, "SKIPPED")]
    assert revs[0]["secret_names"] == ["OTHER"]


def test_update_refuses_immutable_fields(api: Api) -> None:
    listener = api.listener(namespaces=("agents", "other"))
    d = api.deployment(listener, type="development")
    for field, value in (
        ("type", "production"),
        ("namespace", "other"),
        ("name", "renamed"),
        ("listener_id", str(api.listener()["id"])),
    ):
        r = api.patch(f"/v1/deployments/{d['id']}", {field: value})
        assert r.status_code == 422, field
        assert r.json()["detail"][0]["loc"] == ["body", field]
        assert "cannot change" in r.json()["detail"][0]["msg"]


def test_switching_to_external_database_and_back(api: Api) -> None:
    listener = api.listener()
    d = api.deployment(listener)
    r = api.patch(f"/v1/deployments/{d['id']}", {"database": {"type": "external"}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "database", "uri"]
    uri = f"postgresql://u:{api.guard.secret()}@h/db"
    r = api.patch(f"/v1/deployments/{d['id']}", {"database": {"type": "external", "uri": uri}})
    assert r.status_code == 200 and r.json()["database"] == {"type": "external"}
    # changing something else keeps the stored URI
    assert api.patch(f"/v1/deployments/{d['id']}", {"database": {"type": "external"}}).status_code == 200
    r = api.patch(f"/v1/deployments/{d['id']}", {"database": {"type": "managed"}})
    assert r.json()["database"] == {"type": "managed"}


def test_delete_leaves_a_tombstone_and_blocks_changes(api: Api) -> None:
    listener = api.listener()
    d = api.deployment(listener)
    r = api.delete(f"/v1/deployments/{d['id']}")
    assert r.status_code == 202 and r.json()["status"] == "DELETING" and r.json()["deleted_at"]
    assert api.delete(f"/v1/deployments/{d['id']}").status_code == 202  # idempotent
    assert api.get(f"/v1/deployments/{d['id']}").json()["status"] == "DELETING"
    assert api.patch(f"/v1/deployments/{d['id']}", {"image": "a:2"}).status_code == 409
    assert api.post(f"/v1/deployments/{d['id']}/revisions", {}).status_code == 409
    revs = api.get(f"/v1/deployments/{d['id']}/revisions").json()["data"]
    assert revs[0]["status"] == "INTERRUPTED" and revs[0]["status_reason"] == "DeploymentDeleted"
    # the name stays taken until the listener confirms the deletion
    r = api.post(
        "/v1/deployments",
        {
            "name": d["name"],
            "type": "development",
            "image": "agent:1",
            "listener_id": listener["id"],
            "namespace": "agents",
        },
    )
    assert r.status_code == 409
