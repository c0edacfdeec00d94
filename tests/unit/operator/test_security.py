"""The restricted defaults of every pod the operator builds (server, Postgres, Redis), their merge with
spec.security, the writable paths as emptyDirs, the service-account token, and limits on every container."""

from __future__ import annotations

from typing import Any

import pytest
from lgp_operator.builders.deployment import build_api_server_deployment, build_queue_deployment
from lgp_operator.builders.postgres import build_postgres_statefulset
from lgp_operator.builders.redis import build_redis_deployment
from lgp_operator.builders.security import merge

from .conftest import make_cr

BUILDERS = {
    "api-server": build_api_server_deployment,
    "queue": build_queue_deployment,
    "postgres": build_postgres_statefulset,
    "redis": build_redis_deployment,
}
WORKLOAD = {"api-server": "server", "queue": "server", "postgres": "postgres", "redis": "redis"}
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def pod_of(kind: str, spec: dict[str, Any] | None = None, settings: Any = None) -> dict[str, Any]:
    return BUILDERS[kind](make_cr({"queue": {"enabled": True}, **(spec or {})}), settings)["spec"][
        "template"
    ]["spec"]


def mounts(pod: dict[str, Any]) -> dict[str, str]:
    return {m["name"]: m["mountPath"] for m in pod["containers"][0].get("volumeMounts", [])}


# (workload, pod securityContext, writable paths by volume name)
DEFAULTS = [
    (
        "api-server",
        {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        {"tmp": "/tmp"},
    ),
    (
        "queue",
        {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        {"tmp": "/tmp"},
    ),
    (
        "postgres",
        {
            "runAsNonRoot": True,
            "runAsUser": 999,
            "runAsGroup": 999,
            "fsGroup": 999,
            "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        {"data": "/var/lib/postgresql/data", "run": "/var/run/postgresql", "tmp": "/tmp"},
    ),
    (
        "redis",
        {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        {"data": "/data", "tmp": "/tmp"},
    ),
]


@pytest.mark.parametrize(("kind", "pod_context", "writable"), DEFAULTS)
def test_restricted_defaults(settings, kind, pod_context, writable):
    pod = pod_of(kind, settings=settings)
    container = pod["containers"][0]
    assert pod["securityContext"] == pod_context
    assert container["securityContext"] == RESTRICTED_CONTAINER
    assert pod["automountServiceAccountToken"] is False
    assert mounts(pod) == writable
    # every writable path but the Postgres data volume (a PVC from the volumeClaimTemplate) is an emptyDir
    assert {v["name"] for v in pod["volumes"]} == set(writable) - {"data"} | (
        {"data"} if kind == "redis" else set()
    )
    assert all(v == {"name": v["name"], "emptyDir": {}} for v in pod["volumes"])
    # requests and limits of CPU and memory on every container
    res = container["resources"]
    assert set(res["requests"]) == set(res["limits"]) == {"cpu", "memory"}


@pytest.mark.parametrize(
    ("kind", "override", "pod_context", "container_context"),
    [
        (
            "api-server",
            {"server": {"podSecurityContext": {"runAsUser": 0, "runAsNonRoot": False}}},
            {"runAsUser": 0, "runAsNonRoot": False, "runAsGroup": 10001},
            RESTRICTED_CONTAINER,
        ),
        (
            "queue",  # the server's settings apply to the queue workers too
            {"server": {"containerSecurityContext": {"readOnlyRootFilesystem": False}}},
            {"runAsUser": 10001},
            {**RESTRICTED_CONTAINER, "readOnlyRootFilesystem": False},
        ),
        (
            "postgres",
            {"postgres": {"podSecurityContext": {"runAsUser": 70, "runAsGroup": 70, "fsGroup": 70}}},
            {"runAsUser": 70, "runAsGroup": 70, "fsGroup": 70, "runAsNonRoot": True},
            RESTRICTED_CONTAINER,
        ),
        (
            "redis",  # a mapping merges key by key; a list replaces
            {"redis": {"containerSecurityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}}},
            {"runAsUser": 10001},
            {**RESTRICTED_CONTAINER, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}},
        ),
        (
            "redis",
            {"redis": {"containerSecurityContext": {"capabilities": {"drop": ["NET_RAW"]}}}},
            {"runAsUser": 10001},
            {**RESTRICTED_CONTAINER, "capabilities": {"drop": ["NET_RAW"]}},
        ),
    ],
)
def test_overrides_merge_field_by_field(settings, kind, override, pod_context, container_context):
    pod = pod_of(kind, {"security": override}, settings)
    assert pod_context.items() <= pod["securityContext"].items()
    assert pod["containers"][0]["securityContext"] == container_context


def test_other_workloads_keep_their_defaults(settings):
    spec = {"security": {"server": {"podSecurityContext": {"runAsUser": 0}}}}
    assert pod_of("postgres", spec, settings)["securityContext"]["runAsUser"] == 999
    assert pod_of("redis", spec, settings)["securityContext"]["runAsUser"] == 10001


def test_token_and_writable_paths_of_the_server(settings):
    spec = {
        "security": {
            "server": {
                "automountServiceAccountToken": True,
                "writablePaths": ["/home/app/.cache/", "/tmp", "/data"],
            }
        }
    }
    for kind in ("api-server", "queue"):
        pod = pod_of(kind, spec, settings)
        assert pod["automountServiceAccountToken"] is True
        assert mounts(pod) == {"tmp": "/tmp", "writable-0": "/home/app/.cache", "writable-2": "/data"}
    assert pod_of("postgres", spec, settings)["automountServiceAccountToken"] is False


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"server": {"writablePaths": ["relative/path"]}}, "writablePaths"),
        ({"server": {"writablePaths": ["/"]}}, "writablePaths"),
        ({"server": {"podSecurityContext": {"runAsUser": -1}}}, "runAsUser"),
        ({"redis": {"containerSecurityContext": {"capabilities": {"add": ["net_raw"]}}}}, "add"),
        ({"postgres": {"podSecurityContext": {"seccompProfile": {"type": "Nope"}}}}, "type"),
        ({"server": {"containerSecurityContext": {"unknownField": True}}}, "unknownField"),
        ({"networkPolicy": {"ingressFrom": [{}]}}, "ingressFrom"),
        ({"networkPolicy": {"ingressFrom": [{"ipBlock": {"cidr": "10.0.0.0"}}]}}, "cidr"),
    ],
)
def test_invalid_security_names_the_field(spec, field):
    from lgp_operator.builders.common import InvalidSpec

    with pytest.raises(InvalidSpec, match=rf"spec\.security\..*{field}"):
        make_cr({"security": spec})


@pytest.mark.parametrize(
    ("base", "override", "want"),
    [
        ({"a": 1}, {}, {"a": 1}),
        ({"a": 1}, {"a": 2, "b": 3}, {"a": 2, "b": 3}),
        ({"c": {"drop": ["ALL"]}}, {"c": {"add": ["X"]}}, {"c": {"drop": ["ALL"], "add": ["X"]}}),
        ({"c": {"drop": ["ALL"]}}, {"c": {"drop": []}}, {"c": {"drop": []}}),
        ({"s": {"type": "RuntimeDefault"}}, {"s": "x"}, {"s": "x"}),
    ],
)
def test_merge(base, override, want):
    assert merge(base, override) == want
    assert base == merge(base, {})  # the defaults are never changed
