"""The chart's copies of the CRDs and of the operator's RBAC equal their sources (scripts/sync-chart.py,
run by `make manifests`), and the script finds and repairs every kind of drift."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

SCRIPT = ROOT / "scripts" / "sync-chart.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_chart_copies_match_their_sources() -> None:
    proc = run("--check")
    assert proc.returncode == 0, proc.stderr
    sources = sorted(p.name for p in (ROOT / "crds").glob("*.yaml"))
    assert sources, "crds/ holds no CRD"
    assert sorted(p.name for p in (ROOT / "helm" / "lgp" / "crds").glob("*.yaml")) == sources
    for name in sources:
        assert (ROOT / "helm/lgp/crds" / name).read_bytes() == (ROOT / "crds" / name).read_bytes()
    rbac = ROOT / "operator" / "rbac" / "operator-rbac.yaml"
    assert rbac.exists(), (
        "operator/rbac/operator-rbac.yaml (the operator's RBAC, the single source) is missing"
    )
    assert (ROOT / "helm/lgp/files/operator-rbac.yaml").read_bytes() == rbac.read_bytes()


def fake_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "crds").mkdir(parents=True)
    (root / "operator" / "rbac").mkdir(parents=True)
    (root / "helm" / "lgp" / "crds").mkdir(parents=True)
    (root / "crds" / "a.yaml").write_text("kind: CustomResourceDefinition # a\n")
    (root / "operator" / "rbac" / "operator-rbac.yaml").write_text("kind: ClusterRole\n")
    return root


def test_drift_is_reported_and_repaired(tmp_path: Path) -> None:
    root = fake_repo(tmp_path)
    proc = run("--root", str(root), "--check")
    assert proc.returncode == 1
    assert "missing: helm/lgp/crds/a.yaml" in proc.stderr
    assert "missing: helm/lgp/files/operator-rbac.yaml" in proc.stderr

    assert run("--root", str(root)).returncode == 0
    assert run("--root", str(root), "--check").returncode == 0

    # An edit of a source, a hand edit of a copy, and a copy whose source is gone.
    (root / "crds" / "a.yaml").write_text("kind: CustomResourceDefinition # a, changed\n")
    (root / "helm/lgp/files/operator-rbac.yaml").write_text("kind: ClusterRole # edited by hand\n")
    (root / "helm/lgp/crds/old.yaml").write_text("kind: CustomResourceDefinition # removed upstream\n")
    proc = run("--root", str(root), "--check")
    assert proc.returncode == 1
    assert "differs: helm/lgp/crds/a.yaml" in proc.stderr
    assert "differs: helm/lgp/files/operator-rbac.yaml" in proc.stderr
    assert "stale: helm/lgp/crds/old.yaml" in proc.stderr
    assert "make manifests" in proc.stderr

    proc = run("--root", str(root))
    assert proc.returncode == 0, proc.stderr
    assert run("--root", str(root), "--check").returncode == 0
    assert not (root / "helm/lgp/crds/old.yaml").exists()
    assert (root / "helm/lgp/crds/a.yaml").read_text().endswith("changed\n")


def test_repository_copy_is_what_the_script_writes(tmp_path: Path) -> None:
    """Running the script on a copy of the real sources changes nothing that is committed."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "crds", root / "crds")
    for sub in ("operator/rbac", "helm/lgp/crds", "helm/lgp/files"):
        shutil.copytree(ROOT / sub, root / sub)
    assert run("--root", str(root)).stdout == ""
