"""What each image is made of (no build): fixed non-root numeric users, the entrypoints and env the
operator's defaults rely on, and entrypoint scripts that parse in the shells that run them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lgp_local.images import recipes
from lgp_local.images.builder import ImageSpec
from lgp_local.images.layers import SITE, DebianRootfs, Files, PipPackages
from lgp_local.images.oci import Entry

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "agent"


def _entries(spec: ImageSpec) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for layer in spec.layers:
        if isinstance(layer, Files):
            out.update({e.path: e for e in layer.entries})
    return out


@pytest.mark.parametrize(
    ("factory", "user", "entrypoint"),
    [
        (recipes.python_base, "1000:1000", ()),
        (recipes.postgres, "999:999", ("docker-entrypoint.sh",)),
        (recipes.redis, "999:999", ("docker-entrypoint.sh",)),
        (lambda: recipes.server(EXAMPLE), "1000:1000", ("/storage/entrypoint.sh",)),
    ],
)
def test_every_image_runs_as_a_fixed_numeric_non_root_user(factory, user, entrypoint):
    spec = factory()
    assert spec.config.user == user and not user.startswith("0:")
    assert spec.config.entrypoint == entrypoint
    rootfs = spec.layers[0]
    assert isinstance(rootfs, DebianRootfs)
    uid = int(user.split(":")[0])
    assert any(u.uid == uid for u in rootfs.users)  # in /etc/passwd before the packages install


def test_postgres_is_env_compatible_with_the_official_image_as_the_operator_uses_it():
    spec = recipes.postgres()
    assert spec.config.cmd == ("postgres",) and spec.config.stop_signal == "SIGINT"
    assert spec.config.env["PGDATA"] == "/var/lib/postgresql/data"
    assert spec.config.env["PATH"].startswith("/usr/lib/postgresql/15/bin:")  # pg_isready, psql, initdb
    assert spec.config.exposed_ports == ("5432/tcp",)
    entries = _entries(spec)
    assert entries["/run/postgresql"].uid == 999
    script = (entries["/usr/local/bin/docker-entrypoint.sh"].data or b"").decode()
    for name in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "PGDATA", "POSTGRES_INITDB_ARGS"):
        assert name in script
    rootfs = spec.layers[0]
    assert isinstance(rootfs, DebianRootfs) and rootfs.packages == (
        "postgresql-15",
    )  # no pgvector in bookworm


def test_redis_takes_the_operators_args_and_has_redis_cli():
    spec = recipes.redis()
    assert spec.config.cmd == ("redis-server",) and spec.config.working_dir == "/data"
    rootfs = spec.layers[0]
    assert isinstance(rootfs, DebianRootfs) and rootfs.packages == ("redis-server",)  # depends on redis-tools


def test_the_server_image_is_laid_out_like_the_official_one():
    spec = recipes.server(EXAMPLE)
    env = spec.config.env
    assert env["PORT"] == "8000" and env["LANGGRAPH_RUNTIME_EDITION"] == "pg"
    assert json.loads(env["LANGSERVE_GRAPHS"]) == {"agent": "/deps/outer-agent/src/agent.py:graph"}
    assert spec.config.working_dir == "/deps/outer-agent/src"
    entries = _entries(spec)
    for path in ("/storage/entrypoint.sh", "/storage/queue_entrypoint.sh"):
        assert entries[path].mode == 0o755
    assert b"python3 -m langgraph_api.queue_entrypoint" in (
        entries["/storage/queue_entrypoint.sh"].data or b""
    )
    assert entries["/deps/outer-agent/src/agent.py"].source == EXAMPLE / "agent.py"
    assert entries[f"{SITE}/lgp-project.pth"].data == b"/deps/outer-agent/src\n"
    (pip,) = [layer for layer in spec.layers if isinstance(layer, PipPackages)]
    assert pip.requirements[:2] == ("langgraph-api==0.11.1", "langgraph-runtime-pg==0.11.1.post1")
    assert "langgraph-checkpoint-postgres==3.1.0" in pip.constraints
    # the server image shares its Debian layer with the Python base
    assert spec.layers[0] == recipes.python_base().layers[0]


@pytest.mark.parametrize(
    ("script", "shell"),
    [
        ("postgres-entrypoint.sh", "bash"),
        ("redis-entrypoint.sh", "dash"),
        ("server-entrypoint.sh", "dash"),
        ("queue-entrypoint.sh", "dash"),
    ],
)
def test_entrypoint_scripts_parse_in_the_shell_that_runs_them(script, shell):
    path = recipes.FILES / script
    assert path.read_text().startswith("#!/bin/bash\n" if shell == "bash" else "#!/bin/sh\n")
    proc = subprocess.run([shell, "-n", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_redis_entrypoint_turns_protected_mode_off_unless_asked(tmp_path):
    """Runs the real script; `redis-server` on PATH is a stand-in that prints its arguments."""
    fake = tmp_path / "redis-server"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do printf "[%s]" "$a"; done\n')
    fake.chmod(0o755)
    conf = tmp_path / "r.conf"
    conf.write_text("protected-mode yes\n")

    def run(*args: str) -> str:
        env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
        return subprocess.run(
            ["sh", str(recipes.FILES / "redis-entrypoint.sh"), *args], capture_output=True, text=True, env=env
        ).stdout

    assert run("--save", "", "--appendonly", "no") == "[--protected-mode][no][--save][][--appendonly][no]"
    assert run("redis-server", "--port", "1") == "[--protected-mode][no][--port][1]"
    assert run("--protected-mode", "yes") == "[--protected-mode][yes]"
    assert run(str(conf), "--port", "1") == f"[{conf}][--port][1]"
    assert run("echo", "hi") == "hi\n"  # any other command runs as given
