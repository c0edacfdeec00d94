"""What every model module shares: the constraint naming convention, timestamps, the formats the API
checks input with (patterns from ``lgp_contract.formats``), and the error body."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from sqlmodel import Field, SQLModel

from lgp_contract.formats import (
    CPU_QUANTITY,
    DNS_LABEL,
    DNS_SUBDOMAIN,
    MEMORY_QUANTITY,
    PINNED_IMAGE_REF,
    PORTABLE_ENV_NAME,
)
from lgp_contract.names import MAX_NAME

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# ----------------------------------------------------------------------------------------- formats
Name = Annotated[str, StringConstraints(min_length=1, max_length=53, pattern=DNS_LABEL)]
# a new deployment's name: the operator names its children after it, and their suffixes need room
DeploymentName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME, pattern=DNS_LABEL)]
Namespace = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=DNS_LABEL)]
Image = Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=PINNED_IMAGE_REF)]
Cpu = Annotated[str, StringConstraints(max_length=16, pattern=CPU_QUANTITY)]
Memory = Annotated[str, StringConstraints(max_length=16, pattern=MEMORY_QUANTITY)]
EnvName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=PORTABLE_ENV_NAME)]
SecretValue = Annotated[str, StringConstraints(max_length=32_768)]
SecretRefName = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN)]
HostName = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN)]
Path = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
]
PostgresUri = Annotated[str, StringConstraints(max_length=2048, pattern=r"^postgres(?:ql)?://\S+$")]
RedisUri = Annotated[str, StringConstraints(max_length=2048, pattern=r"^rediss?://\S+$")]


def utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp(**kw: Any) -> Any:
    """A timezone-aware timestamp column."""
    return Field(sa_type=sa.DateTime(timezone=True), **kw)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ----------------------------------------------------------------------------------------- errors
class ErrorDetail(BaseModel):
    loc: list[str | int] = Field(default_factory=list)
    msg: str
    type: str


class ErrorResponse(BaseModel):
    detail: str | list[ErrorDetail]


# ----------------------------------------------------------------------------------------- formats in words
DNS_LABEL_HINT = (
    "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit"
)
PATTERN_HINTS = {
    "name": DNS_LABEL_HINT,
    "namespace": DNS_LABEL_HINT,
    "image": "must be an image repository with a tag or a digest, e.g. registry.example.com/team/agent:1.0",
    "ingress": "must be a DNS name, e.g. agent.example.com",
    "env": "a variable name takes letters, digits and '_', and does not start with a digit",
    "secrets": "a variable name takes letters, digits and '_', and does not start with a digit",
    "image_pull_secrets": "must be a Secret's name: lowercase letters, digits, '-' and '.'",
    "secret_refs": "must be a Secret's name: lowercase letters, digits, '-' and '.'",
}
"""A format a field failed, in words (the API's models say it as a regular expression)."""


def validation_errors(exc: ValidationError) -> list[tuple[Sequence[Any], str]]:
    """(loc, message) of each error: never the input (it may hold a secret value); a pattern in words."""
    out: list[tuple[Sequence[Any], str]] = []
    for e in exc.errors():
        loc = e.get("loc", ())
        msg = e.get("msg", "invalid")
        if e.get("type") == "string_pattern_mismatch" and loc and str(loc[0]) in PATTERN_HINTS:
            msg = PATTERN_HINTS[str(loc[0])]
        out.append((loc, msg))
    return out
