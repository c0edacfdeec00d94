"""Revision lifecycle: every allowed status change, and who may make it, in one table.

The statuses and their named sets (in flight, settled, ...) are the contract's
(``lgp_contract/statuses.py``, where the lifecycle is drawn). The system promotes, skips, replaces
and enforces the deploy deadline; the listener reports what the cluster did; users interrupt.
Anything else is refused (HTTP 409).
"""

from __future__ import annotations

from enum import StrEnum

from lgp_contract.statuses import IN_FLIGHT, RevisionStatus

__all__ = [
    "IN_FLIGHT",
    "TRANSITIONS",
    "Actor",
    "RevisionStatus",
    "TransitionRefused",
    "can_transition",
    "check_transition",
]


class Actor(StrEnum):
    SYSTEM = "system"
    LISTENER = "listener"
    USER = "user"


S = RevisionStatus
TRANSITIONS: dict[tuple[RevisionStatus, RevisionStatus], frozenset[Actor]] = {
    (S.QUEUED, S.AWAITING_DEPLOY): frozenset({Actor.SYSTEM}),
    (S.QUEUED, S.SKIPPED): frozenset({Actor.SYSTEM}),
    (S.QUEUED, S.INTERRUPTED): frozenset({Actor.USER}),
    (S.AWAITING_DEPLOY, S.DEPLOYING): frozenset({Actor.LISTENER}),
    (S.AWAITING_DEPLOY, S.DEPLOY_FAILED): frozenset({Actor.LISTENER}),
    (S.AWAITING_DEPLOY, S.INTERRUPTED): frozenset({Actor.USER}),
    (S.DEPLOYING, S.DEPLOYED): frozenset({Actor.LISTENER}),
    (S.DEPLOYING, S.DEPLOY_FAILED): frozenset({Actor.LISTENER, Actor.SYSTEM}),
    (S.DEPLOYING, S.INTERRUPTED): frozenset({Actor.USER}),
    (S.DEPLOYED, S.REPLACED): frozenset({Actor.SYSTEM}),
}


class TransitionRefused(Exception):
    """A status change the lifecycle does not allow (HTTP 409)."""

    def __init__(self, current: str, target: str, actor: Actor) -> None:
        self.current, self.target, self.actor = current, target, actor
        super().__init__(f"a revision in status {current} cannot become {target} (by {actor.value})")


def can_transition(current: str, target: str, actor: Actor) -> bool:
    try:
        key = (RevisionStatus(current), RevisionStatus(target))
    except ValueError:
        return False
    return actor in TRANSITIONS.get(key, frozenset())


def check_transition(current: str, target: str, actor: Actor) -> RevisionStatus:
    """The target status if ``actor`` may move a revision from ``current`` to it; else TransitionRefused."""
    if not can_transition(current, target, actor):
        raise TransitionRefused(current, target, actor)
    return RevisionStatus(target)
