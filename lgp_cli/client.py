"""The control plane's HTTP API as the CLI uses it (httpx; no import of the control plane's code)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from lgp_cli import exit_codes

# what may be retried, and why: the request never reached the server, or the server said "not now"
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAYBE_SENT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError)
_RETRY_STATUS = (502, 503, 504)
MAX_RETRY_AFTER = 5.0


class ApiError(Exception):
    """The control plane answered with an error status."""

    def __init__(self, status: int, detail: Any, method: str, path: str) -> None:
        self.status, self.detail, self.method, self.path = status, detail, method, path
        super().__init__(f"{method} {path}: HTTP {status}")

    @property
    def exit_code(self) -> int:
        return exit_codes.for_http_status(self.status)


class Unavailable(Exception):
    """The control plane cannot be reached (exit code 7)."""

    exit_code = exit_codes.UNAVAILABLE


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(body, dict) and "detail" in body:
        return body["detail"]
    return body


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", default)), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return default


class Client:
    """JSON over HTTP with the API key; retries what is safe to retry; raises ApiError / Unavailable."""

    def __init__(
        self,
        url: str,
        api_key: str | None,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = "lgp-cli",
    ) -> None:
        headers = {"User-Agent": user_agent, "Accept": "application/json"}
        if api_key:
            headers["X-Api-Key"] = api_key
        self.url = url
        self.retries = retries
        self.sleep = sleep
        self.http = httpx.Client(base_url=url + "/v1", headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        retries: int | None = None,
    ) -> Any:
        """The decoded JSON body (None for an empty one). POSTs carry an Idempotency-Key, so a retry
        after a lost response is answered with the first response instead of doing it twice."""
        headers = {}
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        safe_to_resend = method in ("GET", "POST")  # POST: thanks to the Idempotency-Key
        query = {k: v for k, v in (params or {}).items() if v is not None}
        attempts = 1 + (self.retries if retries is None else retries)
        delay = 0.5
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = self.http.request(method, path, params=query, json=json, headers=headers)
            except _NOT_SENT as e:
                if last:
                    raise Unavailable(f"cannot reach the control plane at {self.url}: {_why(e)}") from None
            except _MAYBE_SENT as e:
                if last or not safe_to_resend:
                    raise Unavailable(
                        f"the control plane at {self.url} did not answer {method} {path}: {_why(e)}"
                    ) from None
            except httpx.HTTPError as e:
                raise Unavailable(f"cannot talk to the control plane at {self.url}: {_why(e)}") from None
            else:
                in_progress = (
                    response.status_code == 409 and attempt > 1 and "Idempotency-Key" in response.text
                )
                if (response.status_code in _RETRY_STATUS or in_progress) and not last:
                    self.sleep(_retry_after(response, delay))
                    delay *= 2
                    continue
                if response.status_code >= 400:
                    raise ApiError(response.status_code, _detail(response), method, path)
                if not response.content:
                    return None
                try:
                    return response.json()
                except ValueError:
                    raise ApiError(
                        response.status_code,
                        "the answer is not JSON (is --url the control plane?)",
                        method,
                        path,
                    ) from None
            self.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None) -> Any:
        return self.request("POST", path, json={} if json is None else json)

    def patch(self, path: str, json: Any) -> Any:
        return self.request("PATCH", path, json=json)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def stream(self, path: str, **params: Any) -> Iterator[Any]:
        """A GET answered with one JSON document a line (NDJSON), each decoded as it comes; no read
        timeout (a followed log may stay quiet for long)."""
        query = {k: v for k, v in params.items() if v is not None}
        timeout = httpx.Timeout(self.http.timeout.connect or 10.0, read=None)
        try:
            with self.http.stream("GET", path, params=query, timeout=timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    raise ApiError(response.status_code, _detail(response), "GET", path)
                for line in response.iter_lines():
                    if line.strip():
                        yield json.loads(line)
        except httpx.HTTPError as e:
            raise Unavailable(
                f"the control plane at {self.url} stopped answering GET {path}: {_why(e)}"
            ) from None

    def get_all(self, path: str, page_size: int = 500, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paged list endpoint."""
        items: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.get(path, limit=page_size, offset=offset, **params)
            items += page["data"]
            offset += len(page["data"])
            if not page["data"] or offset >= page["count"]:
                return items


def _why(e: Exception) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
