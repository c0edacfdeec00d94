"""The api-server Service (port 8000, protocol written explicitly for server-side apply), and the server
pods' ServiceAccount when the operator makes one."""

from __future__ import annotations

from typing import Any

from lgp_contract import names

from ..settings import OperatorSettings
from .common import PORT, Platform, metadata, selector_labels, service_name


def build_service(cr: Platform, settings: OperatorSettings) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(cr, service_name(cr), "api-server"),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(cr, "api-server"),
            "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def build_service_account(cr: Platform, settings: OperatorSettings) -> dict[str, Any]:
    """The server pods' own ServiceAccount (spec.serviceAccount.create), e.g. for workload identity."""
    sa = cr.spec.service_account
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(
            cr, names.service_account_name(cr.name), "server", annotations=sa.annotations or None
        ),
    }


def cluster_endpoint(cr: Platform) -> str:
    """The in-cluster URL, the endpoint when there is no Ingress."""
    return f"http://{service_name(cr)}.{cr.namespace}.svc:{PORT}"
