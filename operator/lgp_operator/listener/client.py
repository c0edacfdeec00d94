"""The listener's HTTP client for the control plane's /v1/listener/* protocol: it sends and receives the
contract's messages (``lgp_contract.protocol``; docs/listener-protocol.md tells the story).

Every failure is one of two exceptions: ``Unavailable`` (network error, timeout, 5xx, 429: retry with
backoff, change nothing) or ``Refused`` (a 4xx the listener cannot fix by retrying). Neither ever
carries the token or a secret value.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from lgp_contract.protocol import (
    PREFIX,
    DeploymentReport,
    Heartbeat,
    HeartbeatAck,
    LogAnswer,
    LogRequests,
    RevisionStatusPublic,
    StatusReport,
)


class Unavailable(Exception):
    """The control plane could not be reached or could not answer now."""


class Refused(Exception):
    """The control plane answered with a client error."""

    def __init__(self, status: int, detail: str) -> None:
        self.status, self.detail = status, detail
        super().__init__(f"HTTP {status}: {detail}")


class ControlPlaneClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str = True,
    ) -> None:
        self._token = token
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + PREFIX,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "lgp-listener"},
            transport=transport,
            verify=verify,
            trust_env=False,
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, *, timeout: float | None = None, **kw: Any) -> httpx.Response:
        try:
            r = self._http.request(method, path, timeout=timeout or self._http.timeout, **kw)
        except httpx.HTTPError as e:
            raise Unavailable(f"{method} {path}: {type(e).__name__}") from None
        if r.status_code >= 500 or r.status_code == 429:
            raise Unavailable(f"{method} {path}: HTTP {r.status_code}")
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail")
            except ValueError:
                detail = r.text[:300]
            raise Refused(r.status_code, str(detail))
        return r

    def desired_state(
        self, version: int | None, wait: float, *, delta: bool = False
    ) -> dict[str, Any] | None:
        """The desired state as sent (``desired.parse`` reads it), or None when unchanged since
        ``version`` after waiting ``wait`` s (304). ``delta``: only what changed after ``version`` (the
        answer says ``complete: false``; a control plane that cannot answer a delta sends it all)."""
        params: dict[str, Any] = {"wait": wait}
        if version is not None:
            params["version"] = version
            if delta:
                params["delta"] = "true"
        r = self._call("GET", "/desired-state", params=params, timeout=wait + 15)
        if r.status_code == 304:
            return None
        data: dict[str, Any] = r.json()
        return data

    def report_status(self, revision_id: str, report: StatusReport) -> RevisionStatusPublic:
        r = self._call("POST", f"/revisions/{revision_id}/status", json=report.model_dump(exclude_none=True))
        return _parse(RevisionStatusPublic, r)

    def report(self, deployment_id: str, report: DeploymentReport) -> None:
        self._call("POST", f"/deployments/{deployment_id}/report", json=_body(report))

    def acknowledge_deletion(self, deployment_id: str) -> None:
        self._call("POST", f"/deployments/{deployment_id}/deleted")

    def heartbeat(self, beat: Heartbeat) -> HeartbeatAck:
        return _parse(HeartbeatAck, self._call("POST", "/heartbeat", json=_body(beat)))

    def log_requests(self, wait: float) -> LogRequests:
        """Log requests waiting for this listener (empty after ``wait`` s when none came)."""
        r = self._call("GET", "/log-requests", params={"wait": wait}, timeout=wait + 15)
        return _parse(LogRequests, r)

    def answer_log_request(self, request_id: str, answer: LogAnswer) -> None:
        self._call("POST", f"/log-requests/{request_id}", json=_body(answer))


M = TypeVar("M", bound=BaseModel)


def _body(message: BaseModel) -> Any:
    """The fields given, as JSON."""
    return message.model_dump(mode="json", exclude_unset=True)


def _parse(model: type[M], r: httpx.Response) -> M:
    try:
        return model.model_validate(r.json())
    except (ValueError, ValidationError):
        what = f"{r.request.method} {r.request.url.path}"
        raise Unavailable(f"{what}: the answer is not a {model.__name__}") from None
