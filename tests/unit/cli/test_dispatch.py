"""The `lgp` entry point: help, version, clear errors for unknown commands, and the split between
process commands (lazy imports) and user commands (HTTP only)."""

from __future__ import annotations

import subprocess
import sys

from lgp_cli.main import COMMANDS, USER_COMMANDS, main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_unknown_command_is_refused_with_exit_code_2(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("lgp ")


def test_help_documents_user_commands_global_options_and_exit_codes(capsys):
    assert main(["help"]) == 0
    out = capsys.readouterr().out
    for name in USER_COMMANDS:
        assert name in out
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "6 ", "7 ", "124"):
        assert f"\n  {code}" in out
    assert "--output" in out and "LGP_API_KEY" in out


def test_dev_is_dispatched_to_lgp_cli_dev():
    assert COMMANDS["dev"][0] == "lgp_cli.dev"


def test_user_commands_go_to_the_http_cli_and_bad_flags_exit_2(capsys):
    assert main(["deployments", "list", "--no-such-flag"]) == 2
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err
    assert main(["deployment", "--help"]) == 0  # the singular alias
    assert "create" in capsys.readouterr().out
    assert main(["-o", "json", "revisions"]) == 2  # a global flag first, then a group without an action


def test_user_commands_do_not_load_the_control_plane_or_the_operator():
    """`lgp deployments ...` talks HTTP only: run in a fresh interpreter and look at what it imported."""
    code = (
        "import sys; from lgp_cli.main import main; "
        "rc = main(['deployments', 'list', '--url', 'http://127.0.0.1:9', '--api-key', 'k']); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('control_plane', 'lgp_operator')); "
        "print(rc, bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.strip() == "7 []"
