"""OCI image pieces written by hand: layer tars, the image config, manifest, index and archive.

Pure except for the tar writers, which write to a file object they are given. Layers are stored
uncompressed (``...layer.v1.tar``), so a layer's digest is also its diff_id; the index entry
carries ``io.containerd.image.name`` (what ``ctr images import`` names the image) with the name
normalized the way the kubelet's CRI looks it up (``agent:1.0`` -> ``docker.io/library/agent:1.0``).

Everything is deterministic: sorted entries, a fixed mtime, numeric owners, canonical JSON and a
fixed ``created`` time, so the same inputs give the same digests.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"
ANNOTATION_NAME = "io.containerd.image.name"
ANNOTATION_REF = "org.opencontainers.image.ref.name"
CREATED = "1970-01-01T00:00:00Z"
MTIME = 0
_CHUNK = 1 << 20


def encode(obj: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces (the bytes that get hashed)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return "sha256:" + h.hexdigest(), size


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int

    def wire(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


# ---------------------------------------------------------------------------- names
_DOMAIN = re.compile(r"^(localhost|[^/]*[.:][^/]*)$")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPO = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")


def normalize_reference(name: str) -> str:
    """The fully qualified name the kubelet's CRI looks up for an image reference.

    ``redis`` -> ``docker.io/library/redis:latest``; ``acme/bot:1`` -> ``docker.io/acme/bot:1``;
    ``localhost/lgp/x:1`` and ``registry.example:5000/x:1`` stay as they are.
    """
    if not name or name != name.strip() or any(c.isspace() for c in name):
        raise ValueError(f"invalid image name {name!r}")
    rest, _, digest = name.partition("@")
    first, _, remainder = rest.partition("/")
    domain, path = (first, remainder) if remainder and _DOMAIN.match(first) else ("docker.io", rest)
    repo, sep, tag = path.rpartition(":")
    if not sep:
        repo, tag = path, ""
    if not _REPO.fullmatch(repo):
        raise ValueError(f"invalid image name {name!r}: repository {repo!r} must be lowercase [a-z0-9._-/]")
    if sep and not re.fullmatch(r"[\w][\w.-]{0,127}", tag):
        raise ValueError(f"invalid image name {name!r}: tag {tag!r}")
    if domain == "docker.io" and "/" not in repo:
        repo = "library/" + repo
    ref = f"{domain}/{repo}"
    if digest:
        return f"{ref}:{tag}@{digest}" if tag else f"{ref}@{digest}"
    return f"{ref}:{tag or 'latest'}"


# ---------------------------------------------------------------------------- config / manifest / index
@dataclass(frozen=True)
class ImageConfig:
    """The runtime part of an OCI image config (what Docker calls ``Config``)."""

    user: str
    env: Mapping[str, str]
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = "/"
    stop_signal: str | None = None
    exposed_ports: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "User": self.user,
            "Env": [f"{k}={v}" for k, v in self.env.items()],
            "WorkingDir": self.working_dir,
        }
        if self.entrypoint:
            cfg["Entrypoint"] = list(self.entrypoint)
        if self.cmd:
            cfg["Cmd"] = list(self.cmd)
        if self.stop_signal:
            cfg["StopSignal"] = self.stop_signal
        if self.exposed_ports:
            cfg["ExposedPorts"] = {p: {} for p in self.exposed_ports}
        if self.labels:
            cfg["Labels"] = dict(self.labels)
        return cfg


def image_config(config: ImageConfig, diff_ids: list[str], history: list[str]) -> dict[str, Any]:
    return {
        "created": CREATED,
        "architecture": "amd64",
        "os": "linux",
        "config": config.wire(),
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": [{"created": CREATED, "created_by": h} for h in history],
    }


def image_manifest(config: Descriptor, layers: list[Descriptor]) -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": config.wire(),
        "layers": [layer.wire() for layer in layers],
    }


def image_index(manifest: Descriptor, name: str) -> dict[str, Any]:
    """An index naming one image; ``name`` is normalized (see ``normalize_reference``)."""
    ref = normalize_reference(name)
    tag = ref.split("@")[0].rsplit(":", 1)[1]
    return {
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [
            {
                **manifest.wire(),
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {ANNOTATION_NAME: ref, ANNOTATION_REF: tag},
            }
        ],
    }


# ---------------------------------------------------------------------------- layer tars
@dataclass(frozen=True)
class Entry:
    """One entry of a layer: a directory (``data`` and ``source`` None), a file or a symlink."""

    path: str  # absolute in the image, e.g. /storage/entrypoint.sh
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    data: bytes | None = None
    source: Path | None = None  # a file on this machine, read when the tar is written
    link: str | None = None

    @property
    def kind(self) -> str:
        if self.link is not None:
            return "symlink"
        if self.data is None and self.source is None:
            return "dir"
        return "file"

    def content_digest(self) -> str:
        if self.data is not None:
            return sha256_bytes(self.data)
        if self.source is not None:
            return sha256_file(self.source)[0]
        return sha256_bytes((self.link or "").encode())

    def material(self) -> list[Any]:
        return [self.path, self.kind, oct(self.mode), self.uid, self.gid, self.content_digest()]


def _tarinfo(name: str, kind: str, mode: int, uid: int, gid: int) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.uname = ti.gname = ""
    ti.mtime = MTIME
    ti.type = {"dir": tarfile.DIRTYPE, "file": tarfile.REGTYPE, "symlink": tarfile.SYMTYPE}[kind]
    return ti


def write_layer(entries: Iterable[Entry], out: IO[bytes]) -> None:
    """A layer tar of exactly these entries, sorted by path (parents are not added: a parent that
    exists in a lower layer keeps its owner and mode)."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for e in sorted(entries, key=lambda e: e.path):
            if not e.path.startswith("/") or e.path == "/":
                raise ValueError(f"layer entry path must be absolute and not /: {e.path!r}")
            ti = _tarinfo(e.path.lstrip("/"), e.kind, e.mode, e.uid, e.gid)
            if e.kind == "symlink":
                ti.linkname = e.link or ""
                tar.addfile(ti)
            elif e.kind == "dir":
                tar.addfile(ti)
            elif e.data is not None:
                ti.size = len(e.data)
                tar.addfile(ti, io.BytesIO(e.data))
            else:
                assert e.source is not None
                ti.size = e.source.stat().st_size
                with open(e.source, "rb") as f:
                    tar.addfile(ti, f)


def tree_entries(root: Path, dest: str, *, uid: int = 0, gid: int = 0) -> list[Entry]:
    """Entries for a directory tree on this machine placed at ``dest`` (dest itself included).
    Modes are kept (permission bits only), owners set to uid/gid; symlinks stay symlinks."""
    dest = "/" + dest.strip("/")
    out = [Entry(dest, mode=0o755, uid=uid, gid=gid)]
    for path in sorted(root.rglob("*")):
        target = f"{dest}/{path.relative_to(root).as_posix()}"
        st = path.lstat()
        perm = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            out.append(Entry(target, mode=0o777, uid=uid, gid=gid, link=str(path.readlink())))
        elif stat.S_ISDIR(st.st_mode):
            out.append(Entry(target, mode=perm, uid=uid, gid=gid))
        elif stat.S_ISREG(st.st_mode):
            out.append(Entry(target, mode=perm, uid=uid, gid=gid, source=path))
    return out


# ---------------------------------------------------------------------------- archive
def write_archive(out: IO[bytes], index: dict[str, Any], blobs: Mapping[str, Path | bytes]) -> None:
    """An OCI archive (oci-layout, index.json, blobs/sha256/...) that ``ctr images import`` reads.
    ``out`` may be a pipe: the tar is written as a stream."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:

        def add_bytes(name: str, data: bytes) -> None:
            ti = _tarinfo(name, "file", 0o644, 0, 0)
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))

        add_bytes("oci-layout", encode({"imageLayoutVersion": "1.0.0"}))
        add_bytes("index.json", encode(index))
        tar.addfile(_tarinfo("blobs", "dir", 0o755, 0, 0))
        tar.addfile(_tarinfo("blobs/sha256", "dir", 0o755, 0, 0))
        for digest in sorted(blobs):
            algo, hexdigest = digest.split(":", 1)
            if algo != "sha256":
                raise ValueError(f"unsupported digest {digest}")
            blob = blobs[digest]
            name = f"blobs/sha256/{hexdigest}"
            if isinstance(blob, bytes):
                add_bytes(name, blob)
                continue
            ti = _tarinfo(name, "file", 0o644, 0, 0)
            ti.size = blob.stat().st_size
            with open(blob, "rb") as f:
                tar.addfile(ti, f)


def read_archive_index(path: Path) -> dict[str, Any] | None:
    """The index.json of an OCI archive (it comes second, so this reads only the start)."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            for member in tar:
                if member.name == "index.json":
                    f = tar.extractfile(member)
                    return json.loads(f.read()) if f else None
                if member.name.startswith("blobs"):
                    return None
    except (OSError, tarfile.TarError, json.JSONDecodeError):
        return None
    return None
