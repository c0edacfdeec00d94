"""Delete children the spec no longer wants: only ours (labels and an owner reference with this uid)."""

from __future__ import annotations

from ..builders.autoscaling import KEDA_API
from ..builders.common import Capabilities
from .kube import Kube
from .ownership import owned_by


def prunable_kinds(caps: Capabilities, keda_served: bool) -> list[tuple[str, str]]:
    kinds = [
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("v1", "Service"),
        ("v1", "ServiceAccount"),
        ("networking.k8s.io/v1", "Ingress"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
    ]
    # Routes of every mode the cluster serves: switching the operator's routing mode prunes the old kind.
    if caps.http_route_api:
        kinds.append((caps.http_route_api, "HTTPRoute"))
    if caps.virtual_service_api:
        kinds.append((caps.virtual_service_api, "VirtualService"))
    if caps.pdb_api:
        kinds.append((caps.pdb_api, "PodDisruptionBudget"))
    if caps.hpa_api:
        kinds.append((caps.hpa_api, "HorizontalPodAutoscaler"))
    if keda_served or caps.keda:
        kinds.append((KEDA_API, "ScaledObject"))
    return kinds


def prune(
    kube: Kube,
    *,
    namespace: str,
    selector: str,
    owner_uid: str,
    keep: set[tuple[str, str]],
    kinds: list[tuple[str, str]],
) -> list[tuple[str, str]]:
    """Delete every listed child not in ``keep``; returns (kind, name) of what was deleted.

    The kinds the children's cache holds are listed from it: an object of ours it holds and the spec no
    longer wants is deleted only if its uid is still the one listed (a precondition of the delete), and
    the cache holds every child this process made (its writes go in) and every one the watches saw."""
    deleted = []
    for api_version, kind in kinds:
        for item in kube.list(api_version, kind, namespace, selector):
            meta = item["metadata"]
            if (kind, meta["name"]) in keep or not owned_by(item, owner_uid) or meta.get("deletionTimestamp"):
                continue
            if kube.delete(api_version, kind, namespace, meta["name"], uid=meta.get("uid")):
                deleted.append((kind, meta["name"]))
    return deleted
