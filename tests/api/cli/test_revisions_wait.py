"""`lgp revisions` and `--wait` against a real control plane, the test playing the listener over the
listener protocol (no cluster in the api tier): DEPLOYED (exit 0) with a progress display, DEPLOY_FAILED
with the reason printed (exit 1), INTERRUPTED, SKIPPED, the timeout (exit 124), redeploy, interrupt."""

from __future__ import annotations

import io
import json
import re
import threading

from lgp_cli.app import run
from lgp_local.procs import wait_for
from tests.api.cli.conftest import IMAGE, Cli, unique

FAST = ("--poll-interval", "0.2")


def test_create_wait_reaches_deployed_with_progress_on_stderr(cli: Cli) -> None:
    listener = cli.listener(["agents"])
    name = unique("w")
    running = cli.start(
        "deployments", "create", name, "--image", IMAGE, "--listener", listener.name,
        "--namespace", "agents", "--wait", *FAST, "-o", "json",
    )  # fmt: skip
    running.wait_line(r"waiting for deployment .* revision 1 .* it is AWAITING_DEPLOY")
    d = cli.get("/deployments", name=name)["data"][0]
    rev = d["latest_revision_id"]
    # play the listener: applied, pods starting, ready
    listener.status(rev, "DEPLOYING", "Applied", "LangGraphPlatform applied")
    running.wait_line(r"AWAITING_DEPLOY -> DEPLOYING Applied: LangGraphPlatform applied")
    listener.report(
        d["id"],
        revision_id=rev,
        conditions=[{"type": "Ready", "status": "False", "reason": "Progressing", "message": "0/1 ready"}],
        events=[{"type": "Normal", "reason": "Scheduled", "object": "Pod/x-api-0", "message": "assigned"}],
        replicas={"desired": 1, "ready": 0},
    )
    running.wait_line(r"Normal Scheduled Pod/x-api-0: assigned")
    listener.report(
        d["id"], revision_id=rev, replicas={"desired": 1, "ready": 1}, endpoint="http://x.agents:8000"
    )
    listener.status(rev, "DEPLOYED", "Ready", "1/1 replicas ready")
    done = running.finish()
    assert done.code == 0, done.err
    err = done.err
    for expected in (
        "condition Ready=False Progressing: 0/1 ready",
        "replicas desired=1, ready=0",
        "endpoint http://x.agents:8000",
        "DEPLOYING -> DEPLOYED Ready: 1/1 replicas ready",
        "revision 1 is DEPLOYED after",
    ):
        assert expected in err, f"{expected!r} not in:\n{err}"
    # every progress line carries the elapsed time
    assert all(line.startswith("[") for line in err.splitlines() if "->" in line)
    # stdout is one JSON document: the deployment as it is now
    final = json.loads(done.out)
    assert final["id"] == d["id"] and final["status"] == "READY" and final["active_revision_id"] == rev


def test_revisions_create_wait_in_process(cli: Cli) -> None:
    """The same through run() in this process, while a thread plays the listener."""
    listener = cli.listener(["agents"])
    d = cli.deployment(listener)
    listener.status(d["latest_revision_id"], "DEPLOYED")
    out, err = io.StringIO(), io.StringIO()
    result: dict[str, int] = {}

    def cmd() -> None:
        result["code"] = run(
            [
                "revisions",
                "create",
                d["name"],
                "--image",
                "registry.example.com/agents/echo:2.0",
                "--wait",
                *FAST,
            ],
            stdout=out,
            stderr=err,
            env=cli.env,
        )

    t = threading.Thread(target=cmd)
    t.start()
    try:
        rev2 = wait_for(
            lambda: next(
                (r for r in cli.get(f"/deployments/{d['id']}/revisions")["data"] if r["number"] == 2), None
            ),
            timeout=30,
            what="revision 2",
        )
        listener.status(rev2["id"], "DEPLOYED", "Ready", "all replicas ready")
    finally:
        t.join(timeout=60)
    assert not t.is_alive()
    assert result["code"] == 0, err.getvalue()
    assert "revision 2 is DEPLOYED" in err.getvalue()
    assert re.search(r"^status:\s+DEPLOYED$", out.getvalue(), re.M), out.getvalue()
    assert cli.get(f"/revisions/{d['latest_revision_id']}")["status"] == "REPLACED"


def test_wait_reports_deploy_failed_with_reason_and_exit_1(cli: Cli) -> None:
    listener = cli.listener(["agents"])
    d = cli.deployment(listener)
    rev = d["latest_revision_id"]
    running = cli.start("revisions", "wait", rev, *FAST)
    running.wait_line("it is AWAITING_DEPLOY")
    listener.status(rev, "DEPLOYING")
    listener.report(
        d["id"],
        revision_id=rev,
        events=[
            {
                "type": "Warning",
                "reason": "ImagePullBackOff",
                "object": "Pod/x-api-0",
                "message": "Back-off pulling",
            }
        ],
    )
    listener.status(
        rev,
        "DEPLOY_FAILED",
        "ImagePullBackOff",
        'pod x-api-0: Back-off pulling image "registry.example.com/x:1.0"',
    )
    done = running.finish()
    assert done.code == 1, done.err
    assert "Warning ImagePullBackOff Pod/x-api-0: Back-off pulling" in done.err
    assert (
        "lgp: revision 1 DEPLOY_FAILED: ImagePullBackOff: "
        'pod x-api-0: Back-off pulling image "registry.example.com/x:1.0"' in done.err
    )
    assert f"lgp deployments events {d['id']}" in done.err
    assert "DEPLOY_FAILED" in done.out and "ImagePullBackOff" in done.out  # the revision, on stdout
    # json: the revision as the API returns it
    j = cli("revisions", "wait", rev, "-o", "json", "-q")
    assert j.code == 1 and j.json() == cli.get(f"/revisions/{rev}")
    assert "ImagePullBackOff" in j.err and "[" not in j.err.splitlines()[0]  # --quiet: only the outcome


def test_wait_times_out_with_124(cli: Cli) -> None:
    d = cli.deployment(cli.listener(["agents"]))  # nobody plays the listener: it stays AWAITING_DEPLOY
    r = cli("revisions", "wait", f"{d['name']}:latest", "--timeout", "1", *FAST)
    assert r.code == 124, r.err
    assert "timed out after 1s" in r.err and "AWAITING_DEPLOY" in r.err
    sub = cli.sub("deployments", "create", unique("t"), "--image", IMAGE, "--listener", d["listener_id"],
                  "--namespace", "agents", "--wait", "--timeout", "0.5", *FAST)  # fmt: skip
    assert sub.code == 124, sub.err


def test_interrupt_then_wait_exits_1_and_a_second_interrupt_is_a_conflict(cli: Cli) -> None:
    d = cli.deployment(cli.listener(["agents"]))
    r = cli("revisions", "interrupt", f"{d['name']}:1", "-o", "json")
    assert r.code == 0, r.err
    assert r.json()["status"] == "INTERRUPTED"
    w = cli("revisions", "wait", d["latest_revision_id"], *FAST)
    assert w.code == 1 and "INTERRUPTED" in w.err
    again = cli("revisions", "interrupt", d["latest_revision_id"])
    assert again.code == 4, again.err
    assert "INTERRUPTED" in again.err and "HTTP 409" in again.err


def test_a_queued_revision_overtaken_is_skipped(cli: Cli) -> None:
    listener = cli.listener(["agents"])
    d = cli.deployment(listener)  # revision 1 in flight (AWAITING_DEPLOY)
    two = cli("revisions", "create", d["name"], "-o", "json").json()
    three = cli(
        "revisions", "create", d["name"], "--image", "registry.example.com/agents/echo:3.0", "-o", "json"
    )
    assert two["status"] == "QUEUED" and three.code == 0
    w = cli("revisions", "wait", two["id"], *FAST)
    assert w.code == 1 and "SKIPPED" in w.err


def test_list_get_redeploy_and_events(cli: Cli) -> None:
    listener = cli.listener(["agents"])
    d = cli.deployment(listener)
    one = d["latest_revision_id"]
    listener.status(one, "DEPLOYED")
    two = cli(
        "revisions", "create", d["name"], "--image", "registry.example.com/agents/echo:2.0", "-o", "json"
    )
    assert two.code == 0
    listener.status(two.json()["id"], "DEPLOYED")

    listing = cli("revisions", "list", d["name"], "-o", "json")
    assert listing.json() == cli.get(f"/deployments/{d['id']}/revisions", limit=100, offset=0)
    assert [r["status"] for r in listing.json()["data"]] == ["DEPLOYED", "REPLACED"]
    only = cli("revisions", "list", d["id"], "--status", "REPLACED", "-o", "json").json()
    assert [r["number"] for r in only["data"]] == [1]
    table = cli("revisions", "list", d["name"])
    assert table.out.splitlines()[0].split() == ["REV", "STATUS", "REASON", "IMAGE", "AGE", "ID"]

    got = cli("revisions", "get", f"{d['name']}:1", "-o", "json")
    assert got.json() == cli.get(f"/revisions/{one}")
    human = cli("revisions", "get", one)
    assert "status:" in human.out and "REPLACED" in human.out

    back = cli("revisions", "redeploy", f"{d['name']}:1", "-o", "json")
    assert back.code == 0, back.err
    three = back.json()
    assert three["number"] == 3 and three["source_revision_id"] == one
    assert three["config"]["image"] == IMAGE
    assert "from revision 1" in back.err

    ev = cli("revisions", "events", one, "-o", "json")
    assert ev.json() == cli.get(f"/revisions/{one}/events", limit=50, offset=0)
    assert "DEPLOYED -> REPLACED" in cli("revisions", "events", one).out

    missing = cli("revisions", "get", f"{d['name']}:9")
    assert missing.code == 3 and "no revision 9" in missing.err
    bad = cli("revisions", "get", "not-a-revision")
    assert bad.code == 2 and "DEPLOYMENT:NUMBER" in bad.err
