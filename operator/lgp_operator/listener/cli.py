"""`lgp listener run`: flags override LGP_LISTENER_* environment variables."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from pydantic import ValidationError


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="lgp listener", description="Keep this cluster in step with the control plane."
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run the listener until SIGTERM/Ctrl-C")
    run.add_argument("--control-plane-url", help="env LGP_LISTENER_CONTROL_PLANE_URL")
    run.add_argument("--listener-id", help="env LGP_LISTENER_LISTENER_ID")
    run.add_argument("--token-file", help="read the token from this file (env LGP_LISTENER_TOKEN)")
    run.add_argument(
        "--namespace", action="append", dest="namespaces", help="repeatable; env LGP_LISTENER_NAMESPACES"
    )
    run.add_argument("--kubeconfig", help="env LGP_LISTENER_KUBECONFIG; default in-cluster")
    run.add_argument(
        "--http-port", type=int, help="port of /healthz and /metrics (env LGP_LISTENER_HTTP_PORT)"
    )
    run.add_argument("--http-host", help="env LGP_LISTENER_HTTP_HOST")
    run.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("httpx", "httpcore", "kubernetes", "urllib3"):  # one line per request is too much
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from .runner import ListenerRunner
    from .settings import ListenerSettings

    overrides: dict[str, Any] = {}
    for key in ("control_plane_url", "listener_id", "namespaces", "kubeconfig", "http_port", "http_host"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    if args.token_file:
        with open(args.token_file) as f:
            overrides["token"] = f.read().strip()
    try:
        settings = ListenerSettings(**overrides)
    except ValidationError as e:
        for err in e.errors():
            field = ".".join(str(x) for x in err["loc"])
            print(
                f"lgp listener: setting {field} (env LGP_LISTENER_{field.upper()}): {err['msg']}",
                file=sys.stderr,
            )
        return 2
    runner = ListenerRunner(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runner.start()
    stop.wait()
    runner.stop()
    return 0
