"""Extensions plug into create_app: their routers are served and their admission hooks can refuse creates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import control_plane.main
from control_plane.main import create_app
from tests.api.control_plane import fake_extension
from tests.api.control_plane.conftest import ADMIN_KEY, Api, RecordingClient, SecretGuard, make_settings


@pytest.fixture
def ext_api(postgres_url: str, secret_guard: SecretGuard, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setattr(control_plane.main, "EXTENSIONS", ("tests.api.control_plane.fake_extension",))
    fake_extension.SEEN.clear()
    with RecordingClient(create_app(make_settings(postgres_url))) as c:
        yield Api(c, ADMIN_KEY, secret_guard)


def test_extension_router_and_admission_hooks(ext_api: Api) -> None:
    assert ext_api.client.get("/v1/extension/ping").json() == {"pong": True}
    listener = ext_api.listener()
    d = ext_api.deployment(listener, name="licensed")
    r = ext_api.post(
        "/v1/deployments",
        {
            "name": "unlicensed-1",
            "type": "development",
            "image": "a:1",
            "listener_id": listener["id"],
            "namespace": "agents",
        },
    )
    assert r.status_code == 403 and r.json()["detail"] == "no license for this deployment"
    assert ext_api.get("/v1/deployments").json()["count"] == 1
    assert ext_api.post(f"/v1/deployments/{d['id']}/revisions", {}).status_code == 201
    assert ext_api.post(f"/v1/revisions/{d['latest_revision_id']}/redeploy").status_code == 201
    assert ext_api.patch(f"/v1/deployments/{d['id']}", {"image": "a:2"}).status_code == 200
    actions = [a for a, _ in fake_extension.SEEN]
    assert actions == [
        "deployment.create",
        "deployment.create",
        "revision.create",
        "revision.create",
        "deployment.update",
    ]
