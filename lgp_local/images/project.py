"""A LangGraph project (``langgraph.json``) read the way ``langgraph build`` reads it.

The config is validated and mapped into the image by the real ``langgraph-cli`` (its
``validate_config_file`` and the helpers its Dockerfile generator uses: local dependencies under
``/deps/...``, graph paths rewritten to those locations, ``LANGSERVE_GRAPHS`` and the other
``LANGGRAPH_*`` variables), so a project builds to the same layout here as with Docker. What needs a
Docker build (``dockerfile_lines``), another runtime (JS graphs) or another base image is refused
with the reason. A unit test checks the result against the Dockerfile ``langgraph-cli`` writes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ALWAYS_EXCLUDE = ("__pycache__", ".git", ".venv", "venv", "node_modules", ".tox", ".mypy_cache")


class ProjectError(ValueError):
    """The project cannot be built; the message names the file, the field and the reason."""


@dataclass
class Project:
    config_path: Path
    pypi_deps: list[str]
    requirement_files: list[Path]
    real_packages: list[Path]  # local dirs with pyproject.toml / setup.py: pip-installed
    trees: list[tuple[Path, str]]  # (directory here, directory in the image)
    import_paths: list[str]  # directories put on sys.path (what an editable install would do)
    working_dir: str | None
    env: dict[str, str]  # LANGSERVE_GRAPHS and the other LANGGRAPH_* variables
    pip_config: Path | None
    graphs: dict[str, Any] = field(default_factory=dict)


def _cli() -> Any:
    try:
        from langgraph_cli import config as lgc
    except ModuleNotFoundError as e:  # pragma: no cover - depends on the install
        raise ProjectError(
            "reading langgraph.json needs the `langgraph-cli` package: pip install 'lgp[local]'"
        ) from e
    return lgc


_ENV_LINE = re.compile(r"^ENV ([A-Z_][A-Z0-9_]*)='(.*)'$", re.S)


def _env_from_lines(lines: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in lines:
        m = _ENV_LINE.match(line)
        if not m:
            raise ProjectError(f"unexpected line from langgraph-cli's env builder: {line!r}")
        env[m.group(1)] = m.group(2)
    return env


def load_project(config_path: Path) -> Project:
    """Read and check ``langgraph.json``; every problem is a ``ProjectError`` naming the file."""
    import click

    lgc = _cli()
    config_path = config_path.resolve()
    where = str(config_path)
    if config_path.is_dir():
        config_path = config_path / "langgraph.json"
        where = str(config_path)
    if not config_path.is_file():
        raise ProjectError(
            f"{where}: no such file; a LangGraph project has a langgraph.json (pass -c PATH/langgraph.json)"
        )
    try:
        raw = json.loads(config_path.read_text())
    except json.JSONDecodeError as e:
        raise ProjectError(f"{where}: not valid JSON: {e}") from None
    if not isinstance(raw, dict):
        raise ProjectError(f"{where}: must be a JSON object")
    if raw.get("dockerfile_lines"):
        raise ProjectError(
            f"{where}: dockerfile_lines: lines of a Dockerfile need a Docker build; the registry-free "
            "builder cannot run them (install system packages with pip dependencies instead)"
        )
    for key, why in (
        (
            "base_image",
            "the server image is built on Debian bookworm's python3 with the pinned langgraph-api",
        ),
        ("node_version", "JavaScript graphs need the langgraphjs server, which this builder does not build"),
        ("source", "uv-managed sources are not supported by this builder; list dependencies instead"),
    ):
        if raw.get(key):
            raise ProjectError(f"{where}: {key}: not supported here ({why})")
    _check_paths(raw, config_path.parent, where)
    try:
        config = lgc.validate_config_file(config_path)
    except (click.ClickException, ValueError, OSError, KeyError, TypeError) as e:
        raise ProjectError(f"{where}: {_message(e)}") from None
    from .layers import PYTHON_VERSION

    if config.get("python_version") and config["python_version"] != PYTHON_VERSION:
        raise ProjectError(
            f"{where}: python_version: {config['python_version']!r} is not available; the image's "
            f"Python is Debian bookworm's {PYTHON_VERSION}"
        )
    graphs = config.get("graphs", {})
    node = [g for g, spec in graphs.items() if lgc._is_node_graph(spec)]
    if node:
        raise ProjectError(f"{where}: graphs: {', '.join(node)}: JavaScript graphs are not supported here")
    try:
        lgc._validate_local_dependency_files(config_path, config)
        local = lgc._assemble_local_deps(config_path, config)
        for update in (
            lgc._update_graph_paths,
            lgc._update_auth_path,
            lgc._update_encryption_path,
            lgc._update_priority_path,
            lgc._update_checkpointer_path,
            lgc._update_http_app_path,
        ):
            update(config_path, config, local)
        env = _env_from_lines(lgc._build_runtime_env_vars(config))
    except (click.ClickException, ValueError, OSError) as e:
        raise ProjectError(f"{where}: {_message(e)}") from None

    trees: list[tuple[Path, str]] = []
    import_paths: list[str] = []
    for path, (_, name) in local.real_pkgs.items():
        trees.append((path, f"/deps/{name}"))
    for path, (_, dest) in local.faux_pkgs.items():
        trees.append((path, dest))
        # An editable install of the generated pyproject makes the packages under dest importable:
        # for the src layout that is dest itself, for the flat layout its parent.
        import_paths.append(dest if dest.endswith("/src") else dest.rsplit("/", 1)[0])
    pip_config = None
    if config.get("pip_config_file"):
        pip_config = (config_path.parent / config["pip_config_file"]).resolve()
        if not pip_config.is_file():
            raise ProjectError(f"{where}: pip_config_file: {pip_config} does not exist")
    return Project(
        config_path=config_path,
        pypi_deps=[d for d in config["dependencies"] if not d.startswith(".")],
        requirement_files=[p for p, _ in local.pip_reqs],
        real_packages=list(local.real_pkgs),
        trees=trees,
        import_paths=import_paths,
        working_dir=local.working_dir,
        env=env,
        pip_config=pip_config,
        graphs=dict(config["graphs"]),
    )


def _check_paths(raw: dict[str, Any], root: Path, where: str) -> None:
    """The mistakes people make most, named by field before langgraph-cli sees the config."""
    deps = raw.get("dependencies")
    if not isinstance(deps, list) or not deps or not all(isinstance(d, str) for d in deps):
        raise ProjectError(
            f"{where}: dependencies: required, a list of strings: the project's packages, "
            '"." for the folder of langgraph.json'
        )
    for dep in deps:
        if dep.startswith(".") and not (root / dep).is_dir():
            missing = (root / dep).resolve()
            raise ProjectError(f"{where}: dependencies: {dep!r}: no such directory ({missing})")
    graphs = raw.get("graphs")
    if not isinstance(graphs, dict) or not graphs:
        raise ProjectError(f'{where}: graphs: required, e.g. {{"agent": "./agent.py:graph"}}')
    for graph_id, spec in graphs.items():
        path = spec.get("path") if isinstance(spec, dict) else spec
        if not isinstance(path, str):
            raise ProjectError(f"{where}: graphs.{graph_id}: must be a string 'path/to/file.py:variable'")
        module, sep, attr = path.partition(":")
        if not sep or not module or not attr:
            raise ProjectError(
                f"{where}: graphs.{graph_id}: {path!r} must be 'path/to/file.py:variable' "
                "or 'module:variable'"
            )
        if "/" in module and not (root / module).is_file():
            raise ProjectError(
                f"{where}: graphs.{graph_id}: {module!r} does not exist ({(root / module).resolve()})"
            )


def _message(e: BaseException) -> str:
    msg = getattr(e, "message", None) or str(e)
    return msg.strip().replace("\n\n", "\n")


def project_files(root: Path) -> list[Path]:
    """The files of a local dependency that go into the image, the way a Docker build context
    filters them: common non-source directories always out, then ``.dockerignore``."""
    import pathspec

    lines = [f"{d}/" for d in ALWAYS_EXCLUDE]
    ignore = root / ".dockerignore"
    if ignore.is_file():
        lines += ignore.read_text().splitlines()
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in ALWAYS_EXCLUDE for part in rel.parts):
            continue
        if path.is_dir() and not path.is_symlink():
            continue
        if spec.match_file(rel.as_posix()):
            continue
        out.append(path)
    return out


def tree_digest(root: Path) -> str:
    """A digest of a directory's files (names, modes and contents) as ``project_files`` selects them."""
    h = hashlib.sha256()
    for path in project_files(root):
        rel = path.relative_to(root).as_posix()
        h.update(rel.encode() + b"\0")
        if path.is_symlink():
            h.update(b"L" + str(path.readlink()).encode())
        else:
            h.update(oct(path.stat().st_mode & 0o777).encode() + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()
