"""License enforcement and the beacon endpoints inside the control plane, on real Postgres: caps,
grace, expiry, each refusal reason, running deployments untouched, beacon verify, usage submissions
that replace on resend, and the usage summary per deployment, tenant and month."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient

from control_plane.licensing.beacon import derive_beacon_secret, usage_key, verify_beacon_token
from control_plane.licensing.tokens import issue_license
from control_plane.main import create_app
from tests.api.control_plane.conftest import ADMIN_KEY, make_settings
from tests.tamper import flip_signature_byte

NOW = datetime.now(UTC)
H = {"X-Api-Key": ADMIN_KEY}


def _raw_pub(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


@pytest.fixture
def signer() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _license(key: Ed25519PrivateKey, **over: Any) -> str:
    args: dict[str, Any] = {
        "licensee": "Acme",
        "plan": "team",
        "expires_at": NOW + timedelta(days=30),
        "not_before": NOW - timedelta(days=1),
        "max_deployments": 2,
    }
    args.update(over)
    return issue_license(key, **args)


@pytest.fixture
def start(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, signer: Ed25519PrivateKey
) -> Iterator[Callable[..., TestClient]]:
    """Start the control plane with the given license settings (env), trusting ``signer``'s key only."""
    clients: list[TestClient] = []
    settings = make_settings(postgres_url)

    def go(license: str | None = None, required: bool = False, grace_days: float = 14) -> TestClient:
        for k in ("LGP_LICENSE_KEY", "LGP_LICENSE_KEY_FILE", "LGP_LICENSE_PUBLIC_KEYS_FILE"):
            monkeypatch.delenv(k, raising=False)
        monkeypatch.setenv("LGP_LICENSE_TRUST_EMBEDDED_KEY", "false")
        monkeypatch.setenv("LGP_LICENSE_PUBLIC_KEYS", _raw_pub(signer))
        monkeypatch.setenv("LGP_LICENSE_REQUIRED", "true" if required else "false")
        monkeypatch.setenv("LGP_LICENSE_GRACE_DAYS", str(grace_days))
        if license:
            monkeypatch.setenv("LGP_LICENSE_KEY", license)
        c = TestClient(create_app(settings))
        c.__enter__()
        clients.append(c)
        return c

    try:
        yield go
    finally:
        for c in clients:
            c.__exit__(None, None, None)


def _listener(c: TestClient) -> dict[str, Any]:
    r = c.post(
        "/v1/listeners", headers=H, json={"name": f"l-{secrets.token_hex(3)}", "namespaces": ["agents"]}
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def _deploy(c: TestClient, listener: dict[str, Any], name: str | None = None) -> Any:
    return c.post(
        "/v1/deployments",
        headers=H,
        json={
            "name": name or f"d-{secrets.token_hex(3)}",
            "type": "development",
            "image": "registry.example/a:1",
            "listener_id": listener["id"],
            "namespace": "agents",
        },
    )


def test_without_a_license_lgp_runs_with_no_caps(start):
    c = start()
    lst = _listener(c)
    for _ in range(3):
        assert _deploy(c, lst).status_code == 201
    status = c.get("/v1/license", headers=H).json()
    assert status["status"] == "MISSING" and status["enforced"] is False and status["deployments"] == 3


def test_a_required_license_that_is_missing_refuses_new_deployments(start):
    c = start(required=True)
    r = _deploy(c, _listener(c))
    assert r.status_code == 403 and r.json()["detail"].startswith("license_missing:")


def test_the_deployment_cap_gets_403_saying_why_and_revisions_still_work(start, signer):
    c = start(_license(signer, max_deployments=2))
    lst = _listener(c)
    first = _deploy(c, lst).json()
    assert _deploy(c, lst).status_code == 201
    r = _deploy(c, lst)
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert detail.startswith("deployment_cap_reached:") and "at most 2" in detail and "Acme" in detail
    assert c.post(f"/v1/deployments/{first['id']}/revisions", headers=H, json={}).status_code == 201
    # deleting one frees a slot
    assert c.delete(f"/v1/deployments/{first['id']}", headers=H).status_code == 202
    assert _deploy(c, lst).status_code == 201


def test_grace_allows_with_a_warning_then_expiry_refuses_but_running_deployments_keep_serving(start, signer):
    key = _license(
        signer, expires_at=NOW - timedelta(days=3), not_before=NOW - timedelta(days=60), max_deployments=None
    )
    c = start(key, grace_days=14)
    lst = _listener(c)
    d = _deploy(c, lst)
    assert d.status_code == 201
    status = c.get("/v1/license", headers=H).json()
    assert status["status"] == "IN_GRACE" and status["warning"]

    c2 = start(key, grace_days=1)  # same database, grace over
    r = _deploy(c2, lst)
    assert r.status_code == 403 and r.json()["detail"].startswith("license_expired:")
    dep = d.json()
    r = c2.post(f"/v1/deployments/{dep['id']}/revisions", headers=H, json={})
    assert r.status_code == 403 and r.json()["detail"].startswith("license_expired:")
    # licensing never stops a server: the listener still gets the deployment to run
    state = c2.get("/v1/listener/desired-state", headers={"Authorization": f"Bearer {lst['token']}"}).json()
    assert [x["id"] for x in state["deployments"]] == [dep["id"]]
    assert c2.get(f"/v1/deployments/{dep['id']}", headers=H).status_code == 200


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (
            lambda k: flip_signature_byte(_license(k)),
            "license_tampered",
        ),
        (lambda k: _license(Ed25519PrivateKey.generate()), "license_wrong_key"),
        (lambda k: _license(k, not_before=NOW + timedelta(days=2)), "license_not_yet_valid"),
        (lambda k: "not-a-token", "license_malformed"),
    ],
)
def test_each_refused_license_has_its_own_reason(start, signer, make, reason):
    c = start(make(signer))
    r = _deploy(c, _listener(c))
    assert r.status_code == 403 and r.json()["detail"].startswith(reason + ":"), r.text
    assert c.get("/v1/license", headers=H).json()["reason"] == reason


def test_beacon_verify(start, signer):
    c = start()
    good = _license(signer)
    r = c.post("/v1/beacon/verify", json={"license": good})
    assert r.status_code == 200
    settings_key = c.app.state.settings.encryption_key_list[0]
    claims = verify_beacon_token(r.json()["token"], derive_beacon_secret(settings_key))
    assert claims
    r = c.post("/v1/beacon/verify", json={"license": _license(Ed25519PrivateKey.generate())})
    assert r.status_code == 403 and r.json()["reason"] == "license_wrong_key"
    r = c.post("/v1/beacon/verify", json={})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "license"]


def _window(start: datetime, runs: int, nodes: int, **tags: str) -> dict[str, Any]:
    return {
        "from_timestamp": start.isoformat(),
        "to_timestamp": (start + timedelta(hours=1)).isoformat(),
        "tags": {"langgraph.platform.deployment": "agent", **tags},
        "measures": {"langgraph.platform.runs": runs, "langgraph.platform.nodes": nodes},
        "logs": [],
    }


def test_usage_submissions_replace_on_resend_and_sum_per_deployment_tenant_and_month(start, signer):
    c = start()
    lic = _license(signer)
    lst = _listener(c)
    dep = _deploy(c, lst).json()
    tags = {"lgp.dev/deployment-id": dep["id"], "langgraph.platform.deployment_id": "cr-uid-1"}
    jan = datetime(2026, 10, 31, 22, tzinfo=UTC)
    windows = [
        (jan, 5, 50),
        (jan + timedelta(hours=1), 7, 70),
        (datetime(2026, 11, 1, 3, tzinfo=UTC), 11, 110),
    ]
    for when, runs, nodes in windows:
        body = {"license": lic, **_window(when, runs, nodes, **tags)}
        key = usage_key("cr-uid-1", when)
        assert c.post("/v1/metadata/submit", json=body, headers={"Idempotency-Key": key}).status_code == 204
    # a resend of the first window (e.g. the answer was lost) replaces it: nothing counted twice
    body = {"license": lic, **_window(jan, 5, 50, **tags)}
    r = c.post("/v1/metadata/submit", json=body, headers={"Idempotency-Key": usage_key("cr-uid-1", jan)})
    assert r.status_code == 204
    rows = c.get("/v1/usage", headers=H).json()["data"]
    by_month = {r["month"]: r for r in rows}
    assert by_month["2026-10"]["runs"] == 12 and by_month["2026-10"]["nodes"] == 120
    assert by_month["2026-10"]["windows"] == 2
    assert by_month["2026-11"]["runs"] == 11
    assert {r["deployment"] for r in rows} == {dep["name"]}
    assert {r["deployment_id"] for r in rows} == {dep["id"]}
    assert c.get("/v1/usage?month=2026-11", headers=H).json()["count"] == 1


def test_usage_submission_needs_a_trusted_license_or_an_api_key(start, signer):
    c = start()
    when = datetime(2026, 11, 1, 1, tzinfo=UTC)
    r = c.post("/v1/metadata/submit", json=_window(when, 1, 1))
    assert r.status_code == 401 and r.json()["detail"].startswith("license_missing")
    r = c.post(
        "/v1/metadata/submit", json={"license": _license(Ed25519PrivateKey.generate()), **_window(when, 1, 1)}
    )
    assert r.status_code == 401 and r.json()["detail"].startswith("license_wrong_key")
    # an expired license still records usage: usage is never lost
    old = _license(signer, expires_at=NOW - timedelta(days=400), not_before=NOW - timedelta(days=800))
    assert c.post("/v1/metadata/submit", json={"license": old, **_window(when, 2, 2)}).status_code == 204
    assert (
        c.post("/v1/metadata/submit", json=_window(when + timedelta(hours=1), 3, 3), headers=H).status_code
        == 204
    )
    bad = _window(when, 1, 1)
    bad["measures"]["langgraph.platform.runs"] = -1
    r = c.post("/v1/metadata/submit", json=bad, headers=H)
    assert r.status_code == 422 and "measures" in str(r.json()["detail"])
    bad = _window(when, 1, 1)
    bad["to_timestamp"] = bad["from_timestamp"]
    r = c.post("/v1/metadata/submit", json=bad, headers=H)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "to_timestamp"]


def test_a_tenant_sees_only_its_own_usage(start, signer):
    c = start()
    tenant = c.post("/v1/tenants", headers=H, json={"name": f"t{secrets.token_hex(3)}"}).json()
    key = c.post("/v1/api-keys", headers=H, json={"name": "k", "tenant_id": tenant["id"]}).json()["key"]
    lic = _license(signer)
    dep = _deploy(c, _listener(c)).json()  # in the default tenant
    when = datetime(2026, 11, 2, 1, tzinfo=UTC)
    body = {"license": lic, **_window(when, 4, 4, **{"lgp.dev/deployment-id": dep["id"]})}
    assert c.post("/v1/metadata/submit", json=body).status_code == 204
    assert c.get("/v1/usage", headers=H).json()["count"] == 1
    assert c.get("/v1/usage", headers={"X-Api-Key": key}).json()["count"] == 0
    # and the other tenant's key cannot submit usage for this deployment
    r = c.post(
        "/v1/metadata/submit",
        json=_window(when, 1, 1, **{"lgp.dev/deployment-id": dep["id"]}),
        headers={"X-Api-Key": key},
    )
    assert r.status_code == 403
