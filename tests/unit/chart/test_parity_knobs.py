"""Chart knobs LangGraph Platform's own charts have: the operator's routing mode (env, required values,
the schema refusing a mode without its gateway), its /metrics Service and ServiceMonitor, a CA bundle
mounted and trusted by every component, dnsConfig (global and per component), priorityClassName,
topology spread, extra volumes and mounts, and a PDB and an HPA for the control plane."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import CHART_DIR, NAMESPACE, load_values

PARITY = load_values(CHART_DIR / "ci" / "parity-values.yaml")
COMPONENTS = ["lgp-control-plane", "lgp-listener", "lgp-operator", "lgp-usage-reporter"]


def _pod(rendered: Any, name: str) -> dict[str, Any]:
    return rendered.get("Deployment", name)["spec"]["template"]["spec"]


def test_the_operator_gets_its_routing_settings(render: Any) -> None:
    env = render(PARITY).env("lgp-operator")
    assert env["LGP_OPERATOR_ROUTING"] == "gateway"
    assert env["LGP_OPERATOR_GATEWAY_NAME"] == "public"
    assert env["LGP_OPERATOR_GATEWAY_NAMESPACE"] == "gateway-system"
    assert env["LGP_OPERATOR_SHARED_HOST"] == "agents.example.com"
    assert env["LGP_OPERATOR_BASE_PATH"] == "/lgp"
    assert env["LGP_OPERATOR_ROUTE_TLS"] == "true"
    assert "LGP_OPERATOR_ISTIO_GATEWAY" not in env
    default = render({}).env("lgp-operator")
    assert default["LGP_OPERATOR_ROUTING"] == "ingress" and "LGP_OPERATOR_GATEWAY_NAME" not in default


def test_the_chart_settings_are_ones_the_operator_reads(render: Any, from_env: Any) -> None:
    from lgp_operator.settings import OperatorSettings

    env = {k: v for k, v in render(PARITY).env("lgp-operator").items() if isinstance(v, str)}
    settings = from_env(OperatorSettings, env)
    assert (settings.routing, settings.gateway_name, settings.base_path) == ("gateway", "public", "/lgp")
    assert settings.route_tls is True and settings.cluster_domain == "cluster.local"


@pytest.mark.parametrize(
    ("routing", "error"),
    [
        ({"mode": "gateway"}, "gateway"),
        ({"mode": "istio"}, "istioGateway"),
        ({"mode": "traefik"}, "mode"),
        ({"basePath": "lgp/"}, "basePath"),
    ],
)
def test_the_schema_refuses_a_mode_without_its_gateway(
    render: Any, routing: dict[str, Any], error: str
) -> None:
    with pytest.raises(Exception, match=error):
        render({"operator": {"routing": routing}})


def test_metrics_service_and_service_monitor(render: Any) -> None:
    assert not render({}).has("Service", "lgp-operator-metrics")
    rendered = render(
        {"operator": {"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "kps"}}}}}
    )
    service = rendered.get("Service", "lgp-operator-metrics")
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 8081, "targetPort": "http", "protocol": "TCP"}
    ]
    pod_labels = rendered.get("Deployment", "lgp-operator")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    monitor = rendered.get("ServiceMonitor", "lgp-operator")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kps"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}


@pytest.mark.parametrize("deployment", COMPONENTS)
def test_every_component_trusts_the_ca_bundle_and_takes_the_pod_knobs(render: Any, deployment: str) -> None:
    rendered = render(PARITY)
    pod = _pod(rendered, deployment)
    container = pod["containers"][0]
    assert {
        "name": "ca-bundle",
        "configMap": {"name": "corp-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]},
    } in pod["volumes"]
    assert {"name": "ca-bundle", "mountPath": "/etc/lgp/ca", "readOnly": True} in container["volumeMounts"]
    env = rendered.env(deployment)
    assert env["SSL_CERT_FILE"] == env["REQUESTS_CA_BUNDLE"] == "/etc/lgp/ca/ca.crt"
    ndots = "1" if deployment == "lgp-operator" else "2"  # its own wins over global.dnsConfig
    assert pod["dnsConfig"] == {"options": [{"name": "ndots", "value": ndots}]}
    plain = _pod(render({"listener": PARITY["listener"], "usageReporter": {"enabled": True}}), deployment)
    assert "dnsConfig" not in plain and not any(v["name"] == "ca-bundle" for v in plain["volumes"])


def test_priority_topology_and_extra_volumes(render: Any) -> None:
    rendered = render(PARITY)
    cp = _pod(rendered, "lgp-control-plane")
    assert cp["priorityClassName"] == "lgp-control-plane"
    assert cp["topologySpreadConstraints"] == PARITY["controlPlane"]["topologySpreadConstraints"]
    assert {"name": "scratch", "emptyDir": {}} in cp["volumes"]
    assert {"name": "scratch", "mountPath": "/scratch"} in cp["containers"][0]["volumeMounts"]
    assert _pod(rendered, "lgp-operator")["priorityClassName"] == "system-cluster-critical"
    assert "priorityClassName" not in _pod(rendered, "lgp-listener")


def test_control_plane_pdb_and_hpa_replace_replicas(render: Any) -> None:
    rendered = render(PARITY)
    assert "replicas" not in rendered.get("Deployment", "lgp-control-plane")["spec"]
    pdb = rendered.get("PodDisruptionBudget", "lgp-control-plane")
    assert pdb["spec"]["minAvailable"] == 1
    hpa = rendered.get("HorizontalPodAutoscaler", "lgp-control-plane")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu", "memory"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "lgp-control-plane"
    default = render({})
    assert default.get("Deployment", "lgp-control-plane")["spec"]["replicas"] == 1
    assert not default.has("PodDisruptionBudget", "lgp-control-plane")
    assert not default.has("HorizontalPodAutoscaler", "lgp-control-plane")
