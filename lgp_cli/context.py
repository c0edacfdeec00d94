"""What every user command shares: the parser class and the global options, the context a command
runs in (settings, the HTTP client, output), and the error a command raises to exit with a code."""

from __future__ import annotations

import argparse
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, TextIO

import httpx

from lgp_cli import exit_codes, output
from lgp_cli.client import Client
from lgp_cli.config import Settings, loose_permissions, resolve

PROG = "lgp"
_ASSIGNMENT = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*=)\S+")


class CliError(Exception):
    """A failure with its exit code and the message to print."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def redact(message: str) -> str:
    """Hide the value of anything that looks like NAME=VALUE (it may be a secret typed on the
    command line, and argparse echoes unrecognised arguments)."""
    return _ASSIGNMENT.sub(r"\1***", message)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(exit_codes.USAGE, f"{self.prog}: error: {redact(message)}\n")


def global_options() -> argparse.ArgumentParser:
    """Options every user command accepts, before or after the subcommand (defaults applied later, so
    a value given before the subcommand is not overwritten by the subcommand's parser)."""
    p = Parser(add_help=False)
    g = p.add_argument_group("global options")
    s = argparse.SUPPRESS
    g.add_argument(
        "--url", default=s, help="the control plane's URL (env LGP_URL; default from the config file)"
    )
    g.add_argument(
        "--api-key", default=s, help="the API key (env LGP_API_KEY); prefer --api-key-file or the config file"
    )
    g.add_argument("--api-key-file", default=s, metavar="PATH", help="read the API key from a file")
    g.add_argument(
        "--profile", default=s, help="the config file profile (env LGP_PROFILE; default 'default')"
    )
    g.add_argument(
        "-o",
        "--output",
        choices=("table", "json"),
        default=s,
        help="table (for people, the default; env LGP_OUTPUT) or json (the API's JSON, for scripts)",
    )
    g.add_argument(
        "--request-timeout", type=float, default=s, metavar="SECONDS", help="per HTTP request (default 30)"
    )
    return p


@dataclass
class Ctx:
    args: argparse.Namespace
    out: TextIO
    err: TextIO
    stdin: TextIO
    env: Mapping[str, str]
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    transport: httpx.BaseTransport | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _client: Client | None = field(default=None, repr=False)

    def opt(self, name: str, default: Any = None) -> Any:
        return getattr(self.args, name, default)

    @property
    def json(self) -> bool:
        return bool(self.opt("output") == "json")

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = resolve(
                self.env,
                url=self.opt("url"),
                api_key=self.opt("api_key"),
                api_key_file=self.opt("api_key_file"),
                profile=self.opt("profile"),
            )
            path = self._settings.config_path
            if self._settings.sources["api_key"].startswith("config file") and loose_permissions(path):
                self.note(f"lgp: warning: {path} holds an API key and others may read it: chmod 600 {path}")
        return self._settings

    def client(self) -> Client:
        if self._client is None:
            settings = self.settings()
            if not settings.api_key:
                raise CliError(
                    exit_codes.AUTH,
                    "no API key: set LGP_API_KEY, pass --api-key-file PATH, or run `lgp config set api_key`",
                )
            self._client = Client(
                settings.url,
                settings.api_key,
                timeout=float(self.opt("request_timeout") or 30.0),
                transport=self.transport,
                sleep=self.sleep,
                user_agent=f"lgp-cli/{_version()}",
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def emit(self, obj: Any, render: Callable[[Any], str]) -> None:
        """The API's JSON as is (--output json), or the human rendering."""
        self.out.write(output.to_json(obj) if self.json else render(obj))
        self.out.flush()

    def note(self, text: str) -> None:
        """Progress and hints for people: stderr, so stdout stays clean for scripts."""
        self.err.write(text + "\n")
        self.err.flush()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lgp")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "dev"


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def actions(sub: Any, resource: str, **kwargs: Any) -> Any:
    """The parser of one resource (`lgp RESOURCE ACTION ...`); returns the parsers of its actions."""
    group = sub.add_parser(resource, **kwargs)
    return group.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
