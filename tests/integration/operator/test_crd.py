"""The generated CRD on a real apiserver: accepted as structural, published with descriptions (what
`kubectl explain` shows), defaults applied, invalid values refused with the field named."""

from __future__ import annotations

from typing import Any

import pytest
from lgp_operator.k8s.kube import KubeError

from .conftest import apply_spec, get_cr, wait_for


def test_schema_is_published_for_kubectl_explain(crd, kube):
    def definition() -> dict[str, Any] | None:
        doc = kube.request("GET", "/openapi/v2")
        return doc["definitions"].get("dev.lgp.v1alpha1.LangGraphPlatform")

    d = wait_for(definition, 60, "the LangGraphPlatform schema in /openapi/v2")
    assert "Ready=True means" in d["description"]
    spec = d["properties"]["spec"]["properties"]
    assert "pending runs" in spec["autoscaling"]["description"].lower()
    assert spec["autoscaling"]["properties"]["scaleDownDelaySeconds"]["description"]


def test_defaults_are_applied_by_the_apiserver(crd, kube, namespace):
    apply_spec(kube, "defaults", namespace, {})
    spec = get_cr(kube, "defaults", namespace)["spec"]
    assert spec["autoscaling"]["cpu"] == 75 and spec["autoscaling"]["pendingRunsPerReplica"] == 10
    assert spec["database"]["managed"]["retainOnDelete"] is True
    assert spec["database"]["managed"]["storage"] == "10Gi"
    assert spec["terminationGracePeriodSeconds"] == 900


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"image": "Bad Image"}, "spec.image"),
        ({"autoscaling": {"maxReplicas": 0}}, "spec.autoscaling.maxReplicas"),
        (
            {"apiServer": {"resources": {"requests": {"cpu": "a lot"}}}},
            "spec.apiServer.resources.requests.cpu",
        ),
        ({"imagePullPolicy": "Sometimes"}, "spec.imagePullPolicy"),
    ],
)
def test_invalid_values_are_refused_by_the_apiserver(crd, kube, namespace, spec, field):
    with pytest.raises(KubeError) as e:
        apply_spec(kube, "invalid", namespace, spec)
    assert e.value.status == 422
    assert field in e.value.message
