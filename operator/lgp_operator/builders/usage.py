"""Where a deployment's servers report their own usage: the usage component's receiver, with a
credential of the deployment's own held in a Secret (``<name>-usage``, key ``api-key``).

langgraph-api (0.11.1) posts its run and node counts every 300 s to
``<LANGSMITH_AUTH_ENDPOINT>/v1/metadata/submit`` with ``api_key`` = ``LANGSMITH_CONTROL_PLANE_API_KEY``.
That key also turns LangSmith tracing on unless ``LANGSMITH_TRACING`` is set, so it is set to false
(a user's own ``LANGSMITH_TRACING`` wins). The endpoint and the key are the operator's: a user's
variables of those names are replaced, so usage cannot be sent elsewhere or under another key.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from lgp_contract.names import USAGE_SECRET_KEY, usage_secret_name

from ..settings import OperatorSettings
from .common import Platform, metadata

USAGE_ENDPOINT_ENV = "LANGSMITH_AUTH_ENDPOINT"
USAGE_KEY_ENV = "LANGSMITH_CONTROL_PLANE_API_KEY"
TRACING_ENV = "LANGSMITH_TRACING"


def new_usage_key() -> str:
    return secrets.token_urlsafe(32)


def build_usage_secret(cr: Platform, settings: OperatorSettings, key: str) -> dict[str, Any]:
    """The deployment's usage credential (the usage component reads it to know whose report it is)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(cr, usage_secret_name(cr.name), "usage"),
        "type": "Opaque",
        "data": {USAGE_SECRET_KEY: base64.b64encode(key.encode()).decode()},
    }


def usage_env(cr: Platform, settings: OperatorSettings, env: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``env`` with the usage reporting variables (ours replace a user's of the same name)."""
    if not settings.usage_receiver_url:
        return env
    ours: list[dict[str, Any]] = [
        {"name": USAGE_ENDPOINT_ENV, "value": settings.usage_receiver_url},
        {
            "name": USAGE_KEY_ENV,
            "valueFrom": {"secretKeyRef": {"name": usage_secret_name(cr.name), "key": USAGE_SECRET_KEY}},
        },
    ]
    names = {e["name"] for e in ours}
    out = [e for e in env if e["name"] not in names] + ours
    if not any(e["name"] == TRACING_ENV for e in out):
        out.append({"name": TRACING_ENV, "value": "false"})
    return out
