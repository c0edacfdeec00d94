"""A deployment's log lines, as both planes handle them: the kubelet's timestamped lines read, a level
found, secret values redacted, filters applied, one id per line. Pure functions, no I/O.

The listener reads container logs (``pods/log`` with ``timestamps=true``) and answers a log request
with lines it has parsed, redacted and filtered here; the control plane merges them with the events
it holds, redacts again (the deployment's own secret values; it has them too) and serves them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import unquote, urlsplit

Level = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LEVELS: tuple[Level, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
RANK: dict[str, int] = {level: n for n, level in enumerate(LEVELS)}
UNLEVELLED_RANK = RANK["INFO"]
"""A line without a recognisable level counts as INFO when filtering (a traceback's lines included)."""

MAX_MESSAGE_CHARS = 4096
"""A longer line is cut to this many characters (its end replaced by ``…``)."""
MAX_LINES = 1000
"""Most lines one request asks for, and one answer carries."""
MAX_ANSWER_BYTES = 512 * 1024
"""Most bytes of messages one answer carries (the oldest lines go first beyond it), well under the
control plane's request limit (``LGP_MAX_REQUEST_BYTES``, 1 MiB by default)."""
MIN_SECRET_CHARS = 4
"""Shorter secret values are not redacted: replacing every ``1`` or ``on`` of a log protects nothing."""
REDACTED = "[redacted]"

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_LEVEL_WORD = re.compile(
    r"(?<![A-Za-z])(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|TRACE)(?![A-Za-z])", re.IGNORECASE
)
_LEVEL_ALIASES: dict[str, Level] = {
    "TRACE": "DEBUG",
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARN": "WARNING",
    "WARNING": "WARNING",
    "ERROR": "ERROR",
    "CRITICAL": "CRITICAL",
    "FATAL": "CRITICAL",
}
_LEVEL_KEYS = ("level", "levelname", "severity", "log.level")
LEVEL_SEARCH_CHARS = 80
"""A level word counts only near the start of a line (``[info ] ...``, ``INFO:``, ``2026-.. ERROR``), not
anywhere in a message that happens to contain ``error``."""


def strip_ansi(text: str) -> str:
    """Without terminal colours (servers often log in colour)."""
    return ANSI_ESCAPE.sub("", text)


def parse_timestamped(raw: str) -> tuple[datetime | None, str]:
    """A line of ``pods/log?timestamps=true``: ``2026-01-02T03:04:05.123456789Z message`` -> (time, message).
    Nanoseconds are cut to microseconds. A line without a timestamp keeps its text, time None."""
    stamp, sep, rest = raw.partition(" ")
    if not sep and not stamp.endswith("Z"):
        return None, raw
    try:
        return parse_time(stamp), rest
    except ValueError:
        return None, raw


def parse_time(text: str) -> datetime:
    """RFC 3339 / ISO 8601 with any number of fraction digits (``Z`` or an offset; none means UTC)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    match = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", value)
    if match:  # Python reads at most 6 fraction digits
        value = f"{match.group(1)}.{match.group(2)[:6].ljust(6, '0')}{match.group(3)}"
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def detect_level(message: str) -> Level | None:
    """The level a line states: a JSON line's ``level``/``levelname``/``severity``, else a level word near
    its start; None when it states none."""
    text = message.lstrip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            for key in _LEVEL_KEYS:
                value = doc.get(key)
                if isinstance(value, str) and value.upper() in _LEVEL_ALIASES:
                    return _LEVEL_ALIASES[value.upper()]
            return None
    found = _LEVEL_WORD.search(text[:LEVEL_SEARCH_CHARS])
    return _LEVEL_ALIASES[found.group(1).upper()] if found else None


def at_least(level: str | None, minimum: str | None) -> bool:
    """Whether a line of ``level`` passes a filter of ``minimum`` (None: every line passes)."""
    if minimum is None:
        return True
    return RANK.get(level or "", UNLEVELLED_RANK) >= RANK[minimum]


def matches(message: str, text: str | None) -> bool:
    """The text filter: a case-insensitive substring (None or empty: every line)."""
    return not text or text.casefold() in message.casefold()


def clip(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def line_id(*parts: object) -> str:
    """A stable id for a line (the same line read twice gets the same id, so a follower can skip it)."""
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()[:24]


class Redactor:
    """Replaces a deployment's secret values (and the password inside a URI value) with ``[redacted]``.

    Values shorter than ``MIN_SECRET_CHARS`` are left alone. Longer values go first, so a value that
    contains another is replaced whole."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        found: set[str] = set()
        for value in values:
            for candidate in (value, *_uri_passwords(value)):
                if len(candidate) >= MIN_SECRET_CHARS:
                    found.add(candidate)
        ordered = sorted(found, key=lambda v: (-len(v), v))
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
        self.size = len(ordered)

    def __call__(self, text: str) -> str:
        return text if self._pattern is None or not text else self._pattern.sub(REDACTED, text)

    def __bool__(self) -> bool:
        return self._pattern is not None


def _uri_passwords(value: str) -> list[str]:
    """``postgres://user:p%40ss@host/db`` -> ``["p%40ss", "p@ss"]``: a server may log the password alone."""
    if "://" not in value:
        return []
    try:
        password = urlsplit(value.strip()).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []
