"""The revision lifecycle: every allowed and every refused (status, status, actor) edge."""

from __future__ import annotations

import itertools

import pytest

from control_plane.state_machine import (
    Actor,
    RevisionStatus,
    TransitionRefused,
    can_transition,
    check_transition,
)

# Written out by hand from the lifecycle, independent of the module's table.
ALLOWED = {
    ("QUEUED", "AWAITING_DEPLOY", "system"),
    ("QUEUED", "SKIPPED", "system"),
    ("QUEUED", "INTERRUPTED", "user"),
    ("AWAITING_DEPLOY", "DEPLOYING", "listener"),
    ("AWAITING_DEPLOY", "DEPLOY_FAILED", "listener"),
    ("AWAITING_DEPLOY", "INTERRUPTED", "user"),
    ("DEPLOYING", "DEPLOYED", "listener"),
    ("DEPLOYING", "DEPLOY_FAILED", "listener"),
    ("DEPLOYING", "DEPLOY_FAILED", "system"),
    ("DEPLOYING", "INTERRUPTED", "user"),
    ("DEPLOYED", "REPLACED", "system"),
}
EDGES = list(
    itertools.product([s.value for s in RevisionStatus], [s.value for s in RevisionStatus], list(Actor))
)


def test_every_status_is_covered() -> None:
    assert {s.value for s in RevisionStatus} == {
        "QUEUED",
        "AWAITING_DEPLOY",
        "DEPLOYING",
        "DEPLOYED",
        "DEPLOY_FAILED",
        "INTERRUPTED",
        "SKIPPED",
        "REPLACED",
    }
    assert len(EDGES) == 8 * 8 * 3


@pytest.mark.parametrize(("current", "target", "actor"), sorted(ALLOWED))
def test_allowed_edge(current: str, target: str, actor: str) -> None:
    assert can_transition(current, target, Actor(actor))
    assert check_transition(current, target, Actor(actor)) == RevisionStatus(target)


@pytest.mark.parametrize(
    ("current", "target", "actor"), [(c, t, a) for c, t, a in EDGES if (c, t, a.value) not in ALLOWED]
)
def test_refused_edge(current: str, target: str, actor: Actor) -> None:
    assert not can_transition(current, target, actor)
    with pytest.raises(TransitionRefused) as info:
        check_transition(current, target, actor)
    assert current in str(info.value) and target in str(info.value)


def test_unknown_status_is_refused() -> None:
    assert not can_transition("RUNNING", "DEPLOYED", Actor.LISTENER)
    with pytest.raises(TransitionRefused):
        check_transition("DEPLOYING", "DONE", Actor.LISTENER)


def test_terminal_statuses_have_no_way_out() -> None:
    for status in ("DEPLOY_FAILED", "INTERRUPTED", "SKIPPED", "REPLACED"):
        assert not any(c == status for c, _, _ in ALLOWED)
