"""`lgp`: one entry point for the processes and the user commands.

Process commands are dispatched to the package that owns them, imported lazily so that the
control plane never loads the operator and the reverse:

    lgp control-plane ...   -> control_plane.cli:main(argv)
    lgp operator ...        -> lgp_operator.cli:main(argv)
    lgp listener ...        -> lgp_operator.listener.cli:main(argv)
    lgp usage ...           -> lgp_operator.usage.cli:main(argv)
    lgp license ...         -> control_plane.licensing.cli:main(argv)
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
}


def _usage() -> str:
    lines = ["usage: lgp <command> [args...]", "", "commands:"]
    lines += [f"  {name:<15} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run `lgp <command> --help` for a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if args[0] == "--version":
        from importlib.metadata import version

        print(f"lgp {version('lgp')}")
        return 0
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
