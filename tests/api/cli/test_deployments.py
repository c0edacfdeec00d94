"""`lgp deployments` against a real control plane: create with every kind of setting, list with filters,
get by name and id, update (env merge, secrets set/unset, new revision), delete, events; json output is
the API's JSON; secret values are never printed."""

from __future__ import annotations

from pathlib import Path

from tests.api.cli.conftest import IMAGE, Cli, Guard, unique


def test_create_with_every_setting_then_get_by_name_and_id(
    cli: Cli, secret_guard: Guard, tmp_path: Path
) -> None:
    listener = cli.listener(["agents"])
    from_env, from_file, inline, db_pass = (secret_guard.secret(p) for p in ("env", "file", "inline", "db"))
    (tmp_path / "key.txt").write_text(from_file + "\n")
    (tmp_path / "db.txt").write_text(f"postgresql://agent:{db_pass}@db.example.com:5432/agent\n")
    name = unique("full")
    r = cli(
        "deployments", "create", name,
        "--image", IMAGE,
        "--listener", listener.name,
        "--namespace", "agents",
        "--type", "production",
        "--min-replicas", "2", "--max-replicas", "5",
        "--cpu", "500m", "--memory", "512Mi",
        "--no-queue",
        "--ingress-host", "agent.example.com", "--ingress-path", "/agent",
        "--env", "LOG_LEVEL=debug", "--env", "FEATURE=on",
        "--secret", "FROM_ENV",
        "--secret", f"INLINE={inline}",
        "--secret-from-file", f"FROM_FILE={tmp_path / 'key.txt'}",
        "--secret-ref", "shared-credentials",
        "--external-database-uri-file", str(tmp_path / "db.txt"),
        "-o", "json",
        env={"FROM_ENV": from_env},
    )  # fmt: skip
    assert r.code == 0, r.err
    d = r.json()
    assert d["name"] == name and d["type"] == "production" and d["listener_id"] == listener.id
    assert d["resources"]["server"] == {
        "replicas": None, "min_replicas": 2, "max_replicas": 5, "cpu": "500m", "memory": "512Mi"
    }  # fmt: skip
    assert d["resources"]["queue"]["enabled"] is False
    assert d["ingress"] == {"host": "agent.example.com", "path": "/agent"}
    assert d["env"] == [{"name": "LOG_LEVEL", "value": "debug"}, {"name": "FEATURE", "value": "on"}]
    assert sorted(d["secret_names"]) == ["FROM_ENV", "FROM_FILE", "INLINE"]
    assert d["secret_refs"] == ["shared-credentials"] and d["database"] == {"type": "external"}
    # the listener receives the values the CLI read (the desired state is the only place they appear)
    state = listener.http.get("/desired-state").json()
    mine = next(x for x in state["deployments"] if x["id"] == d["id"])
    assert mine["secret"]["data"]["FROM_ENV"] == from_env
    assert mine["secret"]["data"]["FROM_FILE"] == from_file  # one trailing newline dropped
    assert mine["secret"]["data"]["INLINE"] == inline
    assert any(db_pass in v for v in mine["secret"]["data"].values())  # the external database URI

    by_name = cli("deployments", "get", name, "-o", "json")
    by_id = cli("deployments", "get", d["id"], "-o", "json")
    assert by_name.code == by_id.code == 0
    assert by_name.json() == by_id.json() == cli.get(f"/deployments/{d['id']}")

    table = cli("deployments", "get", name)
    assert table.code == 0
    assert "name:" in table.out and name in table.out and "2-5 (autoscaling)" in table.out
    assert "revision 1 AWAITING_DEPLOY" in table.out
    assert "FROM_ENV" in table.out  # names are shown, values never (the guard checks every output)


def test_json_output_is_the_api_json_and_filters_reach_the_api(cli: Cli) -> None:
    a, b = cli.listener(["agents"]), cli.listener(["tools"])
    d1 = cli.deployment(a, name=unique("alpha"))
    d2 = cli.deployment(b, name=unique("beta"), type="production")
    r = cli("deployments", "list", "-o", "json")
    assert r.code == 0
    assert r.json() == cli.get("/deployments")
    assert {x["id"] for x in r.json()["data"]} == {d1["id"], d2["id"]}

    def names(*flags: str) -> set[str]:
        res = cli("--output", "json", "deployments", "list", *flags)  # the global flag before the command
        assert res.code == 0, res.err
        return {x["name"] for x in res.json()["data"]}

    assert names("--name-contains", "ALPHA") == {d1["name"]}
    assert names("--type", "production") == {d2["name"]}
    assert names("--listener", b.name) == {d2["name"]}
    assert names("--listener", a.id) == {d1["name"]}
    assert names("--status", "READY") == set()
    page = cli("deployments", "list", "--limit", "1", "-o", "json").json()
    assert page["count"] == 2 and len(page["data"]) == 1 and page["limit"] == 1

    table = cli("deployments", "list", "--limit", "1")
    assert table.code == 0
    assert table.out.splitlines()[0].split()[:3] == ["NAME", "TYPE", "STATUS"]
    assert "1 of 2 shown" in table.out


def test_update_merges_env_and_secrets_and_makes_a_revision(cli: Cli, secret_guard: Guard) -> None:
    listener = cli.listener(["agents"])
    keep, drop = secret_guard.secret("keep"), secret_guard.secret("drop")
    d = cli.deployment(
        listener,
        env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        secrets={"KEEP": keep, "DROP": drop},
        secret_refs=["one", "two"],
    )
    new = secret_guard.secret("new")
    r = cli(
        "deployments", "update", d["name"],
        "--image", "registry.example.com/agents/echo:2.0",
        "--env", "B=20", "--env", "C=3", "--unset-env", "A",
        "--secret", f"NEW={new}", "--unset-secret", "DROP",
        "--secret-ref", "three", "--remove-secret-ref", "one",
        "--replicas", "3",
        "-o", "json",
    )  # fmt: skip
    assert r.code == 0, r.err
    u = r.json()
    assert u["image"] == "registry.example.com/agents/echo:2.0"
    assert u["env"] == [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}]
    assert sorted(u["secret_names"]) == ["KEEP", "NEW"]
    assert u["secret_refs"] == ["two", "three"]
    assert u["resources"]["server"]["replicas"] == 3
    assert u["latest_revision_id"] != d["latest_revision_id"]
    assert "new revision" in r.err
    revs = cli("revisions", "list", d["name"], "-o", "json").json()
    assert [x["number"] for x in revs["data"]] == [2, 1]
    assert revs["data"][0]["config"]["image"] == "registry.example.com/agents/echo:2.0"

    nothing = cli("deployments", "update", d["name"])
    assert nothing.code == 2 and "nothing to update" in nothing.err


def test_delete_asks_unless_yes_then_waits_for_the_listener(cli: Cli) -> None:
    listener = cli.listener(["agents"])
    d = cli.deployment(listener)
    refused = cli.sub("deployments", "delete", d["name"], stdin="")  # not a terminal, no --yes
    assert refused.code == 2 and "--yes" in refused.err
    assert cli.get(f"/deployments/{d['id']}")["status"] != "DELETING"

    running = cli.start("deployments", "delete", d["name"], "--yes", "--wait", "--poll-interval", "0.2")
    running.wait_line("waiting for the listener")
    assert cli.get(f"/deployments/{d['id']}")["status"] == "DELETING"
    listener.deleted(d["id"])  # the listener removed the objects and confirms
    done = running.finish()
    assert done.code == 0, done.err
    assert "is deleted" in done.err
    assert cli("deployments", "get", d["id"]).code == 3


def test_delete_by_id_prints_the_deleting_deployment(cli: Cli) -> None:
    d = cli.deployment(cli.listener(["agents"]))
    r = cli("deployments", "delete", d["id"], "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert r.json()["id"] == d["id"] and r.json()["status"] == "DELETING"
    again = cli("deployments", "delete", d["id"], "--yes", "-o", "json")
    assert again.code == 0, again.err  # deleting twice is harmless (scripts may retry)
    assert again.json()["status"] == "DELETING"


def test_events_say_why_it_is_stuck(cli: Cli) -> None:
    listener = cli.listener(["agents"])
    d = cli.deployment(listener)
    rev = d["latest_revision_id"]
    listener.status(rev, "DEPLOYING")
    listener.report(
        d["id"],
        revision_id=rev,
        conditions=[
            {"type": "Ready", "status": "False", "reason": "ImagePullBackOff", "message": "pods wait"}
        ],
        events=[
            {
                "type": "Warning",
                "reason": "Failed",
                "message": 'Back-off pulling image "registry.example.com/agents/echo:1.0"',
                "object": "Pod/echo-api-0",
                "count": 4,
            }
        ],
        replicas={"desired": 1, "ready": 0},
    )
    r = cli("deployments", "events", d["name"])
    assert r.code == 0, r.err
    assert f"deployment {d['name']}: DEPLOYING" in r.out
    assert "latest revision 1 DEPLOYING" in r.out
    assert "condition Ready=False ImagePullBackOff: pods wait" in r.out
    assert "Warning Failed Pod/echo-api-0 (x4): Back-off pulling image" in r.out
    assert "replicas desired=1, ready=0" in r.out
    lines = r.out.splitlines()
    # oldest first: the transition to DEPLOYING comes before the cluster's events
    assert next(i for i, x in enumerate(lines) if "-> DEPLOYING" in x) < next(
        i for i, x in enumerate(lines) if "Back-off" in x
    )
    j = cli("deployments", "events", d["id"], "--kind", "kubernetes_event", "-o", "json")
    assert j.code == 0
    assert j.json() == cli.get(f"/deployments/{d['id']}/events", kind="kubernetes_event", limit=50, offset=0)
    assert (
        cli("deployments", "events", d["name"], "--revision", f"{d['name']}:1", "-o", "json").json()["count"]
        == cli.get(f"/revisions/{rev}/events")["count"]
    )


def test_subprocess_uses_the_same_commands(cli: Cli) -> None:
    """The installed entry point as a process: `python -m lgp_cli.main deployments list -o json`."""
    d = cli.deployment(cli.listener(["agents"]))
    r = cli.sub("deployments", "list", "-o", "json")
    assert r.code == 0, r.err
    assert [x["id"] for x in r.json()["data"]] == [d["id"]]
    assert r.json() == cli.get("/deployments")
