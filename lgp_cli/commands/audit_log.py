"""`lgp audit-log list`: every change made in the tenant, newest first."""

from __future__ import annotations

import argparse
from typing import Any

from lgp_cli import exit_codes, output
from lgp_cli.commands.common import page_flags
from lgp_cli.context import Ctx, actions


def audit_list(ctx: Ctx) -> int:
    a = ctx.args
    page = ctx.client().get(
        "/audit-log",
        resource_type=a.resource_type,
        resource_id=a.resource_id,
        action=a.audit_action,
        limit=a.limit,
        offset=a.offset,
    )
    ctx.emit(page, output.audit_table)
    return exit_codes.OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    s = actions(sub, "audit-log", help="every change made in your tenant, newest first")
    p = s.add_parser("list", parents=[common], help="list audit entries")
    p.add_argument("--resource-type", help="e.g. deployment, revision, listener, api_key")
    p.add_argument("--resource-id")
    p.add_argument("--action", dest="audit_action", help="e.g. deployment.create")
    page_flags(p)
    p.set_defaults(func=audit_list)
