"""A static check of operator/rbac/operator-rbac.yaml against what the builders emit: every kind the
operator applies (any spec, any routing mode, any served API version) has get, create and patch, and
every kind it prunes has list and delete too, so no verb is found missing after a release (their
helm#454, #497). The integration test test_rbac.py derives the verbs from real calls as well."""

from __future__ import annotations

import itertools

import pytest
from lgp_operator.builders.common import Capabilities
from lgp_operator.builders.desired import build_desired
from lgp_operator.k8s.kube import resource_path
from lgp_operator.k8s.prune import prunable_kinds

from tests.rbac import allows, group_of, operator_rules

from .conftest import make_cr

RULES = operator_rules()
EVERYTHING = {
    "revision": {"id": "r1"},
    "queue": {"enabled": True, "replicas": 2},
    "apiServer": {"replicas": 2},
    "ingress": {"enabled": True, "host": "a.example.com"},
    "serviceAccount": {"create": True},
    "labels": {"team": "a"},
}
MODES = [
    ("ingress", {}),
    ("gateway", {"gateway_name": "g"}),
    ("istio", {"istio_gateway": "istio-system/g"}),
]
CAPS = [
    Capabilities(),
    Capabilities(keda=False),
    Capabilities(
        pdb_api="policy/v1beta1",
        hpa_api="autoscaling/v2beta2",
        keda=False,
        http_route_api="gateway.networking.k8s.io/v1beta1",
        virtual_service_api="networking.istio.io/v1beta1",
    ),
]
SPECS = [EVERYTHING, {**EVERYTHING, "autoscaling": {"enabled": True, "minReplicas": 2}}]


def _plural(api_version: str, kind: str) -> str:
    return resource_path(api_version, kind).rsplit("/", 1)[-1]


def _emitted(settings) -> set[tuple[str, str]]:
    out = set()
    for (mode, env), caps, spec in itertools.product(MODES, CAPS, SPECS):
        settings.routing = mode
        for k, v in env.items():
            setattr(settings, k, v)
        for obj in build_desired(make_cr(spec), settings, caps, postgres_password="pw").objects:
            out.add((obj["apiVersion"], obj["kind"]))
    return out


def test_the_matrix_covers_every_kind(settings):
    kinds = {k for _, k in _emitted(settings)}
    assert kinds == {
        "Secret",
        "Service",
        "StatefulSet",
        "Deployment",
        "ServiceAccount",
        "PodDisruptionBudget",
        "ScaledObject",
        "HorizontalPodAutoscaler",
        "Ingress",
        "HTTPRoute",
        "VirtualService",
        "NetworkPolicy",
    }


def test_every_applied_kind_has_get_create_patch(settings):
    missing = [
        f"{verb} {group_of(api)}/{_plural(api, kind)}"
        for api, kind in sorted(_emitted(settings))
        for verb in ("get", "create", "patch")
        if not allows(RULES, verb, group_of(api), _plural(api, kind))
    ]
    assert missing == []


@pytest.mark.parametrize("caps", CAPS)
def test_every_pruned_kind_has_list_and_delete(caps):
    missing = [
        f"{verb} {group_of(api)}/{_plural(api, kind)}"
        for api, kind in prunable_kinds(caps, keda_served=True)
        for verb in ("list", "delete")
        if not allows(RULES, verb, group_of(api), _plural(api, kind))
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("verb", "group", "resource"),
    [
        ("list", "", "persistentvolumeclaims"),  # retain/delete on deletion, labels onto claims (helm#497)
        ("patch", "", "persistentvolumeclaims"),
        ("delete", "", "persistentvolumeclaims"),
        ("get", "", "secrets"),  # referenced Secrets, to report a missing one
        ("list", "", "pods"),  # why a rollout is stuck
        ("watch", "apps", "deployments"),
        ("patch", "lgp.dev", "langgraphplatforms/status"),
        ("create", "", "events"),
    ],
)
def test_what_the_reconcile_itself_calls_is_granted(verb, group, resource):
    assert allows(RULES, verb, group, resource)


def test_no_status_subresource_of_children_is_needed_or_granted():
    """their helm#454: a listener read deployments/status and lacked the verb. Ours reads status from the
    Deployment itself (GET deployments), so the role grants no subresource of a child at all."""
    subresources = [res for r in RULES for res in r["resources"] if "/" in res]
    assert subresources == ["langgraphplatforms/status"]
