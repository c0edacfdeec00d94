"""The CRD generated from the models: crds/ matches it (drift check), its schema is structural and useful."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml
from lgp_operator.api.crd import build_crd
from lgp_operator.manifests import main as manifests_main
from lgp_operator.manifests import render_crd, repo_root, targets

ROOT = Path(__file__).resolve().parents[3]


def _schema() -> dict[str, Any]:
    return build_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def _walk(node: dict[str, Any], path: str = ""):
    yield path, node
    for name, sub in (node.get("properties") or {}).items():
        yield from _walk(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], f"{path}{{}}")


def test_crds_directory_matches_the_models():
    assert repo_root() == ROOT
    for path in targets(ROOT):
        assert path.read_text() == render_crd(), f"{path} is out of date: run `make manifests`"


def test_check_mode_reports_drift(tmp_path, capsys):
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "langgraphplatforms.yaml").write_text("# stale\n")
    assert manifests_main(["--root", str(tmp_path), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert manifests_main(["--root", str(tmp_path)]) == 0
    assert manifests_main(["--root", str(tmp_path), "--check"]) == 0


def test_schema_is_structural_every_node_typed():
    untyped = [p for p, n in _walk(_schema()) if "type" not in n and not n.get("x-kubernetes-int-or-string")]
    assert untyped == []
    for path, node in _walk(_schema()):
        assert "$ref" not in node and "title" not in node, path
        if "anyOf" in node:
            assert node.get("x-kubernetes-int-or-string"), path


def test_descriptions_make_kubectl_explain_useful():
    spec = _schema()["properties"]["spec"]
    missing = [p for p, n in _walk(spec) if p and not n.get("description") and not p.endswith(("[]", "{}"))]
    assert missing == []


def test_defaults_patterns_and_bounds_follow_the_design():
    spec = _schema()["properties"]["spec"]["properties"]
    auto = spec["autoscaling"]["properties"]
    assert (auto["cpu"]["default"], auto["memory"]["default"]) == (75, 75)
    assert auto["pendingRunsPerReplica"]["default"] == 10
    assert auto["scaleDownDelaySeconds"]["default"] == 1800
    assert auto["minReplicas"]["minimum"] == 1
    assert "pattern" in spec["image"]
    assert spec["imagePullPolicy"]["enum"] == ["Always", "IfNotPresent", "Never"]
    storage = spec["database"]["properties"]["managed"]["properties"]["storage"]
    assert storage["x-kubernetes-int-or-string"] and "pattern" in storage
    assert spec["database"]["default"] == {"managed": {}}
    assert spec["ingress"]["properties"]["host"]["pattern"].startswith("^")


def test_status_subresource_printer_columns_and_names():
    crd = build_crd()
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    assert [c["name"] for c in version["additionalPrinterColumns"]] == [
        "Image",
        "Revision",
        "Ready",
        "Endpoint",
        "Age",
    ]
    assert crd["spec"]["names"]["shortNames"] == ["lgp"]
    assert crd["spec"]["scope"] == "Namespaced"
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    assert {"observedGeneration", "conditions", "liveRevision", "endpoint", "replicas"} <= set(status)


def test_crd_passes_kubernetes_validate_strict():
    doc = yaml.safe_load(render_crd())
    for version in ("1.30.0", kubernetes_validate.latest_version()):
        kubernetes_validate.validate(doc, version, strict=True)
