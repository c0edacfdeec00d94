"""`lgp build`: usage and project errors give their exit codes and a message naming what is wrong,
before anything is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgp_cli.main import main
from lgp_local.images.cli import default_output


def test_build_is_a_process_command_with_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["build", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "langgraph.json" in out and "--load" in out and "--address" in out


def test_the_tag_is_required(capsys):
    with pytest.raises(SystemExit) as e:
        main(["build"])
    assert e.value.code == 2
    assert "-t/--tag" in capsys.readouterr().err


def test_no_langgraph_json_is_an_invalid_project(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["build", "-t", "agent:1"]) == 6
    err = capsys.readouterr().err
    assert f"{tmp_path}/langgraph.json: no such file" in err


def test_a_graph_that_does_not_exist_is_named(tmp_path, capsys):
    (tmp_path / "langgraph.json").write_text('{"dependencies": ["."], "graphs": {"bot": "./bot.py:graph"}}')
    assert main(["build", "-c", str(tmp_path), "-t", "agent:1"]) == 6
    assert "graphs.bot: './bot.py' does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-t", "Agent:1"], "-t/--tag: invalid image name 'Agent:1'"),
        (["-t", "agent:1", "--load", "--address", ""], "--load needs the containerd socket"),
        (["-t", "agent:1", "--load", "--address", "/nonexistent/containerd.sock"], "does not exist"),
    ],
)
def test_usage_errors_exit_2_before_building(argv, message, capsys, monkeypatch):
    monkeypatch.delenv("LGP_CONTAINERD_ADDRESS", raising=False)
    assert main(["build", *argv]) == 2
    assert message in capsys.readouterr().err


def test_the_default_archive_is_named_after_the_image():
    assert default_output("agent:dev") == Path("agent-dev.oci.tar")
    assert default_output("ghcr.io/acme/bot") == Path("bot-latest.oci.tar")
