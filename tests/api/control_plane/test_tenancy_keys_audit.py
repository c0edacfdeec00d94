"""Tenants, API keys (hashed, shown once, revocable), 401/403, tenant isolation (property test), audit log."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from control_plane.core.config import Settings
from control_plane.core.security import hash_credential
from tests.api.control_plane.conftest import Api, ListenerApi, new_tenant


def test_admin_bootstraps_tenants_and_keys(admin: Api) -> None:
    r = admin.post("/v1/tenants", {"name": "acme"})
    assert r.status_code == 201
    tenant = r.json()
    assert admin.post("/v1/tenants", {"name": "acme"}).status_code == 409
    assert admin.post("/v1/tenants", {"name": "Not Valid"}).status_code == 422
    names = {t["name"] for t in admin.get("/v1/tenants").json()["data"]}
    assert {"default", "acme"} <= names
    r = admin.post("/v1/api-keys", {"name": "ci", "tenant_id": tenant["id"]})
    assert r.status_code == 201
    key = r.json()
    assert key["key"].startswith(key["prefix"]) and key["tenant_id"] == tenant["id"]
    assert admin.post("/v1/api-keys", {"name": "x", "tenant_id": str(uuid.uuid4())}).status_code == 404
    listed = admin.get("/v1/api-keys", params={"tenant_id": tenant["id"]}).json()
    assert [k["prefix"] for k in listed["data"]] == [key["prefix"]]
    assert "key" not in listed["data"][0]


def test_keys_are_stored_hashed(api: Api, settings: Settings) -> None:
    r = api.post("/v1/api-keys", {"name": "second"})
    plaintext = r.json()["key"]
    engine = sa.create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT prefix, key_hash FROM api_key")).all()
            tokens = conn.execute(sa.text("SELECT token_hash FROM listener")).all()
    finally:
        engine.dispose()
    assert (plaintext[:12], hash_credential(plaintext)) in [tuple(x) for x in rows]
    assert all(plaintext not in str(x) for x in [*rows, *tokens])


def test_tenant_key_lifecycle_and_401_403(api: Api, admin: Api) -> None:
    assert api.get("/v1/deployments").status_code == 200
    assert api.get("/v1/tenants").status_code == 403
    assert api.post("/v1/tenants", {"name": "nope"}).status_code == 403
    other = admin.post("/v1/tenants", {"name": f"o-{uuid.uuid4().hex[:6]}"}).json()
    assert api.post("/v1/api-keys", {"name": "x", "tenant_id": other["id"]}).status_code == 403
    assert api.get("/v1/api-keys", params={"tenant_id": other["id"]}).status_code == 403
    second = api.post("/v1/api-keys", {"name": "second"}).json()
    mine = api.get("/v1/api-keys").json()
    assert mine["count"] == 2
    assert api.delete(f"/v1/api-keys/{second['id']}").status_code == 204
    assert api.client.get("/v1/deployments", headers={"X-Api-Key": second["key"]}).status_code == 401
    assert api.get("/v1/api-keys").json()["count"] == 1
    revoked = api.get("/v1/api-keys", params={"include_revoked": True}).json()["data"]
    assert any(k["id"] == second["id"] and k["revoked_at"] for k in revoked)
    assert api.delete(f"/v1/api-keys/{uuid.uuid4()}").status_code == 404
    r = api.client.get("/v1/deployments")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "ApiKey"
    assert api.client.get("/v1/deployments", headers={"X-Api-Key": "lgp_unknown"}).status_code == 401


def test_audit_log_records_mutations_without_secret_values(api: Api) -> None:
    listener = api.listener()
    value = api.guard.secret()
    d = api.deployment(
        listener,
        secrets={"OPENAI_API_KEY": value},
        database={"type": "external", "uri": f"postgresql://u:{api.guard.secret()}@h/db"},
    )
    api.patch(f"/v1/deployments/{d['id']}", {"secrets": {"OPENAI_API_KEY": None}})
    lis = ListenerApi(api.client, listener["token"])
    lis.status(d["latest_revision_id"], "DEPLOYING")
    api.delete(f"/v1/deployments/{d['id']}")
    log = api.get("/v1/audit-log").json()
    actions = [e["action"] for e in log["data"]]
    assert actions[:5] == [
        "deployment.delete",
        "revision.status",
        "deployment.update",
        "deployment.create",
        "listener.create",
    ]
    create = next(e for e in log["data"] if e["action"] == "deployment.create")
    assert create["changes"]["secrets"] == {"OPENAI_API_KEY": "set"}
    assert create["changes"]["database"] == {"type": "external", "uri": "***"}
    assert create["actor_type"] == "api_key" and create["resource_id"] == d["id"]
    update = next(e for e in log["data"] if e["action"] == "deployment.update")
    assert update["changes"]["secrets"] == {"OPENAI_API_KEY": "removed"}
    status = next(e for e in log["data"] if e["action"] == "revision.status")
    assert status["actor_type"] == "listener" and status["actor_id"] == listener["id"]
    only = api.get("/v1/audit-log", params={"resource_type": "deployment", "resource_id": d["id"]}).json()
    assert only["count"] == 3
    assert api.get("/v1/audit-log", params={"action": "listener.create"}).json()["count"] == 1


def _make(api: Api, kind: str) -> tuple[str, str]:
    """Creates one object of ``kind`` in api's tenant: (kind, id)."""
    listener = api.listener()
    if kind == "listener":
        return kind, listener["id"]
    d = api.deployment(listener)
    if kind == "deployment":
        return kind, d["id"]
    return kind, d["latest_revision_id"]


READS = {
    "listener": ["/v1/listeners/{id}"],
    "deployment": ["/v1/deployments/{id}", "/v1/deployments/{id}/revisions", "/v1/deployments/{id}/events"],
    "revision": ["/v1/revisions/{id}", "/v1/revisions/{id}/events"],
}
WRITES: dict[str, list[tuple[str, str, Any]]] = {
    "listener": [
        ("PATCH", "/v1/listeners/{id}", {"name": "stolen"}),
        ("DELETE", "/v1/listeners/{id}", None),
        ("POST", "/v1/listeners/{id}/token", None),
    ],
    "deployment": [
        ("PATCH", "/v1/deployments/{id}", {"image": "evil:1"}),
        ("DELETE", "/v1/deployments/{id}", None),
        ("POST", "/v1/deployments/{id}/revisions", {}),
    ],
    "revision": [
        ("POST", "/v1/revisions/{id}/interrupt", None),
        ("POST", "/v1/revisions/{id}/redeploy", None),
    ],
}


def test_tenants_never_see_each_other(admin: Api) -> None:
    """Property: whatever tenant A creates, tenant B can neither list, read, change nor delete it."""
    a, b = new_tenant(admin), new_tenant(admin)

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(kinds=st.lists(st.sampled_from(sorted(READS)), min_size=1, max_size=3), swap=st.booleans())
    def check(kinds: list[str], swap: bool) -> None:
        owner, intruder = (b, a) if swap else (a, b)
        made = [_make(owner, k) for k in kinds]
        for kind, oid in made:
            for url in READS[kind]:
                assert intruder.get(url.format(id=oid)).status_code == 404
                assert owner.get(url.format(id=oid)).status_code == 200
            for method, url, body in WRITES[kind]:
                r = intruder.client.request(method, url.format(id=oid), json=body, headers=intruder.h)
                assert r.status_code == 404, (method, url, r.status_code)
        listed: dict[str, Any] = {
            "deployments": intruder.get("/v1/deployments", params={"limit": 500}).json()["data"],
            "listeners": intruder.get("/v1/listeners", params={"limit": 500}).json()["data"],
            "audit": intruder.get("/v1/audit-log", params={"limit": 500}).json()["data"],
        }
        ids = {oid for _, oid in made}
        text = str(listed)
        assert not any(oid in text for oid in ids)
        r = intruder.get("/v1/deployments", params={"listener_id": made[0][1]})
        assert r.json()["count"] == 0

    check()
