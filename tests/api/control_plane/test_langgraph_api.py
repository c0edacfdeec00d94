"""LangGraph's control-plane API under /api-host on real Postgres: the shapes langgraph-cli 0.4.x sends and
reads, the error strings it reacts to, the status mapping, tenancy, and that it runs through the same
services as /v1 (audit log, admission hooks)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import control_plane.main
from control_plane.main import create_app
from tests.api.control_plane import fake_extension
from tests.api.control_plane.conftest import (
    ADMIN_KEY,
    Api,
    ListenerApi,
    RecordingClient,
    SecretGuard,
    make_settings,
    new_tenant,
)

DIGEST = "sha256:" + "a" * 64
IMAGE = f"registry.example.com/agents/echo@{DIGEST}"
IMAGE_2 = f"registry.example.com/agents/echo@sha256:{'b' * 64}"
LISTENER_MARKER = "listener_id' is required"  # langgraph-cli: "deploys through a listener", exit 2
PUSH_MARKER = "only available for 'internal_docker' source deployments"


class Host:
    """The /api-host API as langgraph-cli calls it (X-Api-Key, JSON)."""

    def __init__(self, api: Api, tenant_header: str | None = None) -> None:
        self.api = api
        self.headers = {"X-Api-Key": api.key, "Accept": "application/json"}
        if tenant_header:
            self.headers["X-Tenant-ID"] = tenant_header

    def call(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        return self.api.client.request(
            method, "/api-host" + path, json=json, params=params or None, headers=self.headers
        )

    def create(self, listener: dict[str, Any], name: str | None = None, **extra: Any) -> Any:
        body: dict[str, Any] = {
            "source": "external_docker",
            "source_config": {
                "resource_spec": {},
                "listener_id": listener["id"],
                "listener_config": {"k8s_namespace": listener["namespaces"][0]},
            },
            "source_revision_config": {"image_uri": IMAGE},
            "name": name or f"d-{uuid.uuid4().hex[:8]}",
            "secrets": [],
        }
        body.update(extra)
        return self.call("POST", "/v2/deployments", body)


@pytest.fixture
def host(api: Api) -> Host:
    return Host(api)


def _created(host: Host, listener: dict[str, Any], **kw: Any) -> dict[str, Any]:
    r = host.create(listener, **kw)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_create_with_an_image_uri_makes_a_deployment_and_its_first_revision(host: Host, api: Api) -> None:
    listener = api.listener()
    secret = api.guard.secret()
    d = _created(
        host,
        listener,
        name="probe-a",
        secrets=[{"name": "OPENAI_API_KEY", "value": secret}],
        source_config={
            "resource_spec": {"image_pull_secrets": [{"name": "regcred"}]},
            "listener_id": listener["id"],
            "listener_config": {"k8s_namespace": "agents"},
        },
    )
    assert d["source"] == "external_docker" and d["name"] == "probe-a"
    assert d["tenant_id"] and d["source_revision_config"] == {"image_uri": IMAGE}
    assert d["source_config"]["custom_url"] is None
    assert d["source_config"]["resource_spec"] == {"image_pull_secrets": [{"name": "regcred"}]}
    assert d["secrets"] == [{"name": "OPENAI_API_KEY"}]  # names only
    # the same deployment through /v1: one implementation
    v1 = api.get(f"/v1/deployments/{d['id']}").json()
    assert v1["image"] == IMAGE and v1["type"] == "development" and v1["namespace"] == "agents"
    assert v1["image_pull_secrets"] == ["regcred"] and v1["secret_names"] == ["OPENAI_API_KEY"]
    rev = api.get(f"/v1/revisions/{v1['latest_revision_id']}").json()
    assert rev["spec"]["imagePullSecrets"] == ["regcred"]
    [listed] = host.call("GET", f"/v2/deployments/{d['id']}/revisions", limit=1).json()["resources"]
    assert listed["id"] == v1["latest_revision_id"] and listed["status"] == "AWAITING_DEPLOY"
    assert host.call("GET", f"/v2/deployments/{d['id']}").json()["id"] == d["id"]
    audit = api.get("/v1/audit-log").json()["data"]
    assert any(a["action"] == "deployment.create" and a["resource_id"] == d["id"] for a in audit)


def test_the_endpoint_shows_as_custom_url(host: Host, api: Api) -> None:
    listener = api.listener()
    d = _created(host, listener)
    lis = ListenerApi(api.client, listener["token"])
    assert lis.report(d["id"], endpoint="http://agent.example.com/").status_code == 202
    got = host.call("GET", f"/v2/deployments/{d['id']}").json()
    assert got["source_config"]["custom_url"] == "http://agent.example.com/"
    [row] = host.call("GET", "/v2/deployments", name=d["name"]).json()["resources"]
    assert row["source_config"]["custom_url"] == "http://agent.example.com/"


def test_list_has_the_resources_envelope_exact_name_and_paging(host: Host, api: Api) -> None:
    listener = api.listener()
    names = ["app", "app-two", "my-app", "other"]
    for n in names:
        _created(host, listener, name=n)
    page = host.call("GET", "/v2/deployments", name="app", name_contains="app").json()
    assert [d["name"] for d in page["resources"]] == ["app"] and page["total"] == 1
    contains = host.call("GET", "/v2/deployments", name_contains="app").json()
    assert sorted(d["name"] for d in contains["resources"]) == ["app", "app-two", "my-app"]
    everything = host.call("GET", "/v2/deployments", name_contains="").json()
    assert everything["total"] == 4
    seen: list[str] = []
    for offset in (0, 2, 4):
        chunk = host.call("GET", "/v2/deployments", limit=2, offset=offset).json()["resources"]
        seen += [d["id"] for d in chunk]
    assert len(seen) == len(set(seen)) == 4  # offset moves on: no page repeats
    assert host.call("GET", "/v2/deployments", name="nope").json()["resources"] == []


def test_creates_lgp_cannot_do_are_refused_with_the_words_the_cli_reacts_to(host: Host, api: Api) -> None:
    listener = api.listener()
    r = host.create(listener, source_config={"resource_spec": {}})  # no --listener-id
    assert r.status_code == 400 and LISTENER_MARKER in r.json()["detail"]
    for source in ("internal_docker", "internal_source"):
        r = host.call(
            "POST",
            "/v2/deployments",
            {"name": "built", "source": source, "source_config": {"deployment_type": "dev_zero"}},
        )
        assert r.status_code == 400, r.text
        assert LISTENER_MARKER in r.json()["detail"] and "--image-uri" in r.json()["detail"]
    r = host.call(
        "POST",
        "/v2/deployments",
        {"source": "external_docker", "agent": {"agent_id": "a", "environment": "production"}},
    )
    assert r.status_code == 400 and "agent mode" in r.json()["detail"]
    r = host.call("GET", "/v2/deployments", agent_id="a", agent_environment="production")
    assert r.status_code == 400 and "deploy by --name" in r.json()["detail"]
    assert host.call("GET", "/v2/deployments").json()["total"] == 0


def test_bad_values_name_the_cli_field_in_one_string(host: Host, api: Api) -> None:
    listener = api.listener(namespaces=("agents",))
    r = host.create(listener, name="Bad_Name")
    assert r.status_code == 422 and r.json()["detail"].startswith("name: must be a DNS label")
    r = host.create(
        listener,
        source_config={"listener_id": listener["id"], "listener_config": {"k8s_namespace": "elsewhere"}},
    )
    assert r.status_code == 422
    assert r.json()["detail"].startswith("source_config.listener_config.k8s_namespace: the listener may not")
    r = host.create(
        listener, source_config={"listener_id": str(uuid.uuid4()), "listener_config": {"k8s_namespace": "a"}}
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("source_config.listener_id:")
    r = host.create(listener, source_revision_config={})
    assert r.status_code == 422 and r.json()["detail"].startswith("source_revision_config.image_uri:")
    r = host.create(listener, source_revision_config={"image_uri": "not an image"})
    assert r.status_code == 422 and "source_revision_config.image_uri: must be an image" in r.json()["detail"]
    value = api.guard.secret()
    r = host.create(listener, secrets=[{"name": "PORT", "value": value}])
    assert r.status_code == 422 and r.json()["detail"] == "secrets.PORT: PORT is set by the platform"
    r = host.create(listener, secrets=[{"name": "A", "value": value}, {"name": "A", "value": value}])
    assert r.status_code == 422 and "A appears twice" in r.json()["detail"]
    r = host.create(
        listener,
        source_config={
            "listener_id": listener["id"],
            "resource_spec": {"image_pull_secrets": [{"name": "Not_A_Secret"}]},
        },
    )
    assert r.status_code == 422
    assert r.json()["detail"].startswith("source_config.resource_spec.image_pull_secrets.0:")
    d = _created(host, listener, name="taken")
    r = host.create(listener, name="taken")
    assert r.status_code == 409 and "taken" in r.json()["detail"]
    assert host.call("GET", "/v2/deployments").json()["resources"] == [
        host.call("GET", f"/v2/deployments/{d['id']}").json()
    ]


def test_the_namespace_defaults_to_the_listeners_only_one(host: Host, api: Api) -> None:
    one = api.listener(namespaces=("agents",))
    d = _created(host, one, source_config={"listener_id": one["id"]})
    assert d["source_config"]["listener_config"] == {"k8s_namespace": "agents"}
    two = api.listener(namespaces=("a", "b"))
    r = host.create(two, source_config={"listener_id": two["id"]})
    assert r.status_code == 400 and "several namespaces (a, b)" in r.json()["detail"]


def test_update_deploys_a_new_revision_newest_first(host: Host, api: Api) -> None:
    listener = api.listener()
    first_secret, second_secret = api.guard.secret(), api.guard.secret()
    d = _created(host, listener, secrets=[{"name": "KEEP", "value": first_secret}])
    revs = host.call("GET", f"/v2/deployments/{d['id']}/revisions").json()["resources"]
    assert len(revs) == 1
    r = host.call(
        "PATCH",
        f"/v2/deployments/{d['id']}",
        {"source_revision_config": {"image_uri": IMAGE_2}, "secrets": []},
    )
    assert r.status_code == 200, r.text
    assert r.json()["source_revision_config"]["image_uri"] == IMAGE_2 and r.json()["tenant_id"]
    assert r.json()["secrets"] == [{"name": "KEEP"}]  # [] removes nothing
    revs = host.call("GET", f"/v2/deployments/{d['id']}/revisions", limit=1).json()["resources"]
    assert len(revs) == 1 and revs[0]["source_revision_config"]["image_uri"] == IMAGE_2
    # the same image again is a deploy too: a new revision (the CLI waits for the newest)
    r = host.call(
        "PATCH",
        f"/v2/deployments/{d['id']}",
        {
            "source_revision_config": {"image_uri": IMAGE_2},
            "secrets": [{"name": "ADDED", "value": second_secret}],
            "tracked_packages": ["langgraph"],
        },
    )
    assert r.status_code == 200 and [s["name"] for s in r.json()["secrets"]] == ["ADDED", "KEEP"]
    listed = host.call("GET", f"/v2/deployments/{d['id']}/revisions").json()
    assert [x["number"] for x in listed["resources"]] == [3, 2, 1] and listed["total"] == 3
    # one in flight at a time: the newest waits, the one it overtook is skipped
    assert [x["status"] for x in listed["resources"]] == ["QUEUED", "SKIPPED", "AWAITING_DEPLOY"]
    for refused in (
        {"revision_source": "internal_source", "source_revision_config": {"source_tarball_path": "x"}},
        {"revision_source": "internal_docker", "source_revision_config": {"image_uri": IMAGE}},
    ):
        r = host.call("PATCH", f"/v2/deployments/{d['id']}", refused)
        assert r.status_code == 400 and "--image-uri" in r.json()["detail"]
    r = host.call(
        "PATCH", f"/v2/deployments/{d['id']}", {"source_config": {"listener_config": {"k8s_namespace": "x"}}}
    )
    assert r.status_code == 422
    assert r.json()["detail"] == "source_config.listener_config.k8s_namespace: cannot change after creation"


def test_revision_statuses_the_cli_waits_on_end_its_wait(host: Host, api: Api) -> None:
    listener = api.listener()
    lis = ListenerApi(api.client, listener["token"])
    d = _created(host, listener)
    v1 = api.get(f"/v1/deployments/{d['id']}").json()
    first = v1["latest_revision_id"]
    assert api.post(f"/v1/revisions/{first}/interrupt").status_code == 200
    got = host.call("GET", f"/v2/deployments/{d['id']}/revisions/{first}").json()
    assert got["status"] == "DEPLOY_FAILED" and got["lgp_status"] == "INTERRUPTED"
    assert got["status_message"].startswith("INTERRUPTED")
    second = api.post(f"/v1/deployments/{d['id']}/revisions", {}).json()["id"]
    assert lis.status(second, "DEPLOYED").status_code == 200
    third = api.post(f"/v1/deployments/{d['id']}/revisions", {"image": IMAGE_2}).json()["id"]
    assert lis.status(third, "DEPLOYED").status_code == 200
    listed = host.call("GET", f"/v2/deployments/{d['id']}/revisions").json()["resources"]
    assert [(x["status"], x["lgp_status"]) for x in listed] == [
        ("DEPLOYED", "DEPLOYED"),
        ("DEPLOYED", "REPLACED"),  # the CLI shows every DEPLOYED after the newest as REPLACED
        ("DEPLOY_FAILED", "INTERRUPTED"),
    ]
    r = host.call("GET", f"/v2/deployments/{d['id']}/revisions/{uuid.uuid4()}")
    assert r.status_code == 404
    other = _created(host, listener)
    r = host.call("GET", f"/v2/deployments/{other['id']}/revisions/{first}")  # not that deployment's
    assert r.status_code == 404 and r.json()["detail"] == "revision not found"


def test_listeners_show_compute_id_and_namespaces(host: Host, api: Api) -> None:
    listener = api.listener(name="prod-eu", namespaces=("agents", "batch"))
    page = host.call("GET", "/v2/listeners").json()
    assert page["total"] == 1
    [row] = page["resources"]
    assert row["id"] == listener["id"] and row["compute_id"] == "prod-eu"
    assert row["compute_config"] == {"k8s_namespaces": ["agents", "batch"]} and row["online"] is False
    assert "token" not in str(row) and listener["token"] not in str(page)
    assert host.call("GET", f"/v2/listeners/{listener['id']}").json() == row
    assert host.call("GET", f"/v2/listeners/{uuid.uuid4()}").status_code == 404
    assert host.call("GET", "/v2/listeners/not-a-uuid").status_code == 422


def test_push_token_and_upload_url_are_refused(host: Host, api: Api) -> None:
    d = _created(host, api.listener())
    r = host.call("POST", f"/v2/deployments/{d['id']}/push-token", {"supports_registry_username": True})
    assert r.status_code == 400 and PUSH_MARKER in r.json()["detail"]
    r = host.call("POST", f"/v2/deployments/{d['id']}/upload-url", {"supports_upload_headers": True})
    assert r.status_code == 400 and "--image-uri" in r.json()["detail"]
    r = host.call("POST", f"/v2/deployments/{uuid.uuid4()}/push-token", {"supports_registry_username": True})
    assert r.status_code == 404


def test_delete(host: Host, api: Api) -> None:
    d = _created(host, api.listener())
    r = host.call("DELETE", f"/v2/deployments/{d['id']}")
    assert r.status_code == 204 and not r.content
    assert host.call("GET", f"/v2/deployments/{d['id']}").json()["status"] == "DELETING"
    assert host.call("DELETE", f"/v2/deployments/{uuid.uuid4()}").status_code == 404


def test_tenancy_and_the_tenant_header(host: Host, api: Api, admin: Api) -> None:
    d = _created(host, api.listener())
    stranger = Host(new_tenant(admin))
    assert stranger.call("GET", f"/v2/deployments/{d['id']}").status_code == 404
    assert stranger.call("GET", "/v2/deployments").json()["total"] == 0
    assert stranger.call("DELETE", f"/v2/deployments/{d['id']}").status_code == 404
    own = Host(api, tenant_header=d["tenant_id"])
    assert own.call("GET", f"/v2/deployments/{d['id']}").status_code == 200
    wrong = Host(api, tenant_header=str(uuid.uuid4()))
    r = wrong.call("GET", "/v2/deployments")
    # 403, and never "requires workspace specification": the CLI would ask for a workspace id
    assert r.status_code == 403 and "requires workspace specification" not in r.json()["detail"]
    r = api.client.get("/api-host/v2/deployments")
    assert r.status_code == 401 and "X-Api-Key" in r.json()["detail"]


def test_build_logs_say_lgp_builds_nothing(host: Host, api: Api) -> None:
    d = _created(host, api.listener())
    [rev] = host.call("GET", f"/v2/deployments/{d['id']}/revisions").json()["resources"]
    r = host.call(
        "POST", f"/v1/projects/{d['id']}/revisions/{rev['id']}/build_logs", {"order": "desc", "limit": 30}
    )
    assert r.status_code == 200
    [line] = r.json()["logs"]
    assert "no build" in line["message"] and IMAGE in line["message"]
    r = host.call("POST", f"/v1/projects/{uuid.uuid4()}/revisions/{rev['id']}/build_logs", {})
    assert r.status_code == 404


@pytest.fixture
def ext_host(postgres_url: str, secret_guard: SecretGuard, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    monkeypatch.setattr(control_plane.main, "EXTENSIONS", ("tests.api.control_plane.fake_extension",))
    fake_extension.SEEN.clear()
    with RecordingClient(create_app(make_settings(postgres_url))) as c:
        yield Host(Api(c, ADMIN_KEY, secret_guard))


def test_admission_hooks_refuse_here_as_on_v1(ext_host: Host) -> None:
    listener = ext_host.api.listener()
    r = ext_host.create(listener, name="unlicensed-agent")
    assert r.status_code == 403 and r.json()["detail"] == "no license for this deployment"
    d = _created(ext_host, listener, name="licensed")
    r = ext_host.call(
        "PATCH", f"/v2/deployments/{d['id']}", {"source_revision_config": {"image_uri": IMAGE_2}}
    )
    assert r.status_code == 200
    assert [a for a, _ in fake_extension.SEEN] == [
        "deployment.create",
        "deployment.create",
        "deployment.update",
    ]
