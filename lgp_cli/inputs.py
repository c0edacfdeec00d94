"""Turning flags into request bodies: env vars, secrets (from a file or the environment so values stay
out of shell history), and settings. Pure functions; errors name the flag and never echo a value."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UsageError(Exception):
    """Bad flags or arguments (exit code 2)."""


def _name(name: str, flag: str) -> str:
    if not ENV_NAME.match(name):
        shown = name if len(name) <= 64 else name[:64] + "..."
        raise UsageError(
            f"{flag} {shown!r}: a variable name is letters, digits and '_', not starting with a digit"
        )
    return name


def _split(item: str, flag: str, what: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep:
        raise UsageError(f"{flag} {_name(name, flag)}: expected {what}")
    return _name(name, flag), value


def parse_env(items: Iterable[str]) -> list[dict[str, str]]:
    """``--env K=V`` (repeatable) -> the API's env list, in order; a repeated name is refused."""
    out: dict[str, str] = {}
    for item in items:
        name, value = _split(item, "--env", "NAME=VALUE")
        if name in out:
            raise UsageError(f"--env {name}: given more than once")
        out[name] = value
    return [{"name": k, "value": v} for k, v in out.items()]


def read_value_file(path: str, flag: str) -> str:
    """A secret from a file, without one trailing newline (what ``echo`` or an editor adds)."""
    try:
        value = Path(path).expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{flag}: {path} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{flag}: {path} is a directory") from None
    except UnicodeDecodeError:
        raise UsageError(f"{flag}: {path} is not UTF-8 text") from None
    except OSError as e:
        raise UsageError(f"{flag}: cannot read {path}: {e.strerror}") from None
    if value.endswith("\r\n"):
        value = value[:-2]
    elif value.endswith("\n"):
        value = value[:-1]
    return value


def parse_secrets(values: Iterable[str], files: Iterable[str], env: Mapping[str, str]) -> dict[str, str]:
    """``--secret K=V``, ``--secret K`` (the value of environment variable K) and
    ``--secret-from-file K=PATH``, merged; a name given twice is refused."""
    out: dict[str, str] = {}

    def put(name: str, value: str, flag: str) -> None:
        if name in out:
            raise UsageError(f"{flag} {name}: secret given more than once")
        out[name] = value

    for item in values:
        name, sep, value = item.partition("=")
        _name(name, "--secret")
        if not sep:
            if name not in env:
                raise UsageError(
                    f"--secret {name}: the environment variable {name} is not set "
                    f"(use --secret {name}=VALUE, or --secret-from-file {name}=PATH)"
                )
            value = env[name]
        put(name, value, "--secret")
    for item in files:
        name, path = _split(item, "--secret-from-file", "NAME=PATH")
        put(name, read_value_file(path, f"--secret-from-file {name}"), "--secret-from-file")
    return out


def apply_env_changes(
    current: list[dict[str, Any]], sets: list[dict[str, str]], unsets: Iterable[str]
) -> list[dict[str, str]]:
    """The env list after ``--env K=V`` (set or replace, in place) and ``--unset-env K``."""
    drop = {_name(n, "--unset-env") for n in unsets}
    for name in drop & {s["name"] for s in sets}:
        raise UsageError(f"--env {name} and --unset-env {name}: choose one")
    new = {s["name"]: s["value"] for s in sets}
    out: list[dict[str, str]] = []
    for item in current:
        name = str(item["name"])
        if name in drop:
            continue
        out.append({"name": name, "value": new.pop(name, str(item.get("value", "")))})
    out += [{"name": k, "value": v} for k, v in new.items()]
    return out


def apply_list_changes(current: list[str], add: Iterable[str], remove: Iterable[str]) -> list[str]:
    """A list after adding (keeping order, no duplicates) and removing items."""
    gone = set(remove)
    out = [x for x in current if x not in gone]
    for x in add:
        if x not in out and x not in gone:
            out.append(x)
    return out


def resources(args: Any) -> dict[str, Any]:
    """The ``resources`` body from the resource flags: only what was given (the API merges the rest)."""
    if args.replicas is not None and (args.min_replicas is not None or args.max_replicas is not None):
        raise UsageError("--replicas (fixed) and --min-replicas/--max-replicas (autoscaling): choose one")
    groups = {
        "server": {
            "replicas": args.replicas,
            "min_replicas": args.min_replicas,
            "max_replicas": args.max_replicas,
            "cpu": args.cpu,
            "memory": args.memory,
        },
        "queue": {
            "enabled": args.queue,
            "replicas": args.queue_replicas,
            "jobs_per_worker": args.jobs_per_worker,
            "cpu": args.queue_cpu,
            "memory": args.queue_memory,
        },
        "postgres": {"storage": args.postgres_storage},
    }
    out: dict[str, Any] = {}
    for group, values in groups.items():
        given = {k: v for k, v in values.items() if v is not None}
        if given:
            out[group] = given
    return out


def ingress(host: str | None, path: str | None) -> dict[str, str] | None:
    if host is None and path is None:
        return None
    out = {}
    if host is not None:
        out["host"] = host
    if path is not None:
        out["path"] = path
    return out


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def point_in_time(value: str | None, flag: str, now: datetime) -> str | None:
    """``--since 10m`` (a duration ago) or an RFC 3339 time, as the API's RFC 3339 text."""
    if value is None:
        return None
    text = value.strip()
    found = _DURATION.match(text)
    if found:
        return (now - timedelta(seconds=float(found.group(1)) * _SECONDS[found.group(2)])).isoformat()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{flag} {value!r}: give a time (2026-03-08T12:00:00Z) or a duration ago (30s, 10m, 2h, 1d)"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()
