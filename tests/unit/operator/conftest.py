"""Helpers for the operator unit tests: a parsed resource from a spec, settings without the environment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lgp_operator.builders.common import Platform
from lgp_operator.settings import OperatorSettings


def make_cr(spec: dict[str, Any] | None = None, *, name: str = "demo", namespace: str = "ns") -> Platform:
    body = {
        "metadata": {"name": name, "namespace": namespace, "uid": "uid-1", "generation": 3},
        "spec": {"image": "ghcr.io/acme/agent:1.0", **(spec or {})},
    }
    return Platform.from_body(body)


@pytest.fixture
def cr() -> Callable[..., Platform]:
    return make_cr


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> OperatorSettings:
    import os

    for key in list(os.environ):
        if key.startswith("LGP_OPERATOR_"):
            monkeypatch.delenv(key)
    return OperatorSettings()
