"""ASGI middleware: metrics, the request size limit, and Idempotency-Key replay for POST."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from control_plane.core.metrics import Metrics
from control_plane.core.security import SecretBox
from control_plane.models import IdempotencyRecord, utcnow

log = logging.getLogger("control_plane.http")
RETRY_AFTER_SECONDS = 5
DB_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


async def _json(send: Send, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    raw = json.dumps(body).encode()
    hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    hdrs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": raw})


async def db_unavailable(send: Send) -> None:
    await _json(
        send,
        503,
        {"detail": "the database is unavailable; retry later"},
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _route_template(scope: Scope, status: int) -> str:
    """The path with its parameters put back as ``{name}``: bounded label values."""
    if status == 404 and not scope.get("path_params"):
        return "unmatched" if scope.get("endpoint") is None else scope["path"]
    path: str = scope["path"]
    for name, value in (scope.get("path_params") or {}).items():
        path = path.replace(f"/{value}", f"/{{{name}}}", 1)
    return path


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = _route_template(scope, status["code"])
            self.metrics.requests.labels(scope["method"], path, str(status["code"])).inc()
            self.metrics.latency.labels(scope["method"], path).observe(time.perf_counter() - start)


class BodyMiddleware:
    """Reads request bodies up to ``max_bytes`` (413 beyond), then replays them; for a POST with an
    Idempotency-Key, a retry with the same key and credential gets the first response again."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, engine: Engine, box: SecretBox, ttl_seconds: int
    ) -> None:
        self.app, self.max_bytes, self.engine, self.box, self.ttl = app, max_bytes, engine, box, ttl_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        too_big = {"detail": f"the request body is larger than {self.max_bytes} bytes"}
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            await _json(send, 413, too_big)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _json(send, 413, too_big)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        key = headers.get("idempotency-key")
        credential = headers.get("x-api-key") or headers.get("authorization")
        if scope["method"] != "POST" or key is None or not credential:
            await self.app(scope, replay, send)
            return
        if not 1 <= len(key) <= 255:
            await _json(
                send,
                422,
                {
                    "detail": [
                        {
                            "loc": ["header", "Idempotency-Key"],
                            "msg": "must be 1 to 255 characters",
                            "type": "value_error",
                        }
                    ]
                },
            )
            return
        await self._idempotent(scope, replay, send, key, credential, body)

    async def _idempotent(
        self, scope: Scope, receive: Receive, send: Send, key: str, credential: str, body: bytes
    ) -> None:
        owner = hashlib.sha256(credential.encode()).hexdigest()
        fingerprint = hashlib.sha256(
            b"\0".join(
                [scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body]
            )
        ).hexdigest()
        try:
            claimed, record = await run_in_threadpool(self._claim, owner, key, fingerprint)
        except DB_ERRORS:
            await db_unavailable(send)
            return
        if not claimed:
            assert record is not None
            if record["request_hash"] != fingerprint:
                await _json(
                    send,
                    422,
                    {
                        "detail": [
                            {
                                "loc": ["header", "Idempotency-Key"],
                                "msg": "already used for a different request",
                                "type": "value_error",
                            }
                        ]
                    },
                )
            elif record["status_code"] is None:
                await _json(
                    send,
                    409,
                    {"detail": "a request with this Idempotency-Key is in progress"},
                    {"Retry-After": "1"},
                )
            else:
                stored = self.box.open(record["body_sealed"])
                raw = stored["body"].encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": record["status_code"],
                        "headers": [
                            (b"content-type", stored["content_type"].encode()),
                            (b"content-length", str(len(raw)).encode()),
                            (b"idempotent-replayed", b"true"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": raw})
            return

        captured: dict[str, Any] = {"status": 500, "content_type": "application/json", "body": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                for k, v in message.get("headers", []):
                    if k.lower() == b"content-type":
                        captured["content_type"] = v.decode("latin-1")
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await run_in_threadpool(self._release, owner, key)
            raise
        try:
            if captured["status"] < 500:
                raw = b"".join(captured["body"]).decode("utf-8", errors="replace")
                sealed = self.box.seal({"body": raw, "content_type": captured["content_type"]})
                await run_in_threadpool(self._store, owner, key, captured["status"], sealed)
            else:
                await run_in_threadpool(self._release, owner, key)
        except DB_ERRORS:
            log.warning("could not record an Idempotency-Key result: the database is unavailable")

    def _claim(self, owner: str, key: str, fingerprint: str) -> tuple[bool, dict[str, Any] | None]:
        table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            conn.execute(
                sa.delete(table).where(
                    table.c.scope == owner,
                    table.c.key == key,
                    table.c.created_at < utcnow() - timedelta(seconds=self.ttl),
                )
            )
            inserted = conn.execute(
                insert(table)
                .values(scope=owner, key=key, request_hash=fingerprint, created_at=utcnow())
                .on_conflict_do_nothing()
                .returning(table.c.key)
            ).first()
            if inserted is not None:
                return True, None
            row = (
                conn.execute(sa.select(table).where(table.c.scope == owner, table.c.key == key))
                .mappings()
                .first()
            )
            return False, dict(row) if row else {"request_hash": "", "status_code": None}

    def _store(self, owner: str, key: str, status: int, sealed: str) -> None:
        table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.scope == owner, table.c.key == key)
                .values(status_code=status, body_sealed=sealed)
            )

    def _release(self, owner: str, key: str) -> None:
        table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.delete(table).where(table.c.scope == owner, table.c.key == key))
        except DB_ERRORS:
            log.warning("could not release an Idempotency-Key: the database is unavailable")
