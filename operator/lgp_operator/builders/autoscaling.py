"""Autoscaling: a KEDA ScaledObject per scaled Deployment, or an HPA where KEDA is not served.

The queue workers (when enabled) scale on CPU, memory and a ``postgresql`` trigger on the number of
pending runs in the deployment's own database (spec.autoscaling.keda.pendingRunsQuery: the official
chart's query by default; its table name depends on the server's runtime), between their own bounds
(spec.autoscaling.queueMin/MaxReplicas); the api server then scales on CPU and memory only, since it
runs no runs. Without queue workers the api server runs the runs, and its ScaledObject carries the
pending-runs trigger. The trigger reads the connection string from the target container's POSTGRES_URI
(``connectionFromEnv``), which comes from a Secret: no password is ever written into the ScaledObject.
``minReplicaCount`` is at least 1 and no ``idleReplicaCount`` is set, so the server is never scaled to
zero. A target of 0 (``targetQueryValue: "0"``, which KEDA cannot meet) cannot be written:
pendingRunsPerReplica is at least 1 and added triggers with a target of 0 are refused by the resource's
model.
"""

from __future__ import annotations

from typing import Any

from lgp_contract import resource

from ..settings import OperatorSettings
from .common import NEWEST, Capabilities, Platform, metadata

KEDA_API = "keda.sh/v1alpha1"
PENDING_RUNS_QUERY = resource.PENDING_RUNS_QUERY  # the default; spec.autoscaling.keda.pendingRunsQuery


def runs_pending_runs(cr: Platform, component: str) -> bool:
    """Whether this Deployment runs the background runs (and so scales on the pending ones)."""
    return component == "queue" or not cr.spec.queue.enabled


def build_scaled_object(
    cr: Platform, settings: OperatorSettings, *, deployment: str, component: str, container: str
) -> dict[str, Any]:
    a = cr.spec.autoscaling
    keda = a.keda
    low, high = a.bounds(queue=component == "queue")
    triggers: list[dict[str, Any]] = [
        {"type": "cpu", "metricType": "Utilization", "metadata": {"value": str(a.cpu)}},
        {"type": "memory", "metricType": "Utilization", "metadata": {"value": str(a.memory)}},
    ]
    if runs_pending_runs(cr, component):
        triggers.append(
            {
                "type": "postgresql",
                "name": "pending-runs",
                "metadata": {
                    "connectionFromEnv": "POSTGRES_URI",
                    "query": keda.pending_runs_query,
                    "targetQueryValue": str(a.pending_runs_per_replica),
                    # Any pending run activates; with minReplicaCount >= 1 this never means zero pods.
                    "activationTargetQueryValue": "0",
                },
            }
        )
    extra = keda.additional_triggers.queue if component == "queue" else keda.additional_triggers.api_server
    triggers += [t.wire() for t in extra]
    spec: dict[str, Any] = {
        "scaleTargetRef": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": deployment,
            "envSourceContainerName": container,
        },
        "minReplicaCount": low,
        "maxReplicaCount": high,
        "pollingInterval": keda.polling_interval,
        "cooldownPeriod": (
            keda.cooldown_period if keda.cooldown_period is not None else a.scale_down_delay_seconds
        ),
        "advanced": {
            "horizontalPodAutoscalerConfig": {
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": a.scale_down_delay_seconds}}
            }
        },
        "triggers": triggers,
    }
    if keda.fallback is not None:
        spec["fallback"] = keda.fallback.wire()
    return {
        "apiVersion": KEDA_API,
        "kind": "ScaledObject",
        "metadata": metadata(cr, deployment, component),
        "spec": spec,
    }


def build_hpa(
    cr: Platform, settings: OperatorSettings, *, deployment: str, component: str, caps: Capabilities = NEWEST
) -> dict[str, Any]:
    """An HPA on CPU and memory in the newest autoscaling version the server offers."""
    a = cr.spec.autoscaling
    low, high = a.bounds(queue=component == "queue")
    api = caps.hpa_api or "autoscaling/v2"
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicas": low,
        "maxReplicas": high,
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
