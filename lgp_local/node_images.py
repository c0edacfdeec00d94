"""The local node's own images, made with the registry-free builder (``lgp_local.images``): the pod
sandbox image (``pause``, from the Go build: no registry here serves registry.k8s.io/pause) and a tiny
test image of Debian's static busybox (sh, httpd, nslookup), both one small layer cached by content.
"""

from __future__ import annotations

from pathlib import Path

from .images import ImageSpec, build, load
from .images.layers import Files
from .images.oci import Entry, ImageConfig

PAUSE_IMAGE = "localhost/lgp/pause:1"
BUSYBOX_IMAGE = "localhost/lgp/busybox:1"
BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static
BUSYBOX_APPLETS = ("sh", "httpd", "nslookup", "sleep", "cat", "echo", "hostname", "ls", "rm", "touch")
PATH = "/bin:/usr/bin"


def pause_spec(bin_dir: Path) -> ImageSpec:
    files = Files(
        (Entry("/pause", mode=0o755, source=bin_dir / "pause"),), "the pause binary (lgp_local/pause)"
    )
    return ImageSpec(
        layers=(files,),
        config=ImageConfig(user="65535:65535", env={"PATH": PATH}, entrypoint=("/pause",)),
        description="pod sandbox (pause)",
    )


def busybox_spec() -> ImageSpec:
    entries = [Entry("/bin", mode=0o755), Entry("/bin/busybox", mode=0o755, source=BUSYBOX)]
    entries += [Entry(f"/bin/{a}", mode=0o777, link="busybox") for a in BUSYBOX_APPLETS]
    entries += [Entry("/tmp", mode=0o1777), Entry("/www", mode=0o755)]  # noqa: S108 (inside the image)
    entries += [Entry("/www/index.html", mode=0o644, data=b"busybox\n")]
    return ImageSpec(
        layers=(Files(tuple(entries), "Debian's static busybox"),),
        config=ImageConfig(user="0:0", env={"PATH": PATH}, cmd=("sh",)),
        description="busybox (tests of the node)",
    )


def load_pause(bin_dir: Path, containerd_socket: Path) -> str:
    return load(build(pause_spec(bin_dir)), PAUSE_IMAGE, address=str(containerd_socket))


def load_busybox(containerd_socket: Path) -> str:
    return load(build(busybox_spec()), BUSYBOX_IMAGE, address=str(containerd_socket))
