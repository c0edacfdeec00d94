"""Where windows go: the beacon over HTTP, or signed audit files in air-gapped mode.

A sink's ``submit(window)`` returns normally only when the window is safely with the receiver
(a 2xx answer, or a line fsync'ed to the audit file); anything else raises :class:`SubmitError`.

Audit files (air-gapped mode)
-----------------------------
One JSON object per line in ``<dir>/usage-YYYY-MM.jsonl`` (month of the window start)::

    {"v": 1, "key": <idempotency key>, "deployment": ..., "deployment_id": ..., "namespace": ...,
     "from_timestamp": ..., "to_timestamp": ..., "measures": {...}, "tags": {...},
     "written_at": ..., "prev": <sha256 hex of the previous line's bytes, "" for the first>,
     "sig": <base64 Ed25519 signature>}

``sig`` signs the canonical JSON (sorted keys, no spaces) of the object without ``sig``, with the
reporter's Ed25519 audit key; anyone holding the public key can check every line and, through
``prev``, that no line was removed or reordered. A window may appear twice (the reporter was
killed after writing it and before marking it sent): readers keep one line per ``key``, which is
what :func:`summarize_audit` does. A torn last line (a write cut by a crash, never acknowledged) is
cut off before the next append; its window is still unsent in the buffer and is written again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lgp_contract.usage import IDEMPOTENCY_HEADER, MEASURE_NODES, MEASURE_RUNS, SUBMIT_PATH

from .windows import Window


class SubmitError(RuntimeError):
    """A window was not accepted. ``reason`` is a short label for metrics (unreachable, http_503 ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Sink(Protocol):
    def submit(self, window: Window) -> None: ...

    def close(self) -> None: ...


class HttpSink:
    """``POST {base}/v1/metadata/submit`` with the window's idempotency key; 2xx means stored."""

    def __init__(
        self,
        base_url: str,
        license_key: str | None,
        *,
        api_key: str | None = None,
        timeout: float = 10.0,
        verify: bool | str = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + SUBMIT_PATH
        self.license_key = license_key
        headers = {"User-Agent": "lgp-usage-reporter"}
        if api_key:
            headers["X-Api-Key"] = api_key
        self._client = httpx.Client(timeout=timeout, headers=headers, verify=verify, transport=transport)

    def submit(self, window: Window) -> None:
        try:
            resp = self._client.post(
                self.url, json=window.payload(self.license_key), headers={IDEMPOTENCY_HEADER: window.key}
            )
        except httpx.TimeoutException:
            raise SubmitError("timeout", f"the beacon at {self.url} did not answer in time") from None
        except httpx.HTTPError as e:
            raise SubmitError(
                "unreachable", f"the beacon at {self.url} is unreachable: {type(e).__name__}"
            ) from None
        if not 200 <= resp.status_code < 300:
            detail = resp.text[:200].replace("\n", " ")
            raise SubmitError(f"http_{resp.status_code}", f"the beacon answered {resp.status_code}: {detail}")

    def close(self) -> None:
        self._client.close()


# ------------------------------------------------------------------------- audit files
def _canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def load_audit_private_key(data: bytes | str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PKCS#8 PEM or base64 of the raw 32-byte seed."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        if b"-----BEGIN" in raw:
            key = serialization.load_pem_private_key(raw, password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw.strip(), validate=True))
    except ValueError:
        raise ValueError("audit signing key: not an Ed25519 private key (PEM or base64 raw seed)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("audit signing key: not an Ed25519 key")
    return key


def load_audit_public_key(data: bytes | str) -> Ed25519PublicKey:
    raw = data.encode() if isinstance(data, str) else data
    try:
        if b"-----BEGIN" in raw:
            key = serialization.load_pem_public_key(raw)
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(raw.strip(), validate=True))
    except ValueError:
        raise ValueError("audit public key: not an Ed25519 public key (PEM or base64 raw)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("audit public key: not an Ed25519 key")
    return key


class AuditFileSink:
    """Air-gapped mode: append each window as a signed line to a monthly JSON-lines file."""

    def __init__(self, directory: str | Path, signing_key: Ed25519PrivateKey) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._key = signing_key
        self._prev: dict[Path, str] = {}

    def path_for(self, window: Window) -> Path:
        return self.dir / f"usage-{window.window_start.astimezone(UTC):%Y-%m}.jsonl"

    def _last_hash(self, path: Path) -> str:
        if path in self._prev:
            return self._prev[path]
        if not path.exists():
            return ""
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            # a torn write (killed mid-line): never acknowledged, so drop it before appending
            keep = data.rfind(b"\n") + 1
            with path.open("r+b") as f:
                f.truncate(keep)
                f.flush()
                os.fsync(f.fileno())
            data = data[:keep]
        lines = data.splitlines(keepends=True)
        return hashlib.sha256(lines[-1]).hexdigest() if lines else ""

    def submit(self, window: Window) -> None:
        path = self.path_for(window)
        try:
            prev = self._last_hash(path)
            record: dict[str, Any] = {
                "v": 1,
                "key": window.key,
                "deployment": window.deployment,
                "deployment_id": window.deployment_id,
                "namespace": window.namespace,
                "from_timestamp": window.window_start.isoformat(),
                "to_timestamp": window.window_end.isoformat(),
                "measures": {MEASURE_RUNS: window.runs, MEASURE_NODES: window.nodes},
                "tags": window.tags,
                "written_at": datetime.now(UTC).isoformat(),
                "prev": prev,
            }
            record["sig"] = base64.b64encode(self._key.sign(_canonical(record))).decode()
            line = _canonical(record) + b"\n"
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            raise SubmitError("audit_write", f"cannot write the audit file {path}: {e.strerror}") from None
        self._prev[path] = hashlib.sha256(line).hexdigest()

    def close(self) -> None:
        pass


class AuditError(ValueError):
    """An audit file failed verification; the message names the file, the line and the reason."""


@dataclass(frozen=True)
class AuditRecord:
    key: str
    deployment: str
    deployment_id: str
    namespace: str
    from_timestamp: datetime
    to_timestamp: datetime
    runs: int
    nodes: int


def verify_audit_file(path: str | Path, public_key: Ed25519PublicKey) -> list[AuditRecord]:
    """Check every line's signature and the ``prev`` chain; the records in file order."""
    p = Path(path)
    data = p.read_bytes()
    if data and not data.endswith(b"\n"):
        raise AuditError(f"{p}: the last line is incomplete (torn write)")
    prev = ""
    out: list[AuditRecord] = []
    for n, line in enumerate(data.splitlines(keepends=True), start=1):
        try:
            obj = json.loads(line)
            sig = base64.b64decode(obj.pop("sig"), validate=True)
        except (ValueError, KeyError, TypeError):
            raise AuditError(f"{p}: line {n} is not a signed usage record") from None
        try:
            public_key.verify(sig, _canonical(obj))
        except InvalidSignature:
            raise AuditError(
                f"{p}: line {n} has a bad signature (altered, or signed by another key)"
            ) from None
        if obj.get("prev") != prev:
            raise AuditError(f"{p}: line {n} does not follow line {n - 1} (a line was removed or reordered)")
        prev = hashlib.sha256(line).hexdigest()
        out.append(
            AuditRecord(
                key=obj["key"],
                deployment=obj["deployment"],
                deployment_id=obj["deployment_id"],
                namespace=obj["namespace"],
                from_timestamp=datetime.fromisoformat(obj["from_timestamp"]),
                to_timestamp=datetime.fromisoformat(obj["to_timestamp"]),
                runs=int(obj["measures"][MEASURE_RUNS]),
                nodes=int(obj["measures"][MEASURE_NODES]),
            )
        )
    return out


def verify_audit_dir(directory: str | Path, public_key: Ed25519PublicKey) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for path in sorted(Path(directory).glob("usage-*.jsonl")):
        records += verify_audit_file(path, public_key)
    return records


def summarize_audit(records: Iterable[AuditRecord]) -> dict[str, AuditRecord]:
    """One record per idempotency key (a window written twice counts once)."""
    return {r.key: r for r in records}
