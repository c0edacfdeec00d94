"""What the CLI prints: 422 details as `field: reason (flag)`, exit codes for HTTP statuses, tables,
ages, and one line per event kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lgp_cli import exit_codes, output


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (401, 5), (403, 5), (404, 3), (409, 4), (422, 6), (400, 6), (413, 6),
        (502, 7), (503, 7), (504, 7), (500, 1), (402, 1), (429, 1),
    ],
)  # fmt: skip
def test_exit_code_for_each_status(status: int, code: int) -> None:
    assert exit_codes.for_http_status(status) == code


def test_every_exit_code_is_documented() -> None:
    for code in (0, 1, 2, 3, 4, 5, 6, 7, 124):
        assert f"\n  {code} " in "\n" + exit_codes.HELP


def test_422_lines_name_the_field_and_the_flag() -> None:
    detail = [
        {"loc": ["body", "resources", "server", "cpu"], "msg": "String should match pattern", "type": "x"},
        {"loc": ["body", "env", 0, "name"], "msg": "bad name", "type": "x"},
        {"loc": ["body", "secrets", "API_TOKEN"], "msg": "too long", "type": "x"},
        {"loc": ["query", "limit"], "msg": "less than or equal to 500", "type": "x"},
        {"loc": ["body", "name"], "msg": "too long", "type": "x"},
        {"loc": ["body"], "msg": "not JSON", "type": "x"},
        {"loc": ["body", "something_new"], "msg": "extra", "type": "x"},
    ]
    assert output.error_lines(detail) == [
        "resources.server.cpu: String should match pattern (--cpu)",
        "env.0.name: bad name (--env)",
        "secrets.API_TOKEN: too long (--secret API_TOKEN)",
        "query limit: less than or equal to 500 (--limit)",
        "name: too long (NAME)",
        "body: not JSON",
        "something_new: extra",
    ]
    assert output.error_lines("deployment not found") == ["deployment not found"]
    assert output.error_lines([]) == ["invalid input"]


def test_age() -> None:
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    assert output.age(None) == "-"
    assert output.age("garbage") == "-"
    assert output.age((now - timedelta(seconds=42)).isoformat(), now) == "42s"
    assert output.age((now - timedelta(minutes=5, seconds=3)).isoformat(), now) == "5m"
    assert output.age((now - timedelta(hours=3)).isoformat().replace("+00:00", "Z"), now) == "3h"
    assert output.age((now - timedelta(days=12)).isoformat(), now) == "12d"
    assert output.age((now + timedelta(seconds=5)).isoformat(), now) == "0s"  # clock skew


def test_table_aligns_and_shows_missing_values_as_dash() -> None:
    text = output.table(("A", "LONGER", "C"), [("x", None, True), ("yyyy", ["a", "b"], "last")])
    assert text.splitlines() == ["A     LONGER  C", "x     -       yes", "yyyy  a,b     last"]


def test_page_footer() -> None:
    assert output.page_footer({"data": [1], "count": 1, "offset": 0}) == ""
    assert "1 of 3 shown" in output.page_footer({"data": [1], "count": 3, "offset": 0})


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (
            {"kind": "revision_status", "reason": "AwaitingDeploy", "message": "waiting for the listener",
             "payload": {"from": "QUEUED", "to": "AWAITING_DEPLOY"}},
            "QUEUED -> AWAITING_DEPLOY AwaitingDeploy: waiting for the listener",
        ),
        (
            {"kind": "revision_status", "reason": "DEPLOYING",
             "message": "revision 1: AWAITING_DEPLOY -> DEPLOYING",
             "payload": {"from": "AWAITING_DEPLOY", "to": "DEPLOYING"}},
            "AWAITING_DEPLOY -> DEPLOYING",
        ),
        (
            {"kind": "condition", "reason": "Progressing", "message": "0/1",
             "payload": {"type": "Ready", "status": "False", "reason": "Progressing", "message": "0/1"}},
            "condition Ready=False Progressing: 0/1",
        ),
        (
            {"kind": "kubernetes_event", "reason": "BackOff", "message": "pulling",
             "payload": {"type": "Warning", "object": "Pod/a-0", "count": 3}},
            "Warning BackOff Pod/a-0 (x3): pulling",
        ),
        ({"kind": "replicas", "message": "desired=2, ready=1", "payload": {}}, "replicas desired=2, ready=1"),
        ({"kind": "endpoint", "message": "http://a:8000", "payload": {}}, "endpoint http://a:8000"),
        ({"kind": "new_kind", "reason": "R", "message": "M", "payload": {}}, "new_kind R: M"),
    ],
)  # fmt: skip
def test_event_lines(event: dict[str, object], line: str) -> None:
    assert output.event_text(event) == line


def test_deployment_details_show_secret_names_only() -> None:
    d = {
        "name": "agent", "id": "1", "type": "development", "status": "READY", "image": "r/a:1",
        "listener_id": "l", "namespace": "ns", "endpoint": None, "replicas": {"desired": 2, "ready": 1},
        "resources": {"server": {"replicas": 2, "cpu": "1", "memory": "1Gi"}, "queue": {"enabled": False}},
        "ingress": {"host": None, "path": "/x"}, "database": {"type": "managed"},
        "redis": {"type": "external"},
        "env": [{"name": "A", "value": "1"}], "secret_names": ["TOKEN"], "secret_refs": [],
        "latest_revision_id": "r", "active_revision_id": "r", "created_at": "t", "updated_at": "t",
        "deleted_at": None, "conditions": [{"type": "Ready", "status": "True"}],
    }  # fmt: skip
    text = output.deployment_details(d, {"number": 3, "status": "DEPLOYED"})
    assert "replicas ready:  1/2" in text
    assert "latest:          revision 3 DEPLOYED" in text
    assert "ingress:         */x" in text
    assert "secrets:         TOKEN" in text
    assert "conditions:\n  Ready=True\n" in text
