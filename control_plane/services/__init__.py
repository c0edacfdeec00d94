"""The control plane's operations: one unit of work each (admission, checks, the change through
``crud`` where the revision state machine runs, the audit record, one commit).

The /v1 routes, the web UI and the LangGraph-compatible API all call these and never commit on their
own, so every door into the control plane validates, audits and enforces the license the same way.
Layers, from the top: ``api`` -> ``services`` -> ``crud`` -> ``core`` (import-linter checks that
nothing runs upward).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from control_plane.core.security import SecretBox
from control_plane.crud import Principal, audit

AdmissionHook = Callable[..., None]
"""``hook(session=..., principal=..., action=..., **context)``: raises to refuse a change before it is
made (an ``HTTPException``, e.g. the license's 403). Extensions register them (``control_plane.main``)."""


@dataclass(frozen=True)
class Caller:
    """Who acts, in which session: what every operation that changes something takes."""

    session: Session
    principal: Principal
    box: SecretBox | None = None
    admission: Sequence[AdmissionHook] = ()

    def admit(self, action: str, **context: Any) -> None:
        for hook in self.admission:
            hook(session=self.session, principal=self.principal, action=action, **context)

    def secrets(self) -> SecretBox:
        if self.box is None:
            raise RuntimeError("this operation needs the secret box")
        return self.box

    def record(
        self,
        action: str,
        resource_type: str,
        resource_id: uuid.UUID | str | None,
        changes: Any = None,
        **kw: Any,
    ) -> None:
        """The audit record of this unit of work (secret values redacted)."""
        audit.record(
            self.session,
            principal=self.principal,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            changes=changes,
            **kw,
        )

    def commit(self, *fresh: Any) -> None:
        """Commit the unit of work, then reload ``fresh`` objects as stored."""
        self.session.commit()
        for obj in fresh:
            self.session.refresh(obj)
