"""NetworkPolicies that fence a deployment in: its Postgres and Redis accept connections only from its
own api-server and queue pods (and, for Postgres, the peers the operator is configured with: the usage
reporter and KEDA's operator read the database) and make none; the server pods accept connections on
port 8000 only, from ``spec.security.networkPolicy.ingressFrom`` (anyone when empty). Queue workers
serve only /ok and /metrics, to anyone.

A NetworkPolicy is only as good as the cluster's network plugin: where none enforces it (the local
node's bridge, for one) these objects change nothing.
"""

from __future__ import annotations

from typing import Any

from ..settings import OperatorSettings
from .common import PORT, Platform, api_server_name, metadata, postgres_name, queue_name, redis_name
from .common import selector_labels as pods_of
from .postgres import PG_PORT
from .redis import REDIS_PORT

API = "networking.k8s.io/v1"


def _policy(
    cr: Platform,
    name: str,
    component: str,
    *,
    port: int,
    sources: list[dict[str, Any]] | None,
    no_egress: bool = False,
) -> dict[str, Any]:
    """Ingress to ``port`` of the component's pods from ``sources`` (None: from anywhere); with
    ``no_egress`` the pods may open no connection at all."""
    rule: dict[str, Any] = {"ports": [{"protocol": "TCP", "port": port}]}
    if sources is not None:
        rule["from"] = sources
    # Egress in policyTypes with no egress rule denies every connection out (an empty egress list is
    # not stored by the apiserver: leaving it out keeps a no-change resync free of writes).
    spec: dict[str, Any] = {
        "podSelector": {"matchLabels": pods_of(cr, component)},
        "policyTypes": ["Ingress", "Egress"] if no_egress else ["Ingress"],
        "ingress": [rule],
    }
    return {
        "apiVersion": API,
        "kind": "NetworkPolicy",
        "metadata": metadata(cr, name, component),
        "spec": spec,
    }


def build_network_policies(cr: Platform, settings: OperatorSettings) -> list[dict[str, Any]]:
    spec = cr.spec
    policy = spec.security.network_policy
    if not policy.enabled:
        return []
    servers = ["api-server", "queue"] if spec.queue.enabled else ["api-server"]
    own = [{"podSelector": {"matchLabels": pods_of(cr, c)}} for c in servers]
    peers = [p.wire() for p in policy.ingress_from]
    out = [_policy(cr, api_server_name(cr), "api-server", port=PORT, sources=peers or None)]
    if spec.queue.enabled:
        out.append(_policy(cr, queue_name(cr), "queue", port=PORT, sources=None))
    if spec.database.managed is not None:
        readers = own + [p.wire() for p in settings.database_peers]
        out.append(_policy(cr, postgres_name(cr), "postgres", port=PG_PORT, sources=readers, no_egress=True))
    if spec.redis.managed is not None:
        out.append(_policy(cr, redis_name(cr), "redis", port=REDIS_PORT, sources=own, no_egress=True))
    return out
