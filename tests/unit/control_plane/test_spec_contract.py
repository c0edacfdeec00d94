"""Contract: every spec the control plane builds for a revision is a LangGraphPlatform spec the operator
reconciles as written, for any input the API accepts."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lgp_operator.builders.common import Platform

from control_plane.models import DeploymentCreate
from control_plane.spec import build_settings, build_spec, resolve_resources
from lgp_contract.formats import CPU_QUANTITY, DNS_LABEL, MEMORY_QUANTITY, PINNED_IMAGE_REF, PORTABLE_ENV_NAME
from lgp_contract.resource import LangGraphPlatformSpec

REV = "4e4fa4c3-4697-43f7-a580-8b346617c5e9"


def _operator_reads(spec: dict[str, Any], name: str = "agent") -> LangGraphPlatformSpec:
    body = {"metadata": {"name": name, "namespace": "agents", "uid": "u"}, "spec": spec}
    return Platform.from_body(body).spec


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
    settings_ = build_settings(
        image="ghcr.io/acme/agent:1.0.0",
        resources=resolve_resources(type_, None),
        env=[{"name": "LOG_LEVEL", "value": "info"}],
        ingress=ingress,
        secret_refs=refs,
        database_type=database,
        redis_type=redis,
        secret_names=secrets,
    )
    cr = build_spec(name="agent", settings=settings_, revision_id=REV, revision_number=3).written()
    assert _operator_reads(cr).written() == cr  # the operator reads exactly what was written
    assert cr["image"] == "ghcr.io/acme/agent:1.0.0"
    assert cr["revision"] == {"id": REV, "number": 3}
    server = settings_.resources.server
    assert cr["apiServer"]["resources"]["requests"] == {"cpu": server.cpu, "memory": server.memory}
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


def _matching(pattern: str, size: int = 12) -> st.SearchStrategy[str]:
    return st.from_regex(pattern, fullmatch=True).filter(lambda s: 0 < len(s) <= size)


SERVER: st.SearchStrategy[dict[str, int]] = st.one_of(
    st.fixed_dictionaries({"replicas": st.integers(1, 100)}),
    st.fixed_dictionaries({"min_replicas": st.integers(1, 50), "max_replicas": st.integers(50, 100)}),
    st.just({}),
)
CREATE = st.fixed_dictionaries(
    {
        "name": _matching(DNS_LABEL, 40),
        "type": st.sampled_from(["development", "production"]),
        "image": _matching(PINNED_IMAGE_REF, 200),
        "listener_id": st.uuids().map(str),
        "namespace": _matching(DNS_LABEL, 63),
        "resources": st.fixed_dictionaries(
            {
                "server": st.fixed_dictionaries(
                    {},
                    optional={"cpu": _matching(CPU_QUANTITY, 16), "memory": _matching(MEMORY_QUANTITY, 16)},
                ).flatmap(lambda q: SERVER.map(lambda r: {**q, **r})),
                "queue": st.fixed_dictionaries(
                    {}, optional={"enabled": st.booleans(), "jobs_per_worker": st.integers(1, 1000)}
                ),
                "postgres": st.fixed_dictionaries({}, optional={"storage": _matching(MEMORY_QUANTITY, 16)}),
            }
        ),
        "ingress": st.one_of(
            st.none(), st.fixed_dictionaries({"host": st.none() | _matching(DNS_LABEL, 30)})
        ),
        "env": st.lists(
            st.fixed_dictionaries({"name": _matching(PORTABLE_ENV_NAME, 20), "value": st.text(max_size=20)}),
            max_size=3,
            unique_by=lambda e: e["name"],
        ),
        "secret_refs": st.lists(_matching(DNS_LABEL, 30), max_size=3),
        "database": st.sampled_from([{"type": "managed"}, {"type": "external", "uri": "postgres://h/db"}]),
        "redis": st.sampled_from([{"type": "managed"}, {"type": "external", "uri": "redis://h:6379"}]),
    }
)


@settings(max_examples=150, deadline=None)
@given(CREATE, st.lists(_matching(PORTABLE_ENV_NAME, 20), max_size=2))
def test_any_accepted_create_makes_a_spec_the_operator_reconciles(
    body: dict[str, Any], secrets: list[str]
) -> None:
    data = DeploymentCreate.model_validate({**body, "secrets": {k: "v" for k in secrets}})
    try:
        resources = resolve_resources(data.type.value, data.resources)
    except ValueError:
        return  # refused with the field named (min_replicas above max_replicas): a 422, not a spec
    settings_ = build_settings(
        image=data.image,
        resources=resources,
        env=[e.model_dump() for e in data.env],
        ingress=None if data.ingress is None else data.ingress.model_dump(),
        secret_refs=data.secret_refs,
        database_type=data.database.type,
        redis_type=data.redis.type,
        secret_names=list(data.secrets),
    )
    spec = build_spec(name=data.name, settings=settings_, revision_id=REV, revision_number=1).written()
    assert _operator_reads(spec, data.name).image == data.image
