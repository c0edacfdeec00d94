"""Container images built with no registry and no Docker, cached by content.

Debian root filesystems come from ``mmdebstrap`` (the host's apt sources as the mirror), Python
packages from pip, and the OCI image layout is written here (``oci.py``); the result is an OCI
archive that ``ctr images import`` accepts, or a stream straight into it (``load``). Each layer's
cache key is a hash of everything that goes into it (package lists and candidate versions, the
mirror, pip requirements and constraints, file contents), so a second build with the same inputs
only looks its records up. The cache lives under ``<lgp cache root>/images`` (``LGP_CACHE_DIR``,
else ``$XDG_CACHE_HOME/lgp`` or ``~/.cache/lgp``).

The images, their users and the writable paths they need: see ``recipes``.

    from lgp_local.images import build, recipes, write_image_archive, load
    image = build(recipes.server(Path("examples/agent/langgraph.json")))
    write_image_archive(image, "agent:dev", Path("agent.oci.tar"))
    load(image, "agent:dev", address="/run/lgp/containerd.sock")

Command line: ``python -m lgp_local.images build {python,postgres,redis,server} ...`` and
``lgp build`` (the Docker-free counterpart of ``langgraph build``).
"""

from .builder import BuiltImage, ImageSpec, build, load, write_image_archive
from .layers import BuildError
from .project import ProjectError

__all__ = ["BuildError", "BuiltImage", "ImageSpec", "ProjectError", "build", "load", "write_image_archive"]
