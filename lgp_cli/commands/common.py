"""What several user commands share: finding a deployment, revision or listener by name or id,
confirmations, waiting flags and the wait itself, paging flags, and credentials shown once."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from lgp_cli import exit_codes
from lgp_cli.context import CliError, Ctx, is_uuid
from lgp_cli.inputs import UsageError
from lgp_cli.waiting import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, Progress, wait_for_revision

EVENT_KINDS = ("revision_status", "condition", "kubernetes_event", "replicas", "endpoint")


# ============================================================================== lookups
def find_deployment(ctx: Ctx, ref: str) -> dict[str, Any]:
    """A deployment by id or by exact name."""
    client = ctx.client()
    if is_uuid(ref):
        found: dict[str, Any] = client.get(f"/deployments/{ref}")
        return found
    if len(ref) <= 53:
        for d in client.get_all("/deployments", name=ref):
            if d["name"] == ref:
                return d
    raise CliError(exit_codes.NOT_FOUND, f"no deployment named {ref!r}")


def find_listener(ctx: Ctx, ref: str) -> dict[str, Any]:
    client = ctx.client()
    if is_uuid(ref):
        found: dict[str, Any] = client.get(f"/listeners/{ref}")
        return found
    for x in client.get_all("/listeners"):
        if x["name"] == ref:
            return x
    raise CliError(exit_codes.NOT_FOUND, f"no listener named {ref!r}")


def listener_id(ctx: Ctx, ref: str) -> str:
    return ref if is_uuid(ref) else str(find_listener(ctx, ref)["id"])


def find_revision(ctx: Ctx, ref: str) -> dict[str, Any]:
    """A revision by id, or ``DEPLOYMENT:NUMBER`` / ``DEPLOYMENT:latest``."""
    client = ctx.client()
    if is_uuid(ref):
        found: dict[str, Any] = client.get(f"/revisions/{ref}")
        return found
    dep, sep, number = ref.rpartition(":")
    if not sep or not dep:
        raise UsageError(f"revision {ref!r}: give a revision id, DEPLOYMENT:NUMBER or DEPLOYMENT:latest")
    d = find_deployment(ctx, dep)
    if number == "latest":
        if not d.get("latest_revision_id"):
            raise CliError(exit_codes.NOT_FOUND, f"deployment {dep!r} has no revision")
        latest: dict[str, Any] = client.get(f"/revisions/{d['latest_revision_id']}")
        return latest
    if not number.isdigit():
        raise UsageError(f"revision {ref!r}: {number!r} is not a revision number (or 'latest')")
    for r in client.get_all(f"/deployments/{d['id']}/revisions"):
        if r["number"] == int(number):
            return r
    raise CliError(exit_codes.NOT_FOUND, f"deployment {dep!r} has no revision {number}")


def confirm(ctx: Ctx, question: str) -> None:
    if ctx.opt("yes"):
        return
    if not ctx.stdin.isatty():
        raise UsageError(f"{question}: pass --yes to confirm (stdin is not a terminal)")
    ctx.err.write(f"{question} [y/N] ")
    ctx.err.flush()
    if ctx.stdin.readline().strip().lower() not in ("y", "yes"):
        raise CliError(exit_codes.FAILED, "aborted")


def write_secret_file(path: str, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")


# ============================================================================== waiting
def progress(ctx: Ctx) -> Progress:
    return Progress(ctx.err, clock=ctx.clock, quiet=bool(ctx.opt("quiet")))


def wait(ctx: Ctx, revision_id: str, label: str = "revision") -> tuple[int, dict[str, Any] | None]:
    timeout = ctx.opt("timeout", DEFAULT_TIMEOUT)
    interval = ctx.opt("poll_interval", DEFAULT_INTERVAL)
    result = wait_for_revision(
        ctx.client(),
        revision_id,
        timeout=timeout,
        interval=interval,
        progress=progress(ctx),
        sleep=ctx.sleep,
        label=label,
    )
    return result.code, result.revision


def positive_seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return number


def add_wait_options(p: argparse.ArgumentParser, flag: bool = True) -> None:
    g = p.add_argument_group("waiting")
    if flag:
        g.add_argument(
            "--wait",
            action="store_true",
            help="wait until the revision is DEPLOYED (exit 0) or fails (exit 1), showing progress on stderr",
        )
    g.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up waiting after this long: exit 124 (default {DEFAULT_TIMEOUT:g})",
    )
    g.add_argument(
        "--poll-interval",
        type=positive_seconds,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between polls (default {DEFAULT_INTERVAL:g})",
    )
    g.add_argument("-q", "--quiet", action="store_true", help="no progress lines, only the outcome")


def page_flags(p: argparse.ArgumentParser, limit: int = 100) -> None:
    p.add_argument(
        "--limit", type=int, default=limit, metavar="N", help=f"page size, 1-500 (default {limit})"
    )
    p.add_argument("--offset", type=int, default=0, metavar="N", help="items to skip (default 0)")


def print_with_token(
    ctx: Ctx, obj: dict[str, Any], field: str, file_flag: str, what: str, render: Callable[[Any], str]
) -> None:
    """An object carrying a credential shown once: to a 0600 file, or on stdout with a warning."""
    path = ctx.opt(file_flag)
    if path:
        write_secret_file(path, obj[field])
        obj = {k: v for k, v in obj.items() if k != field}
        ctx.note(f"the {what} is in {path} (mode 0600); it is not shown again")
    elif not ctx.json:
        ctx.note(f"the {what} is shown once: store it now")
    ctx.emit(obj, lambda o: render(o) + (f"{what}: {o[field]}\n" if field in o else ""))
