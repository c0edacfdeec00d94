"""Pure translation: one desired deployment from the control plane -> the Secret and the
LangGraphPlatform object the listener applies. No I/O.

The control plane's revision spec (docs/listener-protocol.md) is already camelCase and close to the
CR spec; the few differences are mapped here, and the result is validated against the CR's own
model so a bad spec is refused with the field that is wrong, before anything is applied.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from lgp_operator.api import API_VERSION, KIND, LangGraphPlatformSpec

FIELD_MANAGER = "lgp-listener"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_DEPLOYMENT_ID = "lgp.dev/deployment-id"
LABEL_LISTENER_ID = "lgp.dev/listener-id"
ANNOTATION_SPEC_HASH = "lgp.dev/listener-spec-hash"


class TranslationError(ValueError):
    """The desired state cannot become a valid LangGraphPlatform; ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class DesiredObjects:
    deployment_id: str
    name: str
    namespace: str
    revision_id: str | None
    secret: dict[str, Any] | None
    platform: dict[str, Any]


def _backing(kind: str, src: dict[str, Any] | None) -> dict[str, Any]:
    """{type: managed|external, managed: {...} | external: {uriSecretRef: {name, key}}} -> CR shape."""
    if not src:
        return {"managed": {}}
    if src.get("type") == "external":
        ref = (src.get("external") or {}).get("uriSecretRef") or (src.get("external") or {}).get("secretRef")
        if not ref or not ref.get("name"):
            raise TranslationError(
                f"spec.{kind}.external.uriSecretRef", "an external one needs a Secret reference"
            )
        return {"external": {"secretRef": {"name": ref["name"], "key": ref.get("key", "uri")}}}
    return {"managed": dict(src.get("managed") or {})}


def to_platform_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The control plane's revision spec -> the LangGraphPlatform spec (camelCase, validated)."""
    out: dict[str, Any] = {}
    for key in (
        "image",
        "imagePullPolicy",
        "imagePullSecrets",
        "revision",
        "env",
        "apiServer",
        "queue",
        "autoscaling",
        "ingress",
        "placement",
        "suspend",
        "terminationGracePeriodSeconds",
        "preStopDrainSeconds",
    ):
        if spec.get(key) is not None:
            out[key] = spec[key]
    if "database" in spec:
        out["database"] = _backing("database", spec["database"])
    if "redis" in spec:
        out["redis"] = _backing("redis", spec["redis"])
    ingress = out.get("ingress")
    if isinstance(ingress, dict):
        out["ingress"] = {k: v for k, v in ingress.items() if v is not None}
    secret_refs = [
        e["secretRef"]["name"] for e in spec.get("envFrom", []) if e.get("secretRef", {}).get("name")
    ]
    if "envFromSecret" in spec:
        secret_refs.insert(0, spec["envFromSecret"])
    if secret_refs:
        out["envFromSecret"] = secret_refs[0]
        if len(secret_refs) > 1:
            out["envFromSecrets"] = secret_refs[1:]
    try:
        model = LangGraphPlatformSpec.model_validate(out)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise TranslationError(f"spec.{loc}" if loc else "spec", first["msg"]) from None
    return model.model_dump(by_alias=True, exclude_none=True, exclude_unset=True, mode="json")


def spec_hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def desired_objects(deployment: dict[str, Any], listener_id: str) -> DesiredObjects:
    """Everything the listener applies for one (not deleted) deployment of the desired state."""
    rev = deployment.get("revision")
    if not rev:
        raise TranslationError("revision", "the deployment has no revision to deploy yet")
    name, namespace = deployment["name"], deployment["namespace"]
    labels = {
        LABEL_MANAGED_BY: FIELD_MANAGER,
        LABEL_DEPLOYMENT_ID: str(deployment["id"]),
        LABEL_LISTENER_ID: str(listener_id),
    }
    spec = to_platform_spec(rev["spec"])
    secret = None
    if deployment.get("secret"):
        s = deployment["secret"]
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": s["name"],
                "namespace": namespace,
                "labels": labels,
                "annotations": {ANNOTATION_SPEC_HASH: spec_hash(s["data"])},
            },
            "stringData": dict(s["data"]),
        }
    platform = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": {ANNOTATION_SPEC_HASH: spec_hash(spec)},
        },
        "spec": spec,
    }
    return DesiredObjects(
        deployment_id=str(deployment["id"]),
        name=name,
        namespace=namespace,
        revision_id=str(rev["id"]),
        secret=secret,
        platform=platform,
    )


def revision_outcome(obj: dict[str, Any]) -> tuple[str, str | None, str | None] | None:
    """What a LangGraphPlatform's status says about the revision in its spec.

    DEPLOYED: Ready=True, liveRevision.id == spec.revision.id, observedGeneration current.
    DEPLOY_FAILED: Degraded=True for the current generation, with the condition's reason and message.
    None: still rolling out (or the operator has not seen this generation yet).
    """
    spec_rev = ((obj.get("spec") or {}).get("revision") or {}).get("id")
    status = obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation")
    if status.get("observedGeneration") != generation:
        return None
    conds = {c.get("type"): c for c in status.get("conditions") or []}
    degraded = conds.get("Degraded")
    if degraded and degraded.get("status") == "True":
        return "DEPLOY_FAILED", degraded.get("reason"), degraded.get("message")
    ready = conds.get("Ready")
    live = (status.get("liveRevision") or {}).get("id")
    if ready and ready.get("status") == "True" and spec_rev and live == spec_rev:
        return "DEPLOYED", ready.get("reason"), ready.get("message")
    return None
