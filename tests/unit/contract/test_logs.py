"""The log line functions both planes share: the kubelet's timestamps, levels, filters, redaction, ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lgp_contract.logs import (
    MAX_MESSAGE_CHARS,
    REDACTED,
    Redactor,
    at_least,
    clip,
    detect_level,
    line_id,
    matches,
    parse_time,
    parse_timestamped,
    strip_ansi,
)


@pytest.mark.parametrize(
    ("raw", "when", "message"),
    [
        (
            "2026-03-08T12:00:01.123456789Z INFO: started",
            datetime(2026, 3, 8, 12, 0, 1, 123456, tzinfo=UTC),
            "INFO: started",
        ),
        ("2026-03-08T12:00:01Z ", datetime(2026, 3, 8, 12, 0, 1, tzinfo=UTC), ""),
        ("2026-03-08T12:00:01.5+02:00 x", datetime(2026, 3, 8, 10, 0, 1, 500000, tzinfo=UTC), "x"),
        ("no timestamp here", None, "no timestamp here"),
        ("Traceback (most recent call last):", None, "Traceback (most recent call last):"),
    ],
)
def test_timestamped_lines(raw: str, when: datetime | None, message: str) -> None:
    assert parse_timestamped(raw) == (when, message)


def test_parse_time_reads_what_clients_send() -> None:
    assert parse_time("2026-03-08T00:00:00Z") == datetime(2026, 3, 8, tzinfo=UTC)
    assert parse_time("2026-03-08T00:00:00") == datetime(2026, 3, 8, tzinfo=UTC)  # no zone: UTC
    with pytest.raises(ValueError):
        parse_time("yesterday")


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ('{"level": "warning", "event": "slow"}', "WARNING"),
        ('{"levelname": "ERROR", "msg": "x"}', "ERROR"),
        ('{"severity": "fatal"}', "CRITICAL"),
        ('{"event": "no level"}', None),
        ("2026-03-08T12:00:01 [info     ] Application started up in 0.861s [langgraph_api.server]", "INFO"),
        ("INFO:     Started server process [7]", "INFO"),
        ("WARN some library", "WARNING"),
        ("2026-03-08 12:00:01,123 ERROR app: boom", "ERROR"),
        ("Traceback (most recent call last):", None),
        ("GET /ok 200 " + "x" * 90 + " ERROR late in the line", None),  # not near the start
        ("errors=0 processed", None),  # a word, not a level
    ],
)
def test_levels(message: str, level: str | None) -> None:
    assert detect_level(message) == level


def test_level_filter_counts_an_unlevelled_line_as_info() -> None:
    assert at_least("ERROR", "WARNING") and not at_least("INFO", "WARNING")
    assert at_least(None, "INFO") and not at_least(None, "WARNING")
    assert at_least("DEBUG", None)


def test_text_filter_ignores_case() -> None:
    assert matches("GET /ok 200", "get /OK") and not matches("GET /ok", "post")
    assert matches("anything", None) and matches("anything", "")


def test_redaction() -> None:
    uri = "postgres://agent:p%40ss-Word-1@db:5432/agent"
    redact = Redactor(["sk-abcdef123", "abc", "sk-abcdef123-longer", uri])
    assert redact("key sk-abcdef123-longer and sk-abcdef123") == f"key {REDACTED} and {REDACTED}"
    assert redact("abc stays: too short to mean anything") == "abc stays: too short to mean anything"
    assert redact(f"connecting to {uri}") == f"connecting to {REDACTED}"
    assert redact("password p@ss-Word-1 or p%40ss-Word-1") == f"password {REDACTED} or {REDACTED}"
    assert redact.size == 5 and bool(redact)  # two values, the URI, its password encoded and decoded
    empty = Redactor([])
    assert not empty and empty("sk-abcdef123") == "sk-abcdef123"
    assert Redactor(["a.b*c(d"])("x a.b*c(d y") == f"x {REDACTED} y"  # regular expression characters


def test_ansi_clip_and_ids() -> None:
    assert strip_ansi("\x1b[32mINFO\x1b[0m ok") == "INFO ok"
    long = "x" * (MAX_MESSAGE_CHARS + 10)
    assert len(clip(long)) == MAX_MESSAGE_CHARS and clip(long).endswith("…") and clip("short") == "short"
    assert line_id("pod", "c", False, "t", "m") == line_id("pod", "c", False, "t", "m")
    assert line_id("pod", "c", True, "t", "m") != line_id("pod", "c", False, "t", "m")
