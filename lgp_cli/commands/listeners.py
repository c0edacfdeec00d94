"""`lgp listeners ...`: register clusters (one listener each), rename them, change their namespaces,
rotate their tokens."""

from __future__ import annotations

import argparse
from typing import Any

from lgp_cli import exit_codes, inputs, output
from lgp_cli.commands.common import confirm, find_listener, page_flags, print_with_token
from lgp_cli.context import Ctx, actions
from lgp_cli.inputs import UsageError


def listeners_create(ctx: Ctx) -> int:
    a = ctx.args
    body = {"name": a.name, "namespaces": list(dict.fromkeys(a.namespace))}
    x = ctx.client().post("/listeners", body)
    print_with_token(ctx, x, "token", "token_file", "listener token", output.listener_details)
    return exit_codes.OK


def listeners_list(ctx: Ctx) -> int:
    page = ctx.client().get("/listeners", limit=ctx.args.limit, offset=ctx.args.offset)
    ctx.emit(page, output.listeners_table)
    return exit_codes.OK


def listeners_get(ctx: Ctx) -> int:
    ctx.emit(find_listener(ctx, ctx.args.listener), output.listener_details)
    return exit_codes.OK


def listeners_update(ctx: Ctx) -> int:
    a = ctx.args
    current = find_listener(ctx, a.listener)
    body: dict[str, Any] = {}
    if a.name:
        body["name"] = a.name
    if a.namespace and (a.add_namespace or a.remove_namespace):
        raise UsageError("--namespace (replace the list) and --add/--remove-namespace: choose one")
    if a.namespace:
        body["namespaces"] = list(dict.fromkeys(a.namespace))
    elif a.add_namespace or a.remove_namespace:
        body["namespaces"] = inputs.apply_list_changes(
            current.get("namespaces") or [], a.add_namespace, a.remove_namespace
        )
    if not body:
        raise UsageError("nothing to update: give --name, --namespace, --add-namespace or --remove-namespace")
    ctx.emit(ctx.client().patch(f"/listeners/{current['id']}", body), output.listener_details)
    return exit_codes.OK


def listeners_delete(ctx: Ctx) -> int:
    x = find_listener(ctx, ctx.args.listener)
    confirm(ctx, f"delete listener {x['name']} ({x['id']})")
    ctx.client().delete(f"/listeners/{x['id']}")
    ctx.note(f"deleted listener {x['name']}")
    if ctx.json:
        ctx.emit(x, output.to_json)
    return exit_codes.OK


def listeners_rotate_token(ctx: Ctx) -> int:
    x = find_listener(ctx, ctx.args.listener)
    confirm(
        ctx, f"replace the token of listener {x['name']} (the running listener stops working until updated)"
    )
    created = ctx.client().post(f"/listeners/{x['id']}/token")
    print_with_token(ctx, created, "token", "token_file", "listener token", output.listener_details)
    return exit_codes.OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    s = actions(sub, "listeners", help="register clusters (one listener per cluster)", aliases=["listener"])

    p = s.add_parser("create", parents=[common], help="register a listener; its token is shown once")
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--namespace", action="append", default=[], metavar="NS", help="a namespace it may use (repeat)"
    )
    p.add_argument(
        "--token-file", metavar="PATH", help="write the token to this file (0600) instead of printing it"
    )
    p.set_defaults(func=listeners_create)

    p = s.add_parser("list", parents=[common], help="list listeners")
    page_flags(p)
    p.set_defaults(func=listeners_list)

    p = s.add_parser("get", parents=[common], help="show a listener")
    p.add_argument("listener", metavar="NAME_OR_ID")
    p.set_defaults(func=listeners_get)

    p = s.add_parser("update", parents=[common], help="rename, or change its namespaces")
    p.add_argument("listener", metavar="NAME_OR_ID")
    p.add_argument("--name", help="a new name")
    p.add_argument(
        "--namespace", action="append", default=[], metavar="NS", help="replace the namespaces (repeat)"
    )
    p.add_argument("--add-namespace", action="append", default=[], metavar="NS")
    p.add_argument("--remove-namespace", action="append", default=[], metavar="NS")
    p.set_defaults(func=listeners_update)

    p = s.add_parser("delete", parents=[common], help="delete a listener (refused while deployments use it)")
    p.add_argument("listener", metavar="NAME_OR_ID")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=listeners_delete)

    p = s.add_parser("rotate-token", parents=[common], help="a new token; the old one stops working at once")
    p.add_argument("listener", metavar="NAME_OR_ID")
    p.add_argument(
        "--token-file", metavar="PATH", help="write the token to this file (0600) instead of printing it"
    )
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=listeners_rotate_token)
