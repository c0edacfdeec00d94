"""Where the servers report their own usage: the receiver's URL and the deployment's usage credential,
by secretKeyRef (never a value in a spec), on the api server and the queue worker alike."""

from __future__ import annotations

import base64

from lgp_operator.builders.desired import build_desired
from lgp_operator.settings import OperatorSettings

from .conftest import make_cr

RECEIVER = "http://lgp-usage-reporter.lgp-system.svc:9109"
SPEC = {"queue": {"enabled": True}, "env": [{"name": "LANGSMITH_AUTH_ENDPOINT", "value": "http://elsewhere"}]}


def _env(obj: dict) -> dict[str, dict]:
    (container,) = obj["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in container["env"]}


def test_servers_report_to_the_receiver_with_the_deployments_credential_from_a_secret(
    settings: OperatorSettings,
) -> None:
    settings = settings.model_copy(update={"usage_receiver_url": RECEIVER})
    desired = build_desired(make_cr(SPEC), settings, postgres_password="pw", usage_key="k-123")
    objs = {(o["kind"], o["metadata"]["name"]): o for o in desired.objects}
    secret = objs[("Secret", "demo-usage")]
    assert base64.b64decode(secret["data"]["api-key"]).decode() == "k-123"
    assert secret["metadata"]["ownerReferences"]
    for name in ("demo-api-server", "demo-queue"):
        env = _env(objs[("Deployment", name)])
        assert env["LANGSMITH_AUTH_ENDPOINT"] == {"name": "LANGSMITH_AUTH_ENDPOINT", "value": RECEIVER}
        assert env["LANGSMITH_CONTROL_PLANE_API_KEY"]["valueFrom"] == {
            "secretKeyRef": {"name": "demo-usage", "key": "api-key"}
        }
        assert env["LANGSMITH_TRACING"]["value"] == "false"  # the key alone would turn tracing on
    assert "k-123" not in str([o for o in desired.objects if o["kind"] != "Secret"])


def test_no_receiver_no_usage_variables_and_no_secret(settings: OperatorSettings) -> None:
    desired = build_desired(make_cr(SPEC), settings, postgres_password="pw", usage_key="k-123")
    assert ("Secret", "demo-usage") not in desired.identities()
    env = _env(next(o for o in desired.objects if o["metadata"]["name"] == "demo-api-server"))
    assert "LANGSMITH_CONTROL_PLANE_API_KEY" not in env
    assert env["LANGSMITH_AUTH_ENDPOINT"]["value"] == "http://elsewhere"  # the user's, untouched
