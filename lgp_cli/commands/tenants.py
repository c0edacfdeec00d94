"""`lgp tenants ...`: create and list tenants (admin key only)."""

from __future__ import annotations

import argparse
from typing import Any

from lgp_cli import exit_codes, output
from lgp_cli.commands.common import page_flags
from lgp_cli.context import Ctx, actions


def tenants_create(ctx: Ctx) -> int:
    t = ctx.client().post("/tenants", {"name": ctx.args.name})
    ctx.emit(
        t, lambda o: output.details([("name", o["name"]), ("id", o["id"]), ("created", o["created_at"])])
    )
    return exit_codes.OK


def tenants_list(ctx: Ctx) -> int:
    ctx.emit(ctx.client().get("/tenants", limit=ctx.args.limit, offset=ctx.args.offset), output.tenants_table)
    return exit_codes.OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    s = actions(sub, "tenants", help="tenants (admin key only)", aliases=["tenant"])
    p = s.add_parser("create", parents=[common], help="create a tenant")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=tenants_create)
    p = s.add_parser("list", parents=[common], help="list tenants")
    page_flags(p)
    p.set_defaults(func=tenants_list)
