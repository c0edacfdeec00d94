"""The listener's pure translation: control-plane revision spec -> Secret + LangGraphPlatform, and
what a LangGraphPlatform's status says about its revision."""

from __future__ import annotations

from typing import Any

import pytest
from lgp_operator.k8s.apply import is_subset
from lgp_operator.listener.translate import (
    LABEL_DEPLOYMENT_ID,
    TranslationError,
    desired_objects,
    revision_outcome,
    to_platform_spec,
)

REV = "6f1c2a9e-0000-4000-8000-000000000001"


def _spec(**over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "image": "registry.example/agent:1.0",
        "revision": {"id": REV, "number": 3},
        "env": [{"name": "MODE", "value": "prod"}],
        "envFrom": [{"secretRef": {"name": "agent-lgp-secrets"}}],
        "apiServer": {"replicas": 2, "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}},
        "queue": {"enabled": True, "replicas": 1, "jobsPerWorker": 10},
        "autoscaling": {"enabled": False, "minReplicas": 2, "maxReplicas": 2},
        "database": {"type": "managed", "managed": {"storage": "10Gi"}},
        "redis": {"type": "managed", "managed": {}},
        "ingress": {"enabled": True, "host": "agent.example.com", "path": "/"},
    }
    spec.update(over)
    return spec


@pytest.mark.parametrize(
    ("given", "key", "expected"),
    [
        ({}, "envFromSecret", "agent-lgp-secrets"),
        ({}, "database", {"managed": {"storage": "10Gi"}}),
        (
            {
                "database": {
                    "type": "external",
                    "external": {"uriSecretRef": {"name": "s", "key": "POSTGRES_URI_CUSTOM"}},
                }
            },
            "database",
            {"external": {"secretRef": {"name": "s", "key": "POSTGRES_URI_CUSTOM"}}},
        ),
        (
            {
                "redis": {
                    "type": "external",
                    "external": {"uriSecretRef": {"name": "s", "key": "REDIS_URI_CUSTOM"}},
                }
            },
            "redis",
            {"external": {"secretRef": {"name": "s", "key": "REDIS_URI_CUSTOM"}}},
        ),
        (
            {"ingress": {"enabled": False, "host": None, "path": "/"}},
            "ingress",
            {"enabled": False, "path": "/"},
        ),
        ({}, "revision", {"id": REV, "number": 3}),
        ({}, "queue", {"enabled": True, "replicas": 1, "jobsPerWorker": 10}),
    ],
)
def test_spec_translation(given, key, expected):
    assert to_platform_spec(_spec(**given))[key] == expected


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"image": "not an image"}, "spec.image"),
        ({"env": [{"name": "1BAD", "value": "x"}]}, "spec.env.0.name"),
        ({"database": {"type": "external", "external": {}}}, "spec.database.external.uriSecretRef"),
        ({"apiServer": {"replicas": -1}}, "spec.apiServer.replicas"),
    ],
)
def test_invalid_spec_names_the_field(given, field):
    with pytest.raises(TranslationError) as exc:
        to_platform_spec(_spec(**given))
    assert exc.value.field == field


def test_desired_objects_label_and_carry_secret_values_only_in_the_secret():
    d = {
        "id": "d-1",
        "name": "agent",
        "namespace": "team-a",
        "deleted": False,
        "revision": {"id": REV, "number": 3, "status": "AWAITING_DEPLOY", "spec": _spec()},
        "secret": {"name": "agent-lgp-secrets", "data": {"OPENAI_API_KEY": "sk-secret-value"}},
    }
    objs = desired_objects(d, "listener-1")
    assert objs.platform["metadata"]["labels"][LABEL_DEPLOYMENT_ID] == "d-1"
    assert objs.secret is not None and objs.secret["stringData"] == {"OPENAI_API_KEY": "sk-secret-value"}
    assert "sk-secret-value" not in repr(objs.platform)
    assert objs.platform["metadata"]["namespace"] == "team-a"


def test_a_deployment_without_revision_is_not_translated():
    with pytest.raises(TranslationError):
        desired_objects({"id": "d", "name": "a", "namespace": "n", "revision": None}, "l")


def _obj(
    gen: int,
    observed: int | None,
    ready: str,
    live: str | None,
    degraded: str = "False",
    reason: str = "Ok",
    message: str = "",
) -> dict[str, Any]:
    return {
        "metadata": {"generation": gen},
        "spec": {"revision": {"id": REV}},
        "status": {
            "observedGeneration": observed,
            "liveRevision": {"id": live} if live else None,
            "conditions": [
                {"type": "Ready", "status": ready, "reason": "Available"},
                {"type": "Degraded", "status": degraded, "reason": reason, "message": message},
            ],
        },
    }


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_obj(2, 2, "True", REV), ("DEPLOYED", "Available", None)),
        (_obj(2, 1, "True", REV), None),  # the operator has not seen generation 2 yet
        (_obj(2, 2, "True", "older"), None),  # old revision still live
        (_obj(2, 2, "False", None), None),  # still rolling out
        (
            _obj(2, 2, "False", "older", "True", "ImagePullBackOff", "Back-off pulling image"),
            ("DEPLOY_FAILED", "ImagePullBackOff", "Back-off pulling image"),
        ),
        (_obj(2, 1, "False", "older", "True", "ImagePullBackOff"), None),  # stale degraded status
    ],
)
def test_revision_outcome(obj, expected):
    assert revision_outcome(obj) == expected


@pytest.mark.parametrize(
    ("want", "have", "expected"),
    [
        ({"a": 1}, {"a": 1, "b": 2}, True),
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 0}}, True),
        ({"a": [{"n": 1}]}, {"a": [{"n": 1, "v": ""}]}, True),
        ({"a": [{"n": 1}]}, {"a": [{"n": 1}, {"n": 2}]}, False),
        ({"a": 1}, {"a": 2}, False),
        ({"a": 1}, {}, False),
    ],
)
def test_is_subset(want, have, expected):
    assert is_subset(want, have) is expected
