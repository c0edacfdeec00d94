"""The web UI's Kubernetes settings in a real browser: labels, the service-account checkbox and the YAML
box make the deployment's `kubernetes` block; a bad label, YAML that is not a mapping and a KEDA target of
0 are shown next to their field with the rest of the form kept; the deployment page shows the block."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import expect

from .conftest import Tenant
from .test_ui import IMAGE_1, deployment_json, sign_in

SIDECAR = """\
apiServer:
  sidecars:
    - name: proxy
      image: envoyproxy/envoy:v1.30
serviceAccount:
  annotations:
    iam.gke.io/gcp-service-account: agent@project.iam.gserviceaccount.com
"""


def _fill(page: Any, tenant: Tenant, name: str) -> None:
    page.goto("/ui/deployments/new")
    page.fill("#name", name)
    page.fill("#image", IMAGE_1)
    page.select_option("#listener_id", tenant.listener["id"])
    page.fill("#namespace", "agents")
    page.click("summary")


def test_kubernetes_settings_through_the_ui(page: Any, tenant: Tenant) -> None:
    sign_in(page, tenant.key)
    name = f"k8s-{uuid.uuid4().hex[:6]}"
    _fill(page, tenant, name)
    page.fill("#labels", "bad key=x")
    page.fill("#kubernetes", SIDECAR)
    page.click("#create")
    expect(page.locator("#error-labels")).to_contain_text("labels")
    expect(page.locator("#kubernetes")).to_have_value(SIDECAR)  # kept for the next try

    page.fill("#labels", "team=agents")
    page.fill("#kubernetes", "- not a mapping\n")
    page.click("#create")
    expect(page.locator("#error-kubernetes")).to_contain_text("write a mapping")

    zero = (
        "keda:\n  additionalTriggers:\n    queue:\n"
        "      - {type: postgresql, metadata: {targetQueryValue: '0'}}\n"
    )
    page.fill("#kubernetes", zero)
    page.click("#create")
    expect(page.locator("#error-kubernetes")).to_contain_text("targetQueryValue")

    page.fill("#kubernetes", SIDECAR)
    page.check("#service_account")
    page.click("#create")
    expect(page).to_have_url(re.compile(r"/ui/deployments/[0-9a-f-]{36}\?done=created$"))
    expect(page.locator("#kubernetes")).to_contain_text("team: agents")
    expect(page.locator("#kubernetes")).to_contain_text("envoyproxy/envoy:v1.30")
    deployment_id = re.search(r"/ui/deployments/([0-9a-f-]{36})", page.url).group(1)  # type: ignore[union-attr]
    k8s = deployment_json(tenant, deployment_id)["kubernetes"]
    assert k8s["labels"] == {"team": "agents"}
    assert k8s["serviceAccount"] == {
        "create": True,
        "annotations": {"iam.gke.io/gcp-service-account": "agent@project.iam.gserviceaccount.com"},
    }
    assert k8s["apiServer"]["sidecars"] == [{"name": "proxy", "image": "envoyproxy/envoy:v1.30"}]
