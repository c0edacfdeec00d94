"""Generate the LangGraphPlatform CustomResourceDefinition from the pydantic models.

pydantic's JSON schema is turned into a structural OpenAPI v3 schema: references inlined, optional
fields' ``anyOf [X, null]`` collapsed to ``X``, titles dropped, ``Literal`` choices as ``enum``,
descriptions kept so that ``kubectl explain`` is useful.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

from pydantic import BaseModel

from lgp_contract.resource import (
    GROUP,
    KIND,
    PLURAL,
    SHORT_NAMES,
    SINGULAR,
    VERSION,
    LangGraphPlatform,
    LangGraphPlatformSpec,
    LangGraphPlatformStatus,
)

CRD_NAME = f"{PLURAL}.{GROUP}"
KEEP = {
    "type",
    "description",
    "default",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "format",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "anyOf",
    "nullable",
}


def _join(outer: str, inner: str) -> str:
    """The field's own words, then the type's docstring: `kubectl explain` shows both, once."""
    if not inner or inner in outer:
        return outer
    if inner.startswith(outer.rstrip(".")):
        return inner
    return f"{outer} {inner}"


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_resolve(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = copy.deepcopy(defs[node["$ref"].split("/")[-1]])
        extra = {k: v for k, v in node.items() if k != "$ref"}
        inner = " ".join(str(target.get("description", "")).split())
        target.update(extra)
        if extra.get("description"):
            target["description"] = _join(extra["description"], inner)
        return _resolve(target, defs)
    return {k: _resolve(v, defs) for k, v in node.items()}


def _structural(node: dict[str, Any]) -> dict[str, Any]:
    """One schema node in the structural form the API server accepts."""
    node = dict(node)
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        options = [o for o in node.pop("anyOf") if o.get("type") != "null"]
        if len(options) != 1:
            raise ValueError(f"cannot express a union of {options} structurally")
        merged = dict(options[0])
        inner = " ".join(str(merged.get("description", "")).split())
        merged.update(node)  # the outer description/default win
        if node.get("description"):
            merged["description"] = _join(node["description"], inner)
        node = merged
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if "enum" in node and "type" not in node:
        node["type"] = "string"
    if node.get("default") in (None, ""):
        # Kubernetes 1.20 reads an empty-string default as null and rejects the CRD; "" is the
        # models' default anyway.
        node.pop("default", None)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in KEEP:
            continue
        if key == "properties":
            out[key] = {name: _structural(sub) for name, sub in value.items()}
        elif key == "description":
            out[key] = " ".join(
                str(value).replace("``", "").split()
            )  # docstring markup reads badly in explain
        elif key == "items":
            out[key] = _structural(value)
        elif key == "additionalProperties":
            if isinstance(value, dict):
                out[key] = _structural(value)
            elif value is False:
                continue  # structural schemas forbid false; pruning drops unknown fields anyway
            else:
                out[key] = value
        else:
            out[key] = value
    if out.get("x-kubernetes-preserve-unknown-fields"):
        out.pop("additionalProperties", None)
        out.pop("properties", None)
    if "required" in out and not out["required"]:
        del out["required"]
    return out


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of one model (camelCase, as on the wire)."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    return _structural(_resolve(raw, defs))


def _doc(model: type[BaseModel]) -> str:
    return " ".join(inspect.cleandoc(model.__doc__ or "").replace("``", "").split())


def openapi_schema() -> dict[str, Any]:
    spec = model_schema(LangGraphPlatformSpec)
    status = model_schema(LangGraphPlatformStatus)
    spec["description"] = _doc(LangGraphPlatformSpec)
    status["description"] = _doc(LangGraphPlatformStatus)
    return {
        "type": "object",
        "description": _doc(LangGraphPlatform),
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string", "description": "APIVersion of this object: lgp.dev/v1alpha1."},
            "kind": {"type": "string", "description": "Kind of this object: LangGraphPlatform."},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }


PRINTER_COLUMNS = [
    {"name": "Image", "type": "string", "jsonPath": ".spec.image", "description": "Server image."},
    {
        "name": "Revision",
        "type": "string",
        "jsonPath": ".status.liveRevision.id",
        "description": "Live revision.",
    },
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        "description": "Ready condition.",
    },
    {"name": "Endpoint", "type": "string", "jsonPath": ".status.endpoint", "description": "Server URL."},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def build_crd() -> dict[str, Any]:
    """The whole CustomResourceDefinition (apiextensions.k8s.io/v1)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": CRD_NAME,
            "labels": {"app.kubernetes.io/name": "lgp", "app.kubernetes.io/part-of": "lgp"},
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": SINGULAR,
                "shortNames": SHORT_NAMES,
                "categories": ["all", "lgp"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                    "schema": {"openAPIV3Schema": openapi_schema()},
                }
            ],
        },
    }
