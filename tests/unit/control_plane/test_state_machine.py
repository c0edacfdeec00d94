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


def test_the_contracts_status_sets_agree_with_the_lifecycle() -> None:
    """Each named set of lgp_contract.statuses means what the transition table says."""
    from control_plane.state_machine import TRANSITIONS
    from lgp_contract import statuses

    leaving = {current for current, _ in TRANSITIONS}
    assert frozenset(RevisionStatus) - leaving == statuses.TERMINAL  # no status follows
    interruptible = {c for (c, t), who in TRANSITIONS.items() if t == "INTERRUPTED" and Actor.USER in who}
    assert interruptible == statuses.UNFINISHED
    assert {t for (_, t), who in TRANSITIONS.items() if Actor.LISTENER in who} == statuses.REPORTABLE
    handed_over = {t for (c, t), who in TRANSITIONS.items() if c == "QUEUED" and Actor.SYSTEM in who}
    taken_up = {t for (c, t), who in TRANSITIONS.items() if c == "AWAITING_DEPLOY" and Actor.LISTENER in who}
    assert (handed_over | taken_up) & statuses.UNFINISHED == statuses.IN_FLIGHT
    assert statuses.PENDING == statuses.UNFINISHED - statuses.REPORTABLE  # no listener report yet
    assert frozenset(RevisionStatus) - statuses.UNFINISHED == statuses.SETTLED
    assert statuses.PENDING | statuses.IN_FLIGHT == statuses.UNFINISHED
    assert statuses.NEVER_DEPLOYED < statuses.TERMINAL


def test_a_listener_reports_exactly_the_reportable_statuses() -> None:
    from typing import get_args

    from lgp_contract.protocol import StatusReport
    from lgp_contract.statuses import REPORTABLE

    assert set(get_args(StatusReport.model_fields["status"].annotation)) == REPORTABLE
