"""What the images install works on its own: the project's wheel, built from exactly the files the
Dockerfiles copy and unpacked away from the sources, migrates a real database and runs every `lgp`
command the chart starts (so a module or data file missing from the wheel fails here, not in a pod)."""

from __future__ import annotations

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


def lgp(site: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`lgp ARGS` importing our packages only from the unpacked wheel: -S skips site-packages' .pth
    files (the editable install's path hook); the dependencies' directory is added after the wheel."""
    deps = next(p for p in sys.path if p.endswith("site-packages"))
    code = (
        "import sys; "
        f"sys.path[:0] = [{str(site)!r}, {deps!r}]; "
        "import control_plane, lgp_operator, lgp_cli; "
        f"assert all(m.__file__.startswith({str(site)!r}) for m in (control_plane, lgp_operator, lgp_cli)), "
        "'imported from the sources, not the wheel'; "
        "from lgp_cli.main import main; sys.exit(main(sys.argv[1:]))"
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
