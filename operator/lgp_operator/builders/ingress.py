"""The Ingress (networking.k8s.io/v1) of the ingress routing mode, and the endpoint a route gives."""

from __future__ import annotations

from typing import Any

from ..settings import OperatorSettings
from .common import PORT, InvalidSpec, Platform, service_name
from .routing import route_endpoint, route_metadata, route_of


def ingress_host(cr: Platform, settings: OperatorSettings) -> str:
    return route_of(cr, settings).host


def ingress_endpoint(cr: Platform, settings: OperatorSettings) -> str:
    return route_endpoint(cr, settings)


def _tls_secret(cr: Platform, settings: OperatorSettings) -> str | None:
    tls = cr.spec.ingress.tls
    if not tls.enabled:
        return None
    secret = tls.secret_name or settings.ingress_tls_secret
    if not secret:
        raise InvalidSpec(
            "spec.ingress.tls.secretName: required when the operator has no LGP_OPERATOR_INGRESS_TLS_SECRET"
        )
    return secret


def build_ingress(cr: Platform, settings: OperatorSettings) -> dict[str, Any]:
    ing = cr.spec.ingress
    r = route_of(cr, settings)
    backend = {"service": {"name": service_name(cr), "port": {"number": PORT}}}
    spec: dict[str, Any] = {
        "rules": [
            {
                "host": r.host,
                "http": {"paths": [{"path": r.path, "pathType": "Prefix", "backend": backend}]},
            }
        ],
    }
    class_name = ing.class_name or settings.ingress_class
    if class_name:
        spec["ingressClassName"] = class_name
    secret = _tls_secret(cr, settings)
    if secret:
        spec["tls"] = [{"hosts": [r.host], "secretName": secret}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": route_metadata(cr),
        "spec": spec,
    }
