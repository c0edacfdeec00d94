"""values.yaml and values.schema.json: every value documented and typed, bad values refused by the
schema with the offending key named, the install-mode toggles, and clear errors for missing values."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from .conftest import CHART_DIR, RELEASE

SCHEMA = json.loads((CHART_DIR / "values.schema.json").read_text())
VALUES_TEXT = (CHART_DIR / "values.yaml").read_text()


# Values that are Kubernetes structures, documented as one value (their keys are Kubernetes' own).
OPAQUE = {"resources", "podSecurityContext", "securityContext"}


def leaf_paths(node: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the values.yaml keys that hold a value (maps with content are descended)."""
    if isinstance(node, dict) and node and prefix.rsplit(".", 1)[-1] not in OPAQUE:
        out = []
        for k, v in node.items():
            out += leaf_paths(v, f"{prefix}.{k}" if prefix else k)
        return out
    return [prefix]


def schema_node(path: str) -> dict[str, Any] | None:
    node: dict[str, Any] = SCHEMA
    for part in path.split("."):
        props = node.get("properties", {})
        if part not in props:
            return None
        node = props[part]
    return node


def documented_paths() -> set[str]:
    """Keys whose comment follows the convention `# dotted.key -- what it is`."""
    return set(re.findall(r"^\s*# ([A-Za-z0-9.]+) -- ", VALUES_TEXT, flags=re.M))


def test_every_value_has_a_comment_starting_with_its_key(chart: Any) -> None:
    leaves = leaf_paths(chart.values)
    missing = sorted(set(leaves) - documented_paths())
    assert missing == [], f"values without a `# <key> -- ...` comment: {missing}"
    # ... and every such comment names a real key (no stale documentation).
    stale = sorted(documented_paths() - set(leaves))
    assert stale == [], f"comments for keys that do not exist: {stale}"


def test_every_value_is_in_the_schema_and_every_schema_property_has_a_default(chart: Any) -> None:
    leaves = leaf_paths(chart.values)
    untyped = [p for p in leaves if schema_node(p) is None]
    assert untyped == [], f"values missing from values.schema.json: {untyped}"

    def walk(node: dict[str, Any], prefix: str) -> list[str]:
        out = []
        for k, sub in node.get("properties", {}).items():
            path = f"{prefix}.{k}" if prefix else k
            out.append(path)
            out += walk(sub, path)
        return out

    defaults = chart.values
    for path in walk(SCHEMA, ""):
        node: Any = defaults
        for part in path.split("."):
            assert isinstance(node, dict) and part in node, (
                f"schema property {path} has no default in values.yaml"
            )
            node = node[part]


def test_defaults_pass_the_schema(chart: Any) -> None:
    chart.validate_schema({})


def test_schema_closes_every_object_of_ours() -> None:
    # `global` is Helm's shared space (parents and subcharts add to it); maps of user data stay open.
    def walk(node: dict[str, Any], path: str) -> list[str]:
        out = []
        if "properties" in node and path != "global" and node.get("additionalProperties") is not False:
            out.append(path)
        for k, sub in node.get("properties", {}).items():
            out += walk(sub, f"{path}.{k}" if path else k)
        return out

    assert walk(SCHEMA, "") == []


BAD_VALUES = [
    ({"controlPlane": {"replica": 2}}, "/controlPlane", "additional properties 'replica'"),
    ({"unknownTopLevel": True}, "", "additional properties 'unknownTopLevel'"),
    ({"controlPlane": {"replicas": -1}}, "/controlPlane/replicas", "minimum"),
    ({"controlPlane": {"replicas": "two"}}, "/controlPlane/replicas", "integer"),
    ({"controlPlane": {"environment": "staging"}}, "/controlPlane/environment", "value must be one of"),
    ({"controlPlane": {"adminApiKey": "changeme"}}, "/controlPlane/adminApiKey", "does not match pattern"),
    ({"controlPlane": {"encryptionKeys": "not-a-fernet-key"}}, "/controlPlane/encryptionKeys", "pattern"),
    ({"controlPlane": {"database": {"url": "mysql://x@y/z"}}}, "/controlPlane/database/url", "pattern"),
    ({"controlPlane": {"service": {"port": 70000}}}, "/controlPlane/service/port", "maximum"),
    ({"controlPlane": {"ingress": {"path": "api"}}}, "/controlPlane/ingress/path", "pattern"),
    ({"controlPlane": {"image": {"pullPolicy": "Sometimes"}}}, "/controlPlane/image/pullPolicy", "one of"),
    ({"controlPlane": {"image": {"digest": "sha256:xyz"}}}, "/controlPlane/image/digest", "pattern"),
    (
        {"controlPlane": {"resources": {"requests": {"cpu": "lots"}}}},
        "/controlPlane/resources/requests/cpu",
        "",
    ),
    ({"controlPlane": {"extraEnv": [{"value": "no name"}]}}, "/controlPlane/extraEnv/0", "name"),
    ({"postgres": {"password": "has spaces and @ signs"}}, "/postgres/password", "pattern"),
    ({"postgres": {"username": "Bad-User"}}, "/postgres/username", "pattern"),
    ({"dataPlane": {"namespaces": ["Not_A_Namespace"]}}, "/dataPlane/namespaces/0", "pattern"),
    ({"dataPlane": {"namespaces": "agents"}}, "/dataPlane/namespaces", "array"),
    ({"listener": {"controlPlaneUrl": "lgp.example.com"}}, "/listener/controlPlaneUrl", "pattern"),
    ({"operator": {"keda": "on"}}, "/operator/keda", "value must be one of"),
    ({"operator": {"resyncSeconds": 0}}, "/operator/resyncSeconds", ""),
    ({"operator": {"watchAllNamespaces": "yes"}}, "/operator/watchAllNamespaces", "boolean"),
    ({"operator": {"ingress": {"domain": "Agents.Example.com"}}}, "/operator/ingress/domain", "pattern"),
    ({"usageReporter": {"env": {"HTTP_PROXY": "x"}}}, "", "'HTTP_PROXY' does not match pattern '^LGP_USAGE_"),
    ({"usageReporter": {"beaconUrl": "beacon:8080"}}, "/usageReporter/beaconUrl", "pattern"),
]


@pytest.mark.parametrize(("values", "where", "why"), BAD_VALUES, ids=[w or "/" for _, w, _ in BAD_VALUES])
def test_schema_refuses_bad_values(chart: Any, values: dict[str, Any], where: str, why: str) -> None:
    import helm_python as helm

    with pytest.raises(helm.HelmValuesError) as info:
        chart.validate_schema(values)
    message = str(info.value)
    assert f"at '{where or '/'}'" in message or f"at '{where}" in message, message
    assert why in message, message
    # Rendering (what `helm install` does) refuses them too, before any template runs.
    with pytest.raises(helm.HelmValuesError):
        chart.render(values, name=RELEASE, namespace="lgp-system")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"postgres": {"enabled": False}},
            "controlPlane.database.url is required",
        ),
        (
            {"listener": {"enabled": True, "token": "t"}},
            "listener.id is required",
        ),
        (
            {"listener": {"enabled": True, "id": "abc"}},
            "listener.token (or listener.existingSecret) is required",
        ),
        (
            {"controlPlane": {"enabled": False}, "listener": {"enabled": True, "id": "a", "token": "t"}},
            "listener.controlPlaneUrl is required when controlPlane.enabled is false",
        ),
        (
            {"controlPlane": {"enabled": False}, "usageReporter": {"enabled": True}},
            "usageReporter.beaconUrl is required when controlPlane.enabled is false",
        ),
        (
            {"usageReporter": {"enabled": True, "airgapped": {"enabled": True}}},
            "usageReporter.airgapped.signingKeySecret is required",
        ),
        (
            {"controlPlane": {"ingress": {"enabled": True, "tls": {"enabled": True, "secretName": "x"}}}},
            "controlPlane.ingress.host is required",
        ),
    ],
)
def test_missing_values_fail_with_the_key_named(render: Any, values: dict[str, Any], message: str) -> None:
    import helm_python as helm

    with pytest.raises(helm.HelmRenderError) as info:
        render(values)
    assert message in str(info.value)


def kinds_by_component(rendered: Any) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for o in rendered.objects:
        component = o["metadata"]["labels"].get("app.kubernetes.io/component", "")
        out.setdefault(component, set()).add(o["kind"])
    return out


def test_control_plane_only(render: Any) -> None:
    rendered = render({"dataPlane": {"enabled": False}})
    assert set(kinds_by_component(rendered)) == {"control-plane", "postgres", "test-ready"}
    assert not [o for o in rendered.objects if o["kind"] in ("Role", "ClusterRole", "RoleBinding")]
    # Even with the parts switched on, the top-level toggle wins.
    rendered = render({"dataPlane": {"enabled": False}, "usageReporter": {"enabled": True}})
    assert "usage-reporter" not in kinds_by_component(rendered)


def test_data_plane_only(render: Any) -> None:
    rendered = render(
        {
            "controlPlane": {"enabled": False},
            "listener": {
                "enabled": True,
                "id": "l-1",
                "token": "tok",
                "controlPlaneUrl": "https://cp.example",
            },
            "usageReporter": {"enabled": True, "beaconUrl": "https://cp.example"},
        }
    )
    components = kinds_by_component(rendered)
    assert set(components) == {"listener", "operator", "usage-reporter"}
    assert rendered.env("lgp-listener")["LGP_LISTENER_CONTROL_PLANE_URL"] == "https://cp.example"
    # postgres.enabled is on by default, but only ever serves a control plane.
    assert not rendered.of_kind("StatefulSet")


def test_full_install_points_the_listener_at_its_own_control_plane(render: Any) -> None:
    rendered = render({"listener": {"enabled": True, "id": "l-1", "token": "tok"}})
    assert (
        rendered.env("lgp-listener")["LGP_LISTENER_CONTROL_PLANE_URL"]
        == "http://lgp-control-plane.lgp-system.svc:80"
    )
    assert set(kinds_by_component(rendered)) == {
        "control-plane",
        "postgres",
        "listener",
        "operator",
        "test-ready",
    }
    # `helm test` asks the control plane's Service for /readyz.
    test_pod = rendered.get("Pod", "lgp-test-ready")
    assert test_pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert test_pod["spec"]["containers"][0]["args"] == ["http://lgp-control-plane.lgp-system.svc:80/readyz"]


def test_images_default_to_the_app_version_and_honour_digests_and_registries(render: Any, chart: Any) -> None:
    app_version = chart.metadata["appVersion"]
    rendered = render({})
    assert (
        rendered.container("lgp-control-plane")["image"] == f"ghcr.io/lgp-dev/lgp-control-plane:{app_version}"
    )
    assert rendered.container("lgp-operator")["image"] == f"ghcr.io/lgp-dev/lgp-data-plane:{app_version}"
    digest = "sha256:" + "a" * 64
    rendered = render(
        {
            "global": {"imageRegistry": "mirror.internal", "imagePullSecrets": ["pull"]},
            "controlPlane": {"image": {"registry": "", "digest": digest}},
            "dataPlane": {"image": {"registry": "", "tag": "1.2.3"}},
        }
    )
    assert (
        rendered.container("lgp-control-plane")["image"]
        == f"mirror.internal/lgp-dev/lgp-control-plane@{digest}"
    )
    assert rendered.container("lgp-operator")["image"] == "mirror.internal/lgp-dev/lgp-data-plane:1.2.3"
    for d in rendered.of_kind("Deployment"):
        assert d["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "pull"}]


def test_notes_say_how_to_reach_the_ui_and_create_a_first_deployment(render: Any) -> None:
    notes = render({}).notes
    assert "port-forward svc/lgp-control-plane" in notes
    assert "admin-api-key" in notes
    assert "/v1/listeners" in notes and "listener.enabled=true" in notes
    assert "/v1/deployments" in notes
    assert "evaluation" in notes  # the bundled PostgreSQL warning
    notes = render(
        {
            "controlPlane": {
                "ingress": {
                    "enabled": True,
                    "host": "lgp.example.com",
                    "tls": {"enabled": True, "secretName": "t"},
                }
            }
        }
    ).notes
    assert "https://lgp.example.com" in notes
