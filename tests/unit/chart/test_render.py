"""The chart renders and lints offline for every ci/*-values.yaml, and every object (CRDs included)
passes kubernetes-validate --strict for Kubernetes 1.30 and the newest schemas it ships."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from .conftest import CHART_DIR, CI_VALUES, Rendered, load_values

KUBE_VERSIONS = ["1.30.0", kubernetes_validate.utils.latest_version() + ".0"]
VALUE_SETS = [pytest.param(None, id="defaults")] + [pytest.param(p, id=p.name) for p in CI_VALUES]


def test_ci_values_files_cover_the_install_modes() -> None:
    names = {p.name for p in CI_VALUES}
    assert {
        "control-plane-only-values.yaml",
        "data-plane-only-values.yaml",
        "full-values.yaml",
        "production-values.yaml",
    } <= names


@pytest.mark.parametrize("values_file", VALUE_SETS)
def test_lint_is_clean(values_file: Path | None) -> None:
    import helm_python as helm

    values = load_values(values_file) if values_file else None
    report = helm.lint(CHART_DIR, values, strict=True, kube_version="v1.30.0")
    assert report["errors"] == []
    # Only "info" findings (e.g. "icon is recommended") are tolerated; strict lint fails on warnings.
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("values_file", VALUE_SETS)
@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_every_object_validates_strictly(render: Any, values_file: Path | None, kube_version: str) -> None:
    rendered: Rendered = render(load_values(values_file) if values_file else None)
    assert rendered.objects, "nothing rendered"
    for obj in rendered.objects:
        where = f"{obj['kind']} {obj['metadata'].get('namespace')}/{obj['metadata']['name']}"
        try:
            kubernetes_validate.validate(obj, kube_version, strict=True)
        except kubernetes_validate.ValidationError as e:
            pytest.fail(f"{where} is invalid for Kubernetes {kube_version}: {e.message} at {list(e.path)}")
        assert obj["metadata"]["labels"]["app.kubernetes.io/instance"] == "lgp", where
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm", where


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_chart_crds_validate_strictly(chart: Any, kube_version: str) -> None:
    crds = chart.crds
    assert [c["filename"] for c in crds] == ["lgp/crds/langgraphplatforms.yaml"]
    for c in crds:
        for doc in yaml.safe_load_all(c["data"]):
            kubernetes_validate.validate(doc, kube_version, strict=True)
            assert doc["spec"]["names"]["kind"] == "LangGraphPlatform"


def test_release_name_prefixes_every_object(render: Any) -> None:
    rendered = render(load_values(CHART_DIR / "ci" / "full-values.yaml"), name="acme")
    for obj in rendered.objects:
        assert obj["metadata"]["name"].startswith("acme-lgp-"), obj["metadata"]["name"]


def test_names_fit_in_63_characters(render: Any) -> None:
    long_name = "a-very-long-release-name-that-goes-on-and-on-and-on-x"
    rendered = render(load_values(CHART_DIR / "ci" / "full-values.yaml"), name=long_name)
    for obj in rendered.objects:
        assert len(obj["metadata"]["name"]) <= 63, obj["metadata"]["name"]
