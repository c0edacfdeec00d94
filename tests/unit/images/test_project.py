"""langgraph.json read as `langgraph build` reads it: the layout, LANGSERVE_GRAPHS and the other
variables match the Dockerfile the real langgraph-cli writes; bad projects get an error naming the
file, the field and the reason; build-context filtering (.dockerignore) applies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from langgraph_cli import config as lgc

from lgp_local.images.project import ProjectError, load_project, project_files

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "agent"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "langgraph.json"


GRAPH = "from langgraph.graph import StateGraph\ngraph = None\n"

PROJECTS: dict[str, dict[str, str] | None] = {
    "example agent (src layout, no package metadata)": None,
    "a real package (pyproject.toml) with auth, store and http": {
        "langgraph.json": json.dumps(
            {
                "dependencies": [".", "httpx>=0.27"],
                "graphs": {"main": "./src/bot/graph.py:graph", "other": {"path": "./src/bot/graph.py:graph"}},
                "auth": {"path": "./src/bot/auth.py:auth"},
                "store": {"index": {"dims": 8, "embed": "fake:embed"}},
                "http": {"app": "./src/bot/app.py:app"},
            }
        ),
        "pyproject.toml": '[project]\nname = "bot"\nversion = "0.1"\n',
        "src/bot/__init__.py": "",
        "src/bot/graph.py": GRAPH,
        "src/bot/auth.py": "auth = None\n",
        "src/bot/app.py": "app = None\n",
    },
    "a flat package with requirements.txt, listed from a parent folder": {
        "langgraph.json": json.dumps({"dependencies": ["./mypkg"], "graphs": {"g": "./mypkg/g.py:graph"}}),
        "mypkg/__init__.py": "",
        "mypkg/g.py": GRAPH,
        "mypkg/requirements.txt": "httpx\n",
    },
}


def _dockerfile(config_path: Path) -> str:
    config = lgc.validate_config_file(config_path)
    text, _ = lgc.config_to_docker(config_path, config, base_image="langchain/langgraph-api")
    return text


@pytest.mark.parametrize("case", list(PROJECTS))
def test_the_layout_and_env_match_the_dockerfile_langgraph_cli_writes(case, tmp_path):
    files = PROJECTS[case]
    config_path = EXAMPLE / "langgraph.json" if files is None else _write(tmp_path, files)
    project = load_project(config_path)
    dockerfile = _dockerfile(config_path)

    env = dict(re.findall(r"^ENV ([A-Z_]+)='(.*)'$", dockerfile, re.M))
    assert project.env == env
    assert "LANGSERVE_GRAPHS" in project.env
    workdir = re.findall(r"^WORKDIR (\S+)$", dockerfile, re.M)
    assert project.working_dir == (workdir[-1] if workdir else None)
    added = {
        dest
        for _, dest in re.findall(r"^ADD (\S+) (/deps/\S+)$", dockerfile, re.M)
        if not dest.endswith(".txt")
    }
    assert {dest for _, dest in project.trees} == added
    # every graph points into a tree that goes into the image
    for spec in json.loads(project.env["LANGSERVE_GRAPHS"]).values():
        path = spec["path"] if isinstance(spec, dict) else spec
        assert any(path.startswith(dest + "/") for _, dest in project.trees), path


def test_the_example_agent():
    project = load_project(EXAMPLE)  # the folder works as well as the file
    assert json.loads(project.env["LANGSERVE_GRAPHS"]) == {"agent": "/deps/outer-agent/src/agent.py:graph"}
    assert project.trees == [(EXAMPLE, "/deps/outer-agent/src")]
    assert project.import_paths == ["/deps/outer-agent/src"]  # what `pip install -e` of the faux package does
    assert project.pypi_deps == [] and project.real_packages == []


def _files(case: str) -> dict[str, str]:
    files = PROJECTS[case]
    assert files is not None
    return files


def test_pypi_dependencies_requirement_files_and_real_packages_are_collected(tmp_path):
    bot = load_project(
        _write(tmp_path / "bot", _files("a real package (pyproject.toml) with auth, store and http"))
    )
    assert bot.pypi_deps == ["httpx>=0.27"] and bot.real_packages == [(tmp_path / "bot").resolve()]
    flat_files = _files("a flat package with requirements.txt, listed from a parent folder")
    flat = load_project(_write(tmp_path / "flat", flat_files))
    assert flat.requirement_files == [(tmp_path / "flat" / "mypkg" / "requirements.txt").resolve()]
    assert flat.import_paths == ["/deps/outer-mypkg"]  # the flat package imports as `mypkg`


def _with(**fields: object) -> dict[str, str]:
    """A valid one-graph project plus ``fields``."""
    config = {"dependencies": ["."], "graphs": {"g": "./a.py:g"}, **fields}
    return {"langgraph.json": json.dumps(config), "a.py": "", "a.ts": ""}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, r"langgraph\.json: no such file"),
        ({"langgraph.json": "{not json"}, "not valid JSON"),
        ({"langgraph.json": "[]"}, "must be a JSON object"),
        ({"langgraph.json": '{"graphs": {"g": "./a.py:g"}}', "a.py": ""}, "dependencies: required"),
        ({"langgraph.json": '{"dependencies": ["."]}'}, "graphs: required"),
        (
            {"langgraph.json": '{"dependencies": ["./lib"], "graphs": {"g": "./a.py:g"}}', "a.py": ""},
            r"dependencies: './lib': no such directory",
        ),
        (
            {"langgraph.json": '{"dependencies": ["."], "graphs": {"g": "./missing.py:graph"}}'},
            r"graphs\.g: './missing\.py' does not exist",
        ),
        (
            {"langgraph.json": '{"dependencies": ["."], "graphs": {"g": "./a.py"}}', "a.py": ""},
            r"graphs\.g: './a\.py' must be",
        ),
        (_with(dockerfile_lines=["RUN x"]), "dockerfile_lines: .*Docker build"),
        (_with(python_version="3.12"), "python_version: '3.12' is not available"),
        (_with(node_version="20", graphs={"g": "./a.ts:g"}), "node_version: not supported"),
        (_with(base_image="x/y"), "base_image: not supported"),
        (_with(pip_config_file="pip.conf"), "pip_config_file: .* does not exist"),
        (_with(python_version="3"), "Invalid Python version"),
    ],
)
def test_a_bad_project_is_refused_naming_the_file_field_and_reason(tmp_path, files, message):
    config_path = _write(tmp_path, files) if files else tmp_path / "langgraph.json"
    with pytest.raises(ProjectError, match=message) as e:
        load_project(config_path)
    assert str(config_path) in str(e.value)


def test_project_files_leave_out_what_a_docker_build_context_would(tmp_path):
    _write(
        tmp_path,
        {
            "agent.py": "",
            "pkg/mod.py": "",
            "pkg/__pycache__/mod.cpython-311.pyc": "",
            ".git/HEAD": "",
            ".venv/bin/python": "",
            "data/big.bin": "",
            "data/keep.txt": "",
            ".env": "SECRET=1",
            ".dockerignore": "data/\n!data/keep.txt\n.env\n",
        },
    )
    rel = sorted(p.relative_to(tmp_path).as_posix() for p in project_files(tmp_path))
    assert rel == [".dockerignore", "agent.py", "data/keep.txt", "pkg/mod.py"]
