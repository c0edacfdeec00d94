"""`lgp usage`: run the usage reporter, show its buffer, verify air-gapped audit files.

    lgp usage run [--beacon-url URL] [--target ID=URI ...] [--buffer-path PATH] [--interval S]
                  [--airgapped-dir DIR] [--metrics-port N] [--once]
    lgp usage status [--buffer-path PATH]
    lgp usage verify-audit DIR --public-key PATH

Settings come from LGP_USAGE_* variables (see settings.py and README.md); flags override them.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .buffer import Buffer
from .metrics import Metrics, MetricsServer
from .receiver import Credentials, Receiver
from .reporter import Reporter
from .reports import ReportStore
from .settings import UsageSettings
from .sinks import (
    AuditError,
    AuditFileSink,
    HttpSink,
    Sink,
    load_audit_private_key,
    load_audit_public_key,
    summarize_audit,
    verify_audit_dir,
)
from .targets import (
    KubernetesTargets,
    StaticTargets,
    TargetSource,
    parse_report_key,
    parse_static_target,
)

log = logging.getLogger("lgp_operator.usage")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lgp usage", description="The usage reporter.")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the reporter loop")
    r.add_argument("--beacon-url")
    r.add_argument("--target", action="append", dest="targets", help="ID=URI or ID:NAME=URI (repeatable)")
    r.add_argument(
        "--namespace", action="append", dest="namespaces", help="namespace to discover (repeatable)"
    )
    r.add_argument("--buffer-path")
    r.add_argument("--interval", type=float, dest="interval_seconds")
    r.add_argument("--airgapped-dir")
    r.add_argument("--metrics-port", type=int)
    r.add_argument("--once", action="store_true", help="one loop; exit 0 when nothing is left unsent, else 1")
    s = sub.add_parser("status", help="print the buffered windows as JSON lines")
    s.add_argument("--buffer-path")
    v = sub.add_parser("verify-audit", help="verify signed audit files and print totals per deployment")
    v.add_argument("dir", type=Path)
    v.add_argument("--public-key", required=True, type=Path, help="the audit public key (PEM or base64 raw)")
    return p


def _settings(args: argparse.Namespace) -> UsageSettings:
    overrides: dict[str, Any] = {
        k: v for k, v in vars(args).items() if k in UsageSettings.model_fields and v is not None
    }
    return UsageSettings(**overrides)


def build_sink(settings: UsageSettings) -> Sink:
    if settings.airgapped_dir:
        if settings.audit_signing_key:
            key_data = settings.audit_signing_key.get_secret_value()
        else:
            assert settings.audit_signing_key_file
            key_data = Path(settings.audit_signing_key_file).read_text()
        return AuditFileSink(settings.airgapped_dir, load_audit_private_key(key_data))
    assert settings.beacon_url
    return HttpSink(
        settings.beacon_url,
        settings.license_key.get_secret_value() if settings.license_key else None,
        api_key=settings.beacon_api_key.get_secret_value() if settings.beacon_api_key else None,
        timeout=settings.beacon_timeout_seconds,
        verify=settings.beacon_ca_file or True,
    )


def build_source(settings: UsageSettings, metrics: Metrics) -> TargetSource:
    if settings.targets or settings.report_keys:
        return StaticTargets(
            [parse_static_target(t, settings.target_namespace) for t in settings.targets]
            + [parse_report_key(k, settings.target_namespace) for k in settings.report_keys]
        )
    from kubernetes import config

    if settings.kubeconfig:
        api = config.new_client_from_config(settings.kubeconfig)
    else:
        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()
        from kubernetes import client

        api = client.ApiClient()
    return KubernetesTargets(
        api,
        settings.namespaces,
        managed=settings.managed_secret(),
        tenant=settings.tenant,
        on_error=lambda e: metrics.failures.labels("discover", "database_secret").inc(),
        count_from_database=settings.count_from_database,
    )


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    metrics = Metrics()
    buffer = Buffer(settings.buffer_path)
    reports = ReportStore(settings.buffer_path, settings.window_seconds)
    sink = build_sink(settings)
    source = build_source(settings, metrics)
    credentials = Credentials(source)
    reporter = Reporter(
        source,
        buffer,
        sink,
        config=settings.reporter_config(),
        metrics=metrics,
        reports=reports,
        credentials=credentials,
    )
    receiver = None
    if settings.receiver_port and not args.once and not settings.count_from_database:
        receiver = Receiver(
            reports, credentials, settings.receiver_host, settings.receiver_port, metrics=metrics
        ).start()
        log.info("usage: receiving the servers' reports on %s:%d", settings.receiver_host, receiver.port)
    try:
        if args.once:
            result = reporter.tick()
            print(json.dumps(result.__dict__))
            return 0 if result.pending == 0 else 1
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        server = None
        if settings.metrics_port:
            server = MetricsServer(
                metrics,
                lambda: reporter.healthy(settings.interval_seconds),
                settings.metrics_host,
                settings.metrics_port,
            ).start()
            log.info("usage: metrics on %s:%d", settings.metrics_host, server.port)
        mode = (
            f"air-gapped, audit files in {settings.airgapped_dir}"
            if settings.airgapped_dir
            else settings.beacon_url
        )
        log.info("usage: reporting to %s every %ss", mode, settings.interval_seconds)
        try:
            reporter.run(stop, settings.interval_seconds)
        finally:
            if server:
                server.stop()
        return 0
    finally:
        if receiver:
            receiver.stop()
        sink.close()
        reports.close()
        buffer.close()


def _status(args: argparse.Namespace) -> int:
    path = args.buffer_path or UsageSettings.model_fields["buffer_path"].default
    if not Path(path).exists():
        print(f"lgp usage status: no buffer at {path}", file=sys.stderr)
        return 1
    buffer = Buffer(path)
    try:
        for w, sent in buffer.all_windows():
            print(
                json.dumps(
                    {
                        "deployment": w.deployment,
                        "deployment_id": w.deployment_id,
                        "namespace": w.namespace,
                        "from": w.window_start.isoformat(),
                        "to": w.window_end.isoformat(),
                        "runs": w.runs,
                        "nodes": w.nodes,
                        "sent": sent,
                    }
                )
            )
    finally:
        buffer.close()
    return 0


def _verify_audit(args: argparse.Namespace) -> int:
    try:
        key = load_audit_public_key(args.public_key.read_bytes())
        records = summarize_audit(verify_audit_dir(args.dir, key)).values()
    except (AuditError, ValueError, OSError) as e:
        print(f"lgp usage verify-audit: {e}", file=sys.stderr)
        return 1
    totals: dict[str, dict[str, int]] = {}
    for r in records:
        t = totals.setdefault(f"{r.namespace}/{r.deployment}", {"windows": 0, "runs": 0, "nodes": 0})
        t["windows"] += 1
        t["runs"] += r.runs
        t["nodes"] += r.nodes
    print(json.dumps(totals, indent=2, sort_keys=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.cmd == "run":
            return _run(args)
        if args.cmd == "status":
            return _status(args)
        return _verify_audit(args)
    except ValidationError as e:
        for err in e.errors():
            loc = ".".join(str(x) for x in err["loc"]) or "settings"
            print(f"lgp usage: {loc}: {str(err['msg']).removeprefix('Value error, ')}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"lgp usage: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
