"""KEDA ScaledObject and HPA builders."""

from __future__ import annotations

import pytest
from lgp_operator.builders.autoscaling import PENDING_RUNS_QUERY, build_hpa, build_scaled_object
from lgp_operator.builders.common import Capabilities

from .conftest import make_cr

AUTO = {"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 8, "pendingRunsPerReplica": 5}}


def test_scaled_object_has_three_triggers_and_no_password(settings):
    so = build_scaled_object(
        make_cr(AUTO), settings, deployment="demo-api-server", component="api-server", container="api-server"
    )
    spec = so["spec"]
    assert so["apiVersion"] == "keda.sh/v1alpha1"
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "demo-api-server",
        "envSourceContainerName": "api-server",
    }
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (2, 8)
    assert "idleReplicaCount" not in spec
    triggers = {t["type"]: t for t in spec["triggers"]}
    assert triggers["cpu"]["metadata"] == {"value": "75"} and triggers["cpu"]["metricType"] == "Utilization"
    assert triggers["memory"]["metadata"] == {"value": "75"}
    pg = triggers["postgresql"]["metadata"]
    assert pg["query"] == PENDING_RUNS_QUERY == "SELECT COUNT(*) FROM run WHERE status = 'pending'"
    assert pg["targetQueryValue"] == "5" and pg["activationTargetQueryValue"] == "0"
    assert pg["connectionFromEnv"] == "POSTGRES_URI"
    assert not any("password" in k.lower() for t in spec["triggers"] for k in t["metadata"])
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 1800


@pytest.mark.parametrize(
    ("api", "check"),
    [
        (
            "autoscaling/v2",
            lambda s: (
                s["metrics"][1]["resource"]["target"]["averageUtilization"] == 75
                and s["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 1800
            ),
        ),
        ("autoscaling/v2beta2", lambda s: s["metrics"][0]["resource"]["name"] == "cpu" and "behavior" in s),
        ("autoscaling/v2beta1", lambda s: s["metrics"][1]["resource"]["targetAverageUtilization"] == 75),
        ("autoscaling/v1", lambda s: s["targetCPUUtilizationPercentage"] == 75),
    ],
)
def test_hpa_in_the_served_version(settings, api, check):
    hpa = build_hpa(
        make_cr(AUTO),
        settings,
        deployment="demo-queue",
        component="queue",
        caps=Capabilities(hpa_api=api, keda=False),
    )
    assert hpa["apiVersion"] == api
    assert hpa["spec"]["scaleTargetRef"]["name"] == "demo-queue"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 8)
    assert check(hpa["spec"])
