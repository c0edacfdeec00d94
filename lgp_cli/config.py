"""Where the CLI finds the control plane and its API key: flags > environment > config file > defaults.

The config file (``LGP_CONFIG``, else ``$XDG_CONFIG_HOME/lgp/config.toml``, else
``~/.config/lgp/config.toml``) holds one table per profile::

    [default]
    url = "https://lgp.example.com"
    api_key = "lgp_..."

    [staging]
    url = "https://lgp.staging.example.com"

The profile is ``--profile``, else ``LGP_PROFILE``, else ``default``. It is read with ``tomllib`` and
written by a small writer that only knows string values (all this file needs), with mode 0600.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_PROFILE = "default"
KEYS = ("url", "api_key")  # what a profile may hold
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class ConfigError(Exception):
    """The configuration cannot be used (exit code 2, the message says which setting and why)."""


@dataclass(frozen=True)
class Settings:
    url: str
    api_key: str | None
    profile: str
    config_path: Path
    sources: dict[str, str] = field(default_factory=dict)  # setting -> where its value came from


def config_path(env: Mapping[str, str]) -> Path:
    if env.get("LGP_CONFIG"):
        return Path(env["LGP_CONFIG"]).expanduser()
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "lgp" / "config.toml"


def read_file(path: Path) -> dict[str, dict[str, Any]]:
    """The profiles in ``path`` ({} when the file does not exist)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"cannot read the config file {path}: {e.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"the config file {path} is not valid TOML: {e}") from None
    profiles: dict[str, dict[str, Any]] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(
                f"the config file {path}: {name!r} must be a table of settings, e.g. [{DEFAULT_PROFILE}]"
            )
        for key, value in table.items():
            if key in KEYS and not isinstance(value, str):
                raise ConfigError(f"the config file {path}: [{name}] {key} must be a string")
        profiles[name] = table
    return profiles


def _quote(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _table_key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _quote(name)


def dumps(profiles: Mapping[str, Mapping[str, Any]]) -> str:
    """TOML for profiles whose values are strings (other values, if any, are dropped)."""
    chunks = []
    for name, table in profiles.items():
        lines = [f"[{_table_key(name)}]"]
        lines += [f"{_table_key(k)} = {_quote(v)}" for k, v in table.items() if isinstance(v, str)]
        chunks.append("\n".join(lines) + "\n")
    return "\n".join(chunks)


def write_file(path: Path, profiles: Mapping[str, Mapping[str, Any]]) -> None:
    """Write atomically with mode 0600 (the file holds API keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(dumps(profiles))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def check_profile_name(name: str) -> str:
    if not _BARE_KEY.match(name):
        raise ConfigError(f"profile name {name!r}: use letters, digits, '-' and '_' only")
    return name


def normalize_url(url: str, source: str) -> str:
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(f"url from {source}: must start with http:// or https:// and name a host")
    return url.removesuffix("/v1")


def loose_permissions(path: Path) -> bool:
    """The file holds an API key and others than its owner may read it."""
    try:
        return bool(path.stat().st_mode & 0o077)
    except OSError:
        return False


def mask(secret: str | None) -> str:
    """Enough of a key to recognise it, never enough to use it."""
    if not secret:
        return "(not set)"
    return secret[:8] + "..." if len(secret) > 16 else "***"


def _read_key_file(path: str, source: str) -> str:
    try:
        value = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ConfigError(f"api key file from {source}: cannot read {path}: {e.strerror}") from None
    if not value:
        raise ConfigError(f"api key file from {source}: {path} is empty")
    return value


def resolve(
    env: Mapping[str, str],
    *,
    url: str | None = None,
    api_key: str | None = None,
    api_key_file: str | None = None,
    profile: str | None = None,
) -> Settings:
    """The settings to use: each one from the first of flags, environment, config file, default."""
    path = config_path(env)
    profile_source = "--profile" if profile else "LGP_PROFILE" if env.get("LGP_PROFILE") else None
    name = profile or env.get("LGP_PROFILE") or DEFAULT_PROFILE
    profiles = read_file(path)
    if profile_source and name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(f"profile {name!r} (from {profile_source}) is not in {path} (profiles: {known})")
    table = profiles.get(name, {})
    sources: dict[str, str] = {}
    in_file = f"config file {path} [{name}]"

    if url:
        chosen_url, sources["url"] = url, "--url"
    elif env.get("LGP_URL"):
        chosen_url, sources["url"] = env["LGP_URL"], "env LGP_URL"
    elif table.get("url"):
        chosen_url, sources["url"] = table["url"], in_file
    else:
        chosen_url, sources["url"] = DEFAULT_URL, "default"

    key: str | None
    if api_key:
        key, sources["api_key"] = api_key, "--api-key"
    elif api_key_file:
        key, sources["api_key"] = _read_key_file(api_key_file, "--api-key-file"), "--api-key-file"
    elif env.get("LGP_API_KEY"):
        key, sources["api_key"] = env["LGP_API_KEY"], "env LGP_API_KEY"
    elif env.get("LGP_API_KEY_FILE"):
        key = _read_key_file(env["LGP_API_KEY_FILE"], "LGP_API_KEY_FILE")
        sources["api_key"] = "env LGP_API_KEY_FILE"
    elif table.get("api_key"):
        key, sources["api_key"] = table["api_key"], in_file
    else:
        key, sources["api_key"] = None, "not set"

    return Settings(
        url=normalize_url(chosen_url, sources["url"]),
        api_key=key,
        profile=name,
        config_path=path,
        sources=sources,
    )
