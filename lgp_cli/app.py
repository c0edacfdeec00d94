"""The user commands (`lgp deployments ...`, `lgp revisions ...`, ...): parsing, the shared context,
and turning every failure into a message on stderr and an exit code scripts can trust."""

from __future__ import annotations

import argparse
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from typing import Any, NoReturn, TextIO

import httpx

from lgp_cli import exit_codes, output
from lgp_cli.client import ApiError, Client, Unavailable
from lgp_cli.config import ConfigError, Settings, loose_permissions, resolve
from lgp_cli.inputs import UsageError

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


def print_api_error(e: ApiError, err: TextIO) -> None:
    lines = output.error_lines(e.detail)
    where = f"(HTTP {e.status}, {e.method} /v1{e.path})"
    if e.status in (400, 413, 422):
        err.write(f"lgp: invalid input {where}:\n" + "".join(f"  {line}\n" for line in lines))
    elif len(lines) == 1:
        err.write(f"lgp: {lines[0]} {where}\n")
    else:
        err.write(f"lgp: error {where}:\n" + "".join(f"  {line}\n" for line in lines))
    if e.status == 401:
        err.write("lgp: check the API key: --api-key-file, LGP_API_KEY, or `lgp config show`\n")


def run(
    argv: Sequence[str],
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run one user command; returns its exit code (see exit_codes)."""
    import os

    from lgp_cli.commands import build_parser

    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            args = parser.parse_args(list(argv))
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else exit_codes.USAGE
    environ = os.environ if env is None else env
    if getattr(args, "output", None) is None:
        args.output = environ.get("LGP_OUTPUT") or "table"
        if args.output not in ("table", "json"):
            err.write(f"lgp: LGP_OUTPUT={args.output!r}: use table or json\n")
            return exit_codes.USAGE
    ctx = Ctx(args, out, err, stdin or sys.stdin, environ, sleep=sleep, clock=clock, transport=transport)
    handler: Callable[[Ctx], int] = args.func
    try:
        return int(handler(ctx))
    except (UsageError, ConfigError) as e:
        err.write(f"lgp: {e}\n")
        return exit_codes.USAGE
    except CliError as e:
        err.write(f"lgp: {e}\n")
        return e.code
    except ApiError as e:
        print_api_error(e, err)
        return e.exit_code
    except Unavailable as e:
        err.write(f"lgp: {e}\n")
        return exit_codes.UNAVAILABLE
    except KeyboardInterrupt:
        err.write("lgp: interrupted\n")
        return 130
    finally:
        ctx.close()
