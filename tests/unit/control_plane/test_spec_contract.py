"""Contract: every revision spec the control plane builds translates into a valid LangGraphPlatform spec
(the listener's translation, validated by the operator's CR model)."""

from __future__ import annotations

from typing import Any

import pytest
from lgp_operator.listener.translate import to_platform_spec

from control_plane.spec import build_config, build_spec, resolve_resources


@pytest.mark.parametrize("type_", ["development", "production"])
@pytest.mark.parametrize(
    ("database", "redis", "ingress", "secrets", "refs"),
    [
        ("managed", "managed", None, [], []),
        (
            "external",
            "external",
            {"host": "agent.example.com", "path": "/api"},
            ["OPENAI_API_KEY"],
            ["shared"],
        ),
        ("managed", "external", {"host": None, "path": "/"}, [], ["a", "b"]),
    ],
)
def test_revision_spec_is_a_valid_langgraphplatform_spec(
    type_: str, database: str, redis: str, ingress: dict[str, Any] | None, secrets: list[str], refs: list[str]
) -> None:
    config = build_config(
        image="ghcr.io/acme/agent:1.0.0",
        resources=resolve_resources(type_, None),
        env=[{"name": "LOG_LEVEL", "value": "info"}],
        ingress=ingress,
        secret_refs=refs,
        database_type=database,
        redis_type=redis,
        secret_names=secrets,
    )
    spec = build_spec(
        name="agent", config=config, revision_id="4e4fa4c3-4697-43f7-a580-8b346617c5e9", revision_number=3
    )
    cr = to_platform_spec(spec)
    assert cr["image"] == "ghcr.io/acme/agent:1.0.0"
    assert cr["revision"] == {"id": "4e4fa4c3-4697-43f7-a580-8b346617c5e9", "number": 3}
    assert cr["apiServer"]["resources"] == spec["apiServer"]["resources"]
    assert cr["autoscaling"]["enabled"] is (type_ == "production")
    if database == "external":
        assert cr["database"]["external"]["secretRef"] == {
            "name": "agent-lgp-secrets",
            "key": "POSTGRES_URI_CUSTOM",
        }
    else:
        assert cr["database"]["managed"]["storage"] == "10Gi"
    env_from = [cr.get("envFromSecret"), *cr.get("envFromSecrets", [])]
    expected = (["agent-lgp-secrets"] if secrets or "external" in (database, redis) else []) + refs
    assert [x for x in env_from if x] == expected
