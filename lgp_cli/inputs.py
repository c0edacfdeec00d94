"""Turning flags into request bodies: env vars, secrets (from a file or the environment so values stay
out of shell history), and settings. Pure functions; errors name the flag and never echo a value."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

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
            "min_replicas": args.queue_min_replicas,
            "max_replicas": args.queue_max_replicas,
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


def _pairs(items: Iterable[str], flag: str) -> dict[str, str]:
    """``--label K=V`` (repeatable) -> a map; a repeated key is refused (keys are checked by the API)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} {item!r}: write KEY=VALUE")
        if key in out:
            raise UsageError(f"{flag} {key}: given more than once")
        out[key] = value
    return out


def kubernetes(args: Any, current: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``kubernetes`` block (the custom resource's shape): --kubernetes-file, else the deployment's
    current block, with the flags on top. None when nothing about it was given (the API keeps it)."""
    flags = {
        "labels": _pairs(getattr(args, "label", []), "--label"),
        "annotations": _pairs(getattr(args, "annotation", []), "--annotation"),
        "sa_annotations": _pairs(
            getattr(args, "service_account_annotation", []), "--service-account-annotation"
        ),
    }
    sa, priority = getattr(args, "service_account", None), getattr(args, "priority_class", None)
    path = getattr(args, "kubernetes_file", None)
    if not path and not any(flags.values()) and sa is None and priority is None:
        return None
    block: dict[str, Any] = dict(current or {})
    if path:
        text = read_value_file(path, "--kubernetes-file")
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise UsageError(f"--kubernetes-file {path}: not YAML or JSON ({e.__class__.__name__})") from None
        if not isinstance(loaded, dict):
            raise UsageError(f"--kubernetes-file {path}: must be a mapping (labels, serviceAccount, ...)")
        block = loaded
    for key in ("labels", "annotations"):
        if flags[key]:
            block[key] = {**(block.get(key) or {}), **flags[key]}
    if sa is not None or flags["sa_annotations"]:
        account = dict(block.get("serviceAccount") or {})
        if sa is not None:
            account["create"] = sa
        if flags["sa_annotations"]:
            account["annotations"] = {**(account.get("annotations") or {}), **flags["sa_annotations"]}
        block["serviceAccount"] = account
    if priority is not None:
        block["placement"] = {**(block.get("placement") or {}), "priorityClassName": priority}
    return block
