"""The HTTP client's retry rules and the --wait loop, on a scripted transport and a fake clock (no
time passes for real): what is retried and how often, the Idempotency-Key kept across retries,
outcomes per status, an outage waited out, the deadline (124), and progress lines."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from lgp_cli import exit_codes
from lgp_cli.client import ApiError, Client, Unavailable
from lgp_cli.waiting import Progress, outcome, wait_for_revision


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client_for(handler: Callable[[httpx.Request], httpx.Response], clock: Clock, retries: int = 2) -> Client:
    return Client(
        "http://cp.test", "key", transport=httpx.MockTransport(handler), sleep=clock.sleep, retries=retries
    )


def test_the_api_key_and_the_base_path() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    c = client_for(handler, Clock())
    assert c.get("/deployments", name="x", status=None) == {"ok": True}
    assert seen[0].url.path == "/v1/deployments" and dict(seen[0].url.params) == {"name": "x"}
    assert seen[0].headers["X-Api-Key"] == "key"


def test_503_is_retried_after_retry_after_then_gives_up_with_7() -> None:
    clock = Clock()
    calls: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("Idempotency-Key"))
        return httpx.Response(
            503, json={"detail": "the database is unavailable"}, headers={"Retry-After": "60"}
        )

    c = client_for(handler, clock)
    with pytest.raises(ApiError) as e:
        c.post("/deployments", {"name": "x"})
    assert e.value.status == 503 and e.value.exit_code == exit_codes.UNAVAILABLE
    assert len(calls) == 3 and len(set(calls)) == 1 and calls[0]  # the same Idempotency-Key each time
    assert clock.slept == [5.0, 5.0]  # Retry-After, capped


def test_connection_refused_is_retried_for_every_method_then_unavailable() -> None:
    clock = Clock()
    count = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        count["n"] += 1
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(Unavailable, match=r"cannot reach the control plane at http://cp\.test"):
        client_for(handler, clock).patch("/deployments/1", {"image": "x"})
    assert count["n"] == 3 and clock.slept == [0.5, 1.0]


def test_a_lost_answer_is_not_resent_for_patch_or_delete() -> None:
    count = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        count["n"] += 1
        raise httpx.ReadTimeout("slow", request=request)

    c = client_for(handler, Clock())
    with pytest.raises(Unavailable, match="did not answer PATCH"):
        c.patch("/deployments/1", {})
    assert count["n"] == 1
    with pytest.raises(Unavailable):
        c.get("/deployments")
    assert count["n"] == 4  # GET: resent


def test_errors_keep_the_detail_and_are_not_retried() -> None:
    count = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        count["n"] += 1
        return httpx.Response(422, json={"detail": [{"loc": ["body", "image"], "msg": "bad", "type": "x"}]})

    with pytest.raises(ApiError) as e:
        client_for(handler, Clock()).post("/deployments", {})
    assert count["n"] == 1 and e.value.exit_code == exit_codes.INVALID
    assert e.value.detail == [{"loc": ["body", "image"], "msg": "bad", "type": "x"}]


def test_not_json_says_so() -> None:
    c = client_for(lambda r: httpx.Response(200, text="<html>"), Clock())
    with pytest.raises(ApiError, match="HTTP 200"):
        c.get("/deployments")


def test_get_all_follows_pages() -> None:
    items = [{"id": i} for i in range(7)]

    def handler(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        return httpx.Response(200, json={"data": items[offset : offset + limit], "count": 7})

    assert client_for(handler, Clock()).get_all("/listeners", page_size=3) == items


# ------------------------------------------------------------------------------------------ waiting
@pytest.mark.parametrize(
    ("status", "code"),
    [("DEPLOYED", 0), ("REPLACED", 0), ("DEPLOY_FAILED", 1), ("INTERRUPTED", 1), ("SKIPPED", 1),
     ("QUEUED", None), ("AWAITING_DEPLOY", None), ("DEPLOYING", None)],
)  # fmt: skip
def test_outcomes(status: str, code: int | None) -> None:
    assert outcome(status) == code


class Script:
    """A revision whose status (and events) change as polls come in; optional outage polls."""

    def __init__(self, steps: list[Any]) -> None:
        self.steps = steps
        self.poll = 0
        self.events: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            return httpx.Response(200, json={"data": list(reversed(self.events)), "count": len(self.events)})
        step = self.steps[min(self.poll, len(self.steps) - 1)]
        self.poll += 1
        if isinstance(step, int):
            return httpx.Response(step, json={"detail": "the database is unavailable"})
        status, reason, message = step
        if not self.events or self.events[-1]["payload"]["to"] != status:
            previous = self.events[-1]["payload"]["to"] if self.events else "QUEUED"
            self.events.append(
                {"id": len(self.events) + 1, "kind": "revision_status", "reason": reason, "message": message,
                 "payload": {"from": previous, "to": status}}
            )  # fmt: skip
        body = {"id": "r1", "deployment_id": "d1", "number": 4, "status": status,
                "status_reason": reason, "status_message": message}  # fmt: skip
        return httpx.Response(200, json=body)


def run_wait(steps: list[Any], timeout: float = 60) -> tuple[int, str, Clock]:
    clock = Clock()
    script = Script(steps)
    err = io.StringIO()
    result = wait_for_revision(
        client_for(script.handler, clock, retries=0),
        "r1",
        timeout=timeout,
        interval=2,
        progress=Progress(err, clock=clock),
        sleep=clock.sleep,
    )
    return result.code, err.getvalue(), clock


def test_wait_until_deployed() -> None:
    code, err, clock = run_wait(
        [
            ("AWAITING_DEPLOY", "AwaitingDeploy", "waiting for the listener"),
            ("DEPLOYING", "Applied", "applied"),
            ("DEPLOYED", "Ready", "2/2 ready"),
        ]
    )
    assert code == 0
    lines = err.splitlines()
    assert lines[0] == "[   0.0s] waiting for revision 4 (r1) to be DEPLOYED: it is AWAITING_DEPLOY"
    assert "[   2.0s] AWAITING_DEPLOY -> DEPLOYING Applied: applied" in lines
    assert "[   4.0s] DEPLOYING -> DEPLOYED Ready: 2/2 ready" in lines
    assert lines[-1] == "revision 4 is DEPLOYED after 4.0s"
    assert clock.slept == [2, 2]


def test_wait_failure_prints_reason_and_message() -> None:
    code, err, _ = run_wait(
        [("DEPLOYING", "Applied", None), ("DEPLOY_FAILED", "ImagePullBackOff", 'Back-off pulling "x:1"')]
    )
    assert code == 1
    assert 'lgp: revision 4 DEPLOY_FAILED: ImagePullBackOff: Back-off pulling "x:1"' in err
    assert "lgp deployments events d1" in err


def test_an_outage_is_waited_out_and_said_once() -> None:
    code, err, _ = run_wait([("DEPLOYING", None, None), 503, 503, 503, ("DEPLOYED", None, None)])
    assert code == 0
    assert err.count("does not answer") == 1 and "answers again" in err


def test_the_deadline_is_124() -> None:
    code, err, clock = run_wait([("DEPLOYING", None, None)], timeout=5)
    assert code == exit_codes.TIMEOUT
    assert "timed out after 5s waiting for the revision (it is DEPLOYING)" in err
    assert "lgp revisions wait r1" in err
    assert clock.now - 1000.0 == pytest.approx(5.0)  # it never sleeps past the deadline


@pytest.mark.parametrize("status", [401, 404])
def test_auth_and_not_found_end_the_wait(status: int) -> None:
    with pytest.raises(ApiError) as e:
        run_wait([("DEPLOYING", None, None), status])
    assert e.value.status == status


def test_quiet_prints_only_the_outcome() -> None:
    clock = Clock()
    script = Script([("DEPLOYING", None, None), ("DEPLOY_FAILED", "Boom", "it broke")])
    err = io.StringIO()
    wait_for_revision(
        client_for(script.handler, clock, retries=0),
        "r1",
        progress=Progress(err, clock=clock, quiet=True),
        sleep=clock.sleep,
    )
    assert err.getvalue().splitlines()[0] == "lgp: revision 4 DEPLOY_FAILED: Boom: it broke"


def test_a_condition_reported_again_unchanged_is_not_repeated() -> None:
    clock = Clock()
    polls = {"n": 0}
    ready_false = {"type": "Ready", "status": "False", "reason": "PodsNotReady", "message": "0/2"}
    progressing = {"type": "Progressing", "status": "True", "reason": "RollingOut", "message": "rev 4"}
    batches = [
        [ready_false, progressing],
        [ready_false, {**progressing, "message": "rev 4, 1 updated"}],
        [{**ready_false, "status": "True", "reason": "Ready", "message": "2/2"}, progressing],
    ]
    events: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            return httpx.Response(200, json={"data": list(reversed(events)), "count": len(events)})
        n = polls["n"]
        polls["n"] += 1
        if n < len(batches):
            for c in batches[n]:
                event = {"id": len(events) + 1, "kind": "condition", "payload": c}
                events.append({**event, "reason": c["reason"], "message": c["message"]})
        status = "DEPLOYING" if n < len(batches) else "DEPLOYED"
        return httpx.Response(200, json={"id": "r1", "deployment_id": "d1", "number": 4, "status": status})

    err = io.StringIO()
    wait_for_revision(
        client_for(handler, clock, retries=0), "r1", progress=Progress(err, clock=clock), sleep=clock.sleep
    )
    lines = [line.split("] ", 1)[1] for line in err.getvalue().splitlines() if "condition" in line]
    assert lines == [
        "condition Ready=False PodsNotReady: 0/2",
        "condition Progressing=True RollingOut: rev 4",
        "condition Progressing=True RollingOut: rev 4, 1 updated",
        "condition Ready=True Ready: 2/2",
        "condition Progressing=True RollingOut: rev 4",
    ]
