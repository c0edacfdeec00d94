"""The listener's log path without a cluster: which containers are read and with which pods/log query,
lines parsed, redacted, filtered and chosen within the bounds, and ``LogReader`` over an in-memory
STAND-IN log source (``FakeLogSource``: a dict of texts, no apiserver): deadlines, RBAC refusals, a
container that cannot be read, the managed database's password, an unknown deployment. The secret values
of a status report and of conditions and events are redacted too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lgp_operator.k8s.kube import KubeError
from lgp_operator.listener.logs import (
    ContainerLog,
    LogReader,
    choose,
    containers_to_read,
    parse_lines,
    read_params,
)
from lgp_operator.listener.metrics import ListenerMetrics
from lgp_operator.listener.observe import event_report, observed
from lgp_operator.listener.tracking import Context, Deployments, StatusReporter

from lgp_contract.logs import REDACTED, Redactor
from lgp_contract.protocol import LogLine, LogQuery, LogRequest

T0 = datetime(2026, 3, 8, 12, 0, 0, tzinfo=UTC)
REV1, REV2 = str(uuid.uuid4()), str(uuid.uuid4())
DEP = uuid.uuid4()


def pod(name: str, rev: str, containers: dict[str, int]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "annotations": {"lgp.dev/revision": rev}},
        "spec": {"containers": [{"name": c} for c in containers]},
        "status": {"containerStatuses": [{"name": c, "restartCount": n} for c, n in containers.items()]},
    }


PODS = [pod("agent-api-server-b", REV2, {"api-server": 2}), pod("agent-queue-a", REV1, {"queue-worker": 0})]


def test_containers_to_read_include_previous_runs_and_filter_by_revision() -> None:
    assert containers_to_read(PODS, None) == [
        ContainerLog("agent-api-server-b", "api-server", False, REV2),
        ContainerLog("agent-api-server-b", "api-server", True, REV2),
        ContainerLog("agent-queue-a", "queue-worker", False, REV1),
    ]
    assert [c.pod for c in containers_to_read(PODS, REV1)] == ["agent-queue-a"]


@pytest.mark.parametrize(
    ("query", "previous", "expected"),
    [
        (LogQuery(limit=100), False, {"tailLines": 100}),
        (LogQuery(limit=100, level="ERROR"), False, {"tailLines": 5000}),  # a filter may drop lines
        (LogQuery(limit=100, text="x"), True, {"tailLines": 5000, "previous": "true"}),
        (
            LogQuery(limit=100, since=T0 + timedelta(microseconds=5)),
            False,
            {"tailLines": 100, "sinceTime": "2026-03-08T12:00:00Z"},
        ),
        (LogQuery(limit=100, since=T0, order="asc"), False, {"sinceTime": "2026-03-08T12:00:00Z"}),
    ],
)
def test_pods_log_queries(query: LogQuery, previous: bool, expected: dict[str, Any]) -> None:
    container = ContainerLog("p", "api-server", previous, REV1)
    params = read_params(query, container, tail_lines=5000, limit_bytes=1024)
    assert params == {"container": "api-server", "timestamps": "true", "limitBytes": 1024, **expected}


TEXT = "\n".join(
    [
        "2026-03-08T12:00:00.100000000Z \x1b[32mINFO\x1b[0m: started",
        "2026-03-08T12:00:01.000000000Z WARNING: key sk-secret-value-1 in use",
        "2026-03-08T12:00:02.000000000Z ERROR: db down",
        "2026-03-08T12:00:03.000000000Z Traceback (most recent call last):",
    ]
)
C = ContainerLog("agent-api-server-b", "api-server", False, REV2)


def test_lines_are_parsed_redacted_and_filtered() -> None:
    redact = Redactor(["sk-secret-value-1"])
    lines = parse_lines(TEXT, C, LogQuery(), redact, T0)
    assert [(x.level, x.message) for x in lines] == [
        ("INFO", "INFO: started"),
        ("WARNING", f"WARNING: key {REDACTED} in use"),
        ("ERROR", "ERROR: db down"),
        (None, "Traceback (most recent call last):"),
    ]
    assert lines[0].timestamp == T0 + timedelta(milliseconds=100) and lines[0].revision_id == REV2
    warn = parse_lines(TEXT, C, LogQuery(level="WARNING"), redact, T0)
    assert [x.message for x in warn] == [f"WARNING: key {REDACTED} in use", "ERROR: db down"]
    # the text filter runs after redaction: a secret value finds nothing
    assert parse_lines(TEXT, C, LogQuery(text="sk-secret"), redact, T0) == []
    window = LogQuery(since=T0 + timedelta(seconds=1), until=T0 + timedelta(seconds=3))
    assert [x.message for x in parse_lines(TEXT, C, window, redact, T0)] == [
        f"WARNING: key {REDACTED} in use",
        "ERROR: db down",
    ]


def _line(n: int, message: str = "m") -> LogLine:
    return LogLine(timestamp=T0 + timedelta(seconds=n), pod="p", container="c", message=message)


def test_choose_keeps_the_newest_or_the_oldest_within_the_bounds() -> None:
    lines = [_line(n) for n in (3, 1, 2)]
    kept, cut = choose(lines, LogQuery(limit=2))
    assert [x.timestamp.second for x in kept] == [3, 2] and cut
    kept, cut = choose(lines, LogQuery(limit=2, order="asc"))
    assert [x.timestamp.second for x in kept] == [1, 2] and cut
    kept, cut = choose(lines, LogQuery(limit=10))
    assert len(kept) == 3 and not cut
    big = [_line(n, "x" * 1000) for n in range(10)]
    kept, cut = choose(big, LogQuery(limit=10), max_bytes=3500)
    assert len(kept) == 3 and cut


class RecordingControlPlane:
    """A STAND-IN for the control plane's client: records the status reports it is given."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def report_status(self, revision_id: str, body: Any) -> None:
        self.sent.append((revision_id, body))


class FakeLogSource:
    """A STAND-IN log source: pods and log texts from dicts (no apiserver, no containers)."""

    def __init__(
        self, pods: list[dict[str, Any]], texts: dict[tuple[str, str, bool], str | KubeError]
    ) -> None:
        self.pod_list, self.texts = pods, texts
        self.reads: list[tuple[str, dict[str, Any], float]] = []
        self.secrets: dict[str, list[str]] = {}
        self.clock_step = 0.0
        self.clock = 0.0

    def pods(self, namespace: str, selector: str, timeout: float) -> list[dict[str, Any]]:
        assert (
            selector == "app.kubernetes.io/instance=agent,app.kubernetes.io/component in (api-server,queue)"
        )
        return self.pod_list

    def read(self, namespace: str, pod: str, params: dict[str, Any], timeout: float) -> str:
        self.reads.append((pod, params, timeout))
        self.clock += self.clock_step
        found = self.texts[(pod, params["container"], params.get("previous") == "true")]
        if isinstance(found, KubeError):
            raise found
        return found

    def secret_values(self, namespace: str, name: str, timeout: float) -> list[str]:
        return self.secrets.get(name, [])


def reader(source: FakeLogSource, secrets: tuple[str, ...] = ()) -> LogReader:
    state = Deployments()
    tr = state.track(str(DEP), "agent", "agents")
    tr.know_secrets(secrets)
    ctx = Context(
        cp=RecordingControlPlane(),  # type: ignore[arg-type]
        kube=None,  # type: ignore[arg-type]  # the reader reads through its source only
        state=state,
        reporter=None,  # type: ignore[arg-type]
        metrics=ListenerMetrics(),
    )
    return LogReader(ctx, source, tail_lines=500, limit_bytes=4096, clock=lambda: source.clock)


def request(**query: Any) -> LogRequest:
    return LogRequest(id=uuid.uuid4(), deployment_id=DEP, query=LogQuery(**query), answer_within_seconds=5)


def test_a_reader_answers_from_every_container_redacted() -> None:
    source = FakeLogSource(
        PODS,
        {
            ("agent-api-server-b", "api-server", False): TEXT,
            (
                "agent-api-server-b",
                "api-server",
                True,
            ): "2026-03-08T11:59:59Z CRITICAL: crashed with pw-db-secret",
            ("agent-queue-a", "queue-worker", False): "2026-03-08T12:00:04Z INFO: worker ready",
        },
    )
    source.secrets["agent-postgres"] = ["pw-db-secret", "postgres://u:pw-db-secret@h/db"]
    answer = reader(source, secrets=("sk-secret-value-1",)).answer(request(limit=100))
    assert answer.error is None and not answer.truncated
    messages = [x.message for x in answer.lines]
    assert messages[0] == "INFO: worker ready" and messages[-1] == f"CRITICAL: crashed with {REDACTED}"
    assert f"WARNING: key {REDACTED} in use" in messages
    assert [x.previous for x in answer.lines][-1] is True
    assert all(timeout <= 5 for _, _, timeout in source.reads)


def test_a_container_that_cannot_be_read_says_why_in_a_line() -> None:
    waiting = KubeError(
        400, "BadRequest", 'container "api-server" in pod "x" is waiting to start: ContainerCreating'
    )
    source = FakeLogSource(
        [pod("agent-api-server-b", REV2, {"api-server": 0})],
        {("agent-api-server-b", "api-server", False): waiting},
    )
    answer = reader(source).answer(request())
    [line] = answer.lines
    assert line.level == "WARNING" and "waiting to start: ContainerCreating" in line.message


def test_rbac_refusal_is_an_error_not_a_crash() -> None:
    forbidden = KubeError(403, "Forbidden", 'pods "x" is forbidden: cannot get resource "pods/log"')
    source = FakeLogSource(
        [pod("agent-api-server-b", REV2, {"api-server": 0})],
        {("agent-api-server-b", "api-server", False): forbidden},
    )
    answer = reader(source).answer(request())
    assert answer.lines == [] and "may not read pods or pods/log" in str(answer.error)


def test_the_deadline_stops_reading_and_marks_the_answer_truncated() -> None:
    many = [pod(f"agent-api-server-{n}", REV2, {"api-server": 0}) for n in range(10)]
    source = FakeLogSource(
        many, {(p["metadata"]["name"], "api-server", False): "2026-03-08T12:00:00Z INFO: x" for p in many}
    )
    source.clock_step = 1.0  # each read takes a second; the request must be answered within 5
    answer = reader(source).answer(request())
    assert len(source.reads) < 10 and answer.truncated


def test_a_deployment_the_listener_does_not_run_is_an_error() -> None:
    source = FakeLogSource([], {})
    other = LogRequest(id=uuid.uuid4(), deployment_id=uuid.uuid4(), query=LogQuery(), answer_within_seconds=5)
    assert "does not run deployment" in str(reader(source).answer(other).error)


def test_reports_are_redacted() -> None:
    redact = Redactor(["sk-secret-value-1"])
    obj = {
        "metadata": {"generation": 1},
        "status": {
            "observedGeneration": 1,
            "conditions": [
                {
                    "type": "Degraded",
                    "status": "True",
                    "reason": "CrashLoopBackOff",
                    "message": "api-server: last exit code 1: KeyError sk-secret-value-1",
                }
            ],
        },
    }
    assert "sk-secret-value-1" not in observed(obj, redact).model_dump_json()
    ev = {
        "metadata": {"uid": "u"},
        "involvedObject": {"kind": "Pod", "name": "x"},
        "message": "env sk-secret-value-1",
    }
    assert event_report(ev, redact).message == f"env {REDACTED}"
    cp = RecordingControlPlane()
    state = Deployments()
    tr = state.track(str(DEP), "agent", "agents")
    tr.know_secrets(("sk-secret-value-1",))
    reporter = StatusReporter(cp, ListenerMetrics())  # type: ignore[arg-type]
    reporter.report(tr, str(uuid.uuid4()), "DEPLOY_FAILED", "X", "boom sk-secret-value-1")
    [(_, sent)] = cp.sent
    assert sent.message == f"boom {REDACTED}"
