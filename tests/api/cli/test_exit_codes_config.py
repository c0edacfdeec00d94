"""Exit codes scripts can trust, each produced by a real control plane (404, 409, 422 with the field,
401, 403, 503) or by no control plane at all (unreachable), in-process and as a process; and the
config file / env / flag precedence as the CLI applies it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from lgp_cli import config as cfg
from lgp_local.procs import free_port, wait_for
from tests.api.cli.conftest import IMAGE, Cli, ControlPlane, unique


def test_not_found_is_3(cli: Cli) -> None:
    for argv in (
        ("deployments", "get", str(uuid.uuid4())),
        ("deployments", "get", "no-such-deployment"),
        ("revisions", "get", str(uuid.uuid4())),
        ("listeners", "get", "no-such-listener"),
        ("api-keys", "revoke", str(uuid.uuid4())),
    ):
        r = cli(*argv)
        assert r.code == 3, (argv, r.err)
        assert r.out == "" and r.err.startswith("lgp: ")
    sub = cli.sub("deployments", "get", str(uuid.uuid4()))
    assert sub.code == 3 and "not found" in sub.err and "HTTP 404" in sub.err


def test_conflict_is_4(cli: Cli) -> None:
    listener = cli.listener(["agents"])
    d = cli.deployment(listener)
    r = cli(
        "deployments",
        "create",
        d["name"],
        "--image",
        IMAGE,
        "--listener",
        listener.id,
        "--namespace",
        "agents",
    )
    assert r.code == 4, r.err
    assert "exists" in r.err and "HTTP 409" in r.err


def test_invalid_input_is_6_and_names_the_field_and_the_flag(cli: Cli, secret_guard: Any) -> None:
    listener = cli.listener(["agents"])
    value = secret_guard.secret()
    r = cli(
        "deployments", "create", unique("bad"), "--image", "no tag at all", "--listener", listener.name,
        "--namespace", "agents", "--memory", "lots", "--secret", f"TOKEN={value}",
    )  # fmt: skip
    assert r.code == 6, r.err
    assert "invalid input (HTTP 422" in r.err
    assert "image: String should match pattern" in r.err and "(--image)" in r.err
    assert "resources.server.memory:" in r.err and "(--memory)" in r.err
    wrong_ns = cli("deployments", "create", unique("ns"), "--image", IMAGE, "--listener", listener.name,
                   "--namespace", "elsewhere")  # fmt: skip
    assert wrong_ns.code in (6, 4), wrong_ns.err  # the API refuses a namespace the listener may not use
    assert "namespace" in wrong_ns.err
    big = cli("deployments", "list", "--limit", "100000")
    assert big.code == 6 and "query limit:" in big.err


def test_auth_is_5(cli: Cli) -> None:
    bad = cli("deployments", "list", env={"LGP_API_KEY": "lgp_not-a-key"})
    assert bad.code == 5 and "HTTP 401" in bad.err and "lgp_not-a-key" not in bad.err
    none = cli.sub("deployments", "list", env={"LGP_API_KEY": ""})
    assert none.code == 5 and "no API key" in none.err


def test_unreachable_is_7(cli: Cli) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    r = cli("deployments", "list", "--url", url)
    assert r.code == 7, r.err
    assert f"cannot reach the control plane at {url}" in r.err
    sub = cli.sub("revisions", "wait", str(uuid.uuid4()), "--url", url, "--timeout", "1")
    assert sub.code == 7, sub.err  # unreachable before the wait began


def test_database_down_is_503_and_7(postgres_server: Any, tmp_path: Path) -> None:
    """A control plane whose database disappears answers 503: the CLI retries, then exits 7."""
    name = f"cli_down_{uuid.uuid4().hex[:8]}"
    cp = ControlPlane(postgres_server.create_database(name), tmp_path)
    cli = Cli(cp, cp.admin_key, tmp_path)
    try:
        cp.start()
        d = cli.deployment(cli.listener(["agents"]))
        waiting = cli.start(
            "revisions", "wait", d["latest_revision_id"], "--timeout", "5", "--poll-interval", "0.2"
        )
        waiting.wait_line("it is AWAITING_DEPLOY")
        postgres_server.drop_database(name)
        r = cli.sub("deployments", "list")
        assert r.code == 7, r.err
        assert "HTTP 503" in r.err and "database is unavailable" in r.err
        # a wait under way outlasts the outage until its deadline, saying so
        done = waiting.finish()
        assert done.code == 124, done.err
        assert "the control plane does not answer" in done.err and "still waiting" in done.err
    finally:
        cli.close()
        cp.stop()
        postgres_server.drop_database(name)


CREATE = ("deployments", "create", "x", "--image", IMAGE, "--listener", str(uuid.uuid4()), "--namespace", "a")


@pytest.mark.parametrize(
    "argv",
    [
        ("deployments", "create", "x"),  # --image, --listener, --namespace missing
        ("deployments", "frobnicate"),
        ("deployments", "list", "--status", "NOPE"),
        (*CREATE, "--replicas", "2", "--min-replicas", "1"),
        (*CREATE, "--secret", "NOT_IN_ENV"),
        (*CREATE, "--env", "1BAD=x"),
        (*CREATE, "--secret-from-file", "K=/nonexistent/file"),
        ("revisions", "wait", str(uuid.uuid4()), "--timeout", "-1"),
        ("deployments", "list", "--output", "yaml"),
    ],
)
def test_usage_errors_are_2_before_any_request(argv: tuple[str, ...], tmp_path: Path) -> None:
    # pointed at nothing: a usage error must be found before any request is made
    cp = ControlPlane.__new__(ControlPlane)
    cp.url = f"http://127.0.0.1:{free_port()}"
    cli = Cli(cp, "lgp_unused", tmp_path)
    r = cli(*argv, env={"NOT_IN_ENV": None})  # type: ignore[dict-item]
    assert r.code == 2, r.err
    assert "cannot reach" not in r.err


def test_config_file_env_and_flags(cli: Cli, control_plane: ControlPlane, tmp_path: Path) -> None:
    """The config file alone is enough; env beats it; flags beat env; --profile picks a table."""
    d = cli.deployment(cli.listener(["agents"]))
    nowhere = f"http://127.0.0.1:{free_port()}"
    no_env = {"LGP_URL": "", "LGP_API_KEY": ""}
    cfg.write_file(cli.config, {"default": {"url": control_plane.url, "api_key": cli.key}})

    from_file = cli.sub("deployments", "get", d["name"], "-o", "json", env=no_env)
    assert from_file.code == 0, from_file.err
    assert from_file.json()["id"] == d["id"]

    env_wins = cli.sub("deployments", "list", env={"LGP_URL": nowhere})
    assert env_wins.code == 7 and nowhere in env_wins.err
    flag_wins = cli.sub("deployments", "list", "--url", control_plane.url, env={"LGP_URL": nowhere})
    assert flag_wins.code == 0, flag_wins.err

    # `lgp config set` writes a profile; --profile selects it
    assert cli("config", "set", "url", nowhere, "--profile", "broken").code == 0
    broken = cli.sub("--profile", "broken", "deployments", "list", env=no_env)
    assert broken.code == 5  # that profile has a URL but no key
    assert cli.sub("config", "set", "api_key", "--profile", "broken", stdin=cli.key + "\n").code == 0
    assert cli.sub("--profile", "broken", "deployments", "list", env=no_env).code == 7
    assert cli("config", "set", "url", control_plane.url + "/", "--profile", "broken").code == 0
    assert cli.sub("deployments", "list", "--profile", "broken", env=no_env).code == 0

    shown = cli.sub("config", "show", "--profile", "broken", "-o", "json", env=no_env)
    assert shown.code == 0
    info = shown.json()
    assert info["url"] == control_plane.url and info["api_key"] != cli.key and cli.key not in shown.out
    assert info["api_key_source"].startswith("config file") and info["profiles"] == ["broken", "default"]
    unknown = cli.sub("deployments", "list", "--profile", "nope", env=no_env)
    assert unknown.code == 2 and "profile 'nope'" in unknown.err

    assert cli("config", "unset", "api_key", "--profile", "broken").code == 0
    assert cfg.read_file(cli.config)["broken"] == {"url": control_plane.url}


def test_commands_that_end_a_wait_early_still_say_why(cli: Cli) -> None:
    """A revision whose deployment is purged while someone waits: 404, exit 3."""
    listener = cli.listener(["agents"])
    d = cli.deployment(listener)
    running = cli.start("revisions", "wait", d["latest_revision_id"], "--poll-interval", "0.2")
    running.wait_line("it is AWAITING_DEPLOY")
    assert cli("deployments", "delete", d["name"], "--yes").code == 0
    listener.deleted(d["id"])
    wait_for(lambda: running.proc.poll() is not None, timeout=30, what="the wait to end")
    done = running.finish()
    assert done.code == 3, done.err
