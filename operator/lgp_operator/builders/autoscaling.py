"""Autoscaling: a KEDA ScaledObject per scaled Deployment, or an HPA where KEDA is not served.

The ScaledObject has three triggers: CPU and memory utilisation and a ``postgresql`` trigger on the
number of pending runs in the deployment's own database. The trigger reads the connection string
from the target container's POSTGRES_URI (``connectionFromEnv``), which comes from a Secret: no
password is ever written into the ScaledObject. ``minReplicaCount`` is at least 1 and no
``idleReplicaCount`` is set, so the server is never scaled to zero.
"""

from __future__ import annotations

from typing import Any

from ..settings import OperatorSettings
from .common import NEWEST, Capabilities, Platform, metadata

KEDA_API = "keda.sh/v1alpha1"
PENDING_RUNS_QUERY = "SELECT COUNT(*) FROM run WHERE status = 'pending'"


def build_scaled_object(
    cr: Platform, settings: OperatorSettings, *, deployment: str, component: str, container: str
) -> dict[str, Any]:
    a = cr.spec.autoscaling
    return {
        "apiVersion": KEDA_API,
        "kind": "ScaledObject",
        "metadata": metadata(cr, deployment, component),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": deployment,
                "envSourceContainerName": container,
            },
            "minReplicaCount": a.min_replicas,
            "maxReplicaCount": a.max_replicas,
            "pollingInterval": 30,
            "cooldownPeriod": a.scale_down_delay_seconds,
            "advanced": {
                "horizontalPodAutoscalerConfig": {
                    "behavior": {"scaleDown": {"stabilizationWindowSeconds": a.scale_down_delay_seconds}}
                }
            },
            "triggers": [
                {"type": "cpu", "metricType": "Utilization", "metadata": {"value": str(a.cpu)}},
                {"type": "memory", "metricType": "Utilization", "metadata": {"value": str(a.memory)}},
                {
                    "type": "postgresql",
                    "name": "pending-runs",
                    "metadata": {
                        "connectionFromEnv": "POSTGRES_URI",
                        "query": PENDING_RUNS_QUERY,
                        "targetQueryValue": str(a.pending_runs_per_replica),
                        # Any pending run activates; with minReplicaCount >= 1 this never means zero pods.
                        "activationTargetQueryValue": "0",
                    },
                },
            ],
        },
    }


def build_hpa(
    cr: Platform, settings: OperatorSettings, *, deployment: str, component: str, caps: Capabilities = NEWEST
) -> dict[str, Any]:
    """An HPA on CPU and memory in the newest autoscaling version the server offers."""
    a = cr.spec.autoscaling
    api = caps.hpa_api or "autoscaling/v2"
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicas": a.min_replicas,
        "maxReplicas": a.max_replicas,
    }
    if api in ("autoscaling/v2", "autoscaling/v2beta2"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": r, "target": {"type": "Utilization", "averageUtilization": v}},
            }
            for r, v in (("cpu", a.cpu), ("memory", a.memory))
        ]
        spec["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": a.scale_down_delay_seconds}}
    elif api == "autoscaling/v2beta1":
        spec["metrics"] = [
            {"type": "Resource", "resource": {"name": r, "targetAverageUtilization": v}}
            for r, v in (("cpu", a.cpu), ("memory", a.memory))
        ]
    else:  # autoscaling/v1: CPU only
        spec["targetCPUUtilizationPercentage"] = a.cpu
    return {
        "apiVersion": api,
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(cr, deployment, component),
        "spec": spec,
    }
