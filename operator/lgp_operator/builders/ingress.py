"""The Ingress (networking.k8s.io/v1) and the endpoint URL it gives."""

from __future__ import annotations

from typing import Any

from ..settings import OperatorSettings
from .common import PORT, InvalidSpec, Platform, metadata, service_name


def ingress_host(cr: Platform, settings: OperatorSettings) -> str:
    ing = cr.spec.ingress
    if ing.host:
        return ing.host
    if settings.ingress_domain:
        return f"{cr.name}-{cr.namespace}.{settings.ingress_domain}"
    raise InvalidSpec("spec.ingress.host: required when the operator has no LGP_OPERATOR_INGRESS_DOMAIN")


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


def ingress_endpoint(cr: Platform, settings: OperatorSettings) -> str:
    scheme = "https" if cr.spec.ingress.tls.enabled else "http"
    return f"{scheme}://{ingress_host(cr, settings)}{cr.spec.ingress.path}"


def build_ingress(cr: Platform, settings: OperatorSettings) -> dict[str, Any]:
    ing = cr.spec.ingress
    host = ingress_host(cr, settings)
    spec: dict[str, Any] = {
        "rules": [
            {
                "host": host,
                "http": {
                    "paths": [
                        {
                            "path": ing.path,
                            "pathType": "Prefix",
                            "backend": {"service": {"name": service_name(cr), "port": {"number": PORT}}},
                        }
                    ]
                },
            }
        ],
    }
    class_name = ing.class_name or settings.ingress_class
    if class_name:
        spec["ingressClassName"] = class_name
    secret = _tls_secret(cr, settings)
    if secret:
        spec["tls"] = [{"hosts": [host], "secretName": secret}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(cr, cr.name, "ingress", annotations=ing.annotations or None),
        "spec": spec,
    }
