"""Where a resource is served from outside the cluster, and the route object the operator's routing mode
makes for it: an Ingress, a Gateway API HTTPRoute or an Istio VirtualService (one mode per operator,
``LGP_OPERATOR_ROUTING``).

A resource is served at ``spec.ingress.host`` + ``spec.ingress.path``; or, with the operator's shared host
and no host of its own, at ``<shared host><base path>/<namespace>/<name>``. Every route forwards the path
unchanged, and a server served under a path other than ``/`` is told its prefix (``MOUNT_PREFIX``): the
LangGraph server (langgraph-api 0.11.1, ``server.py``) then mounts every route under it and still answers
``/ok`` at the root for the probes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..settings import OperatorSettings
from .common import InvalidSpec, Platform, Unavailable, metadata


@dataclass(frozen=True)
class Route:
    host: str
    path: str
    https: bool


def route_of(cr: Platform, settings: OperatorSettings) -> Route:
    """Host and path of the resource (only meaningful with spec.ingress.enabled)."""
    ing = cr.spec.ingress
    https = ing.tls.enabled or settings.route_tls
    if ing.host:
        return Route(ing.host, ing.path, https)
    if settings.shared_host:
        return Route(settings.shared_host, f"{settings.base_path}/{cr.namespace}/{cr.name}", https)
    if settings.ingress_domain:
        return Route(f"{cr.name}-{cr.namespace}.{settings.ingress_domain}", ing.path, https)
    raise InvalidSpec(
        "spec.ingress.host: required when the operator has no LGP_OPERATOR_SHARED_HOST "
        "or LGP_OPERATOR_INGRESS_DOMAIN"
    )


def route_endpoint(cr: Platform, settings: OperatorSettings) -> str:
    r = route_of(cr, settings)
    return f"{'https' if r.https else 'http'}://{r.host}{r.path}"


def mount_prefix(cr: Platform, settings: OperatorSettings) -> str | None:
    """The path prefix the server must serve under (MOUNT_PREFIX), or None when served at /."""
    if not cr.spec.ingress.enabled:
        return None
    path = route_of(cr, settings).path.rstrip("/")
    return path or None


def route_metadata(cr: Platform, component: str = "ingress") -> dict[str, Any]:
    return metadata(cr, cr.name, component, annotations=cr.spec.ingress.annotations or None)


def served(api: str | None, kind: str, setting: str) -> str:
    if api is None:
        raise Unavailable(
            f"{setting}: this cluster serves no {kind} API; install its CRDs or change the routing mode"
        )
    return api
