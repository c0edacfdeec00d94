"""A Gateway API HTTPRoute (gateway.networking.k8s.io v1, or v1beta1 where only that is served) on the
operator's Gateway, forwarding the resource's host and path prefix to the api-server Service."""

from __future__ import annotations

from typing import Any

from ..settings import OperatorSettings
from .common import PORT, Capabilities, Platform, service_name
from .routing import route_metadata, route_of, served


def build_http_route(cr: Platform, settings: OperatorSettings, caps: Capabilities) -> dict[str, Any]:
    api = served(caps.http_route_api, "HTTPRoute (gateway.networking.k8s.io)", "LGP_OPERATOR_ROUTING")
    r = route_of(cr, settings)
    parent: dict[str, Any] = {"name": settings.gateway_name}
    if settings.gateway_namespace:
        parent["namespace"] = settings.gateway_namespace
    if settings.gateway_section_name:
        parent["sectionName"] = settings.gateway_section_name
    return {
        "apiVersion": api,
        "kind": "HTTPRoute",
        "metadata": route_metadata(cr),
        "spec": {
            "parentRefs": [parent],
            "hostnames": [r.host],
            "rules": [
                {
                    # PathPrefix matches whole path segments: /agents/ns/a does not match /agents/ns/ab.
                    "matches": [{"path": {"type": "PathPrefix", "value": r.path}}],
                    "backendRefs": [{"name": service_name(cr), "port": PORT}],
                }
            ],
        },
    }
