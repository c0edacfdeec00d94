"""The Dockerfiles (images/*.Dockerfile): multi-stage, a non-root numeric USER, the version as an OCI
label from a build argument, an `lgp` entrypoint with a real command; the .dockerignore lets in what
they COPY; and the builder stage's wheel, built from exactly what it copies, holds every module."""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

DOCKERFILES = {
    "control-plane": ROOT / "images" / "control-plane.Dockerfile",
    "data-plane": ROOT / "images" / "data-plane.Dockerfile",
}
PACKAGE_DIRS = [
    ROOT / "control_plane",
    ROOT / "operator" / "lgp_operator",
    ROOT / "lgp_cli",
    ROOT / "lgp_contract",
]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arg for k, arg in self.instructions if k == keyword]


def parse(path: Path) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages of a Dockerfile (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n", " ", path.read_text())
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arg = line.partition(" ")
        keyword, arg = keyword.upper(), arg.strip()
        if keyword == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", arg, flags=re.I)
            assert m, f"{path}: cannot parse FROM {arg}"
            stages.append(Stage(base=m[1], name=m[2]))
        elif not stages:
            assert keyword == "ARG", f"{path}: {keyword} before the first FROM"
            name, _, default = arg.partition("=")
            global_args[name] = default
        else:
            stages[-1].instructions.append((keyword, arg))
    return global_args, stages


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_multi_stage_from_a_pinned_slim_python(image: str) -> None:
    global_args, stages = parse(DOCKERFILES[image])
    assert len(stages) >= 2, "expected a builder stage and a runtime stage"
    assert global_args["PYTHON_IMAGE"].startswith("python:3.11-slim")
    assert all(s.base == "${PYTHON_IMAGE}" for s in stages)
    builder, runtime = stages[0], stages[-1]
    assert builder.name == "builder"
    # The runtime stage takes only the built virtualenv from the builder: no sources, no pip cache.
    assert runtime.all("COPY") == ["--from=builder /opt/lgp /opt/lgp"]
    assert any("pip wheel" in r and "pip install /wheels/" in r for r in builder.all("RUN"))


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_runs_as_a_non_root_user(image: str) -> None:
    _, stages = parse(DOCKERFILES[image])
    users = stages[-1].all("USER")
    assert users, "the runtime stage sets no USER (it would run as root)"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 10000, f"USER {users[-1]}: use a numeric uid >= 10000"
    # The chart's pods of this image run as the same uid by default (runAsNonRoot needs a numeric USER
    # to verify).
    values = yaml.safe_load((ROOT / "helm" / "lgp" / "values.yaml").read_text())
    components = ["controlPlane"] if image == "control-plane" else ["listener", "operator", "usageReporter"]
    for component in components:
        assert values[component]["podSecurityContext"]["runAsUser"] == int(uid), component


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_version_label_from_a_build_argument(image: str) -> None:
    _, stages = parse(DOCKERFILES[image])
    runtime = stages[-1]
    assert any(a.startswith("VERSION") for a in runtime.all("ARG")), (
        "ARG VERSION missing in the runtime stage"
    )
    labels = " ".join(runtime.all("LABEL"))
    assert 'org.opencontainers.image.version="${VERSION}"' in labels
    assert f'org.opencontainers.image.title="lgp-{image}"' in labels


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_entrypoint_is_lgp_with_a_known_command(image: str) -> None:
    from lgp_cli.main import COMMANDS

    _, stages = parse(DOCKERFILES[image])
    runtime = stages[-1]
    assert runtime.all("ENTRYPOINT") == ['["lgp"]']
    cmd = runtime.all("CMD")[-1]
    assert cmd.startswith("["), "CMD must use the exec form"
    first = cmd.strip("[]").split(",")[0].strip().strip('"')
    assert first in COMMANDS


def copied_sources(path: Path) -> list[str]:
    _, stages = parse(path)
    out = []
    for arg in stages[0].all("COPY"):
        parts = shlex.split(arg)
        out += [p for p in parts[:-1] if not p.startswith("--")]
    return out


def dockerignore_allows(rel: str) -> bool:
    """Whether .dockerignore lets a path into the build context (last matching rule wins)."""
    allowed = True
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        parts = rel.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(
            fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, pattern.removeprefix("**/")) for p in prefixes
        ):
            allowed = negate
    return allowed


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_dockerignore_lets_in_what_the_build_copies_and_keeps_the_rest_out(image: str) -> None:
    for src in copied_sources(DOCKERFILES[image]):
        assert (ROOT / src).exists(), f"COPY {src}: no such path"
        assert dockerignore_allows(src), f".dockerignore excludes {src}, which the build copies"
    for private in (".venv/bin/python", ".git/config", "tests/conftest.py", "helm/lgp/values.yaml"):
        assert not dockerignore_allows(private), f".dockerignore lets {private} into the build context"
    assert not dockerignore_allows("control_plane/__pycache__/x.pyc")


def test_wheel_from_the_copied_sources_holds_every_module(tmp_path: Path) -> None:
    """What the builder stage does, minus Docker: the same files, `pip wheel --no-deps .`.
    pip fetches the build backend (setuptools) from the package index, as the image build does."""
    sources = copied_sources(DOCKERFILES["data-plane"])
    assert sources == copied_sources(DOCKERFILES["control-plane"])
    context = tmp_path / "context"
    context.mkdir()
    for src in sources:
        subprocess.run(
            ["cp", "-r", str(ROOT / src), str(context / src)], check=True
        )  # exact copies, as COPY makes them
    subprocess.run(
        ["find", str(context), "-name", "__pycache__", "-prune", "-exec", "rm", "-rf", "{}", "+"], check=True
    )
    out = tmp_path / "wheels"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", str(out), str(context)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"pip wheel failed (needs the package index for setuptools):\n{proc.stderr[-3000:]}"
    )
    (wheel,) = out.glob("lgp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for pkg in PACKAGE_DIRS:
        base = pkg.parent
        for f in pkg.rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
                expected.add(f.relative_to(base).as_posix())
    # Runtime files only: a Mako template used to *write* migrations, and READMEs, are not needed to run.
    expected = {n for n in expected if not n.endswith((".mako", ".md"))}
    missing = sorted(expected - names)
    assert missing == [], f"the wheel (and so the images) lacks: {missing}"
    assert any(n.endswith("entry_points.txt") for n in names)
    entry_points = next(
        zipfile.ZipFile(wheel).read(n).decode() for n in names if n.endswith("entry_points.txt")
    )
    assert "lgp = lgp_cli.main:main" in entry_points
