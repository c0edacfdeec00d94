"""What every builder shares: the parsed resource, names, labels, owner references, served versions."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from lgp_contract import names
from lgp_contract.names import ANNOTATION_REVISION, MAX_NAME
from lgp_contract.resource import API_VERSION, KIND, LangGraphPlatformSpec, Revision

MANAGER = "lgp-operator"
ANNOTATION_PREFIX = "lgp.dev"
REVISION_ANNOTATION = ANNOTATION_REVISION
REVISION_NUMBER_ANNOTATION = "lgp.dev/revision-number"
RETAINED_LABEL = "lgp.dev/retained"
PORT = 8000


class InvalidSpec(ValueError):
    """The resource cannot be reconciled as written; the message names the fields and the reasons."""

    reason = "InvalidSpec"


class Unavailable(InvalidSpec):
    """The cluster lacks what the operator's settings need (an API not served): the message says which;
    retried, since installing it fixes the resource without a change."""

    reason = "RoutingUnavailable"


@dataclass(frozen=True)
class Capabilities:
    """API versions the server offers (from discovery). The defaults are the newest, used to validate
    generated manifests against current Kubernetes schemas."""

    pdb_api: str | None = "policy/v1"
    hpa_api: str | None = "autoscaling/v2"
    keda: bool = True
    http_route_api: str | None = "gateway.networking.k8s.io/v1"
    virtual_service_api: str | None = "networking.istio.io/v1"


NEWEST = Capabilities()


@dataclass(frozen=True)
class Platform:
    """One LangGraphPlatform object, parsed: what the builders take as ``cr``."""

    name: str
    namespace: str
    uid: str
    spec: LangGraphPlatformSpec
    generation: int = 1
    labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Platform:
        meta = body.get("metadata") or {}
        name = str(meta.get("name", ""))
        problems: list[str] = []
        if len(name) > MAX_NAME:
            problems.append(
                f"metadata.name: {len(name)} characters; at most {MAX_NAME} (children add suffixes)"
            )
        try:
            spec = LangGraphPlatformSpec.model_validate(body.get("spec") or {})
        except ValidationError as e:
            problems += [_describe(err) for err in e.errors()]
            spec = None
        if problems or spec is None:
            raise InvalidSpec("; ".join(problems))
        return cls(
            name=name,
            namespace=str(meta.get("namespace", "")),
            uid=str(meta.get("uid", "")),
            spec=spec,
            generation=int(meta.get("generation") or 1),
            labels=dict(meta.get("labels") or {}),
        )


def _describe(err: Any) -> str:
    loc = ".".join(str(p) for p in ("spec", *err["loc"]))
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{loc}: {msg}"


# ---------------------------------------------------------------- names (spelled in lgp_contract.names)
def api_server_name(cr: Platform) -> str:
    return names.api_server_name(cr.name)


def queue_name(cr: Platform) -> str:
    return names.queue_name(cr.name)


def service_name(cr: Platform) -> str:
    return names.service_name(cr.name)


def postgres_name(cr: Platform) -> str:
    return names.postgres_name(cr.name)


def redis_name(cr: Platform) -> str:
    return names.redis_name(cr.name)


# ---------------------------------------------------------------- labels and metadata
def selector_labels(cr: Platform, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "langgraph",
        names.LABEL_INSTANCE: cr.name,
        names.LABEL_COMPONENT: component,
    }


def labels(cr: Platform, component: str) -> dict[str, str]:
    return {
        **selector_labels(cr, component),
        "app.kubernetes.io/managed-by": MANAGER,
        "app.kubernetes.io/part-of": "lgp",
    }


def instance_selector(cr: Platform) -> str:
    """Label selector of everything the operator made for this resource."""
    return f"app.kubernetes.io/instance={cr.name},app.kubernetes.io/managed-by={MANAGER}"


def owner_reference(cr: Platform) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": cr.name,
        "uid": cr.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def child_labels(cr: Platform, component: str) -> dict[str, str]:
    """spec.labels, then ours (ours win: app.kubernetes.io/name, instance, component, managed-by, part-of)."""
    return {**cr.spec.labels, **labels(cr, component)}


def child_annotations(cr: Platform, own: dict[str, str] | None = None) -> dict[str, str]:
    """spec.annotations, then the object's own (ours win, e.g. lgp.dev/revision)."""
    return {**cr.spec.annotations, **(own or {})}


def template_metadata(cr: Platform, component: str, name: str | None = None) -> dict[str, Any]:
    """Metadata of a pod template or volume claim template: spec.labels and spec.annotations with ours."""
    meta: dict[str, Any] = {"labels": child_labels(cr, component)}
    if name:
        meta = {"name": name, **meta}
    if cr.spec.annotations:
        meta["annotations"] = child_annotations(cr)
    return meta


def metadata(
    cr: Platform, name: str, component: str, *, owned: bool = True, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": cr.namespace, "labels": child_labels(cr, component)}
    merged = child_annotations(cr, annotations)
    if merged:
        meta["annotations"] = merged
    if owned:
        meta["ownerReferences"] = [owner_reference(cr)]
    return meta


# ---------------------------------------------------------------- revisions
def _template_hash(cr: Platform) -> str:
    pod_relevant = cr.spec.model_dump(
        mode="json",
        exclude={
            "revision": True,
            "autoscaling": True,
            "ingress": True,
            "suspend": True,
            "api_server": {"replicas"},
            "queue": {"replicas"},
            "security": {"network_policy"},
        },
    )
    digest = hashlib.sha256(json.dumps(pod_relevant, sort_keys=True).encode()).hexdigest()
    return digest[:10]


def target_revision(cr: Platform) -> Revision:
    """The revision the spec asks for: spec.revision, or ``tmpl-<hash>`` of what shapes the pods."""
    if cr.spec.revision is not None:
        return cr.spec.revision
    return Revision(id=f"tmpl-{_template_hash(cr)}")


def quantity_map(obj: Any) -> dict[str, Any]:
    """A pydantic model (Resources, ResourceList) as a plain dict without empty members."""
    if obj is None:
        return {}
    data = obj.wire()
    return {k: v for k, v in data.items() if v not in (None, {}, [])}
