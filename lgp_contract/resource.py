"""The LangGraphPlatform custom resource as pydantic models: the single source of the CRD schema.

`make manifests` turns these models into ``crds/langgraphplatforms.yaml`` (the operator's
``lgp_operator/api/crd.py``); the operator parses every object it reconciles with the same models, so
a rule the API server cannot check (Kubernetes 1.20 drops CEL rules) still gives a Degraded condition
naming the field. The control plane builds a revision's spec as a ``LangGraphPlatformSpec`` and the
listener applies it as it comes (``protocol.py``).

Field names are camelCase on the wire (aliases) and snake_case in Python. One module on purpose:
the whole resource, spec and status, reads as the one schema it is (as kubebuilder's
``*_types.go`` files do).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, WrapSerializer, model_validator
from pydantic.alias_generators import to_camel

from .formats import (
    ABSOLUTE_PATH,
    CAPABILITY,
    CIDR,
    DNS_LABEL,
    DNS_SUBDOMAIN,
    ENV_NAME,
    HOSTNAME,
    IMAGE_REF,
    LABEL_KEY,
    LABEL_VALUE,
    QUANTITY,
    REVISION_ID,
    SECRET_KEY,
)

GROUP = "lgp.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "LangGraphPlatform"
PLURAL = "langgraphplatforms"
SINGULAR = "langgraphplatform"
SHORT_NAMES = ["lgp"]

# ---------------------------------------------------------------- reusable string types
SecretName = Annotated[str, Field(pattern=DNS_SUBDOMAIN, max_length=253)]
Quantity = Annotated[
    str,
    Field(pattern=QUANTITY),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY,
            "x-kubernetes-int-or-string": True,
        }
    ),
]
StringMap = dict[str, str]
_Key = Annotated[str, Field(pattern=LABEL_KEY, max_length=317)]
# Keys are checked by the models (a structural schema has no patternProperties); values by both.
LabelMap = Annotated[
    dict[_Key, Annotated[str, Field(pattern=LABEL_VALUE, max_length=63)]],
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": {"type": "string", "pattern": LABEL_VALUE, "maxLength": 63},
        }
    ),
]
AnnotationMap = Annotated[
    dict[_Key, str], WithJsonSchema({"type": "object", "additionalProperties": {"type": "string"}})
]


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def wire(self) -> dict[str, Any]:
        """The camelCase form, without unset optional fields."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    def written(self) -> dict[str, Any]:
        """The camelCase form with only the fields that were given: how a spec is stored, sent to the
        listener and applied (the API server fills in the defaults)."""
        return self.model_dump(by_alias=True, exclude_unset=True, exclude_none=True, mode="json")


class _Quantity(Model):
    """Accept integers for quantities as Kubernetes does (``cpu: 1``), keep them as strings."""

    @model_validator(mode="before")
    @classmethod
    def _ints_to_strings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                k: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                for k, v in data.items()
            }
        return data


class ResourceList(_Quantity):
    """CPU and memory amounts (Kubernetes quantities such as ``500m``, ``1``, ``2Gi``)."""

    cpu: Quantity | None = Field(default=None, description="CPU, e.g. 500m or 2.")
    memory: Quantity | None = Field(default=None, description="Memory, e.g. 512Mi or 2Gi.")


class Resources(Model):
    """Container resource requests and limits."""

    requests: ResourceList | None = Field(
        default=None, description="Minimum resources the scheduler reserves."
    )
    limits: ResourceList | None = Field(default=None, description="Maximum resources the container may use.")


def _default_resources() -> Resources:
    return Resources.model_validate(DEFAULT_RESOURCES_WIRE)


# Requests and limits on every container by default (a resources object given in the spec replaces these
# whole: give limits too).
DEFAULT_RESOURCES_WIRE: dict[str, Any] = {
    "requests": {"cpu": "1", "memory": "1Gi"},
    "limits": {"cpu": "2", "memory": "2Gi"},
}
POSTGRES_RESOURCES_WIRE: dict[str, Any] = {
    "requests": {"cpu": "500m", "memory": "512Mi"},
    "limits": {"cpu": "2", "memory": "1Gi"},
}
REDIS_RESOURCES_WIRE: dict[str, Any] = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}


class Revision(Model):
    """The control-plane revision this spec came from (absent when the object is applied by hand)."""

    id: str = Field(
        pattern=REVISION_ID, description="Revision id; pods carry it as the lgp.dev/revision annotation."
    )
    number: int | None = Field(default=None, ge=1, description="Revision number, for people (1, 2, 3 ...).")


class EnvVar(Model):
    """One environment variable for the server containers (plain value; secrets go in envFromSecret)."""

    name: str = Field(
        pattern=ENV_NAME,
        description="Variable name. Overrides a variable the operator sets, except the connection URIs "
        "(POSTGRES_URI, DATABASE_URI, REDIS_URI), which come from spec.database and spec.redis.",
    )
    value: str = Field(default="", description="Variable value.")


class Open(BaseModel):
    """A Kubernetes structure taken as written: the fields named here are checked (and documented for
    ``kubectl explain``), every other field Kubernetes has is passed through unchanged."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        json_schema_extra={"x-kubernetes-preserve-unknown-fields": True},
    )

    def wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class Container(Open):
    """A container as in a Pod spec. name and image are required; command, args, env, ports, resources,
    volumeMounts, probes and the rest are taken as Kubernetes defines them."""

    name: str = Field(pattern=DNS_LABEL, max_length=63, description="Container name, unique in the pod.")
    image: str = Field(pattern=IMAGE_REF, max_length=512, description="Image of the container.")


class Volume(Open):
    """A pod volume as in a Pod spec (configMap, secret, emptyDir, persistentVolumeClaim, csi, ...)."""

    name: str = Field(pattern=DNS_LABEL, max_length=63, description="Volume name, unique in the pod.")


class VolumeMount(Open):
    """A volume mounted into the server container (readOnly, subPath, ... as Kubernetes defines them)."""

    name: str = Field(pattern=DNS_LABEL, max_length=63, description="Name of a volume of the pod.")
    mount_path: str = Field(pattern=r"^/", description="Absolute path in the container.")


class Workload(Model):
    """Containers and volumes added to a server Deployment's pods."""

    init_containers: list[Container] = Field(
        default_factory=list, description="Init containers, run before the server container starts."
    )
    sidecars: list[Container] = Field(
        default_factory=list, description="More containers beside the server container (e.g. a proxy)."
    )
    volumes: list[Volume] = Field(default_factory=list, description="More pod volumes.")
    volume_mounts: list[VolumeMount] = Field(
        default_factory=list, description="Volumes mounted into the server container."
    )

    @model_validator(mode="after")
    def _unique_names(self) -> Workload:
        for what, items in (
            ("container", [*self.init_containers, *self.sidecars]),
            ("volume", self.volumes),
        ):
            names = [i.name for i in items]
            if what == "container":
                names += [n for n in SERVER_CONTAINERS if n in names]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{what} name {twice[0]!r} is used twice (or is the server's own)")
        return self


SERVER_CONTAINERS = ("api-server", "queue-worker")
"""Names of the server containers the operator makes; sidecars and init containers may not take them."""


Argv = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=4096)]], Field(min_length=1, max_length=64)
]


class ServerProcess(Workload):
    """What the server container runs: the image's entrypoint unless command is given (the queue
    workers: the queue entrypoint)."""

    command: Argv | None = Field(
        default=None,
        description="Replaces the container's entrypoint (Kubernetes command). Default: the image's own for "
        "the api server, /storage/queue_entrypoint.sh (the official image's queue entrypoint) for the queue "
        "workers.",
    )
    args: list[Annotated[str, Field(max_length=4096)]] | None = Field(
        default=None,
        max_length=256,
        description="Arguments of the entrypoint (Kubernetes args); default none for the queue workers, the "
        "image's CMD for the api server.",
    )


class ApiServer(ServerProcess):
    """The api-server Deployment (port 8000, GET /ok)."""

    replicas: int = Field(default=1, ge=0, le=1000, description="Replicas when autoscaling is off.")
    resources: Resources = Field(
        default_factory=_default_resources,
        description="Resources of the api-server container.",
        json_schema_extra={"default": DEFAULT_RESOURCES_WIRE},
    )


class Queue(ServerProcess):
    """Queue workers: a second Deployment that runs background runs (the api server then runs none)."""

    enabled: bool = Field(default=False, description="Run a separate queue-worker Deployment.")
    replicas: int = Field(default=1, ge=0, le=1000, description="Worker replicas when autoscaling is off.")
    resources: Resources = Field(
        default_factory=_default_resources,
        description="Resources of the queue-worker container.",
        json_schema_extra={"default": DEFAULT_RESOURCES_WIRE},
    )
    jobs_per_worker: int = Field(
        default=10, ge=1, le=1000, description="Concurrent runs per worker (N_JOBS_PER_WORKER)."
    )


TARGET_KEYS = ("targetqueryvalue", "targetvalue", "value", "threshold", "queuelength", "lagthreshold")
"""Trigger metadata keys that are a per-replica target (compared lowercase); activation keys are not."""


class KedaTrigger(Open):
    """A KEDA trigger as in a ScaledObject (type, metadata, name, metricType, authenticationRef ...)."""

    type: str = Field(min_length=1, description="Scaler type, e.g. prometheus, rabbitmq, postgresql.")
    metadata: StringMap = Field(default_factory=dict, description="The scaler's settings (string values).")

    @model_validator(mode="after")
    def _positive_target(self) -> KedaTrigger:
        for key, value in self.metadata.items():
            if key.lower() not in TARGET_KEYS:
                continue
            try:
                number = float(value)
            except ValueError:
                continue
            if number <= 0:
                raise ValueError(
                    f"metadata.{key} is {value!r}: a per-replica target must be above 0 (KEDA cannot "
                    "meet a target of 0 items per replica: it fails or scales to the maximum)"
                )
        return self


class KedaFallback(Model):
    """Replicas KEDA keeps when a trigger keeps failing (KEDA applies it to the pending-runs and added
    triggers, not to CPU and memory)."""

    failure_threshold: int = Field(ge=1, le=1000, description="Failed polls before falling back.")
    replicas: int = Field(ge=1, le=1000, description="Replicas while falling back (at least 1).")


class KedaTriggers(Model):
    """Triggers added to the ScaledObjects, per Deployment."""

    api_server: list[KedaTrigger] = Field(default_factory=list, description="Of the api server.")
    queue: list[KedaTrigger] = Field(default_factory=list, description="Of the queue workers.")


PENDING_RUNS_QUERY = "SELECT COUNT(*) FROM run WHERE status = 'pending'"
"""The pending-runs query of LangChain's own chart (the licensed runtime's schema). The open runtime
langgraph-runtime-pg names the table ``runs``: its images need ``spec.autoscaling.keda.pendingRunsQuery``."""
# One SELECT (or WITH ... SELECT) statement, at most a trailing semicolon; case-insensitive keyword.
PENDING_RUNS_QUERY_PATTERN = r"^\s*([Ss][Ee][Ll][Ee][Cc][Tt]|[Ww][Ii][Tt][Hh])\s[^;]*;?\s*$"


class Keda(Model):
    """Settings of the KEDA ScaledObjects (ignored where KEDA is not installed)."""

    pending_runs_query: str = Field(
        default=PENDING_RUNS_QUERY,
        pattern=PENDING_RUNS_QUERY_PATTERN,
        max_length=2000,
        description="Query of the pending-runs trigger, run on the deployment's own database; it must "
        "return one number. Default: the official chart's, for the licensed server's schema "
        "(table run). The open runtime langgraph-runtime-pg (lgp's local images) needs "
        "SELECT COUNT(*) FROM runs WHERE status = 'pending'.",
    )
    polling_interval: int = Field(default=30, ge=1, le=3600, description="Seconds between trigger polls.")
    cooldown_period: int | None = Field(
        default=None,
        ge=0,
        le=86400,
        description="Seconds KEDA waits after the last active trigger; default scaleDownDelaySeconds.",
    )
    fallback: KedaFallback | None = Field(default=None, description="Replicas when a trigger keeps failing.")
    additional_triggers: KedaTriggers = Field(
        default_factory=KedaTriggers,
        description="More triggers (e.g. a Prometheus query); each target must be above 0.",
        json_schema_extra={"default": {}},
    )


class Autoscaling(Model):
    """Horizontal autoscaling of the api server and queue workers.

    With KEDA: one ScaledObject per scaled Deployment. The queue workers (when enabled) scale on CPU,
    memory and a ``postgresql`` trigger on the number of pending runs, between queueMinReplicas and
    queueMaxReplicas; the api server scales on CPU and memory (and pending runs when it runs them
    itself). Without KEDA: an HPA on CPU and memory, and the condition PendingRunScaling=False says so.
    """

    enabled: bool = Field(
        default=False, description="Scale Deployments automatically between minReplicas and maxReplicas."
    )
    min_replicas: int = Field(
        default=1, ge=1, le=1000, description="Lower bound; at least 1 (never scaled to zero)."
    )
    max_replicas: int = Field(default=10, ge=1, le=1000, description="Upper bound; not below minReplicas.")
    cpu: int = Field(
        default=75, ge=1, le=100, description="Target average CPU utilisation, percent of requests."
    )
    memory: int = Field(
        default=75, ge=1, le=100, description="Target average memory utilisation, percent of requests."
    )
    pending_runs_per_replica: int = Field(
        default=10, ge=1, le=100000, description="Target pending runs per replica (KEDA)."
    )
    scale_down_delay_seconds: int = Field(
        default=1800, ge=0, le=86400, description="Stabilisation window before scaling down, seconds."
    )
    queue_min_replicas: int | None = Field(
        default=None, ge=1, le=1000, description="Lower bound of the queue workers; default minReplicas."
    )
    queue_max_replicas: int | None = Field(
        default=None, ge=1, le=1000, description="Upper bound of the queue workers; default maxReplicas."
    )
    keda: Keda = Field(
        default_factory=lambda: Keda(), description="KEDA settings.", json_schema_extra={"default": {}}
    )

    def bounds(self, queue: bool) -> tuple[int, int]:
        """(min, max) replicas of the api server, or of the queue workers."""
        if not queue:
            return self.min_replicas, self.max_replicas
        low = self.queue_min_replicas if self.queue_min_replicas is not None else self.min_replicas
        high = self.queue_max_replicas if self.queue_max_replicas is not None else self.max_replicas
        return low, high

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"maxReplicas ({self.max_replicas}) is below minReplicas ({self.min_replicas})")
        low, high = self.bounds(queue=True)
        if high < low:
            raise ValueError(f"queueMaxReplicas ({high}) is below queueMinReplicas ({low})")
        return self


class SecretKeyRef(Model):
    """A key of a Secret in the resource's namespace."""

    name: SecretName = Field(description="Secret name.")
    key: str = Field(default="uri", pattern=SECRET_KEY, description="Key within the Secret.")


class External(Model):
    """Bring your own server: the connection URI comes from a Secret, which the operator never touches."""

    secret_ref: SecretKeyRef = Field(description="The Secret key holding the connection URI.")


class ManagedDatabase(Model):
    """A Postgres StatefulSet run by the operator, with a password Secret created once."""

    image: str | None = Field(
        default=None, pattern=IMAGE_REF, description="Postgres image; default from the operator."
    )
    storage: Quantity = Field(default="10Gi", description="Size of the data volume.")
    storage_class_name: str | None = Field(
        default=None, pattern=DNS_SUBDOMAIN, description="StorageClass of the volume."
    )
    resources: Resources = Field(
        default_factory=lambda: Resources.model_validate(POSTGRES_RESOURCES_WIRE),
        description="Resources of the Postgres container.",
        json_schema_extra={"default": POSTGRES_RESOURCES_WIRE},
    )
    max_connections: int = Field(default=200, ge=10, le=10000, description="Postgres max_connections.")
    retain_on_delete: bool = Field(
        default=True, description="Keep the data volume and password Secret when the resource is deleted."
    )


class Database(Model):
    """Postgres: managed by the operator (default) or external. Exactly one of managed / external."""

    managed: ManagedDatabase | None = Field(default=None, description="Run Postgres in the namespace.")
    external: External | None = Field(
        default=None, description="Use an existing Postgres (POSTGRES_URI from a Secret)."
    )

    @model_validator(mode="after")
    def _one_of(self) -> Database:
        if self.managed is not None and self.external is not None:
            raise ValueError("set only one of managed and external")
        if self.managed is None and self.external is None:
            self.managed = ManagedDatabase()
        return self


class ManagedRedis(Model):
    """A Redis Deployment run by the operator (no persistence: Redis holds only transient state)."""

    image: str | None = Field(
        default=None, pattern=IMAGE_REF, description="Redis image; default from the operator."
    )
    resources: Resources = Field(
        default_factory=lambda: Resources.model_validate(REDIS_RESOURCES_WIRE),
        description="Resources of the Redis container.",
        json_schema_extra={"default": REDIS_RESOURCES_WIRE},
    )


class Redis(Model):
    """Redis: managed by the operator (default) or external. Exactly one of managed / external."""

    managed: ManagedRedis | None = Field(default=None, description="Run Redis in the namespace.")
    external: External | None = Field(
        default=None, description="Use an existing Redis (REDIS_URI from a Secret)."
    )

    @model_validator(mode="after")
    def _one_of(self) -> Redis:
        if self.managed is not None and self.external is not None:
            raise ValueError("set only one of managed and external")
        if self.managed is None and self.external is None:
            self.managed = ManagedRedis()
        return self


class IngressTLS(Model):
    """TLS for the Ingress."""

    enabled: bool = Field(default=False, description="Serve HTTPS; the endpoint then starts with https://.")
    secret_name: str | None = Field(
        default=None,
        pattern=DNS_SUBDOMAIN,
        description="TLS Secret; default from the operator (LGP_OPERATOR_INGRESS_TLS_SECRET).",
    )


class Ingress(Model):
    """The route in front of the api server: an Ingress, or an HTTPRoute (Gateway API) or a VirtualService
    (Istio), as the operator's routing mode says (LGP_OPERATOR_ROUTING). With the operator's shared host
    (LGP_OPERATOR_SHARED_HOST) and no host here, the server is served at
    <shared host><base path>/<namespace>/<name>. Whenever the path is not /, the server is told its prefix
    (MOUNT_PREFIX), so its routes, docs and OpenAPI document work under it."""

    enabled: bool = Field(default=False, description="Route to the api server from outside the cluster.")
    host: str | None = Field(
        default=None,
        pattern=HOSTNAME,
        max_length=253,
        description="Host name; default <name>-<namespace>.<LGP_OPERATOR_INGRESS_DOMAIN>.",
    )
    path: str = Field(default="/", pattern=r"^/", description="URL path prefix.")
    class_name: str | None = Field(
        default=None,
        pattern=DNS_SUBDOMAIN,
        description="IngressClass (Ingress mode); default from the operator (LGP_OPERATOR_INGRESS_CLASS).",
    )
    tls: IngressTLS = Field(
        default_factory=IngressTLS,
        description="TLS settings.",
        json_schema_extra={"default": {"enabled": False}},
    )
    annotations: StringMap = Field(
        default_factory=dict, description="Annotations of the Ingress (or HTTPRoute, VirtualService)."
    )


class Toleration(Model):
    """A pod toleration (as in the Pod spec)."""

    key: str | None = Field(default=None, description="Taint key; empty matches all keys.")
    operator: Literal["Exists", "Equal"] | None = Field(
        default=None, description="Exists or Equal (default Equal)."
    )
    value: str | None = Field(default=None, description="Taint value for Equal.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default=None, description="Taint effect."
    )
    toleration_seconds: int | None = Field(
        default=None, description="How long a NoExecute taint is tolerated."
    )


class Placement(Model):
    """Where and how the server pods run."""

    node_selector: StringMap = Field(default_factory=dict, description="Node labels the pods require.")
    tolerations: list[Toleration] = Field(default_factory=list, description="Taints the pods tolerate.")
    affinity: dict[str, Any] | None = Field(
        default=None,
        description="Pod affinity, as in a Pod spec (nodeAffinity, podAffinity, podAntiAffinity).",
        json_schema_extra={"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    )
    labels: StringMap = Field(default_factory=dict, description="Extra pod labels.")
    annotations: StringMap = Field(default_factory=dict, description="Extra pod annotations.")
    service_account_name: str | None = Field(
        default=None, pattern=DNS_SUBDOMAIN, description="ServiceAccount of the pods (one you manage)."
    )
    priority_class_name: str | None = Field(
        default=None, pattern=DNS_SUBDOMAIN, description="PriorityClass of the server pods."
    )
    topology_spread_constraints: list[TopologySpreadConstraint] = Field(
        default_factory=list,
        description="How the server pods spread over zones or nodes; a constraint without labelSelector "
        "spreads each Deployment's own pods.",
    )


class TopologySpreadConstraint(Open):
    """A topology spread constraint as in a Pod spec."""

    max_skew: int = Field(ge=1, description="Largest allowed difference of pod counts between domains.")
    topology_key: str = Field(
        min_length=1, description="Node label of the domains, e.g. topology.kubernetes.io/zone."
    )
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"] = Field(
        description="DoNotSchedule or ScheduleAnyway."
    )


class ServiceAccount(Model):
    """A ServiceAccount for the server pods, made and owned by the operator (deleted with the resource,
    or when create is turned off)."""

    create: bool = Field(default=False, description="Create a ServiceAccount named after the resource.")
    annotations: AnnotationMap = Field(
        default_factory=dict,
        description="Its annotations, e.g. eks.amazonaws.com/role-arn or iam.gke.io/gcp-service-account "
        "for workload identity.",
    )


class LangGraphPlatformSpec(Model):
    """Desired state of one LangGraph agent server deployment. Written by a person, GitOps or the listener
    (field manager lgp-listener); the operator never writes the spec."""

    image: str = Field(
        pattern=IMAGE_REF, max_length=512, description="Server image (registry/name:tag or @digest)."
    )
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = Field(
        default="IfNotPresent", description="Image pull policy of the server containers."
    )
    image_pull_secrets: list[SecretName] = Field(
        default_factory=list, description="Names of image pull Secrets."
    )
    revision: Revision | None = Field(
        default=None, description="The control-plane revision this spec came from."
    )
    env: list[EnvVar] = Field(
        default_factory=list, description="Environment variables of the server containers."
    )
    env_from_secret: SecretName | None = Field(
        default=None,
        description="A Secret whose keys become environment variables (the listener's Secret).",
    )
    env_from_secrets: list[SecretName] = Field(
        default_factory=list,
        description="More Secrets whose keys become environment variables (after envFromSecret).",
    )
    termination_grace_period_seconds: int = Field(
        default=900,
        ge=0,
        le=86400,
        description="Time pods get to finish running runs when stopped (15 min by default). The server is "
        "told how long it may wait for its runs after SIGTERM (BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS): this, "
        "minus preStopDrainSeconds on the api server, minus 15 s to put unfinished runs back and exit. So "
        "it must be at least preStopDrainSeconds + 16.",
    )
    pre_stop_drain_seconds: int = Field(
        default=10,
        ge=0,
        le=3600,
        description="Seconds a stopping api-server pod keeps serving before SIGTERM, so load balancers "
        "drain it first (queue workers serve no traffic and get no drain).",
    )
    api_server: ApiServer = Field(
        default_factory=ApiServer, description="The api-server Deployment.", json_schema_extra={"default": {}}
    )
    queue: Queue = Field(
        default_factory=Queue, description="Queue workers.", json_schema_extra={"default": {}}
    )
    autoscaling: Autoscaling = Field(
        default_factory=Autoscaling, description="Autoscaling.", json_schema_extra={"default": {}}
    )
    database: Database = Field(
        default_factory=Database, description="Postgres.", json_schema_extra={"default": {"managed": {}}}
    )
    redis: Redis = Field(
        default_factory=Redis, description="Redis.", json_schema_extra={"default": {"managed": {}}}
    )
    ingress: Ingress = Field(
        default_factory=Ingress, description="Ingress.", json_schema_extra={"default": {}}
    )
    placement: Placement = Field(
        default_factory=Placement, description="Pod placement.", json_schema_extra={"default": {}}
    )
    service_account: ServiceAccount = Field(
        default_factory=ServiceAccount,
        description="A ServiceAccount for the server pods.",
        json_schema_extra={"default": {}},
    )
    labels: LabelMap = Field(
        default_factory=dict,
        description="Labels of every object the operator makes (and of their pods and volume claims). The "
        "operator's own app.kubernetes.io/* labels win on a conflict.",
    )
    annotations: AnnotationMap = Field(
        default_factory=dict,
        description="Annotations of every object the operator makes (and of their pods and volume claims). "
        "The operator's own lgp.dev/* annotations win on a conflict.",
    )
    suspend: bool = Field(
        default=False,
        description="Scale the server to zero and remove its autoscaler; Postgres and Redis keep running.",
    )
    security: Security = Field(
        default_factory=lambda: Security(),
        description="Security contexts, service-account token and NetworkPolicies (restricted by default).",
        json_schema_extra={"default": {}},
    )

    @model_validator(mode="after")
    def _unique_env(self) -> LangGraphPlatformSpec:
        if self.service_account.create and self.placement.service_account_name:
            raise ValueError(
                "serviceAccount.create and placement.serviceAccountName: set one (the operator's or yours)"
            )
        if self.job_shutdown_grace(api_server=True) < 1:
            raise ValueError(
                f"terminationGracePeriodSeconds ({self.termination_grace_period_seconds}) must be at least "
                f"preStopDrainSeconds ({self.pre_stop_drain_seconds}) + {SHUTDOWN_MARGIN_SECONDS + 1}: the "
                f"server needs time after SIGTERM to finish or put back its runs and exit, else a run is "
                f"killed mid-step"
            )
        seen: set[str] = set()
        for e in self.env:
            if e.name == JOB_GRACE_ENV and (
                not e.value.isdigit() or int(e.value) > self.job_shutdown_grace(api_server=True)
            ):
                raise ValueError(
                    f"env: {JOB_GRACE_ENV} {e.value!r} must be a whole number of seconds of at most "
                    f"{self.job_shutdown_grace(api_server=True)} (terminationGracePeriodSeconds - "
                    f"preStopDrainSeconds - {SHUTDOWN_MARGIN_SECONDS}), else pods are killed mid-run"
                )
            if e.name in seen:
                raise ValueError(f"env: variable {e.name!r} is listed twice")
            if e.name in CONNECTION_ENV:
                raise ValueError(
                    f"env: {e.name} is set by the operator from spec.{CONNECTION_ENV[e.name]} (a connection "
                    f"URI holds a password, which never goes in a spec: use "
                    f"spec.{CONNECTION_ENV[e.name]}.external.secretRef)"
                )
            seen.add(e.name)
        return self

    def job_shutdown_grace(self, *, api_server: bool) -> int:
        """Seconds a server process may wait for its running runs after SIGTERM
        (BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS): the pod's grace period, less the api server's preStop drain
        (the grace period counts from before preStop), less SHUTDOWN_MARGIN_SECONDS."""
        drain = self.pre_stop_drain_seconds if api_server else 0
        return self.termination_grace_period_seconds - drain - SHUTDOWN_MARGIN_SECONDS


SHUTDOWN_MARGIN_SECONDS = 15
"""Seconds left, after the server's own wait for its runs, to put unfinished runs back as pending and exit
before the kubelet's SIGKILL (langgraph-runtime-pg 0.11.1.post1 took 0.8-3.5 s on 2 loaded cores:
tests/api/server/test_operator_processes.py)."""
JOB_GRACE_ENV = "BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS"


CONNECTION_ENV = {"POSTGRES_URI": "database", "DATABASE_URI": "database", "REDIS_URI": "redis"}
"""Variables the operator sets from spec.database and spec.redis (always from a Secret when they hold a
password); spec.env may not set them."""


def _as_written(spec, handler):  # no annotations: pydantic then keeps the model's schema
    return spec.written()


WrittenSpec = Annotated[LangGraphPlatformSpec, WrapSerializer(_as_written, when_used="json")]
"""A spec that travels as written (only the fields given) wherever it is sent as JSON, while the
schema still documents every field: a revision's spec in the API and in the listener's desired state."""


# ---------------------------------------------------------------- status
ConditionType = Literal[
    "Ready", "Progressing", "Degraded", "DatabaseReady", "RedisReady", "PendingRunScaling", "PodSecurity"
]


class Condition(Model):
    """A condition in the Kubernetes style."""

    type: str = Field(
        description="Ready, Progressing, Degraded, DatabaseReady, RedisReady, PendingRunScaling or "
        "PodSecurity."
    )
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field(description="One CamelCase word for programs.")
    message: str = Field(default="", description="What a person needs to know.")
    last_transition_time: str | None = Field(default=None, description="When status last changed (RFC 3339).")
    observed_generation: int | None = Field(
        default=None, description="metadata.generation this condition reflects."
    )


class ReplicaCounts(Model):
    """Replica counts of one Deployment."""

    desired: int = Field(
        default=0, description="spec.replicas (set by the autoscaler when autoscaling is on)."
    )
    ready: int = Field(default=0, description="Pods ready.")
    updated: int = Field(default=0, description="Pods of the current pod template.")
    available: int = Field(default=0, description="Pods available.")


class Replicas(Model):
    """Replica counts of the server Deployments."""

    api_server: ReplicaCounts | None = Field(default=None, description="The api-server Deployment.")
    queue: ReplicaCounts | None = Field(
        default=None, description="The queue-worker Deployment (when enabled)."
    )


class LangGraphPlatformStatus(Model):
    """Observed state, written only by the operator (field manager lgp-operator).

    Exact semantics, relied on by the listener:

    - ``observedGeneration`` is the ``metadata.generation`` of the spec the rest of the status describes.
    - ``liveRevision`` is the revision whose pods serve traffic. It moves to the spec's revision only when
      every api-server (and queue-worker) pod is of that revision's pod template and available, and no pod
      of an older template remains. Its ``id`` is ``spec.revision.id``, or ``tmpl-<hash>`` of the pod
      template when the spec names no revision.
    - A revision is DEPLOYED when Ready=True, ``liveRevision.id == spec.revision.id`` and
      ``observedGeneration == metadata.generation``.
    - DEPLOY_FAILED when Degraded=True; its reason and message say why (InvalidSpec, SecretNotFound,
      ImagePullBackOff, CrashLoopBackOff, ApplyFailed, ...).
    """

    observed_generation: int | None = Field(
        default=None, description="metadata.generation this status describes."
    )
    conditions: list[Condition] = Field(
        default_factory=list, description="Ready, Progressing, Degraded and others."
    )
    live_revision: Revision | None = Field(
        default=None,
        description="The revision whose pods are all updated and available (see the resource description).",
    )
    endpoint: str | None = Field(
        default=None, description="URL of the api server (the Ingress, else the cluster Service)."
    )
    replicas: Replicas | None = Field(default=None, description="Replica counts.")


class LangGraphPlatform(Model):
    """A LangGraph agent server: api server, optional queue workers, Postgres, Redis, autoscaling and
    ingress, reconciled by the lgp operator.

    Ready=True means the revision in the spec is live: all its pods are updated and available and
    Postgres and Redis are ready. Degraded=True means it cannot get there without a change (its reason
    and message say why). The listener reports DEPLOYED when Ready=True,
    status.liveRevision.id == spec.revision.id and status.observedGeneration == metadata.generation.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    spec: LangGraphPlatformSpec = Field(description="Desired state.")
    status: LangGraphPlatformStatus | None = Field(
        default=None, description="Observed state, written by the operator."
    )


# ---------------------------------------------------------------- security (spec.security)
# The operator's defaults meet the "restricted" Pod Security Standard; what is set here is merged over
# them field by field. Anything below "restricted" is reported in the PodSecurity condition.


class SeccompProfile(Model):
    """A seccomp profile (as in a Pod spec)."""

    type: Literal["RuntimeDefault", "Localhost", "Unconfined"] = Field(
        description="RuntimeDefault (the container runtime's profile), Localhost or Unconfined."
    )
    localhost_profile: str | None = Field(
        default=None, description="With type Localhost: the profile's path on the node."
    )


class LinuxCapabilities(Model):
    """Linux capabilities to add and drop (as in a container's securityContext)."""

    add: list[Annotated[str, Field(pattern=CAPABILITY)]] | None = Field(
        default=None, description="Capabilities to add, e.g. NET_BIND_SERVICE."
    )
    drop: list[Annotated[str, Field(pattern=CAPABILITY)]] | None = Field(
        default=None, description="Capabilities to drop; ALL by default."
    )


class SELinuxOptions(Model):
    """SELinux labels (as in a Pod spec)."""

    user: str | None = Field(default=None, description="SELinux user label.")
    role: str | None = Field(default=None, description="SELinux role label.")
    type: str | None = Field(default=None, description="SELinux type label.")
    level: str | None = Field(default=None, description="SELinux level label.")


class Sysctl(Model):
    """A namespaced sysctl set for the pod."""

    name: str = Field(description="Name of the sysctl.")
    value: str = Field(description="Value of the sysctl.")


class PodSecurityContext(Model):
    """Pod-level security settings (a subset of a Pod's securityContext), merged over the operator's
    defaults field by field."""

    run_as_user: int | None = Field(default=None, ge=0, description="UID the containers run as.")
    run_as_group: int | None = Field(default=None, ge=0, description="Primary GID of the containers.")
    run_as_non_root: bool | None = Field(
        default=None, description="Refuse to start a container whose user is root."
    )
    fs_group: int | None = Field(
        default=None, ge=0, description="GID that owns the pod's volumes (and may write to them)."
    )
    fs_group_change_policy: Literal["OnRootMismatch", "Always"] | None = Field(
        default=None, description="When volume ownership is changed to fsGroup."
    )
    supplemental_groups: list[Annotated[int, Field(ge=0)]] | None = Field(
        default=None, description="More GIDs of the containers' processes."
    )
    seccomp_profile: SeccompProfile | None = Field(default=None, description="Seccomp profile of the pod.")
    se_linux_options: SELinuxOptions | None = Field(default=None, description="SELinux labels of the pod.")
    sysctls: list[Sysctl] | None = Field(default=None, description="Namespaced sysctls of the pod.")


class ContainerSecurityContext(Model):
    """Container-level security settings (a subset of a container's securityContext), merged over the
    operator's defaults field by field; they win over the pod's."""

    run_as_user: int | None = Field(default=None, ge=0, description="UID the container runs as.")
    run_as_group: int | None = Field(default=None, ge=0, description="Primary GID of the container.")
    run_as_non_root: bool | None = Field(default=None, description="Refuse to start as root.")
    allow_privilege_escalation: bool | None = Field(
        default=None, description="Whether a process may gain more privileges than its parent (setuid)."
    )
    privileged: bool | None = Field(default=None, description="Run as privileged (host root).")
    read_only_root_filesystem: bool | None = Field(
        default=None, description="Mount the image's filesystem read-only (writable paths are emptyDirs)."
    )
    capabilities: LinuxCapabilities | None = Field(default=None, description="Capabilities to add and drop.")
    seccomp_profile: SeccompProfile | None = Field(
        default=None, description="Seccomp profile of the container."
    )
    se_linux_options: SELinuxOptions | None = Field(
        default=None, description="SELinux labels of the container."
    )
    proc_mount: Literal["Default", "Unmasked"] | None = Field(
        default=None, description="Default (masked /proc) or Unmasked."
    )


class WorkloadSecurity(Model):
    """Security settings of one kind of pod."""

    pod_security_context: PodSecurityContext | None = Field(
        default=None, description="Merged over the operator's pod securityContext, field by field."
    )
    container_security_context: ContainerSecurityContext | None = Field(
        default=None, description="Merged over the operator's container securityContext, field by field."
    )


class ServerSecurity(WorkloadSecurity):
    """Security settings of the api-server and queue-worker pods. Defaults: UID/GID 10001, runAsNonRoot,
    seccomp RuntimeDefault, no privilege escalation, all capabilities dropped, a read-only root
    filesystem with an emptyDir on /tmp, no service-account token."""

    automount_service_account_token: bool = Field(
        default=False,
        description="Mount the pod's service-account token (only for graphs that call the Kubernetes API).",
    )
    writable_paths: list[Annotated[str, Field(pattern=ABSOLUTE_PATH, max_length=1024)]] = Field(
        default_factory=list,
        max_length=20,
        description="More absolute paths to mount as emptyDir (writable, lost with the pod) besides /tmp.",
    )


class LabelSelectorRequirement(Model):
    """One label selector expression."""

    key: str = Field(description="Label key.")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"] = Field(
        description="How key and values relate."
    )
    values: list[str] | None = Field(default=None, description="Values for In and NotIn.")


class LabelSelector(Model):
    """A label selector (matchLabels and matchExpressions are ANDed; empty selects everything)."""

    match_labels: StringMap | None = Field(default=None, description="Labels that must all match.")
    match_expressions: list[LabelSelectorRequirement] | None = Field(
        default=None, description="Expressions that must all hold."
    )


class IPBlock(Model):
    """A CIDR range (with exceptions) allowed to connect."""

    cidr: str = Field(pattern=CIDR, description="Range, e.g. 10.0.0.0/8.")
    except_: list[Annotated[str, Field(pattern=CIDR)]] | None = Field(
        default=None, alias="except", description="Ranges within cidr that are not allowed."
    )


class NetworkPeer(Model):
    """Who may connect, as a NetworkPolicy peer: a CIDR range, or pods by namespace and pod labels."""

    ip_block: IPBlock | None = Field(default=None, description="A CIDR range.")
    namespace_selector: LabelSelector | None = Field(
        default=None, description="Namespaces (with podSelector: those pods in them)."
    )
    pod_selector: LabelSelector | None = Field(
        default=None, description="Pods (in the resource's namespace unless namespaceSelector is set)."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> NetworkPeer:
        if self.ip_block is None and self.namespace_selector is None and self.pod_selector is None:
            raise ValueError("set ipBlock, namespaceSelector or podSelector")
        if self.ip_block is not None and (self.namespace_selector or self.pod_selector):
            raise ValueError("ipBlock cannot be combined with namespaceSelector or podSelector")
        return self


class NetworkPolicies(Model):
    """NetworkPolicies per deployment: only its own api-server and queue pods (and the peers the
    operator is configured with, e.g. the usage reporter and KEDA) reach its Postgres and Redis; the
    server pods accept connections on port 8000 from ingressFrom. Enforced only where the cluster's
    network plugin implements NetworkPolicy."""

    enabled: bool = Field(default=True, description="Create the NetworkPolicies.")
    ingress_from: list[NetworkPeer] = Field(
        default_factory=list,
        description="Who may connect to the server pods on port 8000 (include the ingress controller); "
        "empty: anyone.",
    )


class Security(Model):
    """Security of the pods the operator runs. The defaults meet the restricted Pod Security Standard;
    the condition PodSecurity says when the result does not, and which field makes it so."""

    server: ServerSecurity = Field(
        default_factory=ServerSecurity,
        description="The api-server and queue-worker pods.",
        json_schema_extra={"default": {}},
    )
    postgres: WorkloadSecurity = Field(
        default_factory=WorkloadSecurity,
        description="The managed Postgres pod. Defaults: UID/GID/fsGroup 999 (the postgres user of the "
        "images), restricted otherwise, read-only root with emptyDirs on /var/run/postgresql and /tmp.",
        json_schema_extra={"default": {}},
    )
    redis: WorkloadSecurity = Field(
        default_factory=WorkloadSecurity,
        description="The managed Redis pod. Defaults: UID/GID 10001, restricted, read-only root with "
        "emptyDirs on /data and /tmp.",
        json_schema_extra={"default": {}},
    )
    network_policy: NetworkPolicies = Field(
        default_factory=NetworkPolicies,
        description="NetworkPolicies of the deployment.",
        json_schema_extra={"default": {}},
    )


LangGraphPlatformSpec.model_rebuild()
LangGraphPlatform.model_rebuild()
