"""Routing: where a resource is served (own host, shared host under a base path, the default domain), the
endpoint, the prefix the server is told (MOUNT_PREFIX), and the one route object each routing mode makes
(Ingress, Gateway API HTTPRoute, Istio VirtualService), or RoutingUnavailable where its API is not served."""

from __future__ import annotations

import pytest
from lgp_operator.builders.common import NEWEST, Capabilities, InvalidSpec, Unavailable
from lgp_operator.builders.deployment import build_api_server_deployment, build_queue_deployment
from lgp_operator.builders.desired import build_desired, build_route
from lgp_operator.builders.routing import mount_prefix, route_endpoint, route_of

from .conftest import make_cr

ON = {"enabled": True}


@pytest.mark.parametrize(
    ("ingress", "env", "host", "path", "endpoint", "prefix"),
    [
        ({**ON, "host": "a.example.com"}, {}, "a.example.com", "/", "http://a.example.com/", None),
        (
            {**ON, "host": "a.example.com", "path": "/agent/"},
            {},
            "a.example.com",
            "/agent/",
            "http://a.example.com/agent/",
            "/agent",
        ),
        (ON, {"ingress_domain": "apps.example.com"}, "demo-ns.apps.example.com", "/", None, None),
        (
            ON,
            {"shared_host": "agents.example.com", "base_path": "/lgp"},
            "agents.example.com",
            "/lgp/ns/demo",
            "http://agents.example.com/lgp/ns/demo",
            "/lgp/ns/demo",
        ),
        (
            ON,
            {"shared_host": "agents.example.com", "route_tls": True},
            "agents.example.com",
            "/ns/demo",
            "https://agents.example.com/ns/demo",
            "/ns/demo",
        ),
        (  # a host of its own wins over the shared host
            {**ON, "host": "own.example.com", "tls": {"enabled": True, "secretName": "t"}},
            {"shared_host": "agents.example.com"},
            "own.example.com",
            "/",
            "https://own.example.com/",
            None,
        ),
    ],
)
def test_where_a_resource_is_served(settings, ingress, env, host, path, endpoint, prefix):
    for k, v in env.items():
        setattr(settings, k, v)
    cr = make_cr({"ingress": ingress})
    r = route_of(cr, settings)
    assert (r.host, r.path) == (host, path)
    if endpoint:
        assert route_endpoint(cr, settings) == endpoint
    assert mount_prefix(cr, settings) == prefix


def test_no_host_anywhere_is_an_invalid_spec_naming_the_field(settings):
    with pytest.raises(InvalidSpec, match=r"spec\.ingress\.host"):
        route_of(make_cr({"ingress": ON}), settings)


def test_mount_prefix_only_when_routed(settings):
    settings.shared_host = "agents.example.com"
    assert mount_prefix(make_cr({"ingress": {"enabled": False}}), settings) is None


def _env(dep):
    return {e["name"]: e.get("value") for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_both_server_deployments_are_told_the_prefix_and_a_user_variable_wins(settings):
    settings.shared_host = "agents.example.com"
    settings.base_path = "/lgp"
    cr = make_cr({"ingress": ON, "queue": {"enabled": True}})
    assert _env(build_api_server_deployment(cr, settings))["MOUNT_PREFIX"] == "/lgp/ns/demo"
    assert _env(build_queue_deployment(cr, settings))["MOUNT_PREFIX"] == "/lgp/ns/demo"
    own = make_cr({"ingress": ON, "env": [{"name": "MOUNT_PREFIX", "value": ""}]})
    assert _env(build_api_server_deployment(own, settings))["MOUNT_PREFIX"] == ""
    plain = make_cr({"ingress": {**ON, "host": "a.example.com"}})
    assert "MOUNT_PREFIX" not in _env(build_api_server_deployment(plain, settings))


@pytest.mark.parametrize(
    ("mode", "env", "kind", "api"),
    [
        ("ingress", {}, "Ingress", "networking.k8s.io/v1"),
        ("gateway", {"gateway_name": "public"}, "HTTPRoute", "gateway.networking.k8s.io/v1"),
        ("istio", {"istio_gateway": "istio-system/public"}, "VirtualService", "networking.istio.io/v1"),
    ],
)
def test_each_mode_makes_exactly_one_route_kind(settings, mode, env, kind, api):
    settings.routing = mode
    for k, v in env.items():
        setattr(settings, k, v)
    spec = {"ingress": {**ON, "host": "a.example.com"}}
    kinds = {o["kind"] for o in build_desired(make_cr(spec), settings, NEWEST, postgres_password="p").objects}
    routes = kinds & {"Ingress", "HTTPRoute", "VirtualService"}
    assert routes == {kind}
    assert build_route(make_cr(spec), settings)["apiVersion"] == api


def test_http_route_on_the_gateway(settings):
    settings.routing, settings.gateway_name = "gateway", "public"
    settings.gateway_namespace, settings.gateway_section_name = "gw", "https"
    settings.shared_host, settings.base_path = "agents.example.com", "/lgp"
    cr = make_cr({"ingress": {**ON, "annotations": {"a/b": "c"}}, "labels": {"team": "x"}})
    route = build_route(cr, settings, Capabilities(http_route_api="gateway.networking.k8s.io/v1beta1"))
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1beta1"
    assert route["metadata"]["name"] == "demo" and route["metadata"]["annotations"] == {"a/b": "c"}
    assert route["metadata"]["labels"]["team"] == "x"
    assert route["spec"] == {
        "parentRefs": [{"name": "public", "namespace": "gw", "sectionName": "https"}],
        "hostnames": ["agents.example.com"],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/lgp/ns/demo"}}],
                "backendRefs": [{"name": "demo", "port": 8000}],
            }
        ],
    }


@pytest.mark.parametrize(
    ("ingress", "env", "matches"),
    [
        ({**ON, "host": "a.example.com"}, {}, [{"uri": {"prefix": "/"}}]),
        (  # a plain string prefix would also match /lgp/ns/demo2: the path exactly, or under it
            ON,
            {"shared_host": "agents.example.com", "base_path": "/lgp"},
            [{"uri": {"exact": "/lgp/ns/demo"}}, {"uri": {"prefix": "/lgp/ns/demo/"}}],
        ),
    ],
)
def test_virtual_service_matches_whole_path_segments(settings, ingress, env, matches):
    settings.routing, settings.istio_gateway, settings.cluster_domain = "istio", "istio-system/gw", "c.local"
    for k, v in env.items():
        setattr(settings, k, v)
    vs = build_route(make_cr({"ingress": ingress}), settings)
    http = vs["spec"]["http"]
    assert vs["spec"]["gateways"] == ["istio-system/gw"]
    assert http == [
        {
            "match": matches,
            "route": [{"destination": {"host": "demo.ns.svc.c.local", "port": {"number": 8000}}}],
        }
    ]


@pytest.mark.parametrize(
    ("mode", "env", "caps"),
    [
        ("gateway", {"gateway_name": "g"}, Capabilities(http_route_api=None)),
        ("istio", {"istio_gateway": "ns/g"}, Capabilities(virtual_service_api=None)),
    ],
)
def test_a_mode_whose_api_is_not_served_is_routing_unavailable(settings, mode, env, caps):
    settings.routing = mode
    for k, v in env.items():
        setattr(settings, k, v)
    with pytest.raises(Unavailable, match="LGP_OPERATOR_ROUTING") as e:
        build_desired(make_cr({"ingress": {**ON, "host": "a.example.com"}}), settings, caps)
    assert e.value.reason == "RoutingUnavailable"


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"LGP_OPERATOR_ROUTING": "gateway"}, "LGP_OPERATOR_GATEWAY_NAME"),
        ({"LGP_OPERATOR_ROUTING": "istio"}, "LGP_OPERATOR_ISTIO_GATEWAY"),
        ({"LGP_OPERATOR_ROUTING": "traefik"}, "routing"),
        ({"LGP_OPERATOR_BASE_PATH": "lgp/"}, "base_path"),
    ],
)
def test_bad_routing_settings_stop_the_operator_with_the_setting_named(settings, monkeypatch, env, error):
    from lgp_operator.settings import OperatorSettings
    from pydantic import ValidationError

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ValidationError, match=error):
        OperatorSettings()
