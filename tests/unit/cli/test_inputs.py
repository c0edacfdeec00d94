"""Flags into request bodies: env vars, secrets from the command line, the environment and files,
list and env edits for updates, resource groups; errors name the flag and never echo a value."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest

from lgp_cli import inputs
from lgp_cli.inputs import UsageError


def test_env_pairs() -> None:
    assert inputs.parse_env(["A=1", "B=x=y", "C="]) == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "x=y"},
        {"name": "C", "value": ""},
    ]
    with pytest.raises(UsageError, match="--env A: given more than once"):
        inputs.parse_env(["A=1", "A=2"])
    with pytest.raises(UsageError, match="expected NAME=VALUE"):
        inputs.parse_env(["A"])


def test_a_bad_name_never_echoes_the_value() -> None:
    with pytest.raises(UsageError) as e:
        inputs.parse_env(["1BAD=hunter2"])
    assert "1BAD" in str(e.value) and "hunter2" not in str(e.value)
    with pytest.raises(UsageError) as e:
        inputs.parse_secrets(["BAD-NAME=hunter2"], [], {})
    assert "hunter2" not in str(e.value)


def test_secrets_from_the_command_line_the_environment_and_files(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("from-file\n")
    (tmp_path / "b").write_text("crlf\r\n")
    (tmp_path / "c").write_text("two\n\n")
    got = inputs.parse_secrets(
        ["INLINE=v=1", "FROM_ENV"],
        [f"A={tmp_path / 'a'}", f"B={tmp_path / 'b'}", f"C={tmp_path / 'c'}"],
        {"FROM_ENV": "env-value"},
    )
    assert got == {"INLINE": "v=1", "FROM_ENV": "env-value", "A": "from-file", "B": "crlf", "C": "two\n"}


def test_secret_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="environment variable TOKEN is not set"):
        inputs.parse_secrets(["TOKEN"], [], {})
    (tmp_path / "k").write_text("v")
    with pytest.raises(UsageError, match="secret given more than once"):
        inputs.parse_secrets(["K=1"], [f"K={tmp_path / 'k'}"], {})
    with pytest.raises(UsageError, match="does not exist"):
        inputs.parse_secrets([], [f"K={tmp_path / 'missing'}"], {})
    with pytest.raises(UsageError, match="is a directory"):
        inputs.parse_secrets([], [f"K={tmp_path}"], {})
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UsageError, match="not UTF-8"):
        inputs.parse_secrets([], [f"K={tmp_path / 'bin'}"], {})


def test_env_edits_keep_order_replace_in_place_and_remove() -> None:
    current = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]
    got = inputs.apply_env_changes(
        current, [{"name": "B", "value": "20"}, {"name": "D", "value": "4"}], ["A"]
    )
    assert got == [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}, {"name": "D", "value": "4"}]
    with pytest.raises(UsageError, match="choose one"):
        inputs.apply_env_changes(current, [{"name": "A", "value": "x"}], ["A"])


def test_list_edits() -> None:
    assert inputs.apply_list_changes(["a", "b"], ["c", "a"], ["b"]) == ["a", "c"]
    assert inputs.apply_list_changes([], [], []) == []


def _args(**kw: Any) -> Namespace:
    base = dict.fromkeys(
        [
            "replicas", "min_replicas", "max_replicas", "cpu", "memory", "queue", "queue_replicas",
            "jobs_per_worker", "queue_cpu", "queue_memory", "postgres_storage", "queue_min_replicas",
            "queue_max_replicas",
        ]
    )  # fmt: skip
    base.update(kw)
    return Namespace(**base)


def test_resources_only_what_was_given() -> None:
    assert inputs.resources(_args()) == {}
    assert inputs.resources(_args(replicas=2, queue=False, postgres_storage="5Gi")) == {
        "server": {"replicas": 2},
        "queue": {"enabled": False},
        "postgres": {"storage": "5Gi"},
    }
    assert inputs.resources(_args(min_replicas=1, max_replicas=4, cpu="2")) == {
        "server": {"min_replicas": 1, "max_replicas": 4, "cpu": "2"}
    }
    with pytest.raises(UsageError, match="choose one"):
        inputs.resources(_args(replicas=2, max_replicas=3))
    assert inputs.resources(_args(queue_min_replicas=1, queue_max_replicas=9)) == {
        "queue": {"min_replicas": 1, "max_replicas": 9}
    }


def _k8s_args(**kw: Any) -> Namespace:
    base: dict[str, Any] = {"label": [], "annotation": [], "service_account_annotation": []}
    base.update(kw)
    return Namespace(**base)


def test_kubernetes_block_from_flags_on_top_of_what_is_set() -> None:
    assert inputs.kubernetes(_k8s_args(), {"labels": {"a": "b"}}) is None  # nothing given: kept as is
    current = {"labels": {"a": "b"}, "serviceAccount": {"create": True}, "keda": {"pollingInterval": 5}}
    got = inputs.kubernetes(
        _k8s_args(label=["c=d"], service_account_annotation=["x/y=z"], priority_class="high"), current
    )
    assert got == {
        "labels": {"a": "b", "c": "d"},
        "serviceAccount": {"create": True, "annotations": {"x/y": "z"}},
        "keda": {"pollingInterval": 5},
        "placement": {"priorityClassName": "high"},
    }
    assert current == {
        "labels": {"a": "b"},
        "serviceAccount": {"create": True},
        "keda": {"pollingInterval": 5},
    }
    with pytest.raises(UsageError, match="--label 'nope': write KEY=VALUE"):
        inputs.kubernetes(_k8s_args(label=["nope"]), None)
    with pytest.raises(UsageError, match="given more than once"):
        inputs.kubernetes(_k8s_args(annotation=["a=1", "a=2"]), None)


def test_ingress() -> None:
    assert inputs.ingress(None, None) is None
    assert inputs.ingress("a.example.com", None) == {"host": "a.example.com"}
    assert inputs.ingress(None, "/x") == {"path": "/x"}
