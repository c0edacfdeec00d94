#!/usr/bin/env python3
"""Copy the chart's generated inputs from their single sources (`make manifests` runs this).

    crds/*.yaml                      -> helm/lgp/crds/          (Helm installs them before templates)
    operator/rbac/operator-rbac.yaml -> helm/lgp/files/operator-rbac.yaml
                                        (rendered by templates/operator/rbac.yaml with the release's
                                        names, ServiceAccount and namespaces)

The copies are byte-for-byte; a chart file whose source is gone is removed. ``--check`` writes
nothing, lists every difference and exits 1 when there is one (the chart drift test runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHART = Path("helm/lgp")
RBAC_SOURCE = Path("operator/rbac/operator-rbac.yaml")
RBAC_COPY = CHART / "files" / "operator-rbac.yaml"


def pairs(root: Path) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(source, chart copy) pairs, and chart copies that no longer have a source."""
    out: list[tuple[Path, Path]] = []
    sources = sorted((root / "crds").glob("*.yaml"))
    for src in sources:
        out.append((src, root / CHART / "crds" / src.name))
    wanted = {dst for _, dst in out}
    stale = [p for p in sorted((root / CHART / "crds").glob("*.yaml")) if p not in wanted]
    rbac = root / RBAC_SOURCE
    if rbac.exists():
        out.append((rbac, root / RBAC_COPY))
    elif (root / RBAC_COPY).exists():
        stale.append(root / RBAC_COPY)
    return out, stale


def differences(root: Path) -> list[str]:
    """What --check reports: one line per chart file that is missing, different or stale."""
    found, stale = pairs(root)
    problems = []
    for src, dst in found:
        if not dst.exists():
            problems.append(f"missing: {dst.relative_to(root)} (copy of {src.relative_to(root)})")
        elif dst.read_bytes() != src.read_bytes():
            problems.append(f"differs: {dst.relative_to(root)} from {src.relative_to(root)}")
    problems += [f"stale: {p.relative_to(root)} (its source is gone)" for p in stale]
    return problems


def sync(root: Path) -> list[str]:
    found, stale = pairs(root)
    changed = []
    for src, dst in found:
        data = src.read_bytes()
        if not dst.exists() or dst.read_bytes() != data:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(data)
            changed.append(f"wrote {dst.relative_to(root)}")
    for p in stale:
        p.unlink()
        changed.append(f"removed {p.relative_to(root)}")
    return changed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/sync-chart.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, default=ROOT, help="repository root")
    p.add_argument("--check", action="store_true", help="compare only; exit 1 on drift")
    args = p.parse_args(argv)
    root = args.root.resolve()
    if args.check:
        problems = differences(root)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("the chart's copies are out of date: run `make manifests`", file=sys.stderr)
            return 1
        return 0
    for line in sync(root):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
