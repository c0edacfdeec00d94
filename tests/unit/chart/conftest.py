"""Helpers for the chart tests: render helm/lgp offline with the Helm SDK (helm-python-sdk)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CHART_DIR = ROOT / "helm" / "lgp"
CI_VALUES = sorted((CHART_DIR / "ci").glob("*-values.yaml"))
RELEASE = "lgp"
NAMESPACE = "lgp-system"


def load_values(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text()) or {}
    assert isinstance(data, dict), f"{path}: values must be a mapping"
    return data


class Rendered:
    """The objects one `helm template` produced, by (kind, namespace, name)."""

    def __init__(self, manifests: dict[str, str]) -> None:
        self.manifests = manifests
        self.notes = next((text for path, text in manifests.items() if path.endswith("NOTES.txt")), "")
        self.objects: list[dict[str, Any]] = []
        for path, text in manifests.items():
            if path.endswith("NOTES.txt"):
                continue
            for doc in yaml.safe_load_all(text):
                if doc:
                    assert isinstance(doc, dict) and "kind" in doc, (
                        f"{path}: not a Kubernetes object: {doc!r}"
                    )
                    self.objects.append(doc)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str, namespace: str | None = NAMESPACE) -> dict[str, Any]:
        for o in self.objects:
            meta = o["metadata"]
            if o["kind"] == kind and meta["name"] == name and meta.get("namespace") == namespace:
                return o
        names = sorted(
            f"{o['kind']}/{o['metadata'].get('namespace')}/{o['metadata']['name']}" for o in self.objects
        )
        raise AssertionError(f"{kind} {namespace}/{name} not rendered; rendered: {names}")

    def has(self, kind: str, name: str, namespace: str | None = NAMESPACE) -> bool:
        try:
            self.get(kind, name, namespace)
        except AssertionError:
            return False
        return True

    def container(self, deployment: str, name: str | None = None) -> dict[str, Any]:
        pod = self.get("Deployment", deployment)["spec"]["template"]["spec"]
        containers = pod["containers"]
        return containers[0] if name is None else next(c for c in containers if c["name"] == name)

    def env(self, deployment: str) -> dict[str, Any]:
        """name -> value (a str) or valueFrom (a dict) of the deployment's first container."""
        return {
            e["name"]: e.get("value", e.get("valueFrom")) for e in self.container(deployment).get("env", [])
        }


@pytest.fixture(scope="session")
def chart() -> Iterator[Any]:
    import helm_python as helm

    with helm.Chart.load(CHART_DIR) as c:
        yield c


@pytest.fixture(scope="session")
def render(chart: Any) -> Any:
    def _render(values: dict[str, Any] | None = None, **opts: Any) -> Rendered:
        opts.setdefault("name", RELEASE)
        opts.setdefault("namespace", NAMESPACE)
        opts.setdefault("is_install", True)
        return Rendered(chart.render(values or {}, **opts))

    return _render


@pytest.fixture
def from_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Build a pydantic-settings class the way the process does: from exactly these environment
    variables (every other LGP_* variable removed)."""
    import os

    def _build(settings_class: Any, env: dict[str, str]) -> Any:
        for name in list(os.environ):
            if name.startswith("LGP_"):
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return settings_class()

    return _build
