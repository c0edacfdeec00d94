"""Pure deployment logic: type defaults, resource merging, input checks, and the LangGraphPlatform spec a
revision deploys."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from control_plane.models import DatabaseConfig, DeploymentSettings, EnvVar, Image, RedisConfig, Resources
from control_plane.spec import (
    DEFAULT_RESOURCES,
    FieldError,
    build_settings,
    build_spec,
    check_backing,
    check_env,
    resolve_resources,
    secret_data,
)


def res(**parts: Any) -> Resources:
    return Resources.model_validate(parts)


def test_type_defaults_follow_the_design() -> None:
    dev = resolve_resources("development", None)
    assert dev["server"] == {
        "replicas": 1,
        "min_replicas": None,
        "max_replicas": None,
        "cpu": "1",
        "memory": "1Gi",
    }
    assert dev["postgres"]["storage"] == "10Gi"
    prod = resolve_resources("production", None)
    assert prod["server"]["cpu"] == "2" and prod["server"]["memory"] == "2Gi"
    assert (prod["server"]["min_replicas"], prod["server"]["max_replicas"]) == (1, 10)
    assert DEFAULT_RESOURCES["development"]["server"]["cpu"] == "1"  # defaults are not mutated


@pytest.mark.parametrize(
    ("type_", "given", "base", "expect_server"),
    [
        ("development", {"server": {"cpu": "500m"}}, None, {"replicas": 1, "cpu": "500m", "memory": "1Gi"}),
        (
            "development",
            {"server": {"min_replicas": 2, "max_replicas": 4}},
            None,
            {"replicas": None, "min_replicas": 2, "max_replicas": 4},
        ),
        (
            "production",
            {"server": {"replicas": 3}},
            None,
            {"replicas": 3, "min_replicas": None, "max_replicas": None},
        ),
        ("production", {"server": {"max_replicas": 20}}, None, {"min_replicas": 1, "max_replicas": 20}),
        ("development", {"server": {"min_replicas": 3}}, None, {"min_replicas": 3, "max_replicas": 10}),
        ("production", {}, {**DEFAULT_RESOURCES["development"]}, {"replicas": 1}),  # base kept on update
    ],
)
def test_resources_merge(type_: str, given: dict[str, Any], base: Any, expect_server: dict[str, Any]) -> None:
    out = resolve_resources(type_, res(**given), base)
    for k, v in expect_server.items():
        assert out["server"][k] == v, k


def test_queue_and_backing_resources_merge_field_by_field() -> None:
    out = resolve_resources(
        "production", res(queue={"replicas": 3}, postgres={"storage": "50Gi"}, redis={"cpu": "1"})
    )
    assert out["queue"]["replicas"] == 3 and out["queue"]["enabled"] is True and out["queue"]["cpu"] == "2"
    assert out["postgres"] == {"storage": "50Gi", "cpu": "1", "memory": "2Gi"}
    assert out["redis"] == {"cpu": "1", "memory": "512Mi"}


@pytest.mark.parametrize(
    ("given", "loc"),
    [
        ({"server": {"replicas": 2, "min_replicas": 1}}, ("resources", "server", "replicas")),
        ({"server": {"min_replicas": 5, "max_replicas": 2}}, ("resources", "server", "max_replicas")),
    ],
)
def test_resources_refused(given: dict[str, Any], loc: tuple[str, ...]) -> None:
    with pytest.raises(FieldError) as info:
        resolve_resources("production", res(**given))
    assert info.value.loc == loc


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"server": {"cpu": "lots"}}, "cpu"),
        ({"server": {"memory": "1GB"}}, "memory"),
        ({"server": {"replicas": 0}}, "replicas"),
        ({"queue": {"jobs_per_worker": 0}}, "jobs_per_worker"),
        ({"server": {"gpu": 1}}, "gpu"),
    ],
)
def test_resource_fields_are_validated(bad: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Resources.model_validate(bad)
    assert field in str(info.value.errors()[0]["loc"])


def test_env_checks() -> None:
    check_env([EnvVar(name="A", value="1")], ["B"])
    with pytest.raises(FieldError) as info:
        check_env([EnvVar(name="A"), EnvVar(name="A")], [])
    assert info.value.loc == ("env", 1, "name")
    with pytest.raises(FieldError) as info:
        check_env([EnvVar(name="PORT")], [])
    assert info.value.loc == ("env", 0, "name")
    with pytest.raises(FieldError) as info:
        check_env([EnvVar(name="A")], ["A"])
    assert info.value.loc == ("secrets", "A")
    with pytest.raises(FieldError) as info:
        check_env([], ["REDIS_URI"])
    assert info.value.loc == ("secrets", "REDIS_URI")


def test_backing_checks() -> None:
    check_backing(DatabaseConfig(), RedisConfig(), have_db_uri=False, have_redis_uri=False)
    with pytest.raises(FieldError) as info:
        check_backing(DatabaseConfig(type="external"), RedisConfig(), have_db_uri=False, have_redis_uri=False)
    assert info.value.loc == ("database", "uri")
    check_backing(DatabaseConfig(type="external"), RedisConfig(), have_db_uri=True, have_redis_uri=False)
    with pytest.raises(FieldError) as info:
        check_backing(
            DatabaseConfig(), RedisConfig(uri="redis://x:6379"), have_db_uri=False, have_redis_uri=False
        )
    assert info.value.loc == ("redis", "uri")


@pytest.mark.parametrize(
    ("image", "ok"),
    [
        ("langchain/langgraph-api:3.11", True),
        ("registry.example.com:5000/team/agent:v1.2.3", True),
        ("agent@sha256:" + "a" * 64, True),
        ("ghcr.io/org/agent:1.0@sha256:" + "b" * 64, True),
        ("langchain/langgraph-api", False),  # neither tag nor digest
        ("Agent:1.0", False),  # upper case repository
        ("agent:", False),
        ("agent@sha256:abc", False),
        ("", False),
        ("agent:1.0 ; rm -rf /", False),
    ],
)
def test_image_reference(image: str, ok: bool) -> None:
    adapter: TypeAdapter[str] = TypeAdapter(Image)
    if ok:
        assert adapter.validate_python(image) == image
    else:
        with pytest.raises(ValidationError):
            adapter.validate_python(image)


def _settings(**over: Any) -> DeploymentSettings:
    base: dict[str, Any] = {
        "image": "agent:1",
        "resources": resolve_resources("production", None),
        "env": [{"name": "A", "value": "1"}],
        "ingress": {"host": "agent.example.com", "path": "/"},
        "secret_refs": ["shared-keys"],
        "database_type": "managed",
        "redis_type": "managed",
        "secret_names": ["OPENAI_API_KEY"],
    }
    base.update(over)
    return build_settings(**base)


def _spec(
    settings: DeploymentSettings, name: str = "agent", rev: str = "r1", number: int = 3
) -> dict[str, Any]:
    """The spec as written (what is stored, sent to the listener and applied)."""
    return build_spec(name=name, settings=settings, revision_id=rev, revision_number=number).written()


def test_the_spec_is_the_custom_resources() -> None:
    spec = _spec(_settings())
    assert spec["image"] == "agent:1"
    assert spec["revision"] == {"id": "r1", "number": 3}
    assert spec["env"] == [{"name": "A", "value": "1"}]
    assert [spec["envFromSecret"], *spec["envFromSecrets"]] == ["agent-lgp-secrets", "shared-keys"]
    assert spec["apiServer"] == {
        "replicas": 1,
        "resources": {"requests": {"cpu": "2", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
    }
    assert spec["autoscaling"] == {"enabled": True, "minReplicas": 1, "maxReplicas": 10}
    assert spec["queue"]["enabled"] is True and spec["queue"]["jobsPerWorker"] == 10
    assert "external" not in spec["database"] and spec["database"]["managed"]["storage"] == "10Gi"
    assert "external" not in spec["redis"] and "managed" in spec["redis"]
    assert spec["ingress"] == {"enabled": True, "host": "agent.example.com", "path": "/"}


def test_spec_external_backing_services_reference_the_listener_secret() -> None:
    settings = _settings(
        database_type="external", redis_type="external", secret_names=[], secret_refs=[], ingress=None
    )
    spec = _spec(settings, rev="r", number=1)
    ref = {"name": "agent-lgp-secrets", "key": "POSTGRES_URI_CUSTOM"}
    assert spec["database"] == {"external": {"secretRef": ref}}
    assert spec["redis"]["external"]["secretRef"]["key"] == "REDIS_URI_CUSTOM"
    assert spec["envFromSecret"] == "agent-lgp-secrets" and "envFromSecrets" not in spec
    assert spec["ingress"]["enabled"] is False


def test_no_secrets_no_secret_reference() -> None:
    spec = _spec(_settings(secret_names=[], secret_refs=[]), name="a", rev="r", number=1)
    assert "envFromSecret" not in spec and "envFromSecrets" not in spec


def test_fixed_replicas_disable_autoscaling() -> None:
    spec = _spec(_settings(resources=resolve_resources("development", None)), name="a", rev="r", number=1)
    assert spec["autoscaling"] == {"enabled": False, "minReplicas": 1, "maxReplicas": 1}
    assert spec["queue"]["enabled"] is False


def test_secret_data() -> None:
    assert secret_data({"env": {"K": "v"}, "database_uri": "postgresql://u:p@h/db", "redis_uri": None}) == {
        "K": "v",
        "POSTGRES_URI_CUSTOM": "postgresql://u:p@h/db",
    }
