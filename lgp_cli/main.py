"""`lgp`: one entry point for the processes and the user commands.

Process commands are dispatched to the package that owns them, imported lazily so that the
control plane never loads the operator and the reverse:

    lgp control-plane ...   -> control_plane.cli:main(argv)
    lgp operator ...        -> lgp_operator.cli:main(argv)
    lgp listener ...        -> lgp_operator.listener.cli:main(argv)
    lgp usage ...           -> lgp_operator.usage.cli:main(argv)
    lgp license ...         -> control_plane.licensing.cli:main(argv)
    lgp dev ...             -> lgp_cli.dev:main(argv)
    lgp build ...           -> lgp_cli.build:main(argv)

User commands (deployments, revisions, listeners, api-keys, tenants, audit-log, config) talk to a
control plane over HTTP only: lgp_cli.app:run(argv).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

COMMANDS: dict[str, tuple[str, str]] = {
    "control-plane": ("control_plane.cli", "the control plane API server (serve, migrate)"),
    "operator": ("lgp_operator.cli", "the LangGraphPlatform operator (run)"),
    "listener": (
        "lgp_operator.listener.cli",
        "the listener that syncs a cluster with the control plane (run)",
    ),
    "usage": ("lgp_operator.usage.cli", "the usage reporter (run)"),
    "license": ("control_plane.licensing.cli", "license keys (issue, verify, keygen)"),
    "dev": ("lgp_cli.dev", "run the whole stack on this machine, for development"),
    "build": ("lgp_cli.build", "build a LangGraph server image from langgraph.json, without Docker"),
}

USER_COMMANDS: dict[str, str] = {
    "deployments": "create, list, get, update, delete deployments; events (why is it stuck); logs",
    "revisions": "create, list, get, redeploy (roll back), interrupt, wait for revisions",
    "listeners": "register clusters: create, list, get, update, delete, rotate-token",
    "api-keys": "create, list, revoke API keys",
    "tenants": "create, list tenants (admin key)",
    "audit-log": "list every change made in your tenant",
    "config": "set, unset, show the config file (url, api_key per profile)",
}
# singular and short forms the user commands accept too
ALIASES = {"deployment", "dep", "revision", "rev", "listener", "api-key", "tenant"} - set(COMMANDS)

GLOBAL_OPTIONS = """\
global options (user commands; before or after the command):
  --url URL             the control plane (env LGP_URL; config file; default http://127.0.0.1:8080)
  --api-key-file PATH   the API key from a file (or env LGP_API_KEY, LGP_API_KEY_FILE; config file)
  --profile NAME        a config file profile (env LGP_PROFILE; default 'default')
  -o, --output FORMAT   table (default; env LGP_OUTPUT) or json: the API's JSON, for scripts
  The config file is LGP_CONFIG or ~/.config/lgp/config.toml; flags win over env, env over the file."""


def _usage() -> str:
    from lgp_cli.exit_codes import HELP

    lines = ["usage: lgp <command> [args...]", "", "process commands:"]
    lines += [f"  {name:<15} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "user commands (over the control plane's HTTP API):"]
    lines += [f"  {name:<15} {help_}" for name, help_ in USER_COMMANDS.items()]
    lines += ["", GLOBAL_OPTIONS, "", HELP, "", "Run `lgp <command> --help` for a command's options."]
    return "\n".join(lines)


def _is_user_command(first: str) -> bool:
    return first in USER_COMMANDS or first in ALIASES or first.startswith("-")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if args[0] == "--version":
        from importlib.metadata import version

        print(f"lgp {version('lgp')}")
        return 0
    if _is_user_command(args[0]):
        from lgp_cli.app import run

        return run(args)
    entry = COMMANDS.get(args[0])
    if entry is None:
        print(f"lgp: unknown command {args[0]!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(entry[0])
    except ModuleNotFoundError as e:
        print(f"lgp: the {args[0]!r} command is not available in this build ({e})", file=sys.stderr)
        return 2
    func: Callable[[list[str]], int] = module.main
    return int(func(args[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
