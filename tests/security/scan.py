"""Run checkov (PyPI ``checkov``, Kubernetes framework, offline) over what lgp deploys: the operator's
children for a representative set of LangGraphPlatform specs, and the chart rendered offline
(helm-python-sdk) for every ``helm/lgp/ci/*-values.yaml``; and compare its findings with the one
exceptions file, ``tests/security/checkov-exceptions.yaml``. Used by ``tests/unit/security`` and by
``bench/security_scan.py`` (which prints the counts).

``lgp_operator`` and the chart are imported and read from ``root`` (this checkout by default), so the
benchmark can measure another checkout (``git worktree add``) with the same scenarios.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXCEPTIONS = Path(__file__).with_name("checkov-exceptions.yaml")
NAMESPACE, NAME = "agents", "agent"
# The spec the issue measured (api server, queue workers, managed Postgres and Redis, Service, Ingress,
# KEDA ScaledObjects, PDBs) and the other shapes a deployment takes.
FULL = {
    "revision": {"id": "r1"},
    "queue": {"enabled": True},
    "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 10},
    "ingress": {"enabled": True, "host": "agent.example.com"},
}
EXTERNAL = {
    "database": {"external": {"secretRef": {"name": "agent-db", "key": "uri"}}},
    "redis": {"external": {"secretRef": {"name": "agent-redis", "key": "uri"}}},
}
# (spec, KEDA served)
SCENARIOS: dict[str, tuple[dict[str, Any], bool]] = {
    "operator-defaults": ({}, True),
    "operator-full-keda": (FULL, True),
    "operator-full-no-keda": (FULL, False),
    "operator-external": ({**EXTERNAL, "queue": {"enabled": True}, "apiServer": {"replicas": 2}}, True),
    "operator-no-queue-ingress-tls": (
        {
            "ingress": {
                "enabled": True,
                "host": "a.example.com",
                "tls": {"enabled": True, "secretName": "a-tls"},
            }
        },
        True,
    ),
}
# A user override that runs the server below restricted on purpose: scanned too, its findings are
# expected (not exceptions), and the operator must report it.
BELOW_RESTRICTED = "operator-below-restricted"
BELOW_RESTRICTED_SPEC: dict[str, Any] = {
    "queue": {"enabled": True},
    "security": {
        "server": {
            "podSecurityContext": {"runAsUser": 0, "runAsNonRoot": False},
            "containerSecurityContext": {"allowPrivilegeEscalation": True},
        }
    },
}


@dataclass(frozen=True)
class Finding:
    check: str
    name: str
    resource: str  # checkov's id: Kind.namespace.name (pods of templates add their labels)

    def __str__(self) -> str:
        return f"{self.check} ({self.name}) on {self.resource}"


@dataclass
class Result:
    passed: int = 0
    failed: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class Exception_:
    check: str
    reason: str
    resources: tuple[str, ...] = ()  # fnmatch patterns; empty: every resource

    def covers(self, f: Finding) -> bool:
        return f.check == self.check and (
            not self.resources or any(fnmatch.fnmatchcase(f.resource, p) for p in self.resources)
        )


def load_exceptions(path: Path = EXCEPTIONS) -> list[Exception_]:
    out = []
    for i, item in enumerate(yaml.safe_load(path.read_text()) or []):
        reason = str(item.get("reason") or "").strip()
        if not reason or "\n" in reason:
            raise ValueError(
                f"{path.name}: exception {i} ({item.get('check')}): a one-line reason is required"
            )
        out.append(Exception_(str(item["check"]), reason, tuple(item.get("resources") or ())))
    return out


def not_excepted(findings: Iterable[Finding], exceptions: list[Exception_]) -> list[Finding]:
    return [f for f in findings if not any(e.covers(f) for e in exceptions)]


# ---------------------------------------------------------------- what is scanned
def _on_path(root: Path) -> None:
    for p in (str(root / "operator"), str(root)):
        if p not in sys.path:
            sys.path.insert(0, p)


def operator_objects(spec: dict[str, Any], keda: bool, root: Path = ROOT) -> list[dict[str, Any]]:
    """Every child the operator at ``root`` builds for ``spec`` (the managed database's Secret too)."""
    _on_path(root)
    from lgp_operator.builders.common import Capabilities, Platform
    from lgp_operator.builders.desired import build_desired
    from lgp_operator.settings import OperatorSettings

    body = {
        "metadata": {"name": NAME, "namespace": NAMESPACE, "uid": "0000", "generation": 1},
        "spec": {"image": "ghcr.io/acme/agent:1.0", **spec},
    }
    caps = Capabilities(pdb_api="policy/v1", hpa_api="autoscaling/v2", keda=keda)
    settings = OperatorSettings(_env_file=None)  # type: ignore[call-arg]
    return build_desired(Platform.from_body(body), settings, caps, postgres_password="x" * 24).objects


def chart_objects(values_file: Path, root: Path = ROOT) -> list[dict[str, Any]]:
    """The chart at ``root`` rendered offline (helm-python-sdk) with ``values_file``."""
    import helm_python as helm

    values = yaml.safe_load(values_file.read_text()) or {}
    with helm.Chart.load(root / "helm" / "lgp") as chart:
        manifests = chart.render(values, name="lgp", namespace="lgp-system", is_install=True)
    return [
        doc
        for path, text in manifests.items()
        if not path.endswith("NOTES.txt")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def targets(
    root: Path = ROOT, *, below_restricted: bool = True
) -> dict[str, Callable[[], list[dict[str, Any]]]]:
    """name -> a function building the objects of one scan target."""
    out: dict[str, Callable[[], list[dict[str, Any]]]] = {}
    scenarios = (
        {**SCENARIOS, BELOW_RESTRICTED: (BELOW_RESTRICTED_SPEC, True)} if below_restricted else SCENARIOS
    )
    for name, (spec, keda) in scenarios.items():
        out[name] = functools.partial(operator_objects, spec, keda, root)
    for values in sorted((root / "helm" / "lgp" / "ci").glob("*-values.yaml")):
        out[f"chart-{values.name.removesuffix('-values.yaml')}"] = functools.partial(
            chart_objects, values, root
        )
    return out


# ---------------------------------------------------------------- the scanner
def checkov_command() -> list[str]:
    exe = Path(sys.executable).with_name("checkov")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "checkov.main"]


def scan(objects: dict[str, list[dict[str, Any]]]) -> dict[str, Result]:
    """checkov over each named set of objects (one file each, one checkov run): passed count and failed
    findings per name."""
    with tempfile.TemporaryDirectory(prefix="lgp-checkov-") as tmp:
        for name, objs in objects.items():
            (Path(tmp) / f"{name}.yaml").write_text(yaml.safe_dump_all(objs, sort_keys=False))
        env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_OUTPUT_COLOR": "TRUE"}
        proc = subprocess.run(
            [
                *checkov_command(),
                "-d",
                tmp,
                "--framework",
                "kubernetes",
                "--output",
                "json",
                "--skip-download",
                "--soft-fail",
                "--compact",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"checkov exited {proc.returncode}: {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    out = {name: Result() for name in objects}
    for rep in reports:
        results = rep.get("results") or {}
        for check in results.get("passed_checks") or []:
            out[_target(check)].passed += 1
        for check in results.get("failed_checks") or []:
            out[_target(check)].failed.append(
                Finding(check["check_id"], check["check_name"], check["resource"])
            )
    return out


def _target(check: dict[str, Any]) -> str:
    return Path(check["file_path"]).name.removesuffix(".yaml")
