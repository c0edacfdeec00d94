"""The CR models: defaults, one-of rules, and errors that name the field (what Degraded shows)."""

from __future__ import annotations

import pytest
from lgp_operator.builders.common import InvalidSpec, Platform

from .conftest import make_cr


def test_defaults_follow_the_design():
    spec = make_cr().spec
    assert spec.autoscaling.cpu == 75 and spec.autoscaling.memory == 75
    assert spec.autoscaling.pending_runs_per_replica == 10
    assert spec.autoscaling.scale_down_delay_seconds == 1800
    assert spec.database.managed is not None and spec.database.managed.retain_on_delete
    assert spec.redis.managed is not None
    assert spec.termination_grace_period_seconds == 900
    assert spec.queue.jobs_per_worker == 10


def test_integer_quantities_are_accepted():
    spec = make_cr({"apiServer": {"resources": {"requests": {"cpu": 2, "memory": "1Gi"}}}}).spec
    assert spec.api_server.resources.requests is not None
    assert spec.api_server.resources.requests.cpu == "2"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"image": "Not An Image"}, "spec.image"),
        ({"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}, "maxReplicas (2) is below minReplicas (5)"),
        ({"autoscaling": {"minReplicas": 0}}, "spec.autoscaling.minReplicas"),
        (
            {"database": {"managed": {}, "external": {"secretRef": {"name": "db"}}}},
            "only one of managed and external",
        ),
        ({"redis": {"external": {}}}, "spec.redis.external.secretRef"),
        ({"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}, "'A' is listed twice"),
        ({"env": [{"name": "1BAD"}]}, "spec.env.0.name"),
        (
            {"apiServer": {"resources": {"requests": {"cpu": "lots"}}}},
            "spec.apiServer.resources.requests.cpu",
        ),
        ({"ingress": {"path": "no-slash"}}, "spec.ingress.path"),
        ({"unknownField": 1}, "spec.unknownField"),
    ],
)
def test_invalid_specs_name_the_field(spec, expected):
    with pytest.raises(InvalidSpec) as e:
        make_cr(spec)
    assert expected in str(e.value)


def test_long_names_are_refused():
    with pytest.raises(InvalidSpec, match=r"metadata\.name"):
        Platform.from_body({"metadata": {"name": "x" * 41, "namespace": "ns"}, "spec": {"image": "a/b:1"}})
