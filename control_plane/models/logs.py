"""Logs: a log request waiting for its listener (a row lives seconds: asked, handed out, answered,
read), and what the API answers with.

Container logs stay in the cluster. When someone asks, the control plane stores a request, the
deployment's listener takes it over its long-poll (``GET /v1/listener/log-requests``), reads the
pods' logs and posts the lines (redacted) back; the waiting request reads them, deletes the row and
answers, merged with the deployment's events."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from .common import timestamp, utcnow


class LogRequestState(StrEnum):
    PENDING = "pending"  # waits for the listener
    TAKEN = "taken"  # handed to the listener
    ANSWERED = "answered"  # lines (or an error) posted


class LogRequestRecord(SQLModel, table=True):
    __tablename__ = "log_request"
    __table_args__ = (sa.Index("ix_log_request_listener_id_state", "listener_id", "state"),)
    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = SQLField(foreign_key="tenant.id", ondelete="CASCADE")
    listener_id: uuid.UUID = SQLField(foreign_key="listener.id", ondelete="CASCADE")
    deployment_id: uuid.UUID = SQLField(foreign_key="deployment.id", ondelete="CASCADE")
    query: dict[str, Any] = SQLField(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    """``lgp_contract.protocol.LogQuery``."""
    state: str = SQLField(default=LogRequestState.PENDING, max_length=16)
    answer: dict[str, Any] | None = SQLField(default=None, sa_column=sa.Column(JSONB, nullable=True))
    """``lgp_contract.protocol.LogAnswer`` once answered."""
    created_at: datetime = timestamp(default_factory=utcnow, index=True)
    expires_at: datetime = timestamp()
    answered_at: datetime | None = timestamp(default=None)


LogSource = Literal["container", "event", "notice"]
ContainerLogs = Literal["complete", "truncated", "unavailable"]


class LogEntry(BaseModel):
    """A line: from a container (``pod``, ``container``), or one of the deployment's events."""

    id: str = Field(description="Stable: the same line fetched again has the same id.")
    timestamp: datetime
    level: str | None = Field(description="DEBUG, INFO, WARNING, ERROR or CRITICAL; null: none stated.")
    message: str = Field(description="Secret values of the deployment are replaced by [redacted].")
    source: LogSource = Field(
        description="container: a container's log; event: a Kubernetes event or a revision transition; "
        "notice: lgp's own word on the stream (follow)."
    )
    pod: str | None = None
    container: str | None = None
    previous: bool = Field(default=False, description="From the container's run before its last restart.")
    revision_id: str | None = Field(default=None, description="The revision the line belongs to, if known.")


class LogsPublic(BaseModel):
    data: list[LogEntry] = Field(description="Newest first (order=desc) or oldest first (order=asc).")
    containers: ContainerLogs = Field(
        description="complete: the listener read the containers' logs; truncated: a limit cut lines; "
        "unavailable: only events (see notice)."
    )
    notice: str | None = Field(description="Why container lines are missing or cut, in words.")
