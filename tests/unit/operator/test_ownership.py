"""Whose is a same-named object: ours by owner reference, or by our labels when it has no controller
(a retained database Secret); anything else is a stranger's, and the reason says why."""

from __future__ import annotations

from typing import Any

import pytest
from lgp_operator.k8s.apply import NotOurs
from lgp_operator.k8s.ownership import not_ours, owned_by

LABELS = {"app.kubernetes.io/managed-by": "lgp-operator", "app.kubernetes.io/instance": "demo"}
DESIRED = {
    "kind": "Service",
    "metadata": {
        "name": "demo",
        "labels": {**LABELS, "app.kubernetes.io/part-of": "lgp"},
        "ownerReferences": [
            {"kind": "LangGraphPlatform", "name": "demo", "uid": "uid-1", "controller": True}
        ],
    },
}


def live(labels: dict[str, str] | None = None, owners: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "demo"}
    if labels is not None:
        meta["labels"] = labels
    if owners is not None:
        meta["ownerReferences"] = owners
    return {"kind": "Service", "metadata": meta}


OURS = {"kind": "LangGraphPlatform", "name": "demo", "uid": "uid-1", "controller": True}
PREVIOUS = {"kind": "LangGraphPlatform", "name": "demo", "uid": "uid-0", "controller": True}
HELM = {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "demo"}


@pytest.mark.parametrize(
    ("obj", "why"),
    [
        (live(LABELS, [OURS]), None),
        (live(None, [OURS]), None),  # our owner reference is enough
        (live(LABELS), None),  # no controller, our labels: a retained database Secret
        (live(LABELS, [{"kind": "ConfigMap", "name": "x", "uid": "u9"}]), None),  # not a controller
        (live(), "has no owner reference to this LangGraphPlatform and is not labelled"),
        (
            live(HELM),
            "is not labelled app.kubernetes.io/managed-by=lgp-operator, app.kubernetes.io/instance=demo",
        ),
        (live({**LABELS, "app.kubernetes.io/instance": "other"}), "not labelled"),
        (
            live(LABELS, [PREVIOUS]),
            "controlled by LangGraphPlatform 'demo'",
        ),  # a deleted one's, not yet collected
        (
            live(None, [{"kind": "Deployment", "name": "web", "uid": "u2", "controller": True}]),
            "Deployment 'web'",
        ),
    ],
)
def test_not_ours(obj, why):
    got = not_ours(obj, DESIRED, "uid-1")
    if why is None:
        assert got is None
    else:
        assert got is not None and why in got


def test_owned_by():
    assert owned_by(live(None, [OURS]), "uid-1")
    assert not owned_by(live(None, [PREVIOUS]), "uid-1")
    assert not owned_by(live(), "uid-1")


def test_refusal_names_the_object_and_what_to_do():
    e = NotOurs("Service", "ns", "demo", "it is controlled by Deployment 'web'")
    assert str(e) == (
        "Service 'demo' in namespace 'ns' already exists and is not ours "
        "(it is controlled by Deployment 'web'): left alone; "
        "delete or rename it, or rename this LangGraphPlatform"
    )
