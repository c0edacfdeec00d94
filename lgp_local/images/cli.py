"""Command line of the image builder, shared by ``python -m lgp_local.images`` and ``lgp build``.

    python -m lgp_local.images build {python,postgres,redis,server} [-c langgraph.json] [-t NAME]
                                     [-o FILE.oci.tar] [--load [--address SOCKET] [--namespace NS]]

Without ``-o`` or ``--load`` the archive goes to ``./<name>-<tag>.oci.tar``. ``--load`` imports the
image into the containerd at ``--address`` (env ``LGP_CONTAINERD_ADDRESS``) with ``ctr``, streaming
it (no archive is written unless ``-o`` is given too).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .builder import ImageSpec, build, load, write_image_archive
from .layers import BuildError
from .oci import normalize_reference
from .project import ProjectError

USAGE, FAILED, INVALID = 2, 1, 6


def default_output(name: str) -> Path:
    ref = normalize_reference(name)
    repo, tag = ref.split("@")[0].rsplit(":", 1)
    return Path(f"{repo.rsplit('/', 1)[-1]}-{tag}.oci.tar")


def add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o", "--output", type=Path, help="write the OCI archive here (default ./<name>-<tag>.oci.tar)"
    )
    p.add_argument(
        "--load",
        action="store_true",
        help="import the image into a containerd with ctr (the local node's: see --address)",
    )
    p.add_argument(
        "--address",
        default=os.environ.get("LGP_CONTAINERD_ADDRESS"),
        help="containerd socket for --load (env LGP_CONTAINERD_ADDRESS)",
    )
    p.add_argument(
        "--namespace",
        default="k8s.io",
        help="containerd namespace for --load (default k8s.io, the kubelet's)",
    )


def run_build(spec_factory: Callable[[], ImageSpec], name: str, args: argparse.Namespace, prog: str) -> int:
    """Build, then write and/or load; messages to stderr, the archive path or image name to stdout."""

    def err(msg: str) -> None:
        print(f"{prog}: {msg}", file=sys.stderr)

    try:
        ref = normalize_reference(name)
    except ValueError as e:
        err(f"-t/--tag: {e}")
        return USAGE
    if args.load and not args.address:
        err("--load needs the containerd socket: --address PATH or env LGP_CONTAINERD_ADDRESS")
        return USAGE
    if args.load and args.address and not Path(args.address).exists():
        err(f"--address: {args.address} does not exist (is the local node's containerd running?)")
        return USAGE
    t0 = time.monotonic()
    try:
        spec = spec_factory()
        image = build(spec, log=lambda m: print(m, file=sys.stderr, flush=True))
    except ProjectError as e:
        err(str(e))
        return INVALID
    except BuildError as e:
        err(str(e))
        return FAILED
    cached = (
        "all layers from the cache" if image.built_layers == 0 else f"{image.built_layers} layer(s) built"
    )
    print(
        f"built {ref} ({spec.description}): {image.manifest.digest[:19]}, "
        f"{image.size / 2**20:.0f} MiB, {time.monotonic() - t0:.1f} s, {cached}",
        file=sys.stderr,
    )
    output = args.output if args.output else (None if args.load else default_output(name))
    if output is not None:
        wrote = write_image_archive(image, name, output)
        print(f"{'wrote' if wrote else 'up to date'}: {output}", file=sys.stderr)
        print(output)
    if args.load:
        t1 = time.monotonic()
        try:
            load(image, name, address=args.address, namespace=args.namespace)
        except (BuildError, OSError) as e:
            err(str(e))
            return FAILED
        print(
            f"loaded {ref} into {args.address} (namespace {args.namespace}) in {time.monotonic() - t1:.1f} s",
            file=sys.stderr,
        )
        print(ref)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from . import recipes

    p = argparse.ArgumentParser(prog="python -m lgp_local.images", description="Build lgp's local images.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build one image (cached by content)")
    b.add_argument("image", choices=["python", "postgres", "redis", "server"])
    b.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path("langgraph.json"),
        help="server: the project's langgraph.json",
    )
    b.add_argument(
        "-t", "--tag", help="the image's name (default: localhost/lgp/<image>:...; required for server)"
    )
    add_output_options(b)
    args = p.parse_args(argv)
    factories: dict[str, tuple[Callable[[], ImageSpec], str | None]] = {
        "python": (recipes.python_base, recipes.PYTHON_NAME),
        "postgres": (recipes.postgres, recipes.POSTGRES_NAME),
        "redis": (recipes.redis, recipes.REDIS_NAME),
        "server": (lambda: recipes.server(args.config), None),
    }
    factory, default_name = factories[args.image]
    name = args.tag or default_name
    if name is None:
        p.error("build server: -t/--tag NAME:TAG is required")
    return run_build(factory, name, args, p.prog)
