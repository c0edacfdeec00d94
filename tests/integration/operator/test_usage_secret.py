"""The operator points each server's own usage reports at the usage receiver: it makes the deployment's
usage credential once (a Secret), keeps it across reconciles, and references it by secretKeyRef."""

from __future__ import annotations

import base64
from typing import Any

from lgp_operator.k8s.kube import Kube
from lgp_operator.reconcile import Reconciler
from lgp_operator.settings import OperatorSettings

from .conftest import apply_spec, get_cr

RECEIVER = "http://lgp-usage-reporter.lgp-system.svc:9109"


def test_the_usage_credential_is_made_once_kept_and_referenced(kube: Kube, crd: Any, namespace: str) -> None:
    apply_spec(kube, "metered", namespace, {"queue": {"enabled": True}})
    reconciler = Reconciler(kube, OperatorSettings(usage_receiver_url=RECEIVER, discovery_seconds=60))
    reconciler.reconcile(get_cr(kube, "metered", namespace))
    secret = kube.get("v1", "Secret", namespace, "metered-usage")
    assert secret is not None
    key = base64.b64decode(secret["data"]["api-key"]).decode()
    assert len(key) >= 32
    reconciler.reconcile(get_cr(kube, "metered", namespace))  # read back, not made anew
    again = kube.get("v1", "Secret", namespace, "metered-usage")
    assert again is not None and base64.b64decode(again["data"]["api-key"]).decode() == key
    for name in ("metered-api-server", "metered-queue"):
        dep = kube.get("apps/v1", "Deployment", namespace, name)
        assert dep is not None
        env = {e["name"]: e for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["LANGSMITH_AUTH_ENDPOINT"]["value"] == RECEIVER
        assert env["LANGSMITH_CONTROL_PLANE_API_KEY"]["valueFrom"]["secretKeyRef"] == {
            "name": "metered-usage",
            "key": "api-key",
        }
        assert key not in str(dep)
    cr = get_cr(kube, "metered", namespace)
    assert key not in str(cr)
