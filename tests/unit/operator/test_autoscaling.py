"""KEDA ScaledObject and HPA builders."""

from __future__ import annotations

from typing import Any

import pytest
from lgp_operator.builders.autoscaling import PENDING_RUNS_QUERY, build_hpa, build_scaled_object
from lgp_operator.builders.common import Capabilities, InvalidSpec

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


# ---------------------------------------------------------------- queue workers on their own, KEDA settings
QUEUED: dict[str, Any] = {
    "queue": {"enabled": True},
    "autoscaling": {
        "enabled": True,
        "minReplicas": 2,
        "maxReplicas": 4,
        "queueMinReplicas": 1,
        "queueMaxReplicas": 30,
    },
}


def _so(spec, component, settings):
    deployment = f"demo-{component}"
    container = "queue-worker" if component == "queue" else "api-server"
    return build_scaled_object(
        make_cr(spec), settings, deployment=deployment, component=component, container=container
    )["spec"]


@pytest.mark.parametrize(
    ("spec", "component", "bounds", "types"),
    [
        (QUEUED, "queue", (1, 30), ["cpu", "memory", "postgresql"]),
        (QUEUED, "api-server", (2, 4), ["cpu", "memory"]),  # runs no runs: no pending-runs trigger
        (AUTO, "api-server", (2, 8), ["cpu", "memory", "postgresql"]),  # no queue: it runs them
        (  # queue bounds default to the api server's
            {
                "queue": {"enabled": True},
                "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 9},
            },
            "queue",
            (3, 9),
            ["cpu", "memory", "postgresql"],
        ),
    ],
)
def test_the_queue_workers_scale_on_pending_runs_within_their_own_bounds(
    settings, spec, component, bounds, types
):
    so = _so(spec, component, settings)
    assert (so["minReplicaCount"], so["maxReplicaCount"]) == bounds
    assert [t["type"] for t in so["triggers"]] == types


@pytest.mark.parametrize(("component", "bounds"), [("queue", (1, 30)), ("api-server", (2, 4))])
def test_hpa_fallback_uses_the_same_bounds(settings, component, bounds):
    hpa = build_hpa(make_cr(QUEUED), settings, deployment=f"demo-{component}", component=component)
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == bounds


def test_keda_settings_fallback_and_added_triggers(settings):
    prom = {
        "type": "prometheus",
        "name": "inflight",
        "metadata": {"serverAddress": "http://prom:9090", "query": "sum(x)", "threshold": "50"},
        "authenticationRef": {"name": "prom-auth"},
    }
    spec = {
        **QUEUED,
        "autoscaling": {
            **QUEUED["autoscaling"],
            "keda": {
                "pollingInterval": 5,
                "cooldownPeriod": 120,
                "fallback": {"failureThreshold": 3, "replicas": 2},
                "additionalTriggers": {"queue": [prom]},
            },
        },
    }
    queue, api = _so(spec, "queue", settings), _so(spec, "api-server", settings)
    assert (queue["pollingInterval"], queue["cooldownPeriod"]) == (5, 120)
    assert queue["fallback"] == {"failureThreshold": 3, "replicas": 2}
    assert queue["triggers"][-1] == prom
    assert [t["type"] for t in api["triggers"]] == ["cpu", "memory"]
    defaults = _so(QUEUED, "queue", settings)
    assert (defaults["pollingInterval"], defaults["cooldownPeriod"]) == (
        30,
        1800,
    ) and "fallback" not in defaults


@pytest.mark.parametrize(
    ("autoscaling", "field"),
    [
        ({"pendingRunsPerReplica": 0}, "pendingRunsPerReplica"),
        (
            {
                "keda": {
                    "additionalTriggers": {
                        "queue": [{"type": "postgresql", "metadata": {"targetQueryValue": "0"}}]
                    }
                }
            },
            r"additionalTriggers\.queue\.0: .*targetQueryValue is '0'",
        ),
        (
            {
                "keda": {
                    "additionalTriggers": {
                        "apiServer": [{"type": "prometheus", "metadata": {"threshold": "-1"}}]
                    }
                }
            },
            "threshold",
        ),
        ({"keda": {"fallback": {"failureThreshold": 3, "replicas": 0}}}, "fallback.replicas"),
        ({"queueMinReplicas": 5, "queueMaxReplicas": 2}, "queueMaxReplicas"),
        (
            {"minReplicas": 8, "maxReplicas": 9, "queueMaxReplicas": 4},
            r"queueMaxReplicas \(4\) is below queueMinReplicas \(8\)",
        ),
    ],
)
def test_a_target_of_zero_and_bad_bounds_are_refused(autoscaling, field):
    """their helm#505: a ScaledObject written with targetQueryValue "0" never scaled."""
    with pytest.raises(InvalidSpec, match=field):
        make_cr({"autoscaling": {"enabled": True, **autoscaling}})


def test_an_activation_of_zero_is_not_a_target(settings):
    trigger = {"type": "postgresql", "metadata": {"targetQueryValue": "5", "activationTargetQueryValue": "0"}}
    spec = {"autoscaling": {"enabled": True, "keda": {"additionalTriggers": {"apiServer": [trigger]}}}}
    assert _so(spec, "api-server", settings)["triggers"][-1] == trigger


@pytest.mark.parametrize("spec", [AUTO, QUEUED, {"autoscaling": {"enabled": True}}])
@pytest.mark.parametrize("component", ["api-server", "queue"])
def test_no_scaled_object_ever_has_a_target_of_zero(settings, spec, component):
    for trigger in _so(spec, component, settings)["triggers"]:
        for key, value in trigger["metadata"].items():
            if key in ("targetQueryValue", "value", "threshold"):
                assert float(value) > 0, (trigger, key)


RUNS = "SELECT COUNT(*) FROM runs WHERE status = 'pending'"  # the open runtime's table (lgp's images)


@pytest.mark.parametrize(
    ("spec", "component", "query"),
    [
        ({}, "api-server", PENDING_RUNS_QUERY),
        ({"queue": {"enabled": True}}, "queue", PENDING_RUNS_QUERY),
        ({"autoscaling": {"keda": {"pendingRunsQuery": RUNS}}}, "api-server", RUNS),
        ({"queue": {"enabled": True}, "autoscaling": {"keda": {"pendingRunsQuery": RUNS}}}, "queue", RUNS),
        (
            {"autoscaling": {"keda": {"pendingRunsQuery": "with p as (select 1) SELECT count(*) FROM p;"}}},
            "api-server",
            "with p as (select 1) SELECT count(*) FROM p;",
        ),
    ],
)
def test_pending_runs_query_per_deployment(settings, spec, component, query):
    spec = {**spec, "autoscaling": {"enabled": True, **spec.get("autoscaling", {})}}
    so = build_scaled_object(make_cr(spec), settings, deployment="d", component=component, container="c")
    (trigger,) = [t for t in so["spec"]["triggers"] if t["type"] == "postgresql"]
    assert trigger["metadata"]["query"] == query


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM runs",
        "SELECT 1; DROP TABLE runs",
        "",
        "SELECT" + " x" * 1000,
    ],
)
def test_a_pending_runs_query_is_one_select(query):
    with pytest.raises(InvalidSpec, match=r"spec\.autoscaling\.keda\.pendingRunsQuery"):
        make_cr({"autoscaling": {"keda": {"pendingRunsQuery": query}}})
