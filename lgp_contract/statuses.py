"""A revision's statuses and the named sets of them, each with one meaning.

    QUEUED -> AWAITING_DEPLOY -> DEPLOYING -> DEPLOYED -> REPLACED
       |            |                |
       |            +-> DEPLOY_FAILED <+
       +-> SKIPPED  (a newer revision overtook it while queued)
    QUEUED | AWAITING_DEPLOY | DEPLOYING -> INTERRUPTED (a user stopped it)

Who may make which change is the control plane's business (``control_plane/state_machine.py``); the
sets here are what the control plane, the listener and the CLI agree on.
"""

from __future__ import annotations

from enum import StrEnum


class RevisionStatus(StrEnum):
    QUEUED = "QUEUED"
    AWAITING_DEPLOY = "AWAITING_DEPLOY"
    DEPLOYING = "DEPLOYING"
    DEPLOYED = "DEPLOYED"
    DEPLOY_FAILED = "DEPLOY_FAILED"
    INTERRUPTED = "INTERRUPTED"
    SKIPPED = "SKIPPED"
    REPLACED = "REPLACED"


S = RevisionStatus

PENDING = frozenset({S.QUEUED, S.AWAITING_DEPLOY})
"""Not yet applied to a cluster. The listener reports DEPLOYING once it applied such a revision."""
IN_FLIGHT = frozenset({S.AWAITING_DEPLOY, S.DEPLOYING})
"""Handed to the listener and not finished: at most one per deployment (a unique index says so)."""
UNFINISHED = PENDING | IN_FLIGHT
"""May still deploy: what a user can interrupt, and what deleting a deployment interrupts."""
SETTLED = frozenset(S) - UNFINISHED
"""The rollout is over: DEPLOYED, or a status no listener report can change."""
TERMINAL = SETTLED - {S.DEPLOYED}
"""No status follows (a DEPLOYED revision still becomes REPLACED when a newer one deploys)."""
NEVER_DEPLOYED = frozenset({S.DEPLOY_FAILED, S.INTERRUPTED, S.SKIPPED})
"""Settled without ever serving: what a client waiting for DEPLOYED treats as failure."""
REPORTABLE = frozenset({S.DEPLOYING, S.DEPLOYED, S.DEPLOY_FAILED})
"""What a listener may report (``POST /v1/listener/revisions/{id}/status``)."""
