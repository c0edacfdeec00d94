"""The listener's HTTP client for the control plane's /v1/listener/* protocol (docs/listener-protocol.md).

Every failure is one of two exceptions: ``Unavailable`` (network error, timeout, 5xx, 429: retry with
backoff, change nothing) or ``Refused`` (a 4xx the listener cannot fix by retrying). Neither ever
carries the token or a secret value.
"""

from __future__ import annotations

from typing import Any

import httpx


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
            base_url=base_url.rstrip("/") + "/v1/listener",
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

    def desired_state(self, version: int | None, wait: float) -> dict[str, Any] | None:
        """The desired state, or None when unchanged since ``version`` after waiting ``wait`` s (304)."""
        params: dict[str, Any] = {"wait": wait}
        if version is not None:
            params["version"] = version
        r = self._call("GET", "/desired-state", params=params, timeout=wait + 15)
        if r.status_code == 304:
            return None
        data: dict[str, Any] = r.json()
        return data

    def report_status(
        self, revision_id: str, status: str, reason: str | None = None, message: str | None = None
    ) -> dict[str, Any]:
        body = {"status": status, "reason": reason, "message": message}
        r = self._call(
            "POST", f"/revisions/{revision_id}/status", json={k: v for k, v in body.items() if v is not None}
        )
        data: dict[str, Any] = r.json()
        return data

    def report(self, deployment_id: str, report: dict[str, Any]) -> None:
        self._call("POST", f"/deployments/{deployment_id}/report", json=report)

    def acknowledge_deletion(self, deployment_id: str) -> None:
        self._call("POST", f"/deployments/{deployment_id}/deleted")

    def heartbeat(self, version: int | None, info: dict[str, str]) -> dict[str, Any]:
        r = self._call("POST", "/heartbeat", json={"version": version, "info": info})
        data: dict[str, Any] = r.json()
        return data
