"""The official `langgraph deploy` (langgraph-cli 0.4.40, the real command) against `lgp control-plane
serve` on real Postgres: listeners, create with --image-uri and wait, update, revisions, a list of more
than one page, INTERRUPTED ending the wait at once, logs with filters and -f, build logs, delete, and the
advice it prints for what lgp does not do. No cluster in this tier: where a revision must move, the test
plays the listener over the listener protocol (tests/played_listener.py; the listener tier runs the
real one, tests/integration/listener/test_langgraph_cli.py)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.langgraph_cli import DIGEST_A, DIGEST_B, LangGraphCli
from tests.played_listener import PlayedListener, lines_since, log_line

from .conftest import Cli, Guard, unique

IMAGE_A = f"registry.example.com/agents/echo@{DIGEST_A}"
IMAGE_B = f"registry.example.com/agents/echo@{DIGEST_B}"


@pytest.fixture
def lg(cli: Cli, tmp_path: Path, secret_guard: Guard) -> Iterator[LangGraphCli]:
    value = secret_guard.secret("sk-dotenv")
    runner = LangGraphCli(
        tmp_path / "project", cli.cp.url + "/api-host", cli.key, dotenv={"OPENAI_API_KEY": value}
    )
    yield runner
    for text in runner.printed:
        secret_guard.record(["langgraph"], text)


def _deployment(cli: Cli, name: str) -> dict[str, Any]:
    [d] = [x for x in cli.get("/deployments", name=name)["data"] if x["name"] == name]
    return d


def _revisions(cli: Cli, deployment_id: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = cli.get(f"/deployments/{deployment_id}/revisions")["data"]
    return data


def test_listeners_list_and_both_ways_to_name_the_host(lg: LangGraphCli, cli: Cli) -> None:
    listener = cli.listener(["agents", "batch"])
    r = lg("deploy", "listeners", "list")
    assert r.code == 0, r.text
    assert (
        "Listener ID" in r.out
        and listener.id in r.out
        and listener.name in r.out
        and "agents, batch" in r.out
    )
    r = lg("deploy", "listeners", "list", "--json")
    assert r.code == 0 and f'"compute_id": "{listener.name}"' in r.out
    # LANGSMITH_ENDPOINT=<lgp> (or <lgp>/api/v1) reaches /api-host as well
    for endpoint in (cli.cp.url, cli.cp.url + "/api/v1"):
        r = lg("deploy", "listeners", "list", env={"LANGGRAPH_HOST_URL": "", "LANGSMITH_ENDPOINT": endpoint})
        assert r.code == 0 and listener.id in r.out, r.text
    r = lg("deploy", "listeners", "list", env={"LANGGRAPH_HOST_API_KEY": "lgp_not-a-key"})
    assert r.code == 1 and "failed with status 401: the API key is unknown or revoked" in r.err


def test_deploy_waits_for_deployed_then_updates_and_lists_revisions(
    lg: LangGraphCli, cli: Cli, tenant: dict[str, str]
) -> None:
    listener = cli.listener()
    name = unique("agent")
    waiting = lg.start(
        "deploy", "--name", name, "--image-uri", IMAGE_A, "--listener-id", listener.id,
        "--k8s-namespace", "agents", "--image-pull-secret", "regcred", "--no-input",
    )  # fmt: skip
    waiting.wait_line(r"Deployment ID: ")
    d = _deployment(cli, name)
    assert d["image"] == IMAGE_A and d["secret_names"] == ["OPENAI_API_KEY"]  # from .env
    assert d["image_pull_secrets"] == ["regcred"]
    first = d["latest_revision_id"]
    listener.status(first, "DEPLOYING")
    waiting.wait_line(r"DEPLOYING")
    listener.report(d["id"], endpoint="http://echo.agents.example.com/")
    listener.status(first, "DEPLOYED")
    done = waiting.finish()
    assert done.code == 0 and "Deployment successful!" in done.out, done.out
    assert "URL: http://echo.agents.example.com/" in done.out
    # the status link it prints (LangSmith's path) opens the deployment's page in lgp's UI
    link = f"{cli.cp.url}/o/{tenant['id']}/host/deployments/{d['id']}"
    assert f"View status: {link}" in done.out
    opened = httpx.get(link, follow_redirects=False, trust_env=False)
    assert opened.status_code == 307 and opened.headers["location"] == f"/ui/deployments/{d['id']}"

    # again with a new image: found by name, updated, a new revision waited for
    waiting = lg.start("deploy", "--name", name, "--image-uri", IMAGE_B, "--no-input")
    waiting.wait_line(r"Updating deployment")
    second = wait_latest(cli, d["id"], not_id=first)
    listener.status(second, "DEPLOYED")
    done = waiting.finish()
    assert done.code == 0 and "Deployment successful!" in done.out, done.out
    assert _deployment(cli, name)["image"] == IMAGE_B

    r = lg("deploy", "revisions", "list", d["id"])
    assert r.code == 0, r.text
    rows = [line.split() for line in r.out.splitlines()[2:] if line.strip()]
    assert [(row[0], row[1]) for row in rows] == [(second, "DEPLOYED"), (first, "REPLACED")]  # newest first


def wait_latest(cli: Cli, deployment_id: str, not_id: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        latest = cli.get(f"/deployments/{deployment_id}")["latest_revision_id"]
        if latest != not_id:
            return str(latest)
        assert time.monotonic() < deadline, "no new revision"
        time.sleep(0.1)


def test_interrupted_ends_the_wait_at_once(lg: LangGraphCli, cli: Cli) -> None:
    listener = cli.listener()
    name = unique("agent")
    waiting = lg.start(
        "deploy", "--name", name, "--image-uri", IMAGE_A, "--listener-id", listener.id, "--no-input"
    )
    waiting.wait_line(r"AWAITING_DEPLOY")
    d = _deployment(cli, name)
    stopped = cli.http.post(f"/revisions/{d['latest_revision_id']}/interrupt")
    assert stopped.status_code == 200, stopped.text
    interrupted_at = time.monotonic()
    done = waiting.finish(timeout=30)
    took = time.monotonic() - interrupted_at
    # the CLI polls once a second and, on a status it does not know as final, for 300 s
    assert done.code == 1 and "Deployment failed" in done.out, done.out
    assert took < 10, f"the CLI took {took:.1f}s to stop waiting"
    r = lg("deploy", "revisions", "list", d["id"])
    assert r.code == 0 and "DEPLOY_FAILED" in r.out


def test_list_reads_more_than_one_page(lg: LangGraphCli, cli: Cli) -> None:
    listener = cli.listener()
    names = {f"page-{n:03d}" for n in range(103)}
    for n in sorted(names):
        cli.deployment(listener, name=n)
    cli.deployment(listener, name="other-one")
    r = lg("deploy", "list")
    assert r.code == 0, r.text
    ids = [line.split()[0] for line in r.out.splitlines()[2:] if line.strip()]
    listed = {line.split()[1] for line in r.out.splitlines()[2:] if line.strip()}
    assert len(ids) == len(set(ids)) == 104 and listed == names | {"other-one"}
    r = lg("deploy", "list", "--name-contains", "page-10", "--json")
    assert r.code == 0 and {x["name"] for x in json.loads(r.out)} == {
        "page-100",
        "page-101",
        "page-102",
    }


def test_what_lgp_does_not_do_is_explained(lg: LangGraphCli, cli: Cli) -> None:
    listener = cli.listener()
    r = lg.deploy(unique("agent"), IMAGE_A, wait=False)  # no --listener-id
    assert r.code == 2 and "deploys through a listener in your own cluster" in r.err, r.text
    assert "--listener-id" in r.err
    r = lg.deploy(unique("agent"), IMAGE_A, "--listener-id", str(uuid.uuid4()), wait=False)
    assert r.code == 2 and "was not found in this workspace" in r.err and listener.id in r.err, r.text
    r = lg.deploy(unique("agent"), "registry.example.com/agents/echo:1.0", "--listener-id", listener.id)
    assert r.code == 2 and "--image-uri must pin a digest" in r.err  # the CLI's own rule
    r = lg("deploy", "list", "--agent-id", "support", "--agent-environment", "production")
    assert r.code == 1 and "agent mode (--agent-id, --agent-environment) is not part of lgp" in r.err, r.text
    r = lg("deploy", "delete", str(uuid.uuid4()), "--force")
    assert r.code == 1 and "failed with status 404: deployment not found" in r.err
    d = cli.deployment(listener)
    r = lg("deploy", "logs", "--deployment-id", d["id"], "--type", "build")
    assert r.code == 0 and "no build" in r.out and d["image"] in r.out


def test_logs_with_filters_and_follow(lg: LangGraphCli, cli: Cli) -> None:
    listener = cli.listener()
    d = cli.deployment(listener, name=unique("agent"))
    base = datetime.now(UTC)
    book = [
        log_line(base + timedelta(seconds=1), "INFO:     Application started up", level="INFO"),
        log_line(base + timedelta(seconds=2), "ERROR:    model call failed: boom", level="ERROR"),
    ]

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        return {"lines": lines_since(book, request)}

    # offline: the events, and why there are no container lines
    r = lg("deploy", "logs", "--name", d["name"])
    assert r.code == 0 and "[WARNING] [lgp] container logs come from the cluster" in r.out, r.text
    assert "QUEUED -> AWAITING_DEPLOY" in r.out

    client = httpx.Client(base_url=cli.cp.url, timeout=30, trust_env=False)
    with PlayedListener(client, listener.token, answer) as played:
        r = lg("deploy", "logs", "--name", d["name"], "--level", "error", "--query", "BOOM", "--limit", "5")
        assert r.code == 0, r.text
        assert r.out.strip().splitlines()[-1].endswith("[ERROR] ERROR:    model call failed: boom")
        assert "Application started up" not in r.out
        asked = played.requests[-1]["query"]
        assert (asked["level"], asked["text"], asked["limit"]) == ("ERROR", "BOOM", 5)
        start = (base + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = lg("deploy", "logs", "--deployment-id", d["id"], "--start-time", start)
        assert r.code == 0 and "model call failed" in r.out and "Application started up" not in r.out

        follow = lg.start("deploy", "logs", "--name", d["name"], "-f")
        follow.wait_line(r"model call failed")
        book.append(
            log_line(datetime.now(UTC) + timedelta(seconds=3), "INFO:     a new line while following")
        )
        follow.wait_line(r"a new line while following", timeout=30)
        follow.interrupt()
        done = follow.finish(timeout=30)
        assert done.code == 0 and "Stopped." in done.out
        assert done.out.count("a new line while following") == 1  # de-duplicated by id
    client.close()


def test_delete(lg: LangGraphCli, cli: Cli) -> None:
    listener = cli.listener()
    d = cli.deployment(listener)
    r = lg("deploy", "delete", d["id"], "--force")
    assert r.code == 0 and f"Deleted deployment {d['id']}." in r.out
    assert cli.get(f"/deployments/{d['id']}")["status"] == "DELETING"
    listener.deleted(d["id"])  # the listener confirms the objects are gone
    r = lg("deploy", "list")
    assert r.code == 0 and d["id"] not in r.out
