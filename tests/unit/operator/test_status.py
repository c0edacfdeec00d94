"""Status computation: rollout completeness, pod failures, conditions and merge patches."""

from __future__ import annotations

from typing import Any

import pytest
from lgp_operator.status import condition, deployment_rollout, merge_patch, pod_failures


def _dep(
    rev: str = "r2", replicas: int = 2, gen: int = 2, observed: int = 2, **status: Any
) -> dict[str, Any]:
    st = {
        "observedGeneration": observed,
        "replicas": status.pop("total", replicas),
        "updatedReplicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
        **status,
    }
    return {
        "metadata": {"name": "demo-api-server", "generation": gen},
        "spec": {"replicas": replicas, "template": {"metadata": {"annotations": {"lgp.dev/revision": rev}}}},
        "status": st,
    }


@pytest.mark.parametrize(
    ("dep", "complete", "message"),
    [
        (_dep(), True, "2/2 pods updated and available"),
        (None, False, "not created yet"),
        (_dep(rev="r1"), False, "not revision r2"),
        (_dep(observed=1), False, "waiting for the deployment controller"),
        (_dep(updatedReplicas=1), False, "1/2 pods updated"),
        (_dep(total=3), False, "1 old pods still running"),
        (_dep(availableReplicas=1), False, "1/2 pods available"),
    ],
)
def test_deployment_rollout(dep, complete, message):
    r = deployment_rollout(dep, "r2")
    assert r.complete is complete
    assert message in r.message


def test_progress_deadline_is_reported():
    dep = _dep(
        availableReplicas=0,
        conditions=[
            {
                "type": "Progressing",
                "status": "False",
                "reason": "ProgressDeadlineExceeded",
                "message": "too slow",
            }
        ],
    )
    assert deployment_rollout(dep, "r2").stalled == "too slow"


def _pod(component: str, rev: str | None, reason: str | None, deleting: bool = False) -> dict[str, Any]:
    state = (
        {"waiting": {"reason": reason, "message": "Back-off pulling image"}} if reason else {"running": {}}
    )
    meta: dict[str, Any] = {
        "name": f"{component}-x",
        "labels": {"app.kubernetes.io/component": component},
        "annotations": {"lgp.dev/revision": rev} if rev else {},
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status = {"name": "c", "state": state, "restartCount": 2 if reason == "CrashLoopBackOff" else 0}
    return {"metadata": meta, "status": {"containerStatuses": [status]}}


@pytest.mark.parametrize(
    ("pods", "reasons"),
    [
        ([_pod("api-server", "r2", "ImagePullBackOff")], ["ImagePullBackOff"]),
        ([_pod("api-server", "r1", "ImagePullBackOff")], []),  # an old revision's pod does not count
        ([_pod("api-server", "r2", "ContainerCreating")], []),  # transient
        ([_pod("postgres", None, "CrashLoopBackOff")], ["CrashLoopBackOff"]),
        ([_pod("queue", "r2", "ErrImagePull", deleting=True)], []),
        ([_pod("api-server", "r2", None)], []),
    ],
)
def test_pod_failures(pods, reasons):
    failures = pod_failures(pods, "r2")
    assert [r for r, _ in failures] == reasons
    for _, msg in failures:
        assert "pod" in msg and "Back-off" in msg


def test_a_crash_loop_names_the_last_exit_and_log_without_terminal_colours():
    pod = _pod("api-server", "r2", "CrashLoopBackOff")
    pod["status"]["containerStatuses"][0]["lastState"] = {
        "terminated": {
            "exitCode": 3,
            "reason": "Error",
            "message": "starting\n\x1b[31mKeyError\x1b[0m: 'REDIS_URI'\n",
        }
    }
    ((reason, msg),) = pod_failures([pod], "r2")
    assert reason == "CrashLoopBackOff"
    assert msg.endswith("last exit code 3 (Error): starting KeyError: 'REDIS_URI'")  # no colour codes
    pod["status"]["containerStatuses"][0]["lastState"] = {}
    assert "last exit" not in pod_failures([pod], "r2")[0][1]


def test_one_crash_before_the_first_restart_is_not_yet_a_crash_loop():
    pod = _pod("queue", "r2", "CrashLoopBackOff")
    pod["status"]["containerStatuses"][0]["restartCount"] = 1
    assert pod_failures([pod], "r2") == []


def test_servers_crashing_while_their_database_starts_are_not_failing_yet():
    server, db = _pod("api-server", "r2", "CrashLoopBackOff"), _pod("postgres", None, "CrashLoopBackOff")
    assert [r for r, _ in pod_failures([server, db], "r2", backing_ready=False)] == ["CrashLoopBackOff"]
    assert "postgres pod" in pod_failures([server, db], "r2", backing_ready=False)[0][1]
    assert len(pod_failures([server, db], "r2", backing_ready=True)) == 2


def test_condition_keeps_transition_time_when_status_is_unchanged():
    old = [{"type": "Ready", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"}]
    assert condition("Ready", True, "Live", "m", 2, old)["lastTransitionTime"] == "2020-01-01T00:00:00Z"
    assert condition("Ready", False, "X", "m", 2, old)["lastTransitionTime"] != "2020-01-01T00:00:00Z"
    assert condition("Degraded", None, "X", "m", 2, old)["status"] == "Unknown"


def test_merge_patch_nulls_removed_keys():
    old = {"a": 1, "b": {"c": 1, "d": 2}, "gone": True}
    new = {"a": 1, "b": {"c": 2, "d": 2}}
    assert merge_patch(old, new) == {"gone": None, "b": {"c": 2}}
