"""Served API versions, from discovery (never assumed), cached for a while."""

from __future__ import annotations

import threading
import time
from typing import Literal

from ..builders.common import Capabilities
from .kube import Kube, KubeError

PDB_VERSIONS = ("policy/v1", "policy/v1beta1")
HPA_VERSIONS = ("autoscaling/v2", "autoscaling/v2beta2", "autoscaling/v2beta1", "autoscaling/v1")
KEDA_VERSION = "keda.sh/v1alpha1"
HTTP_ROUTE_VERSIONS = ("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1")
VIRTUAL_SERVICE_VERSIONS = (
    "networking.istio.io/v1",
    "networking.istio.io/v1beta1",
    "networking.istio.io/v1alpha3",
)


def served_group_versions(kube: Kube) -> set[str]:
    groups = kube.request("GET", "/apis")
    out = {"v1"}
    for g in groups.get("groups") or []:
        for v in g.get("versions") or []:
            out.add(v["groupVersion"])
    return out


def serves_resource(kube: Kube, group_version: str, plural: str) -> bool:
    try:
        res = kube.request("GET", f"/apis/{group_version}")
    except KubeError as e:
        if e.status == 404:
            return False
        raise
    return any(r.get("name") == plural for r in res.get("resources") or [])


class Discovery:
    """Capabilities of the cluster, refreshed at most every ``ttl`` seconds."""

    def __init__(
        self, kube: Kube, *, keda: Literal["auto", "enabled", "disabled"] = "auto", ttl: float = 60
    ) -> None:
        self.kube = kube
        self.keda_mode = keda
        self.ttl = ttl
        self._caps: Capabilities | None = None
        self._at = 0.0
        self._lock = threading.Lock()
        self.keda_served = False
        self.group_versions: set[str] = set()

    def capabilities(self) -> Capabilities:
        with self._lock:
            if self._caps is None or time.monotonic() - self._at > self.ttl:
                self._caps = self._discover()
                self._at = time.monotonic()
            return self._caps

    def invalidate(self) -> None:
        with self._lock:
            self._caps = None

    def _discover(self) -> Capabilities:
        gvs = served_group_versions(self.kube)
        self.group_versions = gvs
        pdb = next((v for v in PDB_VERSIONS if v in gvs), None)
        hpa = next((v for v in HPA_VERSIONS if v in gvs), None)
        self.keda_served = KEDA_VERSION in gvs and serves_resource(self.kube, KEDA_VERSION, "scaledobjects")
        keda = self.keda_mode == "enabled" or (self.keda_mode == "auto" and self.keda_served)
        return Capabilities(
            pdb_api=pdb,
            hpa_api=hpa,
            keda=keda,
            http_route_api=self._serving(gvs, HTTP_ROUTE_VERSIONS, "httproutes"),
            virtual_service_api=self._serving(gvs, VIRTUAL_SERVICE_VERSIONS, "virtualservices"),
        )

    def _serving(self, gvs: set[str], versions: tuple[str, ...], plural: str) -> str | None:
        """The newest of ``versions`` that serves ``plural`` (a group may serve other kinds only)."""
        return next((v for v in versions if v in gvs and serves_resource(self.kube, v, plural)), None)
