"""Pure window arithmetic, idempotency keys and the beacon payload (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lgp_contract.usage import (
    MEASURE_NODES,
    MEASURE_RUNS,
    TAG_DEPLOYMENT,
    TAG_DEPLOYMENT_ID,
    TAG_NAMESPACE,
    usage_key,
)

TAG_REPORTER = "lgp.usage.reporter"
REPORTER_ID = "lgp-usage/1"


def epoch(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return int(dt.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def floor_window(dt: datetime, window_seconds: int) -> datetime:
    """The start of the window holding ``dt``; windows are aligned to the Unix epoch (hours on the hour)."""
    return from_epoch(epoch(dt) // window_seconds * window_seconds)


def last_closed_end(now: datetime, window_seconds: int, settle: timedelta) -> datetime:
    """The end of the newest window that is closed: it ended at least ``settle`` ago.

    ``settle`` covers rows committed a little after their timestamp (a run's ``created_at`` is set
    at insert, a checkpoint's ``ts`` before its write commits).
    """
    return floor_window(now - settle, window_seconds)


@dataclass(frozen=True)
class Window:
    """One deployment's counts for one closed window, as held in the buffer."""

    deployment_id: str
    deployment: str
    namespace: str
    window_start: datetime
    window_end: datetime
    runs: int
    nodes: int
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return usage_key(self.deployment_id, self.window_start)

    def payload(self, license_key: str | None) -> dict[str, Any]:
        """The body of ``POST /v1/metadata/submit``, shaped like the LangGraph server's own."""
        tags = {
            **self.tags,
            TAG_DEPLOYMENT: self.deployment,
            TAG_DEPLOYMENT_ID: self.deployment_id,
            TAG_NAMESPACE: self.namespace,
            TAG_REPORTER: REPORTER_ID,
        }
        return {
            "license": license_key,
            "from_timestamp": self.window_start.isoformat(),
            "to_timestamp": self.window_end.isoformat(),
            "tags": tags,
            "measures": {MEASURE_RUNS: self.runs, MEASURE_NODES: self.nodes},
            "logs": [],
        }
