"""Evaluate RBAC rules offline: does a Role's or ClusterRole's rule list grant a verb on a resource?
Used by the tests that derive what the operator needs and check operator/rbac/operator-rbac.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OPERATOR_RBAC = ROOT / "operator" / "rbac" / "operator-rbac.yaml"


def operator_rules() -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(OPERATOR_RBAC.read_text()) if d]
    return [r for d in docs if d["kind"] in ("ClusterRole", "Role") for r in d["rules"]]


def allows(rules: list[dict[str, Any]], verb: str, group: str, resource: str) -> bool:
    """``resource`` may carry a subresource (``deployments/status``), as RBAC names it."""
    return any(
        (verb in r.get("verbs", []) or "*" in r.get("verbs", []))
        and (group in r.get("apiGroups", []) or "*" in r.get("apiGroups", []))
        and (resource in r.get("resources", []) or "*" in r.get("resources", []))
        for r in rules
    )


def group_of(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""
