"""Security scanner counts: checkov's passed and failed checks over what lgp deploys, the operator's
children for representative LangGraphPlatform specs and the chart for every helm/lgp/ci/*-values.yaml
(the same targets as tests/unit/security), with the failed checks left after the exceptions file.

    .venv/bin/python bench/security_scan.py                  # this checkout
    git worktree add /tmp/lgp-before <commit>
    .venv/bin/python bench/security_scan.py --root /tmp/lgp-before   # another checkout, same scenarios
    git worktree remove /tmp/lgp-before

Targets another checkout cannot express (the below-restricted override needs spec.security) are left out
and named. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from tests.security.scan import ROOT, load_exceptions, not_excepted, scan, targets  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", type=Path, default=ROOT, help="checkout whose operator and chart to scan")
    p.add_argument("--by-check", action="store_true", help="also list the failed checks by id")
    args = p.parse_args()
    root = args.root.resolve()
    objects, skipped = {}, []
    for name, build in targets(root).items():
        try:
            objects[name] = build()
        except Exception as e:  # a scenario this checkout cannot express
            skipped.append(f"{name}: {str(e).splitlines()[0][:120]}")
    results = scan(objects)
    exceptions = load_exceptions()
    print(f"checkov over {root}")
    print(f"{'target':34} {'passed':>7} {'failed':>7} {'not in exceptions':>18}")
    for name, r in results.items():
        left = len(not_excepted(r.failed, exceptions))
        print(f"{name:34} {r.passed:7d} {len(r.failed):7d} {left:18d}")
        if args.by_check:
            for check, n in sorted(Counter(f.check for f in r.failed).items()):
                print(f"    {check:12} {n}")
    for line in skipped:
        print(f"skipped {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
