"""Kubernetes Events (core/v1) about a LangGraphPlatform, for `kubectl describe`."""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

from .kube import Kube, KubeError

log = logging.getLogger(__name__)
INSTANCE = f"{socket.gethostname()}-{os.getpid()}"


def post_event(
    kube: Kube, involved: dict[str, Any], *, reason: str, message: str, warning: bool = False
) -> None:
    """Best effort: an Event that cannot be posted is logged, never fatal."""
    meta = involved.get("metadata", {})
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{meta.get('name', 'lgp')}.", "namespace": meta.get("namespace")},
        "involvedObject": {
            "apiVersion": involved.get("apiVersion"),
            "kind": involved.get("kind"),
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
        },
        "reason": reason,
        "message": message[:1024],
        "type": "Warning" if warning else "Normal",
        "source": {"component": "lgp-operator"},
        "reportingComponent": "lgp-operator",
        "reportingInstance": INSTANCE,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    try:
        kube.create(event)
    except KubeError as e:
        log.warning("could not post event %s: %s", reason, e)
