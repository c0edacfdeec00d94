"""Build an image from its spec (cached by content), write it as an OCI archive, load it into a
containerd with ``ctr``."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .layers import FORMAT, BuildError, Layer, Log, ensure_layer, layer_key
from .oci import (
    MEDIA_CONFIG,
    MEDIA_MANIFEST,
    Descriptor,
    ImageConfig,
    encode,
    image_config,
    image_index,
    image_manifest,
    normalize_reference,
    read_archive_index,
    sha256_bytes,
    write_archive,
)
from .store import Store


@dataclass(frozen=True)
class ImageSpec:
    """What an image is made of: layers (bottom first) and its runtime config."""

    layers: tuple[Layer, ...]
    config: ImageConfig
    description: str


@dataclass(frozen=True)
class BuiltImage:
    key: str
    manifest: Descriptor
    config: Descriptor
    layers: tuple[Descriptor, ...]
    store: Store = field(compare=False, repr=False)
    built_layers: int = 0  # how many layers this call built (0: everything came from the cache)
    seconds: float = 0.0

    @property
    def size(self) -> int:
        """Bytes of all layers (uncompressed, as stored and imported)."""
        return sum(layer.size for layer in self.layers)

    def blobs(self) -> dict[str, Path]:
        descs = [self.manifest, self.config, *self.layers]
        return {d.digest: self.store.blob(d.digest) for d in descs}


def image_key(spec: ImageSpec) -> str:
    material = {
        "format": FORMAT,
        "layers": [layer_key(layer) for layer in spec.layers],
        "config": spec.config.wire(),
    }
    return sha256_bytes(encode(material)).split(":", 1)[1]


def _quiet(msg: str) -> None:
    pass


def build(spec: ImageSpec, *, store: Store | None = None, log: Log = _quiet) -> BuiltImage:
    """Build (or find in the cache) the image. Layers are cached on their own, so an image that
    shares its Debian layer with another one builds only what differs."""
    store = store or Store()
    t0 = time.monotonic()
    key = image_key(spec)
    rec = store.record("images", key)
    if rec is not None:
        image = _from_record(store, key, rec)
        if image is not None:
            return image
    layers: list[Descriptor] = []
    built = 0
    for layer in spec.layers:
        desc, now = ensure_layer(store, layer, log)
        layers.append(desc)
        built += int(now)
    cfg = image_config(spec.config, [d.digest for d in layers], [layer.created_by for layer in spec.layers])
    config = Descriptor(MEDIA_CONFIG, *store.add_bytes(encode(cfg)))
    manifest = Descriptor(MEDIA_MANIFEST, *store.add_bytes(encode(image_manifest(config, layers))))
    store.save_record(
        "images",
        key,
        {
            "description": spec.description,
            "manifest": manifest.wire(),
            "config": config.wire(),
            "layers": [d.wire() for d in layers],
        },
    )
    return BuiltImage(key, manifest, config, tuple(layers), store, built, round(time.monotonic() - t0, 1))


def _from_record(store: Store, key: str, rec: dict[str, object]) -> BuiltImage | None:
    def desc(d: object) -> Descriptor:
        assert isinstance(d, dict)
        return Descriptor(d["mediaType"], d["digest"], d["size"])

    manifest, config = desc(rec["manifest"]), desc(rec["config"])
    layers = tuple(desc(d) for d in rec["layers"])  # type: ignore[attr-defined]
    if all(store.has_blob(d.digest, d.size) for d in (manifest, config, *layers)):
        return BuiltImage(key, manifest, config, layers, store)
    return None


def write_image_archive(image: BuiltImage, name: str, path: Path) -> bool:
    """Write the image as an OCI archive named ``name``. Returns False (and writes nothing) when
    ``path`` already holds this very image under this name."""
    index = image_index(image.manifest, name)
    if path.is_file() and read_archive_index(path) == index:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    with open(tmp, "wb") as f:
        write_archive(f, index, image.blobs())
    tmp.replace(path)
    return True


def load(image: BuiltImage, name: str, *, address: str, namespace: str = "k8s.io", ctr: str = "ctr") -> str:
    """Import the image into the containerd at ``address`` as ``name`` (normalized, returned):
    the archive is streamed into ``ctr images import -``; nothing is written to disk."""
    ref = normalize_reference(name)
    argv = [ctr, "--address", address, "--namespace", namespace, "images", "import", "-"]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        write_archive(proc.stdin, image_index(image.manifest, name), image.blobs())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    output = proc.stdout.read().decode(errors="replace")
    if proc.wait() != 0:
        raise BuildError(f"ctr images import into {address} (namespace {namespace}) failed: {output.strip()}")
    return ref
