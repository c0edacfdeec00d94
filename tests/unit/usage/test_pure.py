"""Usage reporter pure parts: window arithmetic, idempotency keys, the submit payload, target parsing,
the database URI lookup from a LangGraphPlatform object, and settings errors that name the field."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lgp_operator.usage.cli import main
from lgp_operator.usage.targets import (
    ManagedDatabaseSecret,
    TargetError,
    database_uri_for,
    parse_static_target,
    target_from_body,
)
from lgp_operator.usage.windows import Window, floor_window, last_closed_end

from lgp_contract.usage import usage_key

T = datetime(2030, 5, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "settle", "closed_end"),
    [
        (T, timedelta(0), T),
        (T + timedelta(minutes=4, seconds=59), timedelta(minutes=5), T - timedelta(hours=1)),
        (T + timedelta(minutes=5), timedelta(minutes=5), T),
        (T + timedelta(minutes=59), timedelta(minutes=5), T),
        (T - timedelta(microseconds=1), timedelta(0), T - timedelta(hours=1)),
    ],
)
def test_a_window_is_closed_only_after_it_ended_and_settled(
    now: datetime, settle: timedelta, closed_end: datetime
) -> None:
    assert last_closed_end(now, 3600, settle) == closed_end


def test_windows_are_aligned_to_the_hour() -> None:
    assert floor_window(T + timedelta(minutes=59, seconds=59), 3600) == T
    assert floor_window(T, 3600) == T
    with pytest.raises(ValueError, match="timezone-aware"):
        floor_window(datetime(2030, 1, 1), 3600)


def test_idempotency_key_matches_the_control_planes_and_ignores_the_timezone_spelling() -> None:
    t = datetime(2030, 1, 1, tzinfo=UTC)
    assert usage_key("a", t) == "919dac97247ff882e4e73e459ec3a4c19bd27f5b6c03abfa3a64e619cc84ae6f"
    from zoneinfo import ZoneInfo

    assert usage_key("a", t.astimezone(ZoneInfo("Europe/Paris"))) == usage_key("a", t)


def test_payload_has_the_original_shape_and_our_tags_cannot_be_overridden() -> None:
    w = Window(
        "uid",
        "agent",
        "ns",
        T,
        T + timedelta(hours=1),
        3,
        9,
        tags={"langgraph.platform.deployment": "spoof", "lgp.dev/tenant": "acme"},
    )
    p = w.payload("tok")
    assert set(p) == {"license", "from_timestamp", "to_timestamp", "tags", "measures", "logs"}
    assert p["tags"]["langgraph.platform.deployment"] == "agent"
    assert p["tags"]["lgp.dev/tenant"] == "acme"
    assert p["measures"] == {"langgraph.platform.runs": 3, "langgraph.platform.nodes": 9}
    assert w.key == usage_key("uid", T)


def test_static_targets() -> None:
    t = parse_static_target("uid-1:agent=postgresql://u@h/db?x=1", "ns")
    assert (t.deployment_id, t.name, t.namespace, t.database_uri) == (
        "uid-1",
        "agent",
        "ns",
        "postgresql://u@h/db?x=1",
    )
    assert parse_static_target("d=postgresql://h/db").name == "d"
    assert "postgresql" not in repr(t)  # the URI (a password) is never printed
    with pytest.raises(ValueError, match="target: expected ID=URI"):
        parse_static_target("no-uri")


def _body(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "agent", "namespace": "ns", "uid": "u-1"}, "spec": spec}


def test_database_uri_from_the_managed_secret_uri_or_password() -> None:
    secrets = {("ns", "agent-postgres"): {"uri": "postgres://a"}}
    assert (
        database_uri_for(_body({}), lambda ns, n: secrets.get((ns, n)), ManagedDatabaseSecret())
        == "postgres://a"
    )
    secrets = {("ns", "agent-postgres"): {"password": "p@ss/word", "username": "postgres"}}
    assert database_uri_for(_body({}), lambda ns, n: secrets.get((ns, n)), ManagedDatabaseSecret()) == (
        "postgresql://postgres:p%40ss%2Fword@agent-postgres.ns.svc:5432/postgres"
    )


def test_database_uri_from_an_external_secret_ref_and_clear_errors() -> None:
    ext = {"database": {"external": {"secretRef": {"name": "db"}}}}
    assert (
        database_uri_for(
            _body(ext), lambda ns, n: {"uri": "postgres://x"} if n == "db" else None, ManagedDatabaseSecret()
        )
        == "postgres://x"
    )
    with pytest.raises(TargetError, match="ns/agent: the database Secret 'db' does not exist"):
        database_uri_for(_body(ext), lambda ns, n: None, ManagedDatabaseSecret())
    with pytest.raises(TargetError, match="has no key 'uri'"):
        database_uri_for(_body(ext), lambda ns, n: {"other": "x"}, ManagedDatabaseSecret())
    with pytest.raises(TargetError, match="has neither 'uri' nor 'password'"):
        database_uri_for(_body({}), lambda ns, n: {"username": "x"}, ManagedDatabaseSecret())


def test_target_tags_from_labels_revision_and_tenant_setting() -> None:
    body = {
        "metadata": {"name": "a", "namespace": "n", "uid": "u", "labels": {"lgp.dev/x": "1", "app": "z"}},
        "spec": {"revision": {"id": "r1"}},
    }
    t = target_from_body(body, "postgres://", tenant="acme")
    assert t.tags == {"lgp.dev/x": "1", "lgp.dev/revision": "r1", "langgraph.platform.tenant": "acme"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "set beacon_url (LGP_USAGE_BEACON_URL), or airgapped_dir"),
        ({"LGP_USAGE_AIRGAPPED_DIR": "/tmp/x"}, "air-gapped mode needs audit_signing_key"),
        ({"LGP_USAGE_BEACON_URL": "http://b", "LGP_USAGE_INTERVAL_SECONDS": "-1"}, "interval_seconds:"),
    ],
)
def test_bad_settings_name_the_field(
    env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for k in [k for k in os.environ if k.startswith("LGP_USAGE_")]:
        monkeypatch.delenv(k)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert main(["run", "--once"]) == 2
    assert message in capsys.readouterr().err
