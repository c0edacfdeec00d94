"""`lgp deployments logs` against a real control plane (the listener played over the protocol: no cluster
in this tier): events and the notice when the listener is offline, container lines oldest last with
filters and a revision, follow (-f) until Ctrl-C, json; `--image-pull-secret` on create and update."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.api.cli.conftest import IMAGE, LGP, REPO, Cli, unique
from tests.langgraph_cli import Following
from tests.played_listener import PlayedListener, lines_since, log_line


def test_logs_offline_then_through_the_listener(cli: Cli) -> None:
    listener = cli.listener()
    d = cli.deployment(listener, name=unique("logs"))
    r = cli("deployments", "logs", d["name"])
    assert r.code == 0, r.err
    assert "lgp: container logs come from the cluster through listener" in r.err  # why: on stderr
    assert "QUEUED -> AWAITING_DEPLOY" in r.out and " event: " in r.out

    base = datetime.now(UTC)
    book = [
        log_line(base + timedelta(seconds=1), "INFO:     started", level="INFO"),
        log_line(base + timedelta(seconds=2), "ERROR:    boom", level="ERROR"),
    ]
    client = httpx.Client(base_url=cli.cp.url, timeout=30, trust_env=False)
    with PlayedListener(client, listener.token, lambda req: {"lines": lines_since(book, req)}) as played:
        r = cli("deployments", "logs", d["name"], "--since", "10m")
        assert r.code == 0 and not r.err, r.err
        lines = [x for x in r.out.splitlines() if "api-server" in x]
        assert [x.split(": ", 1)[1] for x in lines] == ["INFO:     started", "ERROR:    boom"]  # oldest first
        assert "agent-api-server-0/api-server" in lines[0] and " INFO " in lines[0]
        r = cli("deployments", "logs", d["name"], "--level", "error", "--grep", "BOO", "--revision", "1")
        assert r.code == 0 and "boom" in r.out and "started" not in r.out
        asked = played.requests[-1]["query"]
        assert (asked["level"], asked["text"], asked["revision_id"]) == (
            "ERROR",
            "BOO",
            d["latest_revision_id"],
        )
        since = datetime.fromisoformat(played.requests[0]["query"]["since"].replace("Z", "+00:00"))
        assert timedelta(minutes=9) < datetime.now(UTC) - since < timedelta(minutes=11)
        r = cli("deployments", "logs", d["id"], "-o", "json")
        assert r.code == 0 and r.json()["containers"] == "complete" and len(r.json()["data"]) >= 2

        follow = Following(
            subprocess.Popen(
                [*LGP, "deployments", "logs", d["name"], "-f"],
                env=cli._environ(None),
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            ),
            [],
        )
        follow.wait_line(r"ERROR:    boom")
        book.append(log_line(datetime.now(UTC) + timedelta(seconds=3), "INFO:     new while following"))
        follow.wait_line(r"new while following", timeout=30)
        follow.interrupt()
        done = follow.finish(timeout=30)
        assert done.code == 130 and "lgp: interrupted" in done.out
        assert done.out.count("new while following") == 1 and done.out.count("ERROR:    boom") == 1
    client.close()


def test_logs_flags_are_checked(cli: Cli) -> None:
    d = cli.deployment(cli.listener())
    r = cli("deployments", "logs", d["name"], "--since", "yesterday")
    assert r.code == 2 and "--since 'yesterday'" in r.err
    r = cli("deployments", "logs", d["name"], "-f", "--until", "5m")
    assert r.code == 2 and "--follow and --until" in r.err
    r = cli("deployments", "logs", d["name"], "--limit", "5000")
    assert r.code == 6 and "--limit" in r.err  # the API's 422, with the flag to change
    r = cli("deployments", "logs", "no-such-deployment")
    assert r.code == 3
    r = cli("deployments", "logs", d["name"], "--revision", "9")
    assert r.code == 3 and "has no revision 9" in r.err


def test_image_pull_secrets_on_create_and_update(cli: Cli) -> None:
    listener = cli.listener()
    name = unique("pull")
    r = cli(
        "deployments", "create", name, "--image", IMAGE, "--listener", listener.name, "--namespace", "agents",
        "--image-pull-secret", "regcred", "--image-pull-secret", "ghcr", "-o", "json",
    )  # fmt: skip
    assert r.code == 0, r.err
    d: dict[str, Any] = r.json()
    assert d["image_pull_secrets"] == ["regcred", "ghcr"]
    rev = cli.get(f"/revisions/{d['latest_revision_id']}")
    assert rev["spec"]["imagePullSecrets"] == ["regcred", "ghcr"] and rev["config"]["image_pull_secrets"]
    r = cli(
        "deployments", "update", name, "--remove-image-pull-secret", "ghcr", "--image-pull-secret", "quay"
    )
    assert r.code == 0, r.err
    got = cli.get(f"/deployments/{d['id']}")
    assert (
        got["image_pull_secrets"] == ["regcred", "quay"]
        and got["latest_revision_id"] != d["latest_revision_id"]
    )
    r = cli("deployments", "get", name)
    assert "pull secrets:" in r.out and "regcred" in r.out
    r = cli("deployments", "update", name, "--image-pull-secret", "Not_Valid")
    assert r.code == 6 and "--image-pull-secret" in r.err
    assert json.loads(cli("deployments", "get", name, "-o", "json").out)["image_pull_secrets"] == [
        "regcred",
        "quay",
    ]
