"""The listener's pure side: the desired state read into the contract's messages, the objects applied
for a deployment (the spec as sent, plus labels), and what a LangGraphPlatform's status says."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from lgp_operator.k8s.apply import is_subset
from lgp_operator.listener.desired import (
    DeltaMismatch,
    Unreadable,
    UnreadableState,
    desired_objects,
    entry_id,
    merge,
    parse,
)
from lgp_operator.listener.observe import observed, revision_outcome

from lgp_contract.names import LABEL_DEPLOYMENT_ID
from lgp_contract.protocol import DesiredDeployment

REV = "6f1c2a9e-0000-4000-8000-000000000001"
DEP = "6f1c2a9e-0000-4000-8000-0000000000d1"
LISTENER = "6f1c2a9e-0000-4000-8000-0000000000a1"


def _spec(**over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "image": "registry.example/agent:1.0",
        "revision": {"id": REV, "number": 3},
        "env": [{"name": "MODE", "value": "prod"}],
        "envFromSecret": "agent-lgp-secrets",
        "apiServer": {"replicas": 2, "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}},
        "queue": {"enabled": True, "replicas": 1, "jobsPerWorker": 10},
        "autoscaling": {"enabled": False, "minReplicas": 2, "maxReplicas": 2},
        "database": {"managed": {"storage": "10Gi"}},
        "redis": {"managed": {}},
        "ingress": {"enabled": True, "host": "agent.example.com", "path": "/"},
    }
    spec.update(over)
    return spec


def _deployment(spec: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": DEP,
        "name": "agent",
        "namespace": "team-a",
        "deleted": False,
        "revision": {"id": REV, "number": 3, "status": "AWAITING_DEPLOY", "spec": spec or _spec()},
        "secret": {"name": "agent-lgp-secrets", "data": {"OPENAI_API_KEY": "sk-secret-value"}},
    }
    d.update(over)
    return d


def _state(*deployments: dict[str, Any]) -> dict[str, Any]:
    return {"version": 4, "listener_id": LISTENER, "namespaces": ["team-a"], "deployments": list(deployments)}


@pytest.mark.parametrize(
    "key",
    ["envFromSecret", "database", "revision", "queue", "ingress", "apiServer", "autoscaling", "env"],
)
def test_the_spec_is_applied_as_sent(key: str) -> None:
    entry = parse(_state(_deployment())).deployments[0]
    assert isinstance(entry, DesiredDeployment)
    assert desired_objects(entry, LISTENER).platform["spec"][key] == _spec()[key]


def test_only_the_fields_sent_are_applied() -> None:
    entry = parse(_state(_deployment())).deployments[0]
    assert isinstance(entry, DesiredDeployment)
    assert desired_objects(entry, LISTENER).platform["spec"] == _spec()  # no defaults added


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"image": "not an image"}, "spec.image"),
        ({"env": [{"name": "1BAD", "value": "x"}]}, "spec.env.0.name"),
        ({"database": {"external": {}}}, "spec.database.external.secretRef"),
        ({"apiServer": {"replicas": -1}}, "spec.apiServer.replicas"),
        ({"newField": 1}, "spec.newField"),  # a field this listener does not know yet
    ],
)
def test_an_unreadable_spec_names_the_field_and_spares_the_others(given: dict[str, Any], field: str) -> None:
    other = _deployment(id="6f1c2a9e-0000-4000-8000-0000000000d2", name="other")
    entries = parse(_state(_deployment(_spec(**given)), other)).deployments
    bad, good = entries
    assert isinstance(bad, Unreadable) and bad.field == field
    assert str(bad.deployment.id) == DEP and bad.revision is not None and str(bad.revision.id) == REV
    assert isinstance(good, DesiredDeployment) and good.name == "other"


def test_an_unreadable_envelope_is_an_error() -> None:
    with pytest.raises(UnreadableState):
        parse({"version": "soon", "deployments": []})


def test_desired_objects_label_and_carry_secret_values_only_in_the_secret() -> None:
    entry = parse(_state(_deployment())).deployments[0]
    assert isinstance(entry, DesiredDeployment)
    objs = desired_objects(entry, LISTENER)
    assert objs.platform["metadata"]["labels"][LABEL_DEPLOYMENT_ID] == DEP
    assert objs.secret is not None
    assert {k: base64.b64decode(v).decode() for k, v in objs.secret["data"].items()} == {
        "OPENAI_API_KEY": "sk-secret-value"
    }
    assert "sk-secret-value" not in repr(objs.platform)
    assert "sk-secret-value" not in repr(entry)  # a logged entry shows no secret value
    assert objs.platform["metadata"]["namespace"] == "team-a"


def test_a_deployment_without_revision_is_not_translated() -> None:
    entry = parse(_state(_deployment(revision=None, secret=None))).deployments[0]
    assert isinstance(entry, DesiredDeployment)
    with pytest.raises(ValueError, match="no revision"):
        desired_objects(entry, LISTENER)


def _obj(
    gen: int,
    observed: int | None,
    ready: str,
    live: str | None,
    degraded: str = "False",
    reason: str = "Ok",
    message: str = "",
) -> dict[str, Any]:
    return {
        "metadata": {"generation": gen},
        "spec": {"revision": {"id": REV}},
        "status": {
            "observedGeneration": observed,
            "liveRevision": {"id": live} if live else None,
            "conditions": [
                {"type": "Ready", "status": ready, "reason": "Available"},
                {"type": "Degraded", "status": degraded, "reason": reason, "message": message},
            ],
        },
    }


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_obj(2, 2, "True", REV), ("DEPLOYED", "Available", None)),
        (_obj(2, 1, "True", REV), None),  # the operator has not seen generation 2 yet
        (_obj(2, 2, "True", "older"), None),  # old revision still live
        (_obj(2, 2, "False", None), None),  # still rolling out
        (
            _obj(2, 2, "False", "older", "True", "ImagePullBackOff", "Back-off pulling image"),
            ("DEPLOY_FAILED", "ImagePullBackOff", "Back-off pulling image"),
        ),
        (_obj(2, 1, "False", "older", "True", "ImagePullBackOff"), None),  # stale degraded status
    ],
)
def test_revision_outcome(obj: dict[str, Any], expected: tuple[str, str, str | None] | None) -> None:
    assert revision_outcome(obj) == expected


def test_the_report_carries_the_status_in_the_protocols_names() -> None:
    obj = _obj(2, 2, "True", REV)
    obj["status"]["conditions"][0]["lastTransitionTime"] = "2026-11-22T00:40:00Z"
    obj["status"]["replicas"] = {"apiServer": {"desired": 2, "ready": 1, "updated": 2, "available": 1}}
    obj["status"]["endpoint"] = "http://agent.example.com/"
    sent = observed(obj).model_dump(mode="json", exclude_unset=True)
    assert sent["revision_id"] == REV
    assert sent["conditions"][0] == {
        "type": "Ready",
        "status": "True",
        "reason": "Available",
        "last_transition_time": "2026-11-22T00:40:00Z",
    }
    assert sent["replicas"] == {"desired": 2, "ready": 1, "updated": 2, "available": 1}
    assert sent["endpoint"] == "http://agent.example.com/"


@pytest.mark.parametrize(
    ("want", "have", "expected"),
    [
        ({"a": 1}, {"a": 1, "b": 2}, True),
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 0}}, True),
        ({"a": [{"n": 1}]}, {"a": [{"n": 1, "v": ""}]}, True),
        ({"a": [{"n": 1}]}, {"a": [{"n": 1}, {"n": 2}]}, False),
        ({"a": 1}, {"a": 2}, False),
        ({"a": 1}, {}, False),
    ],
)
def test_is_subset(want: dict[str, Any], have: dict[str, Any], expected: bool) -> None:
    assert is_subset(want, have) is expected


def _dep(dep_id: str, name: str, image: str = "registry.example/agent:1.0") -> dict[str, Any]:
    return _deployment(_spec(image=image), id=dep_id, name=name)


D1, D2, D3 = (f"6f1c2a9e-0000-4000-8000-0000000000e{i}" for i in range(1, 4))


def test_a_delta_replaces_what_it_names_and_leaves_the_rest() -> None:
    base = parse({**_state(_dep(D1, "a"), _dep(D2, "b"), _dep(D3, "c")), "version": 4})
    delta = parse(
        {
            **_state(_dep(D2, "b", image="registry.example/agent:2.0")),
            "version": 7,
            "complete": False,
            "since": 4,
            "forgotten": [D3],
        }
    )
    assert not delta.complete and delta.since == 4 and delta.forgotten == (D3,)
    merged = merge(base, delta)
    assert merged.complete and merged.version == 7
    images = {
        entry_id(e): e.revision.spec.image
        for e in merged.deployments
        if not isinstance(e, Unreadable) and e.revision is not None
    }
    # D1 is kept although the delta does not list it; D3 goes only because it is named as forgotten
    assert images == {D1: "registry.example/agent:1.0", D2: "registry.example/agent:2.0"}


def test_an_empty_delta_removes_nothing() -> None:
    base = parse(_state(_dep(D1, "a"), _dep(D2, "b")))
    merged = merge(base, parse({**_state(), "version": 5, "complete": False, "since": 4}))
    assert [entry_id(e) for e in merged.deployments] == [D1, D2] and merged.version == 5


def test_a_full_answer_replaces_the_copy() -> None:
    base = parse(_state(_dep(D1, "a"), _dep(D2, "b")))
    full = parse({**_state(_dep(D2, "b")), "version": 9})
    assert merge(base, full) is full


@pytest.mark.parametrize("base_version", [None, 3])
def test_a_delta_that_does_not_fit_the_copy_is_refused(base_version: int | None) -> None:
    base = None if base_version is None else parse({**_state(_dep(D1, "a")), "version": base_version})
    delta = parse({**_state(_dep(D1, "a")), "version": 6, "complete": False, "since": 4})
    with pytest.raises(DeltaMismatch):
        merge(base, delta)


def test_a_delta_without_its_base_version_cannot_be_read() -> None:
    with pytest.raises(UnreadableState):
        parse({**_state(), "complete": False})
