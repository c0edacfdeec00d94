"""`lgp api-keys ...`: create (shown once), list (prefixes only) and revoke API keys."""

from __future__ import annotations

import argparse
from typing import Any

from lgp_cli import exit_codes, output
from lgp_cli.commands.common import page_flags, print_with_token
from lgp_cli.context import CliError, Ctx, actions, is_uuid


def api_keys_create(ctx: Ctx) -> int:
    body: dict[str, Any] = {"name": ctx.args.name}
    if ctx.args.tenant:
        body["tenant_id"] = ctx.args.tenant
    k = ctx.client().post("/api-keys", body)
    print_with_token(ctx, k, "key", "key_file", "API key", output.api_key_details)
    return exit_codes.OK


def api_keys_list(ctx: Ctx) -> int:
    a = ctx.args
    page = ctx.client().get(
        "/api-keys",
        include_revoked="true" if a.include_revoked else None,
        tenant_id=a.tenant,
        limit=a.limit,
        offset=a.offset,
    )
    ctx.emit(page, output.api_keys_table)
    return exit_codes.OK


def api_keys_revoke(ctx: Ctx) -> int:
    ref = ctx.args.key
    client = ctx.client()
    if is_uuid(ref):
        key_id = ref
    else:
        matches = [k for k in client.get_all("/api-keys") if k["name"] == ref]
        if not matches:
            raise CliError(exit_codes.NOT_FOUND, f"no active API key named {ref!r}")
        if len(matches) > 1:
            raise CliError(exit_codes.CONFLICT, f"{len(matches)} API keys are named {ref!r}: give the id")
        key_id = matches[0]["id"]
    client.delete(f"/api-keys/{key_id}")
    ctx.note(f"revoked API key {ref}")
    if ctx.json:
        ctx.emit({"id": key_id, "revoked": True}, output.to_json)
    return exit_codes.OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    s = actions(sub, "api-keys", help="API keys for your tenant (shown once, revocable)", aliases=["api-key"])
    p = s.add_parser("create", parents=[common], help="a new key; it is shown once")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--tenant", metavar="TENANT_ID", help="admin key only: a key for another tenant")
    p.add_argument(
        "--key-file", metavar="PATH", help="write the key to this file (0600) instead of printing it"
    )
    p.set_defaults(func=api_keys_create)
    p = s.add_parser("list", parents=[common], help="list keys (prefixes only)")
    p.add_argument("--include-revoked", action="store_true")
    p.add_argument("--tenant", metavar="TENANT_ID", help="admin key only: another tenant's keys")
    page_flags(p)
    p.set_defaults(func=api_keys_list)
    p = s.add_parser("revoke", parents=[common], help="revoke a key: it stops working at once")
    p.add_argument("key", metavar="ID_OR_NAME")
    p.set_defaults(func=api_keys_revoke)
