"""The Ingress builder and the endpoint it gives."""

from __future__ import annotations

import pytest
from lgp_operator.builders.common import InvalidSpec
from lgp_operator.builders.ingress import build_ingress, ingress_endpoint

from .conftest import make_cr


@pytest.mark.parametrize(
    ("ingress", "env", "host", "endpoint", "tls"),
    [
        (
            {"enabled": True, "host": "agent.example.com"},
            {},
            "agent.example.com",
            "http://agent.example.com/",
            None,
        ),
        (
            {"enabled": True},
            {"ingress_domain": "apps.example.com"},
            "demo-ns.apps.example.com",
            "http://demo-ns.apps.example.com/",
            None,
        ),
        (
            {
                "enabled": True,
                "host": "a.example.com",
                "path": "/agent",
                "tls": {"enabled": True, "secretName": "tls"},
            },
            {},
            "a.example.com",
            "https://a.example.com/agent",
            "tls",
        ),
        (
            {"enabled": True, "host": "a.example.com", "tls": {"enabled": True}},
            {"ingress_tls_secret": "wild"},
            "a.example.com",
            "https://a.example.com/",
            "wild",
        ),
    ],
)
def test_ingress(settings, ingress, env, host, endpoint, tls):
    for k, v in env.items():
        setattr(settings, k, v)
    cr = make_cr({"ingress": ingress})
    ing = build_ingress(cr, settings)
    rule = ing["spec"]["rules"][0]
    assert rule["host"] == host
    assert rule["http"]["paths"][0]["backend"] == {"service": {"name": "demo", "port": {"number": 8000}}}
    assert ingress_endpoint(cr, settings) == endpoint
    assert (ing["spec"].get("tls") or [{}])[0].get("secretName") == tls


def test_class_and_annotations(settings):
    settings.ingress_class = "nginx"
    ing = build_ingress(
        make_cr({"ingress": {"enabled": True, "host": "a.example.com", "annotations": {"a/b": "c"}}}),
        settings,
    )
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert ing["metadata"]["annotations"] == {"a/b": "c"}
    own = build_ingress(
        make_cr({"ingress": {"enabled": True, "host": "a.example.com", "className": "traefik"}}), settings
    )
    assert own["spec"]["ingressClassName"] == "traefik"


@pytest.mark.parametrize(
    ("ingress", "field"),
    [
        ({"enabled": True}, "spec.ingress.host"),
        ({"enabled": True, "host": "a.example.com", "tls": {"enabled": True}}, "spec.ingress.tls.secretName"),
    ],
)
def test_missing_defaults_are_invalid_specs(settings, ingress, field):
    with pytest.raises(InvalidSpec, match=field):
        build_ingress(make_cr({"ingress": ingress}), settings)
