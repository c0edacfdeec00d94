"""PodDisruptionBudgets for server Deployments that run more than one replica."""

from __future__ import annotations

from typing import Any

from ..settings import OperatorSettings
from .common import NEWEST, Capabilities, Platform, metadata, selector_labels


def wants_pdb(cr: Platform, replicas: int, component: str = "api-server") -> bool:
    if cr.spec.suspend:
        return False
    if cr.spec.autoscaling.enabled:
        return cr.spec.autoscaling.bounds(queue=component == "queue")[0] > 1
    return replicas > 1


def build_pdb(
    cr: Platform, settings: OperatorSettings, *, deployment: str, component: str, caps: Capabilities = NEWEST
) -> dict[str, Any]:
    """At most one pod of the Deployment down for voluntary disruptions (drains, upgrades)."""
    return {
        "apiVersion": caps.pdb_api or "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(cr, deployment, component),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector_labels(cr, component)}},
    }
