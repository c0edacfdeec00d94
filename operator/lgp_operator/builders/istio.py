"""An Istio VirtualService (networking.istio.io v1, v1beta1 or v1alpha3, as served) bound to the operator's
Istio Gateway, forwarding the resource's host and path to the api-server Service."""

from __future__ import annotations

from typing import Any

from ..settings import OperatorSettings
from .common import PORT, Capabilities, Platform, service_name
from .routing import route_metadata, route_of, served


def build_virtual_service(cr: Platform, settings: OperatorSettings, caps: Capabilities) -> dict[str, Any]:
    api = served(caps.virtual_service_api, "VirtualService (networking.istio.io)", "LGP_OPERATOR_ROUTING")
    r = route_of(cr, settings)
    path = r.path.rstrip("/")
    # Istio's uri prefix is a plain string prefix: /agents/ns/a would also match /agents/ns/ab. So the
    # path itself and everything under it, never a longer name.
    matches = (
        [{"uri": {"exact": path}}, {"uri": {"prefix": path + "/"}}] if path else [{"uri": {"prefix": "/"}}]
    )
    destination = {
        "host": f"{service_name(cr)}.{cr.namespace}.svc.{settings.cluster_domain}",
        "port": {"number": PORT},
    }
    return {
        "apiVersion": api,
        "kind": "VirtualService",
        "metadata": route_metadata(cr),
        "spec": {
            "hosts": [r.host],
            "gateways": [settings.istio_gateway],
            "http": [{"match": matches, "route": [{"destination": destination}]}],
        },
    }
