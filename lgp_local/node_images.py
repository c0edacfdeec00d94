"""The local node's own images, built here with no registry: the pod sandbox image (``pause``, from
the Go build) and a tiny test image of Debian's static busybox (sh, httpd, wget, nslookup).

Each is a single-layer OCI archive, written by ``write_oci_archive`` and loaded with ``ctr images
import``; the archive's index carries ``io.containerd.image.name`` so the image gets its name.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

PAUSE_IMAGE = "localhost/lgp/pause:1"
BUSYBOX_IMAGE = "localhost/lgp/busybox:1"
BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static
BUSYBOX_APPLETS = ("sh", "httpd", "wget", "nslookup", "sleep", "cat", "echo", "hostname", "ls", "rm", "touch")


@dataclass
class LayerFile:
    path: str  # inside the image, absolute
    data: bytes = b""
    mode: int = 0o644
    symlink: str | None = None


@dataclass
class ImageConfig:
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: list[str] = field(default_factory=lambda: ["PATH=/bin:/usr/bin:/usr/local/bin"])
    workdir: str = "/"


def _layer(files: list[LayerFile]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for f in files:
            parts = f.path.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    ti = tarfile.TarInfo(d)
                    ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(ti)
            ti = tarfile.TarInfo(f.path.strip("/"))
            if f.symlink is not None:
                ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, f.symlink, 0o777
                tar.addfile(ti)
            else:
                ti.size, ti.mode = len(f.data), f.mode
                tar.addfile(ti, io.BytesIO(f.data))
    return buf.getvalue()


def write_oci_archive(name: str, files: list[LayerFile], config: ImageConfig, out: Path) -> Path:
    """A one-layer OCI image archive (uncompressed layer, so its digest is its diff id)."""
    layer = _layer(files)
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> tuple[str, int]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return digest, len(data)

    layer_digest, layer_size = put(layer)
    cfg: dict[str, object] = {"Env": config.env, "WorkingDir": config.workdir}
    if config.entrypoint:
        cfg["Entrypoint"] = config.entrypoint
    if config.cmd:
        cfg["Cmd"] = config.cmd
    image_config = {
        "created": "1970-01-01T00:00:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }
    cfg_digest, cfg_size = put(json.dumps(image_config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": cfg_digest,
            "size": cfg_size,
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer_digest,
                "size": layer_size,
            }
        ],
    }
    man_digest, man_size = put(json.dumps(manifest, sort_keys=True).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": man_digest,
                "size": man_size,
                "annotations": {
                    "io.containerd.image.name": name,
                    "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1],
                },
            }
        ],
    }
    tmp = out.with_suffix(".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        entries = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', "index.json": json.dumps(index).encode()}
        entries |= {f"blobs/sha256/{d.split(':')[1]}": data for d, data in blobs.items()}
        for path, data in entries.items():
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
    tmp.replace(out)
    return out


def pause_archive(bin_dir: Path, out_dir: Path) -> Path:
    data = (bin_dir / "pause").read_bytes()
    return write_oci_archive(
        PAUSE_IMAGE,
        [LayerFile("/pause", data, 0o755)],
        ImageConfig(entrypoint=["/pause"]),
        out_dir / "pause.oci.tar",
    )


def busybox_archive(out_dir: Path) -> Path:
    files = [LayerFile("/bin/busybox", BUSYBOX.read_bytes(), 0o755)]
    files += [LayerFile(f"/bin/{a}", symlink="busybox") for a in BUSYBOX_APPLETS]
    files += [LayerFile("/tmp/.keep"), LayerFile("/www/index.html", b"busybox\n")]  # noqa: S108 (in the image)
    return write_oci_archive(BUSYBOX_IMAGE, files, ImageConfig(cmd=["sh"]), out_dir / "busybox.oci.tar")
