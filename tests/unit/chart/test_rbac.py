"""The rendered RBAC: the operator's rules are exactly those of operator/rbac/operator-rbac.yaml, bound
to the chart's ServiceAccount cluster-wide only when asked; the listener and the usage reporter get
namespaced Roles in the managed namespaces and nothing cluster-wide."""

from __future__ import annotations

from typing import Any

import yaml

from .conftest import NAMESPACE, ROOT

SOURCE = [d for d in yaml.safe_load_all((ROOT / "operator" / "rbac" / "operator-rbac.yaml").read_text()) if d]
SOURCE_RULES = {d["kind"]: d["rules"] for d in SOURCE if d["kind"] in ("ClusterRole", "Role")}
OPERATOR_SA = {"kind": "ServiceAccount", "name": "lgp-operator", "namespace": NAMESPACE}


def rbac_of(rendered: Any, component: str) -> list[dict[str, Any]]:
    kinds = {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
    return [
        o
        for o in rendered.objects
        if o["kind"] in kinds and o["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]


def test_operator_rules_are_the_source_files_rules(render: Any) -> None:
    rendered = render({})
    assert rendered.get("ClusterRole", "lgp-operator", None)["rules"] == SOURCE_RULES["ClusterRole"]
    role = rendered.get("Role", "lgp-operator-leader-election")
    assert role["rules"] == SOURCE_RULES["Role"]
    # The chart's ServiceAccount, not the source file's, and only one of it.
    accounts = [o for o in rendered.of_kind("ServiceAccount") if o["metadata"]["name"] == "lgp-operator"]
    assert len(accounts) == 1 and accounts[0]["metadata"]["namespace"] == NAMESPACE


def test_operator_is_bound_only_in_its_namespaces_by_default(render: Any) -> None:
    rendered = render({"dataPlane": {"namespaces": ["agents", "team-b"]}})
    objs = rbac_of(rendered, "operator")
    assert not [o for o in objs if o["kind"] == "ClusterRoleBinding"]
    bindings = {
        o["metadata"]["namespace"]: o
        for o in objs
        if o["kind"] == "RoleBinding" and o["roleRef"]["kind"] == "ClusterRole"
    }
    assert set(bindings) == {"agents", "team-b"}
    for b in bindings.values():
        assert b["roleRef"]["name"] == "lgp-operator"
        assert b["subjects"] == [OPERATOR_SA]
    leader = rendered.get("RoleBinding", "lgp-operator-leader-election")
    assert leader["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "lgp-operator-leader-election",
    }
    assert leader["subjects"] == [OPERATOR_SA]
    env = rendered.env("lgp-operator")
    assert env["LGP_OPERATOR_NAMESPACES"] == "agents,team-b"
    assert env["LGP_OPERATOR_LEADER_ELECTION_NAMESPACE"] == NAMESPACE


def test_operator_watching_all_namespaces_gets_a_cluster_role_binding(render: Any) -> None:
    rendered = render({"operator": {"watchAllNamespaces": True}, "dataPlane": {"namespaces": ["agents"]}})
    binding = rendered.get("ClusterRoleBinding", "lgp-operator", None)
    assert binding["roleRef"]["name"] == "lgp-operator" and binding["subjects"] == [OPERATOR_SA]
    assert not [
        o
        for o in rbac_of(rendered, "operator")
        if o["kind"] == "RoleBinding" and o["roleRef"]["kind"] == "ClusterRole"
    ]
    assert rendered.env("lgp-operator")["LGP_OPERATOR_NAMESPACES"] == ""


def test_operator_rbac_follows_the_release_and_service_account_names(render: Any) -> None:
    rendered = render({"operator": {"serviceAccount": {"name": "custom-sa"}}}, name="acme")
    assert rendered.has("ClusterRole", "acme-lgp-operator", None)
    binding = rendered.get("RoleBinding", "acme-lgp-operator", NAMESPACE)
    assert binding["roleRef"]["name"] == "acme-lgp-operator"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "custom-sa", "namespace": NAMESPACE}]
    spec = rendered.get("Deployment", "acme-lgp-operator")["spec"]
    assert spec["template"]["spec"]["serviceAccountName"] == "custom-sa"
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    assert not rbac_of(render({"operator": {"rbac": {"create": False}}}), "operator")


def test_listener_and_usage_reporter_have_nothing_cluster_wide(render: Any) -> None:
    rendered = render(
        {
            "listener": {"enabled": True, "id": "l", "token": "t"},
            "usageReporter": {"enabled": True},
            "dataPlane": {"namespaces": ["agents", "team-b"]},
        }
    )
    for component in ("listener", "usage-reporter"):
        objs = rbac_of(rendered, component)
        assert {o["kind"] for o in objs} == {"Role", "RoleBinding"}
        assert {o["metadata"]["namespace"] for o in objs} == {"agents", "team-b"}
    listener_role = rendered.get("Role", "lgp-listener", "agents")
    granted = {
        (g, r, v)
        for rule in listener_role["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    assert ("lgp.dev", "langgraphplatforms", "patch") in granted
    assert ("", "secrets", "create") in granted
    assert ("lgp.dev", "langgraphplatforms/status", "patch") not in granted
    assert not {(g, r) for g, r, _ in granted} - {
        ("lgp.dev", "langgraphplatforms"),
        ("lgp.dev", "langgraphplatforms/status"),
        ("", "secrets"),
        ("", "events"),
        ("events.k8s.io", "events"),
        ("", "pods"),
        ("", "pods/log"),
    }
    assert {v for g, r, v in granted if r == "events"} == {"get", "list", "watch"}
    # logs on request: pods and their logs are read, never changed
    assert {v for g, r, v in granted if r == "pods"} == {"get", "list"}
    assert {v for g, r, v in granted if r == "pods/log"} == {"get"}
