"""The api-server Service builder."""

from __future__ import annotations

from lgp_operator.builders.service import build_service, cluster_endpoint

from .conftest import make_cr


def test_service_selects_api_server_pods_with_explicit_tcp(settings):
    svc = build_service(make_cr(), settings)
    assert svc["metadata"]["name"] == "demo"
    assert svc["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http", "protocol": "TCP"}]
    assert svc["spec"]["selector"]["app.kubernetes.io/component"] == "api-server"
    assert cluster_endpoint(make_cr()) == "http://demo.ns.svc:8000"
