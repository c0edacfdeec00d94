"""`lgp operator run`: the LangGraphPlatform operator (kopf, standalone, with leader election)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .settings import OperatorSettings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lgp operator", description="The LangGraphPlatform operator.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the operator (settings: LGP_OPERATOR_* environment variables)")
    run.add_argument(
        "--namespace",
        action="append",
        default=[],
        help="watch this namespace (repeatable; default LGP_OPERATOR_NAMESPACES, else all)",
    )
    run.add_argument(
        "--kubeconfig", help="kubeconfig file (default: in-cluster, $KUBECONFIG, ~/.kube/config)"
    )
    run.add_argument("--no-leader-election", action="store_true", help="do not take the leader Lease")
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.namespace:
        os.environ["LGP_OPERATOR_NAMESPACES"] = ",".join(args.namespace)
    if args.kubeconfig:
        os.environ["LGP_OPERATOR_KUBECONFIG"] = args.kubeconfig
    if args.no_leader_election:
        os.environ["LGP_OPERATOR_LEADER_ELECTION"] = "false"
    settings = OperatorSettings()
    if settings.kubeconfig:
        os.environ["KUBECONFIG"] = settings.kubeconfig  # kopf logs in through the same file
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("kubernetes", "urllib3", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not args.verbose:  # one line per handler call is too much at INFO; our reconcile logs what changed
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    from .runner import run

    return run(settings, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
