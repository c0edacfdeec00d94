"""The user commands, one module per resource; ``build_parser`` puts their parsers together."""

from __future__ import annotations

import argparse

from lgp_cli import exit_codes
from lgp_cli.commands import api_keys, audit_log, config, deployments, listeners, revisions, tenants
from lgp_cli.context import PROG, Parser, global_options


def build_parser() -> argparse.ArgumentParser:
    common = global_options()
    parser = Parser(
        prog=PROG,
        parents=[common],
        description="lgp: deployments, revisions, listeners and API keys on an lgp control plane.",
        epilog=exit_codes.HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="group", required=True, metavar="COMMAND", parser_class=Parser)
    for resource in (deployments, revisions, listeners, api_keys, tenants, audit_log, config):
        resource.register(sub, common)
    return parser
