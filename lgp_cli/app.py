"""Running one user command (`lgp deployments ...`, `lgp revisions ...`, ...): parse, build the
context, call the command, and turn every failure into a message on stderr and an exit code scripts
can trust."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from typing import TextIO

import httpx

from lgp_cli import exit_codes, output
from lgp_cli.client import ApiError, Unavailable
from lgp_cli.commands import build_parser
from lgp_cli.config import ConfigError
from lgp_cli.context import CliError, Ctx
from lgp_cli.inputs import UsageError


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
