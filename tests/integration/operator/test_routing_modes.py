"""Routing modes on a real apiserver with the minimal Gateway API and Istio CRDs installed: Istio without
its CRD is Degraded RoutingUnavailable until the CRD is served, then a VirtualService; the operator
restarted in Gateway mode makes an HTTPRoute and prunes the VirtualService; in Ingress mode an Ingress
and the HTTPRoute pruned. Each on a shared host, the server told its path prefix (MOUNT_PREFIX)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import yaml
from lgp_operator.k8s.kube import Kube

from .conftest import DATA, apply_spec, cond, get_cr, wait_for, wait_ready

CRDS = ("istio-virtualservice-crd.yaml", "gateway-httproute-crd.yaml")
SHARED = {"LGP_OPERATOR_SHARED_HOST": "agents.example.com", "LGP_OPERATOR_BASE_PATH": "/lgp"}
ROUTES = {
    "VirtualService": "networking.istio.io/v1",
    "HTTPRoute": "gateway.networking.k8s.io/v1",
    "Ingress": "networking.k8s.io/v1",
}


def _crd(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / name).read_text())


def _served(kube: Kube, api: str) -> bool:
    try:
        kube.request("GET", f"/apis/{api}")
    except Exception:
        return False
    return True


def _routes(kube: Kube, ns: str) -> dict[str, dict[str, Any]]:
    out = {}
    for kind, api in ROUTES.items():
        if _served(kube, api):
            for o in kube.list(api, kind, ns, "app.kubernetes.io/managed-by=lgp-operator"):
                out[kind] = o
    return out


def _mount_prefix(kube: Kube, ns: str) -> str | None:
    dep = kube.get("apps/v1", "Deployment", ns, "agent-api-server") or {}
    env = dep.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [{}])[0].get("env", [])
    return next((e.get("value") for e in env if e["name"] == "MOUNT_PREFIX"), None)


@pytest.fixture
def route_crds(kube: Kube):
    installed: list[str] = []
    yield installed
    crds = {_crd(name)["metadata"]["name"] for name in installed}
    for crd in crds:
        kube.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, crd)

    def gone() -> bool:  # the next test installs them again: not while they are still terminating
        return all(
            kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, c) is None for c in crds
        )

    wait_for(gone, 60, "the route CRDs deleted")


def test_one_route_kind_per_mode_and_the_others_pruned(
    operator_factory, kube, namespace, kubelet, route_crds
):
    lease = f"lgp-routing-{uuid.uuid4().hex[:6]}"
    common = {"LGP_OPERATOR_LEADER_ELECTION_NAME": lease, "LGP_OPERATOR_NAMESPACES": namespace, **SHARED}
    assert not _served(kube, ROUTES["VirtualService"]), "the Istio CRD must not be installed yet"

    istio = operator_factory(
        LGP_OPERATOR_ROUTING="istio", LGP_OPERATOR_ISTIO_GATEWAY="istio-system/public", **common
    ).start()
    apply_spec(kube, "agent", namespace, {"revision": {"id": "r1"}, "ingress": {"enabled": True}})

    def unavailable() -> dict[str, Any] | None:
        c = cond(get_cr(kube, "agent", namespace), "Degraded")
        return c if c.get("reason") == "RoutingUnavailable" else None

    degraded = wait_for(unavailable, 60, "Degraded=RoutingUnavailable without the Istio CRD")
    assert "LGP_OPERATOR_ROUTING" in degraded["message"] and "VirtualService" in degraded["message"]

    for name in CRDS:
        kube.apply(_crd(name))
        route_crds.append(name)
    wait_for(
        lambda: "VirtualService" in _routes(kube, namespace), 60, "a VirtualService once Istio is served"
    )
    cr = wait_ready(kube, "agent", namespace, "r1")
    assert cr["status"]["endpoint"] == f"http://agents.example.com/lgp/{namespace}/agent"
    vs = _routes(kube, namespace)["VirtualService"]
    assert vs["spec"]["gateways"] == ["istio-system/public"]
    assert vs["spec"]["http"][0]["match"] == [
        {"uri": {"exact": f"/lgp/{namespace}/agent"}},
        {"uri": {"prefix": f"/lgp/{namespace}/agent/"}},
    ]
    assert _mount_prefix(kube, namespace) == f"/lgp/{namespace}/agent"
    istio.stop()

    operator_factory(LGP_OPERATOR_ROUTING="gateway", LGP_OPERATOR_GATEWAY_NAME="public", **common).start()

    def only(kind: str) -> dict[str, Any] | None:
        routes = _routes(kube, namespace)
        return routes[kind] if set(routes) == {kind} else None

    route = wait_for(lambda: only("HTTPRoute"), 60, "an HTTPRoute, the VirtualService pruned")
    assert route["spec"]["parentRefs"][0]["name"] == "public"
    assert route["spec"]["hostnames"] == ["agents.example.com"]
    assert route["spec"]["rules"][0]["matches"][0]["path"] == {
        "type": "PathPrefix",
        "value": f"/lgp/{namespace}/agent",
    }
    assert route["metadata"]["ownerReferences"][0]["kind"] == "LangGraphPlatform"


def test_ingress_mode_prunes_routes_of_the_other_modes(
    operator_factory, kube, namespace, kubelet, route_crds
):
    for name in CRDS:
        kube.apply(_crd(name))
        route_crds.append(name)
    wait_for(lambda: all(_served(kube, ROUTES[k]) for k in ("VirtualService", "HTTPRoute")), 60, "route CRDs")
    lease = f"lgp-routing-{uuid.uuid4().hex[:6]}"
    common = {"LGP_OPERATOR_LEADER_ELECTION_NAME": lease, "LGP_OPERATOR_NAMESPACES": namespace}
    gateway = operator_factory(
        LGP_OPERATOR_ROUTING="gateway", LGP_OPERATOR_GATEWAY_NAME="gw", **common
    ).start()
    spec = {"revision": {"id": "r1"}, "ingress": {"enabled": True, "host": "agent.example.com"}}
    apply_spec(kube, "agent", namespace, spec)
    wait_for(lambda: set(_routes(kube, namespace)) == {"HTTPRoute"}, 60, "an HTTPRoute")
    assert _mount_prefix(kube, namespace) is None  # served at / of its own host
    gateway.stop()
    operator_factory(**common).start()  # the default mode: Ingress
    wait_for(lambda: set(_routes(kube, namespace)) == {"Ingress"}, 60, "an Ingress, the HTTPRoute pruned")
