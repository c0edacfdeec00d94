"""PodDisruptionBudget builder and when one is wanted."""

from __future__ import annotations

import pytest
from lgp_operator.builders.common import Capabilities
from lgp_operator.builders.pdb import build_pdb, wants_pdb

from .conftest import make_cr


@pytest.mark.parametrize(
    ("spec", "replicas", "wanted"),
    [
        ({}, 1, False),
        ({}, 2, True),
        ({"suspend": True}, 3, False),
        ({"autoscaling": {"enabled": True, "minReplicas": 1}}, 5, False),
        ({"autoscaling": {"enabled": True, "minReplicas": 2}}, 1, True),
    ],
)
def test_wants_pdb(spec, replicas, wanted):
    assert wants_pdb(make_cr(spec), replicas) is wanted


@pytest.mark.parametrize("api", ["policy/v1", "policy/v1beta1"])
def test_pdb_uses_the_served_version(settings, api):
    pdb = build_pdb(
        make_cr(),
        settings,
        deployment="demo-api-server",
        component="api-server",
        caps=Capabilities(pdb_api=api),
    )
    assert pdb["apiVersion"] == api
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "api-server"
