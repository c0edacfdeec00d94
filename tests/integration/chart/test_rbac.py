"""The chart's RBAC on a real apiserver: the data plane installed with `helm install`, then each
component's ServiceAccount (token from the TokenRequest API) can do exactly what it needs, in its
namespaces and nowhere else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from .conftest import installed

GROUP, VERSION, PLURAL = "lgp.dev", "v1alpha1", "langgraphplatforms"


def data_plane_values(managed: list[str]) -> dict[str, Any]:
    return {
        "controlPlane": {"enabled": False},
        "dataPlane": {"namespaces": managed},
        "listener": {"enabled": True, "id": "l-1", "token": "tok", "controlPlaneUrl": "https://cp.example"},
        "usageReporter": {"enabled": True, "beaconUrl": "https://cp.example"},
    }


@pytest.fixture
def data_plane(
    helm_config: Any, namespace: str, extra_namespaces: Any, release: str
) -> Iterator[dict[str, str]]:
    managed, other = extra_namespaces("agents"), extra_namespaces("other")
    with installed(helm_config, release, data_plane_values([managed]), namespace):
        yield {"release": namespace, "managed": managed, "other": other, "name": release}


def can(
    api: Any, verb: str, resource: str, namespace: str | None, group: str = "", sub: str | None = None
) -> bool:
    review = client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                verb=verb, resource=resource, group=group, namespace=namespace, subresource=sub
            )
        )
    )
    return bool(client.AuthorizationV1Api(api).create_self_subject_access_review(review).status.allowed)


def platform(name: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "LangGraphPlatform",
        "metadata": {"name": name},
        "spec": {"image": "registry.example/agent:1"},
    }


def test_listener_may_touch_only_platforms_and_secrets_in_its_namespaces(
    data_plane: dict[str, str], sa_client: Any
) -> None:
    managed, other, release = data_plane["managed"], data_plane["other"], data_plane["release"]
    api, _ = sa_client(release, f"{data_plane['name']}-listener")

    allowed = [
        (verb, "langgraphplatforms", GROUP)
        for verb in ("get", "list", "watch", "create", "update", "patch", "delete")
    ] + [(verb, "secrets", "") for verb in ("get", "list", "watch", "create", "update", "patch", "delete")]
    allowed += [(verb, "events", "") for verb in ("get", "list", "watch")]
    for verb, resource, group in allowed:
        assert can(api, verb, resource, managed, group), f"listener cannot {verb} {resource} in {managed}"
        assert not can(api, verb, resource, other, group), f"listener may {verb} {resource} in {other}"
        assert not can(api, verb, resource, release, group), f"listener may {verb} {resource} in {release}"
    # a deployment's logs, on request: its pods and their logs, read only
    for verb, resource, sub in (("get", "pods", None), ("list", "pods", None), ("get", "pods", "log")):
        assert can(api, verb, resource, managed, sub=sub), f"listener cannot {verb} {resource}/{sub}"
        assert not can(api, verb, resource, other, sub=sub), f"listener may {verb} {resource} in {other}"
        assert not can(api, verb, resource, release, sub=sub)
    for verb in ("create", "delete", "patch"):
        assert not can(api, verb, "pods", managed), f"listener may {verb} pods"
    assert not can(api, "create", "pods", managed, sub="exec")
    assert can(api, "get", "langgraphplatforms", managed, GROUP, sub="status")
    # The operator owns the status; the listener only reads it.
    assert not can(api, "patch", "langgraphplatforms", managed, GROUP, sub="status")
    assert not can(api, "update", "langgraphplatforms", managed, GROUP, sub="status")
    forbidden = [
        ("create", "deployments", "apps", managed),
        ("create", "pods", "", managed),
        ("create", "events", "", managed),
        ("list", "configmaps", "", managed),
        ("list", "namespaces", "", None),
        ("list", "langgraphplatforms", GROUP, None),  # nothing cluster-wide
        ("list", "secrets", "", None),
        ("create", "customresourcedefinitions", "apiextensions.k8s.io", None),
        ("create", "rolebindings", "rbac.authorization.k8s.io", managed),
    ]
    for verb, resource, group, ns in forbidden:
        assert not can(api, verb, resource, ns, group), (
            f"listener may {verb} {resource} in {ns or 'the cluster'}"
        )

    # And for real: it applies a LangGraphPlatform and a Secret, and is refused elsewhere.
    custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
    custom.create_namespaced_custom_object(GROUP, VERSION, managed, PLURAL, platform("agent"))
    core.create_namespaced_secret(managed, client.V1Secret(metadata=client.V1ObjectMeta(name="agent-env")))
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, managed, PLURAL, "agent", {"spec": {"image": "registry.example/agent:2"}}
    )
    core.list_namespaced_event(managed)
    for call in (
        lambda: custom.create_namespaced_custom_object(GROUP, VERSION, other, PLURAL, platform("agent")),
        lambda: core.list_namespaced_secret(release),
        lambda: core.read_namespaced_secret(
            f"{data_plane['name']}-listener", release
        ),  # not even its own token
        lambda: custom.list_cluster_custom_object(GROUP, VERSION, PLURAL),
    ):
        with pytest.raises(ApiException) as info:
            call()
        assert info.value.status == 403
    custom.delete_namespaced_custom_object(GROUP, VERSION, managed, PLURAL, "agent")


def test_usage_reporter_only_reads(data_plane: dict[str, str], sa_client: Any) -> None:
    managed, other, release = data_plane["managed"], data_plane["other"], data_plane["release"]
    api, _ = sa_client(release, f"{data_plane['name']}-usage-reporter")
    for verb in ("get", "list", "watch"):
        assert can(api, verb, "langgraphplatforms", managed, GROUP)
        assert not can(api, verb, "langgraphplatforms", other, GROUP)
    assert can(api, "get", "secrets", managed)
    assert not can(api, "list", "secrets", managed)  # only the Secrets it names
    assert not can(api, "get", "secrets", other)
    assert not can(api, "get", "secrets", release)
    for verb in ("create", "update", "patch", "delete"):
        assert not can(api, verb, "langgraphplatforms", managed, GROUP)
        assert not can(api, verb, "secrets", managed)


def test_control_plane_has_no_cluster_access(
    helm_config: Any, k8s: Any, namespace: str, release: str
) -> None:
    values = {
        "dataPlane": {"enabled": False},
        "postgres": {"enabled": False},
        "controlPlane": {"database": {"url": "postgresql://u:p@db/x"}},
    }
    with installed(helm_config, release, values, namespace):
        check_no_access(k8s, namespace, release)


def check_no_access(k8s: Any, namespace: str, release: str) -> None:
    sa = client.CoreV1Api(k8s).read_namespaced_service_account(f"{release}-control-plane", namespace)
    assert sa.automount_service_account_token is False
    bindings = client.RbacAuthorizationV1Api(k8s).list_namespaced_role_binding(namespace).items
    assert [b.metadata.name for b in bindings] == []
