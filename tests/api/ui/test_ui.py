"""The web UI in a real browser (chromium) against a real control plane: sign in and out, create a
deployment (422 next to the field), list, detail, new revision, listener-driven DEPLOYED, redeploy,
interrupt, delete, CSRF refusal, and no secret value or API key in any page or log."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from .conftest import Tenant, wait_until

IMAGE_1 = "registry.example.com/agents/support:1.0.0"
IMAGE_2 = "registry.example.com/agents/support:2.0.0"


class Pages:
    """Every HTML page the browser was shown, to search for leaks afterwards."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.html: list[str] = []

    def snap(self) -> str:
        text: str = self.page.content()
        self.html.append(text)
        return text


def sign_in(page: Any, key: str) -> None:
    page.goto("/ui/login")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/ui/deployments$"))


def deployment_json(tenant: Tenant, deployment_id: str) -> dict[str, Any]:
    with tenant.http as api:
        r = api.get(f"/deployments/{deployment_id}")
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out


def revisions_json(tenant: Tenant, deployment_id: str) -> dict[int, dict[str, Any]]:
    with tenant.http as api:
        r = api.get(f"/deployments/{deployment_id}/revisions")
        assert r.status_code == 200, r.text
        return {x["number"]: x for x in r.json()["data"]}


def test_sign_in_refuses_a_wrong_key_and_sign_out_forgets_the_key(page: Any, tenant: Tenant) -> None:
    pages = Pages(page)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/ui/login$"))  # / -> /ui -> not signed in -> sign-in form

    page.fill("#api_key", "lgp_not-a-real-key")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("the API key is unknown or revoked")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    pages.snap()

    sign_in(page, tenant.key)
    expect(page.locator("h1")).to_have_text("Deployments")
    pages.snap()
    cookie = next(c for c in page.context.cookies() if c["name"] == "lgp_ui_key")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"
    assert not cookie["secure"]  # plain http here; https sets Secure
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script can read the key (or the CSRF token)

    page.goto("/ui/listeners")
    row = page.locator("#listeners tbody tr", has_text=tenant.listener["name"])
    expect(row).to_contain_text("agents, staging")
    expect(row).to_contain_text("never")
    expect(row.locator(".badge")).to_have_text("offline")
    # a heartbeat brings it online
    with httpx.Client(base_url=tenant.server.url, timeout=30, trust_env=False) as c:
        r = c.post(
            "/v1/listener/heartbeat",
            json={},
            headers={"Authorization": f"Bearer {tenant.listener['token']}"},
        )
        assert r.status_code < 300, r.text
    page.reload()
    expect(row.locator(".badge")).to_have_text("online")
    pages.snap()

    page.click("#sign-out")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    assert not [c for c in page.context.cookies() if c["name"] == "lgp_ui_key"]
    page.goto("/ui/deployments")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    pages.snap()

    for html in pages.html:
        assert tenant.key not in html and tenant.listener["token"] not in html


def test_deployment_lifecycle_through_the_ui(page: Any, tenant: Tenant, tmp_path: Path) -> None:
    secret_value = f"s3cr3t-{uuid.uuid4().hex}"
    env_value = f"plain-{uuid.uuid4().hex[:8]}"
    name = f"support-{uuid.uuid4().hex[:6]}"
    pages = Pages(page)
    sign_in(page, tenant.key)

    # a bad name: the API's 422 shown next to the name field; the secret is not rendered back
    page.goto("/ui/deployments/new")
    page.fill("#name", "Support_Agent")
    page.fill("#image", IMAGE_1)
    page.select_option("#listener_id", tenant.listener["id"])
    page.fill("#namespace", "agents")
    page.fill("#replicas", "2")
    page.fill("#ingress_host", "support.example.com")
    page.fill("#env", f"LOG_LEVEL={env_value}")
    page.fill("#secrets", f"OPENAI_API_KEY={secret_value}")
    page.click("#create")
    error = page.locator("#name + #error-name")
    expect(error).to_contain_text("must be a DNS label")
    expect(page.locator("#error-image")).to_have_count(0)
    expect(page.locator("#secrets")).to_have_value("")
    expect(page.locator("#env")).to_have_value(f"LOG_LEVEL={env_value}")
    page.screenshot(path=str(tmp_path / "new-422.png"), full_page=True)
    pages.snap()

    # a namespace the listener may not manage: the error from the CRUD layer, next to its field
    page.fill("#name", name)
    page.fill("#namespace", "kube-system")
    page.fill("#secrets", f"OPENAI_API_KEY={secret_value}")
    page.click("#create")
    expect(page.locator("#error-namespace")).to_contain_text("may not manage this namespace")
    pages.snap()

    page.fill("#namespace", "agents")
    page.fill("#secrets", f"OPENAI_API_KEY={secret_value}")
    page.click("#create")
    expect(page).to_have_url(re.compile(r"/ui/deployments/[0-9a-f-]{36}\?done=created$"))
    deployment_id = re.search(r"/ui/deployments/([0-9a-f-]{36})", page.url).group(1)  # type: ignore[union-attr]
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("#secret-names")).to_contain_text("OPENAI_API_KEY")
    expect(page.locator("#revision-1 .status")).to_have_text("AWAITING_DEPLOY")
    expect(page.locator("#why")).to_contain_text("waits for the listener")
    assert page.locator("#auto-refresh").count() == 1  # in flight: the page refreshes itself
    pages.snap()
    d = deployment_json(tenant, deployment_id)
    assert d["secret_names"] == ["OPENAI_API_KEY"] and d["ingress"]["host"] == "support.example.com"
    assert d["resources"]["server"]["replicas"] == 2 and d["env"] == [
        {"name": "LOG_LEVEL", "value": env_value}
    ]

    # the list shows it, and the name filter finds it (and not with another name)
    page.goto("/ui/deployments")
    row = page.locator("#deployments tbody tr", has_text=name)
    expect(row).to_contain_text("development")
    expect(row).to_contain_text(IMAGE_1)
    expect(row.locator(".badge")).to_have_text("PENDING")
    page.screenshot(path=str(tmp_path / "list.png"))
    page.fill("input[name=name]", name[-6:])
    page.click("text=Filter")
    expect(page.locator("#deployments tbody tr")).to_have_count(1)
    page.fill("input[name=name]", "no-such-thing")
    page.click("text=Filter")
    expect(page.locator("#deployments tbody")).to_contain_text("No deployments match this filter")
    pages.snap()

    # the listener deploys revision 1; the open detail page refreshes itself and shows it
    page.goto(f"/ui/deployments/{deployment_id}")
    revs = revisions_json(tenant, deployment_id)
    r = tenant.listener_status(revs[1]["id"], "DEPLOYED", reason="Ready", message="all replicas ready")
    assert r.status_code == 200, r.text
    expect(page.locator("#revision-1 .status")).to_have_text("DEPLOYED")
    expect(page.locator("#deployment-status")).to_have_text("READY")
    expect(page.locator("#revision-1")).to_contain_text("active")
    assert page.locator("#auto-refresh").count() == 0
    pages.snap()

    # a bad image for a new revision: 422 next to the image field; then a good one
    page.fill("#new-image", "not a valid image")
    page.click("#create-revision")
    expect(page.locator("#error-image")).to_contain_text("tag or a digest")
    page.fill("#new-image", IMAGE_2)
    page.click("#create-revision")
    expect(page).to_have_url(re.compile(r"\?done=revision$"))
    expect(page.locator("#revision-2 .status")).to_have_text("AWAITING_DEPLOY")
    expect(page.locator("#image")).to_have_text(IMAGE_2)
    pages.snap()

    # the listener takes it through DEPLOYING to DEPLOYED, the page follows without a click
    revs = revisions_json(tenant, deployment_id)
    assert tenant.listener_status(revs[2]["id"], "DEPLOYING").status_code == 200
    expect(page.locator("#revision-2 .status")).to_have_text("DEPLOYING")
    expect(page.locator("#deployment-status")).to_have_text("DEPLOYING")
    assert tenant.listener_status(revs[2]["id"], "DEPLOYED").status_code == 200
    expect(page.locator("#revision-2 .status")).to_have_text("DEPLOYED")
    expect(page.locator("#revision-1 .status")).to_have_text("REPLACED")
    page.screenshot(path=str(tmp_path / "detail.png"), full_page=True)
    pages.snap()

    # redeploy revision 1 (a rollback): revision 3 with revision 1's image
    page.locator("#revision-1").get_by_role("button", name="Redeploy").click()
    expect(page).to_have_url(re.compile(r"\?done=redeployed$"))
    expect(page.locator("#revision-3")).to_contain_text("redeploy of #1")
    expect(page.locator("#revision-3")).to_contain_text(IMAGE_1)
    expect(page.locator("#revision-3 .status")).to_have_text("AWAITING_DEPLOY")
    assert revisions_json(tenant, deployment_id)[3]["source_revision_id"] == revs[1]["id"]
    pages.snap()

    # interrupt it; then the same (stale) form again is refused by the state machine, in plain words
    interrupt = page.locator("#revision-3").get_by_role("button", name="Interrupt")
    stale_form_html = page.locator("#revision-3 form[action$=interrupt]").evaluate("f => f.outerHTML")
    interrupt.click()
    expect(page).to_have_url(re.compile(r"\?done=interrupted$"))
    expect(page.locator("#revision-3 .status")).to_have_text("INTERRUPTED")
    expect(page.locator("#deployment-status")).to_have_text("READY")  # revision 2 still runs
    page.evaluate(
        "html => { const t = document.createElement('template'); t.innerHTML = html;"
        " const f = t.content.firstChild; document.body.appendChild(f); f.submit(); }",
        stale_form_html,
    )
    expect(page.get_by_role("alert")).to_contain_text("cannot become INTERRUPTED")
    pages.snap()

    # delete: the typed name must match, and the browser asks for confirmation
    page.goto(f"/ui/deployments/{deployment_id}")
    page.fill("#confirm-name", "wrong-name")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete")
    expect(page.get_by_role("alert")).to_contain_text("the name did not match")
    assert deployment_json(tenant, deployment_id)["status"] == "READY"
    page.fill("#confirm-name", name)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete")
    expect(page).to_have_url(re.compile(r"/ui/deployments\?done=deleted$"))
    expect(page.locator("#deployments tbody tr", has_text=name).locator(".badge")).to_have_text("DELETING")
    pages.snap()

    # no page showed the secret value, the API key or the listener token; nor did the server log them
    assert len(pages.html) >= 10
    for html in pages.html:
        assert secret_value not in html
        assert tenant.key not in html and tenant.listener["token"] not in html
    logs = tenant.server.logs.texts
    assert any("/ui/deployments" in line for line in logs), "the log recorder saw no UI request"
    assert not [line for line in logs if secret_value in line or tenant.key in line]

    # the audit log has the UI's changes, made as this key
    with tenant.http as api:
        actions = {e["action"] for e in api.get("/audit-log", params={"limit": 100}).json()["data"]}
    assert {"deployment.create", "revision.create", "revision.redeploy", "revision.interrupt"} <= actions
    assert "deployment.delete" in actions


def test_forms_without_the_csrf_token_are_refused(page: Any, tenant: Tenant) -> None:
    sign_in(page, tenant.key)
    page.goto("/ui/deployments/new")
    form = {
        "name": f"csrf-{uuid.uuid4().hex[:6]}",
        "type": "development",
        "image": IMAGE_1,
        "listener_id": tenant.listener["id"],
        "namespace": "agents",
    }
    # the browser's own cookies go along (as with a cross-site form that got past SameSite)
    for token in (None, "forged-token-forged-token-forged"):
        data = dict(form) if token is None else {**form, "csrf_token": token}
        r = page.request.post("/ui/deployments/new", form=data, max_redirects=0)
        assert r.status == 403, r.status
        assert "security token is missing or stale" in r.text()
    r = page.request.post("/ui/logout", form={}, max_redirects=0)
    assert r.status == 403
    with tenant.http as api:
        assert api.get("/deployments").json()["count"] == 0
    # the real form (with its token) works, so the refusals above were about the token
    page.fill("#name", form["name"])
    page.fill("#image", IMAGE_1)
    page.click("#create")
    expect(page).to_have_url(re.compile(r"\?done=created$"))
    wait_until(lambda: tenant.http.get("/deployments").json()["count"] == 1, 10, "the deployment")


def test_pages_need_a_valid_key_and_stay_in_the_tenant(page: Any, tenant: Tenant, ui_server: Any) -> None:
    # another tenant's deployment is not found from this tenant's session
    with ui_server.api(ui_server.admin_key) as admin:
        t = admin.post("/tenants", json={"name": f"t-{uuid.uuid4().hex[:8]}"}).json()
        other_key = admin.post("/api-keys", json={"name": "o", "tenant_id": t["id"]}).json()["key"]
    with ui_server.api(other_key) as other:
        lst = other.post("/listeners", json={"name": "other", "namespaces": ["agents"]}).json()
        dep = other.post(
            "/deployments",
            json={
                "name": "theirs",
                "type": "development",
                "image": IMAGE_1,
                "listener_id": lst["id"],
                "namespace": "agents",
            },
        ).json()
    sign_in(page, tenant.key)
    expect(page.locator("#deployments")).not_to_contain_text("theirs")
    response = page.goto(f"/ui/deployments/{dep['id']}")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found in your tenant.")

    # a revoked key is signed out on its next page
    with tenant.http as api:
        keys = api.get("/api-keys").json()["data"]
        assert len(keys) == 1 and tenant.key.startswith(keys[0]["prefix"])
        r = api.delete(f"/api-keys/{keys[0]['id']}")
        assert r.status_code == 204, r.text
    page.goto("/ui/deployments")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    assert not [c for c in page.context.cookies() if c["name"] == "lgp_ui_key"]
