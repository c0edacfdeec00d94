"""`lgp listeners`, `lgp api-keys`, `lgp tenants`, `lgp audit-log` against a real control plane: every
command, tokens and keys written to 0600 files instead of stdout, json output is the API's JSON."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.api.cli.conftest import Cli, unique


def test_listener_lifecycle(cli: Cli, tmp_path: Path) -> None:
    name = unique("cluster")
    created = cli("listeners", "create", name, "--namespace", "agents", "--namespace", "tools", "-o", "json")
    assert created.code == 0, created.err
    x = created.json()
    assert (
        x["name"] == name
        and x["namespaces"] == ["agents", "tools"]
        and x["token"].startswith(x["token_prefix"])
    )
    # the token works for the listener protocol
    from tests.api.cli.conftest import Listener

    assert Listener(cli.cp, x).http.get("/desired-state").status_code == 200

    assert cli("listeners", "list", "-o", "json").json() == cli.get("/listeners", limit=100, offset=0)
    table = cli("listeners", "list")
    assert name in table.out and x["token"] not in table.out
    assert cli("listeners", "get", name, "-o", "json").json() == cli.get(f"/listeners/{x['id']}")
    assert "namespaces:" in cli("listeners", "get", x["id"]).out

    u = cli(
        "listeners", "update", name, "--add-namespace", "batch", "--remove-namespace", "tools", "-o", "json"
    )
    assert u.code == 0, u.err
    assert u.json()["namespaces"] == ["agents", "batch"]
    renamed = unique("renamed")
    r = cli("listeners", "update", x["id"], "--name", renamed, "--namespace", "only", "-o", "json")
    assert r.json()["name"] == renamed and r.json()["namespaces"] == ["only"]

    token_file = tmp_path / "token"
    rot = cli("listeners", "rotate-token", renamed, "--yes", "--token-file", str(token_file))
    assert rot.code == 0, rot.err
    new_token = token_file.read_text().strip()
    assert new_token and new_token != x["token"] and new_token not in rot.out + rot.err
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert Listener(cli.cp, x).http.get("/desired-state").status_code == 401  # the old token stopped working
    assert Listener(cli.cp, {**x, "token": new_token}).http.get("/desired-state").status_code == 200

    refused = cli.sub("listeners", "delete", renamed, stdin="")
    assert refused.code == 2
    gone = cli("listeners", "delete", renamed, "--yes")
    assert gone.code == 0, gone.err
    assert cli("listeners", "get", x["id"]).code == 3


def test_listener_in_use_cannot_be_deleted(cli: Cli) -> None:
    listener = cli.listener(["agents"])
    cli.deployment(listener)
    r = cli("listeners", "delete", listener.name, "--yes")
    assert r.code == 4, r.err
    assert "HTTP 409" in r.err


def test_listener_create_prints_the_token_once_in_table_mode(cli: Cli, tmp_path: Path) -> None:
    r = cli("listeners", "create", unique("c"), "--namespace", "agents")
    assert r.code == 0
    assert "listener token: lgpl_" in r.out and "shown once" in r.err
    f = tmp_path / "t"
    quiet = cli("listeners", "create", unique("c"), "--token-file", str(f), "-o", "json")
    assert quiet.code == 0 and "token" not in quiet.json() and f.read_text().startswith("lgpl_")


def test_api_keys_create_list_revoke(cli: Cli, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    r = cli("api-keys", "create", "deploy-bot", "--key-file", str(key_file), "-o", "json")
    assert r.code == 0, r.err
    created = r.json()
    key = key_file.read_text().strip()
    assert "key" not in created and key.startswith(created["prefix"])
    assert key not in r.out + r.err
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    # the new key works, from a file
    with_file = cli("deployments", "list", "--api-key-file", str(key_file), env={"LGP_API_KEY": ""})
    assert with_file.code == 0, with_file.err

    listing = cli("api-keys", "list", "-o", "json")
    assert listing.json() == cli.get("/api-keys", limit=100, offset=0)
    assert "deploy-bot" in cli("api-keys", "list").out

    revoke = cli("api-keys", "revoke", "deploy-bot")
    assert revoke.code == 0, revoke.err
    denied = cli("deployments", "list", "--api-key-file", str(key_file))
    assert denied.code == 5 and "HTTP 401" in denied.err
    assert "deploy-bot" not in cli("api-keys", "list").out
    assert "revoked" in cli("api-keys", "list", "--include-revoked").out
    assert cli("api-keys", "revoke", "deploy-bot").code == 3  # no active key by that name
    by_id = cli("api-keys", "revoke", created["id"])
    assert by_id.code == 0  # revoking twice is harmless

    shown = cli("api-keys", "create", "shown")
    assert shown.code == 0 and "API key: lgp_" in shown.out


def test_tenants_need_the_admin_key(cli: Cli, admin_cli: Cli) -> None:
    name = unique("team")
    made = admin_cli("tenants", "create", name, "-o", "json")
    assert made.code == 0, made.err
    listing = admin_cli("tenants", "list", "--limit", "500", "-o", "json")
    assert name in {t["name"] for t in listing.json()["data"]}
    assert admin_cli("tenants", "create", name).code == 4  # the name is taken
    key = admin_cli("api-keys", "create", "team-key", "--tenant", made.json()["id"], "-o", "json")
    assert key.code == 0 and key.json()["tenant_id"] == made.json()["id"]

    forbidden = cli("tenants", "list")
    assert forbidden.code == 5 and "HTTP 403" in forbidden.err
    other = cli("api-keys", "create", "x", "--tenant", made.json()["id"])
    assert other.code == 5


def test_audit_log(cli: Cli) -> None:
    d = cli.deployment(cli.listener(["agents"]))
    r = cli("audit-log", "list", "--resource-type", "deployment", "-o", "json")
    assert r.code == 0, r.err
    assert r.json() == cli.get("/audit-log", resource_type="deployment", limit=100, offset=0)
    assert [e["action"] for e in r.json()["data"]] == ["deployment.create"]
    table = cli("audit-log", "list", "--action", "deployment.create")
    assert f"deployment/{d['id']}" in table.out
