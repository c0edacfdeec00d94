"""The verbs the operator needs, derived from what it really calls: an in-process reconcile on the
apiserver through every feature (each routing mode with its CRD served, KEDA, the ServiceAccount,
labels onto claims, pruning, deletion with and without the database), every request mapped to an RBAC
verb and resource and checked against operator/rbac/operator-rbac.yaml. A verb missing there fails here,
not after a release (their helm#454, #497)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from lgp_operator.k8s.cache import CACHED_KINDS, ChildCache
from lgp_operator.k8s.discovery import Discovery
from lgp_operator.k8s.kube import Kube
from lgp_operator.reconcile import Reconciler
from lgp_operator.settings import OperatorSettings

from tests.rbac import allows, operator_rules

from .conftest import DATA, apply_spec, get_cr, keda_crd, wait_for

CORE = re.compile(r"^/api/v1(?:/namespaces/[^/]+)?/(?P<res>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?$")
GROUP = re.compile(
    r"^/apis/(?P<group>[^/]+)/[^/]+(?:/namespaces/[^/]+)?/(?P<res>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?$"
)
CRDS = ["gateway-httproute-crd.yaml", "istio-virtualservice-crd.yaml"]


def rbac_needs(method: str, path: str) -> list[tuple[str, str, str]]:
    """(verb, group, resource) a request needs; discovery (/apis, /apis/<group>/<version>) needs none."""
    m = CORE.match(path)
    group = ""
    if m is None:
        m = GROUP.match(path)
        if m is None:
            return []
        group = m["group"]
    if path.startswith("/apis/") and path.count("/") == 3:  # /apis/<group>/<version>: discovery
        return []
    resource = m["res"] + (f"/{m['sub']}" if m["sub"] else "")
    verbs = {
        "GET": ["get"] if m["name"] else ["list"],
        "POST": ["create"],
        "PUT": ["update"],
        "DELETE": ["delete"],
        "PATCH": ["patch", "create"],  # server-side apply creates what is not there
        "WATCH": ["watch"],  # the children's cache (k8s.cache): a list, then a watch
    }[method]
    if method == "PATCH" and m["sub"]:
        verbs = ["patch"]
    return [(v, group, resource) for v in verbs]


@pytest.fixture
def served_crds(kube: Kube):
    installed = []
    for doc in [yaml.safe_load((DATA / n).read_text()) for n in CRDS] + [keda_crd()]:
        if (
            kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, doc["metadata"]["name"])
            is None
        ):
            kube.apply(doc)
            installed.append(doc["metadata"]["name"])
    yield
    for name in installed:
        kube.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, name)
    wait_for(
        lambda: all(
            kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, n) is None
            for n in installed
        ),
        60,
        "the CRDs this test installed deleted",
    )


def test_every_call_of_the_operator_is_allowed_by_its_role(k8s, crd, kube, namespace, served_crds):
    recorder = Kube(k8s, manager="lgp-operator", record_requests=True)
    caps = Discovery(recorder, ttl=0).capabilities()
    assert caps.pdb_api and caps.hpa_api
    kinds = (*CACHED_KINDS, (caps.pdb_api, "PodDisruptionBudget"), (caps.hpa_api, "HorizontalPodAutoscaler"))
    recorder.cache = ChildCache(recorder, [namespace], kinds=kinds).start()  # as the operator reads them
    assert recorder.cache.wait_synced(30)
    modes: list[dict[str, Any]] = [
        {"routing": "ingress"},
        {"routing": "gateway", "gateway_name": "public", "shared_host": "a.example.com"},
        {"routing": "istio", "istio_gateway": "istio-system/public"},
    ]
    spec = {
        "revision": {"id": "r1"},
        "queue": {"enabled": True},
        "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 4},
        "ingress": {"enabled": True, "host": "rbac.example.com"},
        "serviceAccount": {"create": True},
        "labels": {"team": "agents"},
        "database": {"managed": {"retainOnDelete": False}},
        "envFromSecret": "agent-env",
    }
    kube.apply(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "agent-env", "namespace": namespace}}
    )
    for mode in modes:
        settings = OperatorSettings(**mode)
        discovery = Discovery(recorder, ttl=0)

        def everything_served(d: Discovery = discovery) -> bool:
            caps = d.capabilities()
            return bool(caps.keda and caps.http_route_api and caps.virtual_service_api)

        wait_for(everything_served, 30, "KEDA, HTTPRoute and VirtualService served")
        reconciler = Reconciler(recorder, settings, discovery)
        apply_spec(kube, "rb", namespace, spec)
        reconciler.reconcile(get_cr(kube, "rb", namespace))
        reconciler.reconcile(get_cr(kube, "rb", namespace))  # the claim exists now: labels onto it
        apply_spec(kube, "rb", namespace, {**spec, "ingress": {"enabled": False}, "serviceAccount": {}})
        reconciler.reconcile(get_cr(kube, "rb", namespace))  # prunes
    reconciler.finalize(get_cr(kube, "rb", namespace))  # retainOnDelete false: claims listed and deleted
    apply_spec(kube, "rb", namespace, {**spec, "database": {"managed": {"retainOnDelete": True}}})
    reconciler.finalize(get_cr(kube, "rb", namespace))  # retained: claims and Secret labelled

    recorder.cache.stop()

    rules = operator_rules()
    needed = {need for (method, path) in recorder.requests for need in rbac_needs(method, path)}
    missing = sorted(f"{v} {g or 'core'}/{r}" for v, g, r in needed if not allows(rules, v, g, r))
    assert missing == [], f"the operator calls these without a rule: {missing}"
    used = {r for _, _, r in needed}
    assert {
        "deployments",
        "statefulsets",
        "services",
        "secrets",
        "serviceaccounts",
        "persistentvolumeclaims",
        "pods",
        "events",
        "ingresses",
        "httproutes",
        "virtualservices",
        "scaledobjects",
        "poddisruptionbudgets",
        "langgraphplatforms/status",
    } <= used, used
    assert ("watch", "apps", "deployments") in needed and ("watch", "", "pods") in needed
    assert ("watch", "policy", "poddisruptionbudgets") in needed
    assert ("delete", "", "persistentvolumeclaims") in needed and (
        "list",
        "",
        "persistentvolumeclaims",
    ) in needed
