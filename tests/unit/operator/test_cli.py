"""`lgp operator` and `python -m lgp_operator`: argument handling (running it: integration tests)."""

from __future__ import annotations

import pytest
from lgp_operator.cli import main


def test_help_lists_run(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    assert "run" in capsys.readouterr().out


def test_run_help_names_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    for option in ("--namespace", "--kubeconfig", "--no-leader-election"):
        assert option in out


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as e:
        main([])
    assert e.value.code == 2


def test_the_lgp_command_dispatches_here(capsys):
    from lgp_cli.main import main as lgp

    with pytest.raises(SystemExit) as e:
        lgp(["operator", "run", "--help"])
    assert e.value.code == 0
    assert "--namespace" in capsys.readouterr().out
