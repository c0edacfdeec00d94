"""The log side of a listener, PLAYED by a test over the listener protocol (a STAND-IN for `lgp listener
run` in the api tier, where no cluster runs): it heartbeats, long-polls for log requests and answers
each with ``answer(request)`` (None: take it and never answer, as a listener that is too slow)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Self

from lgp_contract.logs import parse_time

Answer = Callable[[dict[str, Any]], dict[str, Any] | None]


def log_line(at: datetime, message: str, **kw: Any) -> dict[str, Any]:
    """A ``LogLine`` as the listener sends it."""
    line = {
        "timestamp": at.isoformat(),
        "pod": "agent-api-server-0",
        "container": "api-server",
        "message": message,
    }
    line.update({k: v for k, v in kw.items() if v is not None})
    return line


def lines_since(lines: list[dict[str, Any]], request: dict[str, Any]) -> list[dict[str, Any]]:
    """The lines at or after the request's ``since`` (all without one), as a listener answers."""
    since = request["query"].get("since")
    if since is None:
        return list(lines)
    start = parse_time(since)
    return [x for x in lines if parse_time(x["timestamp"]) >= start]


class PlayedListener:
    def __init__(self, client: Any, token: str, answer: Answer, *, prefix: str = "/v1/listener") -> None:
        self.client, self.prefix, self.answer = client, prefix, answer
        self.headers = {"Authorization": f"Bearer {token}"}
        self.requests: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="played-listener", daemon=True)

    def heartbeat(self) -> Any:
        return self.client.post(f"{self.prefix}/heartbeat", json={}, headers=self.headers)

    def post_answer(self, request_id: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"{self.prefix}/log-requests/{request_id}", json=body, headers=self.headers)

    def __enter__(self) -> Self:
        assert self.heartbeat().status_code == 200  # online
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(15)

    def _run(self) -> None:
        while not self._stop.is_set():
            r = self.client.get(f"{self.prefix}/log-requests", params={"wait": 1}, headers=self.headers)
            assert r.status_code == 200, r.text
            for request in r.json()["requests"]:
                self.requests.append(request)
                body = self.answer(request)
                if body is not None:
                    self.answers.append(self.post_answer(request["id"], body).status_code)
