"""`lgp build`: the Docker-free counterpart of `langgraph build`.

Builds a LangGraph server image from a project folder (its ``langgraph.json``) with no Docker and
no registry (``lgp_local.images``): Debian bookworm's python3, the stock ``langgraph-api`` with the
open Postgres runtime, the project under ``/deps/...`` as ``langgraph build`` lays it out. The
result is an OCI archive (``-o``, default ``./<name>-<tag>.oci.tar``) and/or, with ``--load``, an
image in a containerd (the local node's), imported with ``ctr``::

    lgp build -c examples/agent/langgraph.json -t agent:dev --load --address /path/containerd.sock

Layers are cached by content: rebuilding an unchanged project takes about no time, and a change to
the project's code rebuilds only its own small layer.

Exit codes: 0 built; 1 the build failed (mmdebstrap, pip or ctr; their last output lines are
printed); 2 usage (bad flags, a bad image name, --load without a socket); 6 the project is invalid
(no langgraph.json, a graph file that does not exist, ...: the file, field and reason are printed).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lgp_local.images.builder import ImageSpec


def main(argv: Sequence[str] | None = None) -> int:
    from lgp_local.images.cli import add_output_options, run_build

    p = argparse.ArgumentParser(
        prog="lgp build",
        description="Build a LangGraph server image from a project (langgraph.json) without Docker.",
        epilog="exit codes: 0 built, 1 build failed, 2 usage error, 6 invalid project",
    )
    p.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path("langgraph.json"),
        help="the project's langgraph.json, or its folder (default ./langgraph.json)",
    )
    p.add_argument("-t", "--tag", required=True, help="the image's name, e.g. agent:1.0")
    add_output_options(p)
    args = p.parse_args(list(argv) if argv is not None else None)

    def spec() -> ImageSpec:
        from lgp_local.images import recipes

        return recipes.server(args.config)

    return run_build(spec, args.tag, args, p.prog)
