"""The status as a pure function of the resource and its observed children: Ready / Progressing /
Degraded and their reasons, the live revision, conditions' transition times, and the Events a change
of status deserves."""

from __future__ import annotations

from typing import Any

import pytest
from lgp_operator.builders.common import Platform
from lgp_operator.podsecurity import Assessment
from lgp_operator.status import (
    Observed,
    observed_children,
    platform_status,
    refused_status,
    status_events,
)

NOW = "2030-01-01T00:00:00Z"
BEFORE = "2029-12-31T23:00:00Z"
R1 = {"id": "r1", "number": 1}


def body(spec: dict[str, Any] | None = None, status: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "metadata": {"name": "demo", "namespace": "ns", "uid": "uid-1", "generation": 4},
        "spec": {"image": "ghcr.io/acme/agent:2.0", "revision": {"id": "r2", "number": 2}, **(spec or {})},
    }
    if status is not None:
        out["status"] = status
    return out


def deployment(
    name: str,
    rev: str = "r2",
    want: int = 2,
    updated: int | None = None,
    available: int | None = None,
    **st: Any,
) -> dict[str, Any]:
    updated = want if updated is None else updated
    available = want if available is None else available
    return {
        "metadata": {"name": name, "generation": 5},
        "spec": {"replicas": want, "template": {"metadata": {"annotations": {"lgp.dev/revision": rev}}}},
        "status": {
            "observedGeneration": 5,
            "replicas": st.pop("total", updated),
            "updatedReplicas": updated,
            "readyReplicas": available,
            "availableReplicas": available,
            **st,
        },
    }


def backing(db_ready: int = 1, redis_available: int = 1) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        ("StatefulSet", "demo-postgres"): {"status": {"readyReplicas": db_ready}},
        ("Deployment", "demo-redis"): {"status": {"availableReplicas": redis_available}},
    }


def pod(
    reason: str, rev: str = "r2", message: str = "", last: dict[str, Any] | None = None, restarts: int = 3
) -> dict[str, Any]:
    cs: dict[str, Any] = {
        "name": "api-server",
        "state": {"waiting": {"reason": reason, "message": message}},
        "restartCount": restarts,
    }
    if last is not None:
        cs["lastState"] = {"terminated": last}
    return {
        "metadata": {
            "name": "demo-api-server-abc",
            "labels": {"app.kubernetes.io/component": "api-server"},
            "annotations": {"lgp.dev/revision": rev},
        },
        "status": {"containerStatuses": [cs]},
    }


def run(
    spec: dict[str, Any] | None = None,
    children: dict[tuple[str, str], dict[str, Any]] | None = None,
    pods: list[dict[str, Any]] | None = None,
    problem: tuple[str, str] | None = None,
    status: dict[str, Any] | None = None,
    keda: bool = False,
) -> tuple[Any, dict[str, dict[str, Any]]]:
    b = body(spec, status if status is not None else {"liveRevision": R1})
    cr = Platform.from_body(b)
    seen = Observed(children=children or {}, pods=pods or [], problem=problem)
    verdict = platform_status(
        b, cr, seen, endpoint="http://demo.ns.svc:8000", keda=keda, hpa_api="autoscaling/v2beta2", now=NOW
    )
    return verdict, {c["type"]: c for c in verdict.status["conditions"]}


def api(**kw: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {**backing(), ("Deployment", "demo-api-server"): deployment("demo-api-server", **kw)}


CRASH = {"exitCode": 1, "reason": "Error", "message": "Traceback ...\nKeyError: 'OPENAI_API_KEY'\n"}


# (case, spec, children, pods, problem) -> (Ready, its reason, Progressing, its reason, Degraded reason, live)
CASES: list[tuple[str, Any, Any, Any, Any, tuple[str, str, str, str, str, str]]] = [
    ("live", None, api(), [], None, ("True", "Live", "False", "RolloutComplete", "AsExpected", "r2")),
    (
        "rolling out: new pods not updated yet",
        None,
        api(updated=1, available=1),
        [],
        None,
        ("False", "RollingOut", "True", "RollingOut", "AsExpected", "r1"),
    ),
    (
        "new pods updated but not yet available: the live revision does not move",
        None,
        api(available=1),
        [],
        None,
        ("False", "RollingOut", "True", "RollingOut", "AsExpected", "r1"),
    ),
    (
        "old pods still running",
        None,
        api(total=3),
        [],
        None,
        ("False", "RollingOut", "True", "RollingOut", "AsExpected", "r1"),
    ),
    (
        "template not of the target revision yet",
        None,
        api(rev="r1"),
        [],
        None,
        ("False", "RollingOut", "True", "RollingOut", "AsExpected", "r1"),
    ),
    (
        "api server not created yet",
        None,
        backing(),
        [],
        None,
        ("False", "RollingOut", "True", "RollingOut", "AsExpected", "r1"),
    ),
    (
        "image cannot be pulled",
        None,
        api(available=0),
        [pod("ImagePullBackOff", message="Back-off pulling image")],
        None,
        ("False", "ImagePullBackOff", "False", "Stalled", "ImagePullBackOff", "r1"),
    ),
    (
        "crash loop",
        None,
        {**api(available=0), **backing()},
        [pod("CrashLoopBackOff", message="back-off 10s restarting failed container", last=CRASH)],
        None,
        ("False", "CrashLoopBackOff", "False", "Stalled", "CrashLoopBackOff", "r1"),
    ),
    (
        "one crash, before the first restart, is not yet a crash loop",
        None,
        {**api(available=0), **backing()},
        [pod("CrashLoopBackOff", message="back-off 10s restarting failed container", restarts=1)],
        None,
        ("False", "RollingOut", "True", "RollingOut", "AsExpected", "r1"),
    ),
    (
        "the server crashing while its database starts is not failing yet",
        None,
        {**api(available=0), **backing(db_ready=0)},
        [pod("CrashLoopBackOff", message="back-off 20s restarting failed container", last=CRASH)],
        None,
        ("False", "RollingOut", "True", "RollingOut", "AsExpected", "r1"),
    ),
    (
        "an old revision's crashing pod does not count",
        None,
        api(),
        [pod("CrashLoopBackOff", rev="r1")],
        None,
        ("True", "Live", "False", "RolloutComplete", "AsExpected", "r2"),
    ),
    (
        "progress deadline exceeded",
        None,
        api(
            available=1,
            conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded", "message": "too slow"}],
        ),
        [],
        None,
        ("False", "ProgressDeadlineExceeded", "False", "Stalled", "ProgressDeadlineExceeded", "r1"),
    ),
    (
        "a problem met while applying wins over pods",
        None,
        api(),
        [pod("ImagePullBackOff")],
        ("NotOwned", "Service 'demo' already exists and is not ours"),
        ("False", "NotOwned", "False", "RolloutComplete", "NotOwned", "r2"),
    ),
    (
        "database not ready",
        None,
        {**api(), **backing(db_ready=0)},
        [],
        None,
        ("False", "DatabaseNotReady", "False", "RolloutComplete", "AsExpected", "r2"),
    ),
    (
        "redis not ready",
        None,
        {**api(), **backing(redis_available=0)},
        [],
        None,
        ("False", "RedisNotReady", "False", "RolloutComplete", "AsExpected", "r2"),
    ),
    (
        "suspended",
        {"suspend": True},
        api(want=0),
        [],
        None,
        ("False", "Suspended", "False", "RolloutComplete", "AsExpected", "r1"),
    ),
    (
        "queue workers rolling out",
        {"queue": {"enabled": True}},
        {**api(), ("Deployment", "demo-queue"): deployment("demo-queue", updated=0, available=0)},
        [],
        None,
        ("False", "RollingOut", "True", "RollingOut", "AsExpected", "r1"),
    ),
]


@pytest.mark.parametrize(
    ("case", "spec", "children", "pods", "problem", "want"), CASES, ids=[c[0] for c in CASES]
)
def test_platform_status(case, spec, children, pods, problem, want):
    verdict, conds = run(spec, children, pods, problem)
    ready, ready_reason, progressing, progressing_reason, degraded_reason, live = want
    assert (conds["Ready"]["status"], conds["Ready"]["reason"]) == (ready, ready_reason)
    assert (conds["Progressing"]["status"], conds["Progressing"]["reason"]) == (
        progressing,
        progressing_reason,
    )
    assert conds["Degraded"]["reason"] == degraded_reason
    assert conds["Degraded"]["status"] == ("False" if degraded_reason == "AsExpected" else "True")
    assert verdict.status["liveRevision"]["id"] == live
    assert verdict.ready is (ready == "True")
    assert (verdict.degraded is None) is (degraded_reason == "AsExpected")
    assert verdict.status["observedGeneration"] == 4
    assert all(c["observedGeneration"] == 4 for c in conds.values())


def test_degraded_messages_name_the_pod_and_say_why():
    _, conds = run(None, api(available=0), [pod("ImagePullBackOff", message="Back-off pulling image x:2")])
    assert conds["Degraded"]["message"] == (
        "api-server pod demo-api-server-abc: container api-server: "
        "ImagePullBackOff: Back-off pulling image x:2"
    )
    # a crash loop carries how the last run ended: its exit code and the end of its message
    _, conds = run(
        None, {**api(available=0), **backing()}, [pod("CrashLoopBackOff", message="back-off 10s", last=CRASH)]
    )
    assert conds["Degraded"]["message"] == (
        "api-server pod demo-api-server-abc: container api-server: CrashLoopBackOff: back-off 10s; "
        "last exit code 1 (Error): Traceback ... KeyError: 'OPENAI_API_KEY'"
    )
    assert conds["Ready"]["message"] == conds["Degraded"]["message"]
    # without a last state, only the waiting reason
    _, conds = run(None, {**api(available=0), **backing()}, [pod("CrashLoopBackOff", message="back-off 10s")])
    assert conds["Degraded"]["message"].endswith("CrashLoopBackOff: back-off 10s")
    # a long last message keeps its end, where the error is
    long = {"exitCode": 2, "message": "x" * 1000 + " the real error"}
    _, conds = run(None, {**api(available=0), **backing()}, [pod("CrashLoopBackOff", last=long)])
    assert (
        conds["Degraded"]["message"].endswith("x the real error") and len(conds["Degraded"]["message"]) < 520
    )


def test_rollout_message_and_counts():
    verdict, conds = run(None, api(updated=2, available=1))
    assert conds["Progressing"]["message"] == "revision r2: demo-api-server: 1/2 pods available"
    assert verdict.status["replicas"] == {
        "apiServer": {"desired": 2, "ready": 1, "updated": 2, "available": 1}
    }
    assert verdict.status["endpoint"] == "http://demo.ns.svc:8000"
    _, conds = run(None, api())
    assert conds["Ready"]["message"] == "revision r2 is live at http://demo.ns.svc:8000"


@pytest.mark.parametrize(
    ("spec", "db", "redis"),
    [
        ({}, ("True", "Running"), ("True", "Running")),
        (
            {
                "database": {"external": {"secretRef": {"name": "pg"}}},
                "redis": {"external": {"secretRef": {"name": "r"}}},
            },
            ("True", "External"),
            ("True", "External"),
        ),
    ],
)
def test_backing_services(spec, db, redis):
    _, conds = run(spec, api())
    assert (conds["DatabaseReady"]["status"], conds["DatabaseReady"]["reason"]) == db
    assert (conds["RedisReady"]["status"], conds["RedisReady"]["reason"]) == redis
    _, conds = run({}, {**api(), **backing(db_ready=0, redis_available=0)})
    assert conds["DatabaseReady"]["message"] == "demo-postgres: 0/1 pods ready"
    assert conds["RedisReady"]["message"] == "demo-redis: 0/1 pods available"


@pytest.mark.parametrize(
    ("spec", "keda", "want"),
    [
        ({"autoscaling": {"enabled": True}}, True, ("True", "KedaScaledObject")),
        ({"autoscaling": {"enabled": True}}, False, ("False", "KedaNotInstalled")),
        ({"autoscaling": {"enabled": False}}, True, None),
        ({"autoscaling": {"enabled": True}, "suspend": True}, True, None),
    ],
)
def test_pending_run_scaling(spec, keda, want):
    _, conds = run(spec, api(), keda=keda)
    got = conds.get("PendingRunScaling")
    assert (None if got is None else (got["status"], got["reason"])) == want
    if got is not None and want == ("False", "KedaNotInstalled"):
        assert "an HPA (autoscaling/v2beta2) scales on CPU and memory only" in got["message"]


def test_transition_time_kept_while_the_status_holds():
    old = {
        "liveRevision": R1,
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "Live", "lastTransitionTime": BEFORE},
            {"type": "Degraded", "status": "False", "reason": "AsExpected", "lastTransitionTime": BEFORE},
        ],
    }
    _, conds = run(None, api(), status=old)
    assert conds["Ready"]["lastTransitionTime"] == BEFORE  # still True
    assert conds["Progressing"]["lastTransitionTime"] == NOW  # new
    _, conds = run(None, api(available=0), [pod("ImagePullBackOff")], status=old)
    assert conds["Ready"]["lastTransitionTime"] == NOW  # True -> False
    assert conds["Degraded"]["lastTransitionTime"] == NOW


def test_observed_children_are_what_the_status_reads():
    cr = Platform.from_body(body())
    assert observed_children(cr) == [
        ("apps/v1", "StatefulSet", "demo-postgres"),
        ("apps/v1", "Deployment", "demo-redis"),
        ("apps/v1", "Deployment", "demo-api-server"),
    ]
    external = Platform.from_body(
        body(
            {
                "database": {"external": {"secretRef": {"name": "pg"}}},
                "redis": {"external": {"secretRef": {"name": "r"}}},
                "queue": {"enabled": True},
            }
        )
    )
    assert observed_children(external) == [
        ("apps/v1", "Deployment", "demo-api-server"),
        ("apps/v1", "Deployment", "demo-queue"),
    ]


def test_refused_status_keeps_what_was_live_and_the_backing_conditions():
    old = {
        "liveRevision": R1,
        "endpoint": "http://demo.ns.svc:8000",
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "Live", "lastTransitionTime": BEFORE},
            {"type": "DatabaseReady", "status": "True", "reason": "Running", "lastTransitionTime": BEFORE},
            {
                "type": "Progressing",
                "status": "False",
                "reason": "RolloutComplete",
                "lastTransitionTime": BEFORE,
            },
        ],
    }
    verdict = refused_status(body(status=old), ("InvalidSpec", "spec.image: bad"), now=NOW)
    conds = {c["type"]: c for c in verdict.status["conditions"]}
    assert verdict.degraded == ("InvalidSpec", "spec.image: bad") and not verdict.ready
    assert (conds["Ready"]["status"], conds["Ready"]["reason"], conds["Ready"]["message"]) == (
        "False",
        "InvalidSpec",
        "spec.image: bad",
    )
    assert conds["Progressing"]["message"] == "nothing applied until the problem is fixed"
    assert conds["Progressing"]["lastTransitionTime"] == BEFORE  # False before, False now
    assert conds["Degraded"]["status"] == "True"
    assert conds["DatabaseReady"]["reason"] == "Running"  # kept as it was
    assert verdict.status["liveRevision"] == R1 and verdict.status["endpoint"] == "http://demo.ns.svc:8000"
    assert verdict.status["observedGeneration"] == 4


def _st(live: str | None = None, **conds: tuple[str, str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "conditions": [{"type": t, "status": s, "reason": r, "message": m} for t, (s, r, m) in conds.items()]
    }
    if live:
        out["liveRevision"] = {"id": live}
    return out


@pytest.mark.parametrize(
    ("old", "new", "events"),
    [
        (
            {},
            _st(Degraded=("True", "NotOwned", "Service 'demo' ...")),
            [("NotOwned", "Service 'demo' ...", True)],
        ),
        (_st(Degraded=("True", "X", "m")), _st(Degraded=("True", "X", "m")), []),  # no repeat
        (_st(Degraded=("True", "X", "m")), _st(Degraded=("True", "X", "m2")), [("X", "m2", True)]),
        (_st("r1"), _st("r2"), [("RevisionLive", "revision r2 is live", False)]),
        (_st("r1"), _st("r1"), []),
        ({}, _st(Ready=("True", "Live", "live at x")), [("Ready", "live at x", False)]),
        (_st(Ready=("True", "Live", "a")), _st(Ready=("True", "Live", "b")), []),
        (
            _st(PodSecurity=("True", "Restricted", "ok")),
            _st(PodSecurity=("False", "BelowRestricted", "below restricted: f")),
            [("BelowRestricted", "below restricted: f", True)],
        ),
        (
            _st(PodSecurity=("False", "BelowRestricted", "m")),
            _st(PodSecurity=("False", "BelowRestricted", "m")),
            [],
        ),
        (
            _st(PodSecurity=("False", "BelowRestricted", "m")),
            _st(PodSecurity=("True", "Restricted", "ok")),
            [],
        ),
    ],
)
def test_status_events(old, new, events):
    assert status_events(old, new) == events


@pytest.mark.parametrize(
    ("assessment", "status", "reason", "words"),
    [
        (Assessment(), "True", "Restricted", "every pod meets the restricted"),
        (
            Assessment(
                (
                    (
                        "spec.security.server.podSecurityContext.runAsUser",
                        "0 (root) is not allowed",
                        "restricted",
                    ),
                )
            ),
            "False",
            "BelowRestricted",
            "below restricted (meets baseline): spec.security.server.podSecurityContext.runAsUser: 0 (root)",
        ),
        (
            Assessment((("spec.security.redis.containerSecurityContext.privileged", "no", "baseline"),)),
            "False",
            "BelowRestricted",
            "below restricted (below baseline too): spec.security.redis.containerSecurityContext.privileged",
        ),
    ],
)
def test_pod_security_condition(assessment, status, reason, words):
    b = body(status={"liveRevision": R1})
    cr = Platform.from_body(b)
    verdict = platform_status(
        b,
        cr,
        Observed(children=api()),
        endpoint="e",
        keda=False,
        hpa_api=None,
        now=NOW,
        pod_security=assessment,
    )
    cond = next(c for c in verdict.status["conditions"] if c["type"] == "PodSecurity")
    assert (cond["status"], cond["reason"]) == (status, reason)
    assert cond["message"].startswith(words)
    assert verdict.ready  # informational: a deployment may run below restricted on purpose
    refused = refused_status({**b, "status": verdict.status}, ("InvalidSpec", "x"), now=NOW)
    assert any(c["type"] == "PodSecurity" for c in refused.status["conditions"])  # kept when refused
