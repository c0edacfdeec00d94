"""Parsing the user commands: global options before or after the command, LGP_OUTPUT, usage errors
exit 2 before any request and never echo a secret typed on the command line, confirmations."""

from __future__ import annotations

import argparse
import io
import uuid
from pathlib import Path

import httpx
import pytest

from lgp_cli.app import run
from lgp_cli.commands import build_parser
from lgp_cli.context import redact


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_cli(
    argv: list[str], env: dict[str, str] | None = None, stdin: io.StringIO | None = None
) -> tuple[int, str, str, list[httpx.Request]]:
    """run() against a transport that records requests and answers an empty list."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.method == "DELETE":
            return httpx.Response(202, json={"id": "x", "status": "DELETING"})
        if request.url.path.startswith("/v1/deployments/"):
            return httpx.Response(200, json={"id": str(request.url.path).rsplit("/", 1)[1], "name": "agent"})
        return httpx.Response(200, json={"data": [], "count": 0, "limit": 100, "offset": 0})

    out, err = io.StringIO(), io.StringIO()
    base = {"LGP_URL": "http://cp.test", "LGP_API_KEY": "k", "LGP_CONFIG": "/nonexistent/config.toml"}
    code = run(
        argv,
        stdout=out,
        stderr=err,
        stdin=stdin or io.StringIO(),
        env={**base, **(env or {})},
        transport=httpx.MockTransport(handler),
    )
    return code, out.getvalue(), err.getvalue(), requests


def test_global_options_before_or_after_the_command() -> None:
    for argv in (["-o", "json", "deployments", "list"], ["deployments", "list", "--output", "json"]):
        code, out, _, requests = run_cli(argv)
        assert code == 0 and out.startswith("{")
        assert requests[0].url.host == "cp.test"
    code, _, _, requests = run_cli(["--url", "http://other.test", "deployments", "list"])
    assert requests[0].url.host == "other.test"
    code, _, _, requests = run_cli(["deployments", "list", "--url", "http://third.test"])
    assert requests[0].url.host == "third.test"


def test_lgp_output_env_and_bad_values() -> None:
    code, out, _, _ = run_cli(["deployments", "list"], env={"LGP_OUTPUT": "json"})
    assert code == 0 and out.startswith("{")
    code, out, _, _ = run_cli(["deployments", "list", "-o", "table"], env={"LGP_OUTPUT": "json"})
    assert code == 0 and out.startswith("NAME")
    code, _, err, requests = run_cli(["deployments", "list"], env={"LGP_OUTPUT": "yaml"})
    assert code == 2 and "LGP_OUTPUT" in err and not requests


def test_filters_become_query_parameters() -> None:
    lid = str(uuid.uuid4())
    _, _, _, requests = run_cli(
        [
            "deployments",
            "list",
            "--name-contains",
            "ag",
            "--status",
            "READY",
            "--listener",
            lid,
            "--limit",
            "5",
        ]
    )
    assert dict(requests[0].url.params) == {
        "name": "ag", "status": "READY", "listener_id": lid, "limit": "5", "offset": "0"
    }  # fmt: skip


def test_a_secret_in_an_unknown_flag_is_not_echoed() -> None:
    code, _, err, requests = run_cli(["deployments", "list", "--secrett", "TOKEN=hunter2"])
    assert code == 2 and not requests
    assert "hunter2" not in err and "TOKEN=***" in err
    assert redact("unrecognized arguments: A=1 --x=y B") == "unrecognized arguments: A=*** --x=*** B"


@pytest.mark.parametrize(
    "argv",
    [
        ["deployments"],
        ["deployments", "create", "x"],
        ["deployments", "get"],
        ["revisions", "wait", "r", "--timeout", "0"],
        ["revisions", "wait", "r", "--poll-interval", "soon"],
        ["listeners", "create"],
        ["config", "set", "colour", "blue"],
        ["config", "set", "url"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2_without_a_request(argv: list[str]) -> None:
    code, out, err, requests = run_cli(argv)
    assert code == 2, err
    assert not requests and out == ""


def test_help_exits_0() -> None:
    code, out, _, _ = run_cli(["deployments", "create", "--help"])
    assert code == 0 and "--secret-from-file" in out and "--wait" in out
    code, out, _, _ = run_cli(["--help"])
    assert code == 0 and "exit codes:" in out and "124" in out


def test_delete_needs_yes_or_a_terminal_answer() -> None:
    dep = str(uuid.uuid4())
    code, _, err, requests = run_cli(["deployments", "delete", dep])
    assert code == 2 and "--yes" in err and [r.method for r in requests] == ["GET"]
    code, _, err, requests = run_cli(["deployments", "delete", dep], stdin=Tty("n\n"))
    assert code == 1 and "aborted" in err and [r.method for r in requests] == ["GET"]
    code, _, err, requests = run_cli(["deployments", "delete", dep, "-o", "json"], stdin=Tty("yes\n"))
    assert code == 0 and [r.method for r in requests] == ["GET", "DELETE"]
    assert "[y/N]" in err


def test_no_api_key_is_5_before_any_request() -> None:
    code, _, err, requests = run_cli(["deployments", "list"], env={"LGP_API_KEY": ""})
    assert code == 5 and "no API key" in err and not requests


def test_config_set_and_show_mask_the_key(tmp_path: Path) -> None:
    env = {"LGP_CONFIG": str(tmp_path / "c.toml"), "LGP_API_KEY": "", "LGP_URL": ""}
    code, _, err, _ = run_cli(
        ["config", "set", "api_key"], env=env, stdin=io.StringIO("lgp_0123456789abcdef\n")
    )
    assert code == 0 and "lgp_0123456789abcdef" not in err
    code, out, _, _ = run_cli(["config", "show"], env=env)
    assert code == 0 and "lgp_0123..." in out and "lgp_0123456789abcdef" not in out
    code, _, err, _ = run_cli(["config", "set", "url", "not a url"], env=env)
    assert code == 2 and "http://" in err


def _choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_leaf_command_has_a_handler() -> None:
    for name, group in _choices(build_parser()).items():
        for action, sub in _choices(group).items():
            assert callable(sub.get_default("func")), f"{name} {action}"


def test_a_readable_config_file_with_a_key_is_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[default]\nurl = "http://cp.test"\napi_key = "lgp_0123456789abcdef"\n')
    path.chmod(0o644)
    env = {"LGP_CONFIG": str(path), "LGP_API_KEY": "", "LGP_URL": ""}
    code, _, err, requests = run_cli(["deployments", "list"], env=env)
    assert code == 0 and requests and f"chmod 600 {path}" in err
    path.chmod(0o600)
    assert "chmod" not in run_cli(["deployments", "list"], env=env)[2]
