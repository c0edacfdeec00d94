"""Operator settings from the environment (prefix LGP_OPERATOR_). The README and the chart list them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from lgp_contract.resource import NetworkPeer


class OperatorSettings(BaseSettings):
    """Everything the operator reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="LGP_OPERATOR_", extra="ignore")

    namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated namespaces to watch; empty: all namespaces (needs the ClusterRole).",
    )
    ingress_domain: str | None = Field(
        default=None, description="Domain for default Ingress hosts: <name>-<namespace>.<domain>."
    )
    ingress_class: str | None = Field(
        default=None, description="Default IngressClass when a resource names none."
    )
    ingress_tls_secret: str | None = Field(
        default=None, description="Default TLS Secret for Ingresses with tls.enabled and no secretName."
    )
    routing: Literal["ingress", "gateway", "istio"] = Field(
        default="ingress",
        description="How a resource with spec.ingress.enabled is routed: an Ingress, an HTTPRoute on "
        "LGP_OPERATOR_GATEWAY_NAME (Gateway API), or an Istio VirtualService on LGP_OPERATOR_ISTIO_GATEWAY. "
        "One mode for the whole operator; objects of the other modes are pruned.",
    )
    gateway_name: str | None = Field(default=None, description="Gateway of the HTTPRoutes (routing=gateway).")
    gateway_namespace: str | None = Field(
        default=None, description="Namespace of that Gateway; unset: each resource's own namespace."
    )
    gateway_section_name: str | None = Field(
        default=None, description="Listener (sectionName) of the Gateway the HTTPRoutes attach to."
    )
    istio_gateway: str | None = Field(
        default=None,
        description="Istio Gateway of the VirtualServices, as namespace/name (routing=istio).",
    )
    shared_host: str | None = Field(
        default=None,
        description="One host for every resource without spec.ingress.host: each is served at "
        "<host><LGP_OPERATOR_BASE_PATH>/<namespace>/<name>.",
    )
    base_path: str = Field(
        default="",
        pattern=r"^(/[A-Za-z0-9._~-]+)*$",
        description="Path under the shared host before /<namespace>/<name> (e.g. /agents); empty: none.",
    )
    route_tls: bool = Field(
        default=False,
        description="TLS is terminated in front of the routes (the Gateway, the load balancer): endpoints "
        "start with https:// even without spec.ingress.tls.",
    )
    cluster_domain: str = Field(
        default="cluster.local", description="Cluster DNS domain (Istio destinations use the full name)."
    )
    postgres_image: str = Field(
        default="pgvector/pgvector:pg16",
        description="Image of managed Postgres StatefulSets (a resource's spec.database.managed.image wins). "
        "The default is the official postgres:16 (Debian) with the pgvector extension, which the server's "
        "store needs for semantic search (LangGraph Platform's own chart runs a pgvector image too); any "
        "image with the official postgres image's environment works.",
    )
    redis_image: str = Field(default="redis:7-alpine", description="Image of managed Redis Deployments.")
    keda: Literal["auto", "enabled", "disabled"] = Field(
        default="auto",
        description="KEDA ScaledObjects: auto (if keda.sh ScaledObject is served), enabled, disabled (HPA).",
    )
    license_secret: str | None = Field(
        default=None,
        description="Name of a Secret (in each resource's namespace) with key license-key; "
        "becomes LANGGRAPH_CLOUD_LICENSE_KEY. Unset: no license variable is set by the operator.",
    )
    usage_receiver_url: str | None = Field(
        default=None,
        description="URL of the usage component's receiver (the usage reporter's port 9109): each server "
        "reports its own run and node counts there (LANGSMITH_AUTH_ENDPOINT) with a credential of its "
        "deployment (LANGSMITH_CONTROL_PLANE_API_KEY from the Secret <name>-usage, which the operator "
        "makes). Unset: the servers report nowhere. The chart fills it in.",
    )
    resync_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Period of the drift-repair timer: every resource is reconciled this often.",
    )
    discovery_seconds: float = Field(
        default=60.0, gt=0, description="How long served API versions (discovery) are cached."
    )
    leader_election: bool = Field(
        default=True,
        description="Take a coordination.k8s.io Lease before reconciling, so a second replica waits.",
    )
    leader_election_namespace: str = Field(
        default="default",
        description="Namespace of the leader Lease (the chart sets the operator's own namespace).",
    )
    leader_election_name: str = Field(default="lgp-operator-leader", description="Name of the leader Lease.")
    lease_seconds: int = Field(
        default=15, ge=2, description="Lease duration; a dead leader is replaced after this long."
    )
    database_peers: list[NetworkPeer] = Field(
        default_factory=list,
        description="JSON list of NetworkPolicy peers (as in a NetworkPolicy's `from`) that may connect to "
        "every managed Postgres besides the deployment's own server pods: the usage reporter, KEDA's "
        "operator (the pending-runs trigger). The chart fills it in.",
    )
    health_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of /healthz, /readyz and /metrics; 0: not served (the chart sets 8081).",
    )
    health_host: str = Field(default="0.0.0.0", description="Address of /healthz and /readyz.")  # noqa: S104
    kubeconfig: str | None = Field(
        default=None, description="Kubeconfig file; unset: in-cluster config or ~/.kube/config."
    )

    @model_validator(mode="after")
    def _routing(self) -> OperatorSettings:
        if self.routing == "gateway" and not self.gateway_name:
            raise ValueError("LGP_OPERATOR_ROUTING=gateway needs LGP_OPERATOR_GATEWAY_NAME")
        if self.routing == "istio" and not self.istio_gateway:
            raise ValueError("LGP_OPERATOR_ROUTING=istio needs LGP_OPERATOR_ISTIO_GATEWAY (namespace/name)")
        return self

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [n.strip() for n in value.split(",") if n.strip()]
        return value
