"""Benchmark: cold and warm build time and size of each local image (lgp_local.images).

Cold: an empty cache (a fresh LGP_CACHE_DIR: no Debian packages, no pip downloads, no layers);
warm: the same inputs again. Also the time to write each image as an OCI archive. Prints figures;
asserts nothing. Needs root (mmdebstrap). Run: .venv/bin/python bench/images_build.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "agent"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--keep", action="store_true", help="keep the temporary cache (prints its path)")
    args = p.parse_args()
    cache = Path(tempfile.mkdtemp(prefix="lgp-bench-images-"))
    os.environ["LGP_CACHE_DIR"] = str(cache)
    from lgp_local.images import build, recipes, write_image_archive

    specs = {
        "python": recipes.python_base,
        "postgres": recipes.postgres,
        "redis": recipes.redis,
        "server (examples/agent)": lambda: recipes.server(EXAMPLE),
    }
    print(f"cache: {cache} (empty)")
    print(f"{'image':<26} {'cold':>8} {'warm':>8} {'archive':>8} {'size':>9} {'layers'}")
    try:
        for name, factory in specs.items():
            t0 = time.monotonic()
            image = build(factory())
            cold = time.monotonic() - t0
            t0 = time.monotonic()
            again = build(factory())
            warm = time.monotonic() - t0
            assert again.manifest == image.manifest
            t0 = time.monotonic()
            write_image_archive(image, "localhost/bench/image:1", cache / "out.oci.tar")
            archive = time.monotonic() - t0
            (cache / "out.oci.tar").unlink()
            print(
                f"{name:<26} {cold:>7.1f}s {warm:>7.2f}s {archive:>7.1f}s {image.size / 2**20:>6.0f} MiB "
                f"{len(image.layers)} ({image.built_layers} built cold)",
                flush=True,
            )
    finally:
        if args.keep:
            print(f"kept {cache}")
        else:
            shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
