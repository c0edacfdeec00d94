"""The NetworkPolicies that fence a deployment in: who may reach its Postgres, Redis and server pods."""

from __future__ import annotations

from typing import Any

import pytest
from lgp_operator.builders.networkpolicy import build_network_policies

from lgp_contract.resource import NetworkPeer

from .conftest import make_cr


def pods(component: str) -> dict[str, Any]:
    return {
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/name": "langgraph",
                "app.kubernetes.io/instance": "demo",
                "app.kubernetes.io/component": component,
            }
        }
    }


def by_name(spec: dict[str, Any], settings: Any) -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p["spec"] for p in build_network_policies(make_cr(spec), settings)}


EXTERNAL = {
    "database": {"external": {"secretRef": {"name": "pg"}}},
    "redis": {"external": {"secretRef": {"name": "r"}}},
}


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ({}, {"demo-api-server", "demo-postgres", "demo-redis"}),
        ({"queue": {"enabled": True}}, {"demo-api-server", "demo-queue", "demo-postgres", "demo-redis"}),
        (EXTERNAL, {"demo-api-server"}),
        ({"security": {"networkPolicy": {"enabled": False}}}, set()),
    ],
)
def test_one_policy_per_workload(settings, spec, names):
    policies = build_network_policies(make_cr(spec), settings)
    assert {p["metadata"]["name"] for p in policies} == names
    for p in policies:
        assert p["apiVersion"] == "networking.k8s.io/v1" and p["kind"] == "NetworkPolicy"
        assert p["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
        component = p["metadata"]["labels"]["app.kubernetes.io/component"]
        assert p["spec"]["podSelector"] == pods(component)["podSelector"]


def test_backing_services_only_from_the_deployments_own_servers(settings):
    policies = by_name({"queue": {"enabled": True}}, settings)
    for name, port in (("demo-postgres", 5432), ("demo-redis", 6379)):
        spec = policies[name]
        assert spec["policyTypes"] == ["Ingress", "Egress"] and "egress" not in spec  # they dial nobody
        assert spec["ingress"] == [
            {"ports": [{"protocol": "TCP", "port": port}], "from": [pods("api-server"), pods("queue")]}
        ]
    # without queue workers, only the api server
    assert by_name({}, settings)["demo-redis"]["ingress"][0]["from"] == [pods("api-server")]


def test_database_peers_from_the_operator_settings(settings):
    reporter = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "lgp-system"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/component": "usage-reporter"}},
    }
    settings.database_peers = [NetworkPeer.model_validate(reporter)]
    policies = by_name({}, settings)
    assert policies["demo-postgres"]["ingress"][0]["from"] == [pods("api-server"), reporter]
    assert policies["demo-redis"]["ingress"][0]["from"] == [pods("api-server")]  # Redis: the servers only


@pytest.mark.parametrize(
    ("ingress_from", "rule"),
    [
        ([], {"ports": [{"protocol": "TCP", "port": 8000}]}),  # anyone
        (
            [
                {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.9.0.0/16"]}},
                {"namespaceSelector": {"matchLabels": {"n": "ingress"}}},
            ],
            {
                "ports": [{"protocol": "TCP", "port": 8000}],
                "from": [
                    {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.9.0.0/16"]}},
                    {"namespaceSelector": {"matchLabels": {"n": "ingress"}}},
                ],
            },
        ),
    ],
)
def test_server_ingress_narrowable(settings, ingress_from, rule):
    policies = by_name(
        {"queue": {"enabled": True}, "security": {"networkPolicy": {"ingressFrom": ingress_from}}}, settings
    )
    assert policies["demo-api-server"]["policyTypes"] == ["Ingress"]  # the server may call out (LLMs, ...)
    assert policies["demo-api-server"]["ingress"] == [rule]
    # queue workers serve only /ok and /metrics: port 8000 from anyone, nothing else
    assert policies["demo-queue"]["ingress"] == [{"ports": [{"protocol": "TCP", "port": 8000}]}]


def test_settings_read_database_peers_as_json(monkeypatch, settings):
    from lgp_operator.settings import OperatorSettings

    monkeypatch.setenv("LGP_OPERATOR_DATABASE_PEERS", '[{"podSelector": {"matchLabels": {"a": "b"}}}]')
    assert [p.wire() for p in OperatorSettings().database_peers] == [
        {"podSelector": {"matchLabels": {"a": "b"}}}
    ]
    monkeypatch.setenv("LGP_OPERATOR_DATABASE_PEERS", '[{"ipBlock": {"cidr": "nope"}}]')
    with pytest.raises(ValueError, match="database_peers"):
        OperatorSettings()
