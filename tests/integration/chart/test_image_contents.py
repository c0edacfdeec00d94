"""What the images install works on its own: the project's wheel, built from exactly the files the
Dockerfiles copy and unpacked away from the sources, migrates a real database and runs every `lgp`
command the chart starts (so a module or data file missing from the wheel fails here, not in a pod)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from .conftest import ROOT

COPIED = [
    "pyproject.toml",
    "README.md",
    "lgp_cli",
    "lgp_contract",
    "control_plane",
    "operator",
]  # images/*.Dockerfile


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    context = work / "context"
    context.mkdir()
    for src in COPIED:
        target = context / src
        if (ROOT / src).is_dir():
            shutil.copytree(ROOT / src, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / src, target)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--wheel-dir",
            str(work / "dist"),
            str(context),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"pip wheel failed (it needs the package index for setuptools):\n{proc.stderr}"
    )
    (wheel,) = (work / "dist").glob("lgp-*.whl")
    site = work / "site"
    zipfile.ZipFile(wheel).extractall(site)
    return site


def from_wheel(
    site: Path, code: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Python ``code`` importing our packages only from the unpacked wheel: -S skips site-packages' .pth
    files (the editable install's path hook); the dependencies' directory is added after the wheel."""
    deps = next(p for p in sys.path if p.endswith("site-packages"))
    code = (
        "import sys; "
        f"sys.path[:0] = [{str(site)!r}, {deps!r}]; "
        "import control_plane, lgp_operator, lgp_cli; "
        f"assert all(m.__file__.startswith({str(site)!r}) for m in (control_plane, lgp_operator, lgp_cli)), "
        "'imported from the sources, not the wheel'\n" + code
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LGP_") and k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-S", "-c", code, *args],
        cwd=site,  # not the repository: nothing can come from the sources
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def lgp(site: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`lgp ARGS` from the unpacked wheel."""
    return from_wheel(site, "from lgp_cli.main import main; sys.exit(main(sys.argv[1:]))", *args, env=env)


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["control-plane", "--help"],
        ["operator", "run", "--help"],
        ["listener", "run", "--help"],
        ["usage", "run", "--help"],
        ["license", "--help"],
    ],
    ids=lambda a: " ".join(a),
)
def test_every_command_the_chart_runs_loads_from_the_wheel(unpacked_wheel: Path, args: list[str]) -> None:
    proc = lgp(unpacked_wheel, *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()


def test_the_wheel_migrates_a_database(unpacked_wheel: Path, postgres_url: str, postgres_server: Any) -> None:
    env = {
        "LGP_DATABASE_URL": postgres_url,
        "LGP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "LGP_ENVIRONMENT": "development",
    }
    proc = lgp(unpacked_wheel, "control-plane", "migrate", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "migrated" in proc.stdout
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    assert {"deployment", "listener", "revision"} <= tables
    assert version


def test_the_web_ui_finds_its_templates_and_stylesheet_in_the_wheel(unpacked_wheel: Path) -> None:
    """The templates and the stylesheet are package data: every one in the sources is in the wheel, and
    the UI renders a page (a template extending base.html) and serves the stylesheet from there."""
    sources = sorted(p.name for p in (ROOT / "control_plane" / "ui" / "templates").glob("*.html"))
    code = """
import json
from control_plane.ui import rendering
assert rendering.__file__.startswith(sys.path[0]), rendering.__file__
login = rendering.env.get_template("login.html")
page = login.render(rendering.BASE_CONTEXT, csrf="t", signed_in=False, who="")
names = sorted(rendering.env.list_templates())
print(json.dumps({"templates": names, "page": page, "css": rendering.STYLESHEET}))
"""
    proc = from_wheel(unpacked_wheel, code)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert sources and out["templates"] == sources
    assert '<link rel="stylesheet" href="/ui/static/ui.css">' in out["page"]  # base.html
    assert 'name="api_key"' in out["page"]  # login.html
    assert out["css"] == (ROOT / "control_plane" / "ui" / "static" / "ui.css").read_text()
