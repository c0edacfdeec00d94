"""The chart's security: every pod restricted by default (the operator's Pod Security Standards check),
security contexts overridable per component, CPU and memory limits and probes on every container, the
service-account token only in the pods that call the Kubernetes API, and the NetworkPolicies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lgp_operator.podsecurity import check_pod

from .conftest import CHART_DIR, CI_VALUES, Rendered, load_values

FULL = CHART_DIR / "ci" / "full-values.yaml"
CALLS_THE_API = {"lgp-listener", "lgp-operator", "lgp-usage-reporter"}


def pods(rendered: Rendered) -> dict[str, dict[str, Any]]:
    """name -> pod spec of every workload and bare pod the chart renders."""
    out = {}
    for o in rendered.objects:
        if o["kind"] in ("Deployment", "StatefulSet"):
            out[o["metadata"]["name"]] = o["spec"]["template"]["spec"]
        elif o["kind"] == "Pod":
            out[o["metadata"]["name"]] = o["spec"]
    return out


@pytest.mark.parametrize("values_file", CI_VALUES, ids=[p.stem for p in CI_VALUES])
def test_every_pod_is_restricted_with_limits_probes_and_a_token_only_where_needed(render, values_file):
    rendered = render(load_values(values_file))
    for name, pod in pods(rendered).items():
        assert check_pod(pod) == [], name
        assert pod["automountServiceAccountToken"] is (name in CALLS_THE_API), name
        for c in pod.get("initContainers", []) + pod["containers"]:
            limits = c["resources"]["limits"]
            assert {"cpu", "memory"} <= set(limits), f"{name}/{c['name']}: limits {limits}"
            assert c["securityContext"]["readOnlyRootFilesystem"] is True, f"{name}/{c['name']}"
        if name != "lgp-test-ready":  # the `helm test` pod runs once to completion
            for c in pod["containers"]:
                assert "livenessProbe" in c and "readinessProbe" in c, f"{name}/{c['name']}"


def test_operator_probes_and_health_port(render):
    rendered = render(load_values(FULL))
    c = rendered.container("lgp-operator")
    assert rendered.env("lgp-operator")["LGP_OPERATOR_HEALTH_PORT"] == "8081"
    assert c["ports"] == [{"name": "http", "containerPort": 8081, "protocol": "TCP"}]
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


@pytest.mark.parametrize(
    ("values", "deployment", "pod_want", "container_want"),
    [
        (
            {"operator": {"securityContext": {"readOnlyRootFilesystem": False}}},
            "lgp-operator",
            {"runAsUser": 10001, "runAsNonRoot": True},
            {"readOnlyRootFilesystem": False, "allowPrivilegeEscalation": False},
        ),
        (
            {"controlPlane": {"podSecurityContext": {"runAsUser": 20000, "fsGroup": 20000}}},
            "lgp-control-plane",
            {"runAsUser": 20000, "fsGroup": 20000, "runAsGroup": 10001},
            {"capabilities": {"drop": ["ALL"]}},
        ),
        (  # null drops a default key
            {"listener": {"podSecurityContext": {"runAsGroup": None}}},
            "lgp-listener",
            {"runAsUser": 10001},
            {"readOnlyRootFilesystem": True},
        ),
    ],
)
def test_security_contexts_are_merged_over_the_defaults(render, values, deployment, pod_want, container_want):
    base = load_values(FULL)
    for key, sub in values.items():
        base[key] = {**base.get(key, {}), **sub}
    rendered = render(base)
    pod = rendered.get("Deployment", deployment)["spec"]["template"]["spec"]
    assert pod_want.items() <= pod["securityContext"].items()
    assert container_want.items() <= rendered.container(deployment)["securityContext"].items()
    if deployment == "lgp-listener":
        assert "runAsGroup" not in pod["securityContext"]


def test_a_below_restricted_override_is_visible_to_the_check(render):
    base = load_values(FULL)
    base["operator"] = {
        **base.get("operator", {}),
        "podSecurityContext": {"runAsUser": 0, "runAsNonRoot": False},
    }
    pod = pods(render(base))["lgp-operator"]
    assert {v.path for v in check_pod(pod)} == {"securityContext.runAsUser", "securityContext.runAsNonRoot"}


def policies(rendered: Rendered) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o["spec"] for o in rendered.of_kind("NetworkPolicy")}


def selects(spec: dict[str, Any]) -> str:
    return spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"]


def test_network_policies(render):
    rendered = render(load_values(FULL))
    got = policies(rendered)
    # one per component, each selecting exactly that component's pods
    assert set(got) == {
        "lgp-control-plane",
        "lgp-postgres",
        "lgp-test-ready",
        "lgp-listener",
        "lgp-operator",
        "lgp-usage-reporter",
    }
    assert all(selects(spec) == name.removeprefix("lgp-") for name, spec in got.items())
    pg = got["lgp-postgres"]
    assert pg["policyTypes"] == ["Ingress", "Egress"] and pg["egress"] == []
    assert [selects(p) for p in pg["ingress"][0]["from"]] == ["control-plane"]
    assert pg["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]
    assert got["lgp-control-plane"]["ingress"] == [{"ports": [{"protocol": "TCP", "port": 8080}]}]  # anyone
    assert got["lgp-test-ready"]["ingress"] == []
    for name, ports in (
        ("lgp-listener", [9090]),
        ("lgp-operator", [8081]),
        ("lgp-usage-reporter", [9108, 9109]),
    ):
        assert got[name] == {**got[name], "policyTypes": ["Ingress"]}
        assert got[name]["ingress"] == [{"ports": [{"protocol": "TCP", "port": p} for p in ports]}]


def test_control_plane_ingress_narrowed_keeps_the_releases_own_clients(render):
    base = load_values(FULL)
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    base["controlPlane"] = {**base["controlPlane"], "networkPolicy": {"ingressFrom": [peer]}}
    sources = policies(render(base))["lgp-control-plane"]["ingress"][0]["from"]
    assert sources[0] == peer
    assert [selects(p) for p in sources[1:]] == ["listener", "usage-reporter", "test-ready"]


def test_network_policies_can_be_turned_off(render):
    base = load_values(FULL)
    base["networkPolicy"] = {"enabled": False}
    assert policies(render(base)) == {}


@pytest.mark.parametrize(("reporter", "first"), [(True, "usage-reporter"), (False, None)])
def test_database_peers_given_to_the_operator(render, reporter, first):
    base = load_values(FULL)
    base["usageReporter"] = {**base.get("usageReporter", {}), "enabled": reporter}
    peers = json.loads(render(base).env("lgp-operator")["LGP_OPERATOR_DATABASE_PEERS"])
    keda = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "keda-operator"}},
    }
    assert peers[-1] == keda
    if first:
        assert peers[0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "lgp-system"}}
        assert selects(peers[0]) == first
    else:
        assert peers == [keda]


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"operator": {"securityContext": {"privilegd": True}}}, "privilegd"),
        ({"postgres": {"podSecurityContext": {"runAsUser": -1}}}, "runAsUser"),
        ({"controlPlane": {"networkPolicy": {"ingressFrom": [{"ipBlock": {"cidr": "nope"}}]}}}, "cidr"),
        ({"networkPolicy": {"enabled": "yes"}}, "networkPolicy"),
    ],
)
def test_schema_refuses_bad_security_values(chart, values, words):
    from helm_python.errors import HelmValuesError

    with pytest.raises(HelmValuesError, match=words):
        chart.validate_schema(values)
