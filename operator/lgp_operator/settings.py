"""Operator settings from the environment (prefix LGP_OPERATOR_). The README and the chart list them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator
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
    postgres_image: str = Field(
        default="postgres:16-alpine", description="Image of managed Postgres StatefulSets."
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
        description="Port of /healthz and /readyz; 0: not served (the chart sets 8081).",
    )
    health_host: str = Field(default="0.0.0.0", description="Address of /healthz and /readyz.")  # noqa: S104
    kubeconfig: str | None = Field(
        default=None, description="Kubeconfig file; unset: in-cluster config or ~/.kube/config."
    )

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [n.strip() for n in value.split(",") if n.strip()]
        return value
