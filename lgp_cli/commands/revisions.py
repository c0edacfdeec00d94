"""`lgp revisions ...`: roll out, roll back (redeploy), interrupt, follow and list revisions."""

from __future__ import annotations

import argparse
from typing import Any

from lgp_cli import exit_codes, output
from lgp_cli.commands.common import (
    EVENT_KINDS,
    add_wait_options,
    find_deployment,
    find_revision,
    page_flags,
    wait,
)
from lgp_cli.context import Ctx, actions

REVISION_STATUSES = (
    "QUEUED",
    "AWAITING_DEPLOY",
    "DEPLOYING",
    "DEPLOYED",
    "DEPLOY_FAILED",
    "INTERRUPTED",
    "SKIPPED",
    "REPLACED",
)


def _finish_revision(ctx: Ctx, r: dict[str, Any]) -> int:
    if not ctx.opt("wait"):
        ctx.emit(r, output.revision_details)
        return exit_codes.OK
    code, final = wait(ctx, r["id"])
    ctx.emit(final or r, output.revision_details)
    return code


def revisions_create(ctx: Ctx) -> int:
    d = find_deployment(ctx, ctx.args.deployment)
    body = {"image": ctx.args.image} if ctx.args.image else {}
    r = ctx.client().post(f"/deployments/{d['id']}/revisions", body)
    ctx.note(f"created revision {r['number']} of {d['name']} ({r['id']}): {r['status']}")
    return _finish_revision(ctx, r)


def revisions_list(ctx: Ctx) -> int:
    a = ctx.args
    d = find_deployment(ctx, a.deployment)
    page = ctx.client().get(
        f"/deployments/{d['id']}/revisions", status=a.status, limit=a.limit, offset=a.offset
    )
    ctx.emit(page, output.revisions_table)
    return exit_codes.OK


def revisions_get(ctx: Ctx) -> int:
    ctx.emit(find_revision(ctx, ctx.args.revision), output.revision_details)
    return exit_codes.OK


def revisions_redeploy(ctx: Ctx) -> int:
    source = find_revision(ctx, ctx.args.revision)
    r = ctx.client().post(f"/revisions/{source['id']}/redeploy")
    ctx.note(f"created revision {r['number']} from revision {source['number']} ({r['id']}): {r['status']}")
    return _finish_revision(ctx, r)


def revisions_interrupt(ctx: Ctx) -> int:
    source = find_revision(ctx, ctx.args.revision)
    r = ctx.client().post(f"/revisions/{source['id']}/interrupt")
    ctx.emit(r, output.revision_details)
    return exit_codes.OK


def revisions_wait(ctx: Ctx) -> int:
    r = find_revision(ctx, ctx.args.revision)
    code, final = wait(ctx, r["id"])
    ctx.emit(final or r, output.revision_details)
    return code


def revisions_events(ctx: Ctx) -> int:
    a = ctx.args
    r = find_revision(ctx, a.revision)
    page = ctx.client().get(f"/revisions/{r['id']}/events", kind=a.kind, limit=a.limit, offset=a.offset)
    ctx.emit(page, output.events_table)
    return exit_codes.OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    s = actions(
        sub,
        "revisions",
        help="roll out, roll back, interrupt and follow revisions",
        aliases=["revision", "rev"],
        description="A REVISION is its id, or DEPLOYMENT:NUMBER, or DEPLOYMENT:latest.",
    )

    p = s.add_parser(
        "create", parents=[common], help="deploy the current settings again, optionally a new image"
    )
    p.add_argument("deployment", metavar="DEPLOYMENT", help="name or id")
    p.add_argument("--image", help="deploy this image (it becomes the deployment's)")
    add_wait_options(p)
    p.set_defaults(func=revisions_create)

    p = s.add_parser("list", parents=[common], help="a deployment's revisions, newest first")
    p.add_argument("deployment", metavar="DEPLOYMENT", help="name or id")
    p.add_argument("--status", choices=REVISION_STATUSES)
    page_flags(p)
    p.set_defaults(func=revisions_list)

    p = s.add_parser("get", parents=[common], help="show a revision")
    p.add_argument("revision", metavar="REVISION")
    p.set_defaults(func=revisions_get)

    p = s.add_parser("redeploy", parents=[common], help="roll back: a new revision with this one's settings")
    p.add_argument("revision", metavar="REVISION")
    add_wait_options(p)
    p.set_defaults(func=revisions_redeploy)

    p = s.add_parser(
        "interrupt", parents=[common], help="stop a QUEUED, AWAITING_DEPLOY or DEPLOYING revision"
    )
    p.add_argument("revision", metavar="REVISION")
    p.set_defaults(func=revisions_interrupt)

    p = s.add_parser(
        "wait", parents=[common], help="wait until DEPLOYED (exit 0) or failed (exit 1); 124 on --timeout"
    )
    p.add_argument("revision", metavar="REVISION")
    add_wait_options(p, flag=False)
    p.set_defaults(func=revisions_wait)

    p = s.add_parser("events", parents=[common], help="a revision's transitions and cluster events")
    p.add_argument("revision", metavar="REVISION")
    p.add_argument("--kind", choices=EVENT_KINDS)
    page_flags(p, limit=50)
    p.set_defaults(func=revisions_events)
