"""The e2e tier's setup, checked where it cannot run: without Docker it skips saying why, with Docker
but without kind/kubectl/helm it fails naming them; the kind script, the kind values and the CI
workflow agree with each other and with kind-config.yaml."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e import preflight

from .conftest import ROOT

SCRIPT = ROOT / "scripts" / "e2e-kind.sh"
WORKFLOW = ROOT / ".github" / "workflows" / "e2e.yaml"


def fake_bin(tmp_path: Path, *tools: str, docker_ok: bool = True) -> dict[str, str]:
    """A PATH holding only stub executables for `tools` (docker answers `info` as told)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        exe = bin_dir / tool
        code = 0 if (tool != "docker" or docker_ok) else 1
        exe.write_text(f"#!/bin/sh\nexit {code}\n")
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return {**os.environ, "PATH": str(bin_dir)}


def test_no_docker_binary_skips_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(preflight.NoDocker, match="no Docker engine runs here"):
        preflight.check(fake_bin(tmp_path, "kind", "kubectl", "helm"))


def test_docker_without_an_engine_skips(tmp_path: Path) -> None:
    with pytest.raises(preflight.NoDocker, match=r"docker info failed"):
        preflight.check(fake_bin(tmp_path, "docker", "kind", "kubectl", "helm", docker_ok=False))


def test_docker_without_tools_fails_naming_them(tmp_path: Path) -> None:
    with pytest.raises(preflight.MissingTools, match="Docker runs but kind, helm are not installed"):
        preflight.check(fake_bin(tmp_path, "docker", "kubectl"))
    assert not issubclass(preflight.MissingTools, preflight.NoDocker)


def test_everything_present_passes(tmp_path: Path) -> None:
    preflight.check(fake_bin(tmp_path, "docker", "kind", "kubectl", "helm"))


def test_the_suite_turns_missing_tools_into_a_failure_not_a_skip() -> None:
    conftest = (ROOT / "tests" / "e2e" / "conftest.py").read_text()
    assert "except preflight.MissingTools as e:\n        pytest.fail(" in conftest
    assert "except preflight.NoDocker as e:\n        pytest.skip(" in conftest


def test_kind_script_is_valid_bash_and_refuses_without_its_tools(tmp_path: Path) -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    env = fake_bin(tmp_path, "git")
    dirname = shutil.which("dirname")
    assert dirname is not None
    (tmp_path / "bin" / "dirname").symlink_to(dirname)  # the one external command it needs first
    bash = shutil.which("bash")
    assert bash is not None
    proc = subprocess.run([bash, str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "missing tools: docker kind kubectl" in proc.stderr
    usage = subprocess.run(["bash", str(SCRIPT), "sideways"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "usage:" in usage.stderr


def test_kind_script_installs_pinned_addons_from_their_release_urls() -> None:
    text = SCRIPT.read_text()
    keda = re.search(r'^KEDA_VERSION="(\d+\.\d+\.\d+)"$', text, flags=re.M)
    nginx = re.search(r'^INGRESS_NGINX_VERSION="(\d+\.\d+\.\d+)"$', text, flags=re.M)
    assert keda and nginx, "KEDA and ingress-nginx versions must be pinned"
    assert "kedacore/keda/releases/download/v${KEDA_VERSION}/keda-${KEDA_VERSION}.yaml" in text
    assert (
        "ingress-nginx/controller-v${INGRESS_NGINX_VERSION}/deploy/static/provider/kind/deploy.yaml" in text
    )
    assert '--config "$ROOT/kind-config.yaml"' in text
    assert "images/control-plane.Dockerfile" in text and "images/data-plane.Dockerfile" in text


def test_kind_config_serves_the_ingress_on_localhost() -> None:
    config = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
    (node,) = [n for n in config["nodes"] if n["role"] == "control-plane"]
    assert "ingress-ready=true" in "".join(node["kubeadmConfigPatches"])
    assert {(m["containerPort"], m["hostPort"]) for m in node["extraPortMappings"]} >= {(80, 80), (443, 443)}


def test_kind_values_use_the_images_the_script_loads() -> None:
    values = yaml.safe_load((ROOT / "helm" / "lgp" / "ci" / "kind-values.yaml").read_text())
    text = SCRIPT.read_text()
    for key, image in (("controlPlane", "lgp-control-plane"), ("dataPlane", "lgp-data-plane")):
        assert values[key]["image"]["repository"] == image
        assert values[key]["image"]["pullPolicy"] == "Never"  # loaded into kind, never pulled
        assert f'{key.upper().replace("PLANE", "_PLANE")}_IMAGE="{image}:${{TAG}}"' in text
    assert values["controlPlane"]["ingress"]["className"] == "nginx"
    assert values["operator"]["ingress"]["className"] == "nginx"


def test_workflow_installs_the_tools_and_runs_make_test_e2e() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    assert job["runs-on"].startswith("ubuntu")
    uses = " ".join(s.get("uses", "") for s in job["steps"])
    for action in ("actions/checkout@", "helm/kind-action@", "azure/setup-kubectl@", "azure/setup-helm@"):
        assert action in uses
    kind_step = next(s for s in job["steps"] if s.get("uses", "").startswith("helm/kind-action@"))
    assert kind_step["with"]["install_only"] is True  # the test creates the cluster from kind-config.yaml
    runs = [s.get("run", "") for s in job["steps"]]
    assert any(r.startswith("make test-e2e") for r in runs)
    for name in ("KIND_VERSION", "KUBECTL_VERSION", "HELM_VERSION"):
        assert re.fullmatch(r"v\d+\.\d+\.\d+", workflow["env"][name]), name


def test_server_images_serve_the_same_graph() -> None:
    server = ROOT / "tests" / "e2e" / "server"
    licensed, dev = (server / "Dockerfile").read_text(), (server / "dev.Dockerfile").read_text()
    assert "langchain/langgraph-api:" in licensed and "LANGSERVE_GRAPHS" in licensed
    assert re.search(r'"langgraph-cli\[inmem\]==\d+\.\d+\.\d+"', dev), "pin the in-memory server's version"
    assert '"--port", "8000"' in dev
    config = yaml.safe_load((server / "langgraph.json").read_text())
    assert config["graphs"] == {"agent": "./graph.py:graph"}
    assert "/graph.py:graph" in licensed
