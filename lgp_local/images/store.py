"""The image cache: a content-addressed blob store and records of what each input key produced.

Layout under ``<cache root>/images/``::

    blobs/sha256/<hex>     every layer, config and manifest (shared by all images)
    records/<kind>/<key>   JSON: what the inputs with that key produced (a layer's descriptor, an
                           image's manifest descriptor and blob list)
    locks/<key>.lock       one builder at a time per key (flock), across processes
    tmp/                   work directories, removed after each build
    debs/                  mmdebstrap's package cache;  pip/  pip's cache

A blob is written to tmp/ and renamed into place, and a record only after its blobs, so a build
killed half way leaves no record that points at a missing or partial blob.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..cache import cache_root
from .oci import sha256_bytes, sha256_file


class Store:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else cache_root() / "images"
        self.blobs = self.root / "blobs" / "sha256"
        self.tmp = self.root / "tmp"
        for d in (self.blobs, self.tmp, self.root / "records", self.root / "locks"):
            d.mkdir(parents=True, exist_ok=True)

    @property
    def debs(self) -> Path:
        return self._dir("debs")

    @property
    def pip_cache(self) -> Path:
        return self._dir("pip")

    def _dir(self, name: str) -> Path:
        d = self.root / name
        d.mkdir(exist_ok=True)
        return d

    # ---------------------------------------------------------------- blobs
    def blob(self, digest: str) -> Path:
        algo, hexdigest = digest.split(":", 1)
        assert algo == "sha256", digest
        return self.blobs / hexdigest

    def has_blob(self, digest: str, size: int | None = None) -> bool:
        path = self.blob(digest)
        return path.is_file() and (size is None or path.stat().st_size == size)

    def add_bytes(self, data: bytes) -> tuple[str, int]:
        digest = sha256_bytes(data)
        if not self.has_blob(digest, len(data)):
            fd, tmp = tempfile.mkstemp(dir=self.tmp)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self.blob(digest))
        return digest, len(data)

    def add_file(self, path: Path) -> tuple[str, int]:
        """Move ``path`` (a file in this store's tmp/) into the blob store."""
        digest, size = sha256_file(path)
        os.chmod(path, 0o644)
        os.replace(path, self.blob(digest))
        return digest, size

    # ---------------------------------------------------------------- records
    def record(self, kind: str, key: str) -> dict[str, Any] | None:
        path = self.root / "records" / kind / key
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            return None

    def save_record(self, kind: str, key: str, data: dict[str, Any]) -> None:
        d = self.root / "records" / kind
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.tmp)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, d / key)

    # ---------------------------------------------------------------- locks, work dirs
    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[None]:
        with open(self.root / "locks" / f"{key}.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def workdir(self, prefix: str) -> Iterator[Path]:
        d = Path(tempfile.mkdtemp(prefix=prefix, dir=self.tmp))
        try:
            yield d
        finally:
            shutil.rmtree(d, ignore_errors=True)
