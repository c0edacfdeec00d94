"""The UI's forms, parsed and validated into the API's own models (``DeploymentCreate``,
``RevisionCreate``), with each error mapped onto the form field a person has to correct.

An error names the field and the reason, never the value (it may be a secret), and a regular
expression is said in plain words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from control_plane.models import DeploymentCreate, RevisionCreate, validation_errors

# the create form's fields, in the order the page shows them; a 422's loc maps onto one of them
FORM_FIELDS = (
    "name",
    "type",
    "image",
    "image_pull_secrets",
    "listener_id",
    "namespace",
    "replicas",
    "ingress_host",
    "env",
    "secrets",
    "labels",
    "service_account",
    "kubernetes",
)
LOC_TO_FIELD = {"resources": "replicas", "ingress": "ingress_host", "database": "env", "redis": "env"}
KUBERNETES_FIELDS = {"labels": "labels", "serviceAccount": "service_account"}
Errors = Sequence[tuple[Sequence[Any], str]]


def field_errors(errors: Errors, default: str) -> dict[str, str]:
    """(loc, message) pairs as {form field: message}; the first error of a field wins."""
    out: dict[str, str] = {}
    for loc, msg in errors:
        parts = [p for p in loc if p != "body"]
        head = str(parts[0]) if parts else default
        field = LOC_TO_FIELD.get(head, head if head in FORM_FIELDS else default)
        if head == "kubernetes":  # the YAML box, or the field of its own (labels, service account)
            field = KUBERNETES_FIELDS.get(str(parts[1]) if len(parts) > 1 else "", "kubernetes")
            where = ".".join(str(p) for p in parts[1:] if isinstance(p, int | str))
            out.setdefault(field, f"{where}: {msg}" if where else msg)
            continue
        where = ".".join(str(p) for p in parts[1:] if isinstance(p, int | str) and not str(p).startswith("["))
        text = f"{where}: {msg}" if where and field in ("env", "secrets") else msg
        out.setdefault(field, text)
    return out


def _lines(text: str, field: str, errors: dict[str, str]) -> dict[str, str]:
    """NAME=value lines; a line without "=" is an error naming its line number (not its content)."""
    out: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            errors.setdefault(field, f"line {n}: write NAME=value")
            continue
        if name.strip() in out:
            errors.setdefault(field, f"line {n}: {name.strip()} is given twice")
            continue
        out[name.strip()] = value
    return out


def _deployment_body(form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {k: form.get(k, "").strip() for k in ("name", "type", "image", "namespace")}
    body["listener_id"] = form.get("listener_id", "").strip() or None
    replicas = form.get("replicas", "").strip()
    if replicas:
        if replicas.isdigit():
            body["resources"] = {"server": {"replicas": int(replicas)}}
        else:
            errors["replicas"] = "must be a whole number"
    pull = [s.strip() for s in form.get("image_pull_secrets", "").split(",") if s.strip()]
    if pull:
        body["image_pull_secrets"] = pull
    host = form.get("ingress_host", "").strip()
    if host:
        body["ingress"] = {"host": host}
    env_vars = _lines(form.get("env", ""), "env", errors)
    body["env"] = [{"name": k, "value": v} for k, v in env_vars.items()]
    body["secrets"] = _lines(form.get("secrets", ""), "secrets", errors)
    k8s = _kubernetes(form, errors)
    if k8s:
        body["kubernetes"] = k8s
    return body


def _kubernetes(form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """The Kubernetes settings: the YAML box (the custom resource's shape), then labels (KEY=VALUE lines)
    and the service account checkbox on top."""
    out: dict[str, Any] = {}
    text = form.get("kubernetes", "").strip()
    if text:
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError:
            errors["kubernetes"] = "not valid YAML"
            return {}
        if not isinstance(loaded, dict):
            errors["kubernetes"] = (
                "write a mapping: labels, serviceAccount, placement, apiServer, queue, keda"
            )
            return {}
        out = loaded
    labels = _lines(form.get("labels", ""), "labels", errors)
    if labels:
        out["labels"] = {**(out.get("labels") or {}), **labels}
    if form.get("service_account") == "on":
        out["serviceAccount"] = {**(out.get("serviceAccount") or {}), "create": True}
    return out


def parse_deployment(form: dict[str, str]) -> tuple[DeploymentCreate | None, dict[str, str], bool]:
    """The new-deployment form as a ``DeploymentCreate``, or None and the errors by field; the flag says
    whether secrets were typed (they are never rendered back, so the page asks for them again)."""
    errors: dict[str, str] = {}
    raw = _deployment_body(form, errors)
    had_secrets = bool(raw["secrets"])
    if errors:
        return None, errors, had_secrets
    try:
        return DeploymentCreate.model_validate(raw), {}, had_secrets
    except ValidationError as e:
        return None, field_errors(validation_errors(e), "name"), had_secrets


def parse_revision(form: dict[str, str]) -> tuple[RevisionCreate | None, str, str | None]:
    """The new-revision form: (the body or None, the image typed, the image field's error)."""
    image = form.get("image", "").strip()
    try:
        return RevisionCreate.model_validate({"image": image or None}), image, None
    except ValidationError as e:
        return None, image, field_errors(validation_errors(e), "image").get("image", "invalid")
