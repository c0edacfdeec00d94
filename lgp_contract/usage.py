"""The usage (beacon) protocol's names: what the usage reporter sends and the control plane reads.

``POST /v1/metadata/submit`` takes ``{license, from_timestamp, to_timestamp, tags{...},
measures{...}, logs[]}`` (LangGraph Platform's beacon payload) with an ``Idempotency-Key`` header,
so a resend of one deployment's window replaces the stored one instead of adding to it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

VERIFY_PATH = "/v1/beacon/verify"
SUBMIT_PATH = "/v1/metadata/submit"
IDEMPOTENCY_HEADER = "Idempotency-Key"

MEASURE_RUNS = "langgraph.platform.runs"
MEASURE_NODES = "langgraph.platform.nodes"
TAG_DEPLOYMENT = "langgraph.platform.deployment"
TAG_DEPLOYMENT_ID = "langgraph.platform.deployment_id"
TAG_NAMESPACE = "langgraph.platform.namespace"
TAG_TENANT = "langgraph.platform.tenant"


def usage_key(deployment: str, window_start: datetime) -> str:
    """The idempotency key of one deployment's window (sent as the Idempotency-Key header).

    ``deployment`` is the deployment's id (its name when no id is known). Stable across restarts,
    so a resend replaces instead of adding.
    """
    start = window_start.astimezone(UTC).isoformat()
    return hashlib.sha256(f"lgp-usage/v1|{deployment}|{start}".encode()).hexdigest()
