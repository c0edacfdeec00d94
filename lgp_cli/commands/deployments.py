"""`lgp deployments ...`: create, list, get, update, delete a deployment; its events (why is it stuck)
and its logs."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from lgp_cli import exit_codes, inputs, output
from lgp_cli.commands.common import (
    EVENT_KINDS,
    add_wait_options,
    confirm,
    find_deployment,
    find_revision,
    listener_id,
    page_flags,
    positive_seconds,
    progress,
    wait,
)
from lgp_cli.context import CliError, Ctx, actions, is_uuid
from lgp_cli.inputs import UsageError
from lgp_cli.waiting import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, wait_for_deletion

DEPLOYMENT_STATUSES = ("PENDING", "DEPLOYING", "READY", "FAILED", "INTERRUPTED", "DELETING")


def _settings_body(ctx: Ctx, current: dict[str, Any] | None) -> dict[str, Any]:
    """The settings shared by create and update; only what the flags say (the API keeps the rest)."""
    a = ctx.args
    body: dict[str, Any] = {}
    if a.image is not None:
        body["image"] = a.image
    res = inputs.resources(a)
    if res:
        body["resources"] = res
    ing = inputs.ingress(a.ingress_host, a.ingress_path)
    if ing is not None:
        body["ingress"] = ing
    k8s = inputs.kubernetes(a, None if current is None else current.get("kubernetes"))
    if k8s is not None:
        body["kubernetes"] = k8s
    env = inputs.parse_env(a.env)
    unset_env = getattr(a, "unset_env", [])
    if current is None:
        if env:
            body["env"] = env
    elif env or unset_env:
        body["env"] = inputs.apply_env_changes(current.get("env") or [], env, unset_env)
    secrets: dict[str, Any] = dict(inputs.parse_secrets(a.secret, a.secret_from_file, ctx.env))
    for name in getattr(a, "unset_secret", []):
        inputs.parse_env([f"{name}="])  # validates the name
        if name in secrets:
            raise UsageError(f"--secret {name} and --unset-secret {name}: choose one")
        secrets[name] = None
    if secrets:
        body["secrets"] = secrets
    for field, add, remove in (
        ("image_pull_secrets", a.image_pull_secret, getattr(a, "remove_image_pull_secret", [])),
        ("secret_refs", a.secret_ref, getattr(a, "remove_secret_ref", [])),
    ):
        if current is None:
            if add:
                body[field] = list(dict.fromkeys(add))
        elif add or remove:
            body[field] = inputs.apply_list_changes(current.get(field) or [], add, remove)
    for kind, flag in (("database", "external_database_uri_file"), ("redis", "external_redis_uri_file")):
        path = getattr(a, flag)
        managed = getattr(a, f"managed_{kind}", False)
        if path and managed:
            raise UsageError(f"--{flag.replace('_', '-')} and --managed-{kind}: choose one")
        if path:
            uri = inputs.read_value_file(path, f"--{flag.replace('_', '-')}").strip()
            body[kind] = {"type": "external", "uri": uri}
        elif managed:
            body[kind] = {"type": "managed"}
    return body


def _finish_deployment(ctx: Ctx, d: dict[str, Any]) -> int:
    """With --wait: follow the latest revision, then print the deployment as it is now."""
    if not ctx.opt("wait"):
        ctx.emit(d, output.deployment_details)
        return exit_codes.OK
    if not d.get("latest_revision_id"):
        raise CliError(exit_codes.FAILED, f"deployment {d['name']} has no revision to wait for")
    code, _ = wait(ctx, d["latest_revision_id"], label=f"deployment {d['name']}: revision")
    fresh = ctx.client().get(f"/deployments/{d['id']}")
    ctx.emit(fresh, output.deployment_details)
    return code


def deployments_create(ctx: Ctx) -> int:
    a = ctx.args
    body: dict[str, Any] = {
        "name": a.name,
        "type": a.type,
        "image": a.image,
        "listener_id": listener_id(ctx, a.listener),
        "namespace": a.namespace,
    }
    body.update(_settings_body(ctx, None))
    d = ctx.client().post("/deployments", body)
    ctx.note(f"created deployment {d['name']} ({d['id']}); revision {d.get('latest_revision_id')}")
    return _finish_deployment(ctx, d)


def deployments_list(ctx: Ctx) -> int:
    a = ctx.args
    page = ctx.client().get(
        "/deployments",
        name=a.name_contains,
        status=a.status,
        type=a.type,
        listener_id=listener_id(ctx, a.listener) if a.listener else None,
        limit=a.limit,
        offset=a.offset,
    )
    ctx.emit(page, output.deployments_table)
    return exit_codes.OK


def deployments_get(ctx: Ctx) -> int:
    d = find_deployment(ctx, ctx.args.deployment)
    latest = None
    if not ctx.json and d.get("latest_revision_id"):
        latest = ctx.client().get(f"/revisions/{d['latest_revision_id']}")
    ctx.emit(d, lambda obj: output.deployment_details(obj, latest))
    return exit_codes.OK


def deployments_update(ctx: Ctx) -> int:
    current = find_deployment(ctx, ctx.args.deployment)
    body = _settings_body(ctx, current)
    if not body:
        raise UsageError("nothing to update: give at least one setting (see `lgp deployments update --help`)")
    d = ctx.client().patch(f"/deployments/{current['id']}", body)
    if d.get("latest_revision_id") != current.get("latest_revision_id"):
        ctx.note(f"updated deployment {d['name']}: new revision {d['latest_revision_id']}")
    else:
        ctx.note(f"updated deployment {d['name']}: nothing that runs changed, no new revision")
    return _finish_deployment(ctx, d)


def deployments_delete(ctx: Ctx) -> int:
    d = find_deployment(ctx, ctx.args.deployment)
    confirm(ctx, f"delete deployment {d['name']} ({d['id']}) and everything it runs")
    gone = ctx.client().delete(f"/deployments/{d['id']}")
    ctx.note(f"deployment {d['name']} is DELETING: the listener deletes its objects, then it is gone")
    code = exit_codes.OK
    if ctx.opt("wait"):
        code = wait_for_deletion(
            ctx.client(),
            d["id"],
            timeout=ctx.args.timeout,
            interval=ctx.args.poll_interval,
            progress=progress(ctx),
            sleep=ctx.sleep,
        )
    ctx.emit(gone, output.deployment_details)
    return code


def deployments_events(ctx: Ctx) -> int:
    a = ctx.args
    d = find_deployment(ctx, a.deployment)
    revision = find_revision(ctx, a.revision)["id"] if a.revision else None
    client = ctx.client()
    page = client.get(
        f"/deployments/{d['id']}/events", revision_id=revision, kind=a.kind, limit=a.limit, offset=a.offset
    )
    if ctx.json:
        ctx.emit(page, output.to_json)
        return exit_codes.OK
    lines = [f"deployment {d['name']}: {d['status']}"]
    if d.get("latest_revision_id"):
        latest = client.get(f"/revisions/{d['latest_revision_id']}")
        lines.append(f"latest {output.revision_summary(latest)}")
    lines += [f"condition {output.condition_text(c)}" for c in d.get("conditions") or []]
    ctx.out.write("\n".join(lines) + "\n\n")
    ctx.emit(page, output.events_table)
    return exit_codes.OK


def deployments_logs(ctx: Ctx) -> int:
    """The deployment's container logs and events (newest last); -f follows new lines until Ctrl-C."""
    a = ctx.args
    d = find_deployment(ctx, a.deployment)
    revision_id = None
    if a.revision:
        ref = a.revision if is_uuid(a.revision) or ":" in a.revision else f"{d['id']}:{a.revision}"
        revision_id = find_revision(ctx, ref)["id"]
    now = datetime.now(UTC)
    params: dict[str, Any] = {
        "revision_id": revision_id,
        "since": inputs.point_in_time(a.since, "--since", now),
        "until": inputs.point_in_time(a.until, "--until", now),
        "level": a.level,
        "q": a.grep,
        "limit": a.limit,
    }
    client = ctx.client()
    path = f"/deployments/{d['id']}/logs"
    if not a.follow:
        page = client.get(path, **params)
        if page.get("notice") and not ctx.json:
            ctx.note(f"lgp: {page['notice']}")
        ctx.emit(page, output.logs_text)
        return exit_codes.OK
    if a.until:
        raise UsageError("--follow and --until: choose one")
    params.pop("until")
    for entry in client.stream(path, follow="true", **params):
        if ctx.json:
            ctx.out.write(json.dumps(entry) + "\n")
        elif entry.get("source") == "notice":
            ctx.note(f"lgp: {entry['message']}")
            continue
        else:
            ctx.out.write(output.log_line(entry) + "\n")
        ctx.out.flush()
    return exit_codes.OK


def _setting_flags(p: argparse.ArgumentParser, *, update: bool) -> None:
    g = p.add_argument_group("settings")
    g.add_argument(
        "--image", required=not update, help="image with a tag or a digest, e.g. registry/agent:1.2"
    )
    g.add_argument(
        "--image-pull-secret",
        action="append",
        default=[],
        metavar="SECRET",
        help="a Secret in the namespace (type kubernetes.io/dockerconfigjson) to pull the image with "
        + ("(repeat; adds to the current ones)" if update else "(repeat)"),
    )
    rg = p.add_argument_group("resources (omitted: the type's defaults on create, unchanged on update)")
    rg.add_argument("--replicas", type=int, metavar="N", help="a fixed number of API server replicas")
    rg.add_argument("--min-replicas", type=int, metavar="N", help="autoscaling: at least this many replicas")
    rg.add_argument("--max-replicas", type=int, metavar="N", help="autoscaling: at most this many replicas")
    rg.add_argument("--cpu", metavar="CPU", help="API server CPU, e.g. 1, 500m")
    rg.add_argument("--memory", metavar="SIZE", help="API server memory, e.g. 1Gi")
    rg.add_argument(
        "--queue",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run queue workers (--no-queue: the API server runs background runs)",
    )
    rg.add_argument("--queue-replicas", type=int, metavar="N", help="queue worker replicas")
    rg.add_argument(
        "--queue-min-replicas", type=int, metavar="N", help="autoscaling: at least this many queue workers"
    )
    rg.add_argument(
        "--queue-max-replicas", type=int, metavar="N", help="autoscaling: at most this many queue workers"
    )
    rg.add_argument("--jobs-per-worker", type=int, metavar="N", help="background runs per queue worker")
    rg.add_argument("--queue-cpu", metavar="CPU", help="queue worker CPU")
    rg.add_argument("--queue-memory", metavar="SIZE", help="queue worker memory")
    rg.add_argument("--postgres-storage", metavar="SIZE", help="the managed Postgres volume size, e.g. 10Gi")
    kg = p.add_argument_group(
        "kubernetes (labels, service account, placement, sidecars, volumes, KEDA: `kubectl explain "
        "langgraphplatform.spec`)"
    )
    kg.add_argument(
        "--kubernetes-file",
        metavar="PATH",
        help="YAML or JSON in the custom resource's shape: labels, annotations, serviceAccount, placement, "
        "apiServer and queue (initContainers, sidecars, volumes, volumeMounts), keda; replaces the block",
    )
    kg.add_argument(
        "--label", action="append", default=[], metavar="KEY=VALUE", help="on every object (repeat)"
    )
    kg.add_argument(
        "--annotation", action="append", default=[], metavar="KEY=VALUE", help="on every object (repeat)"
    )
    kg.add_argument(
        "--service-account",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the operator makes a ServiceAccount for the pods (e.g. for workload identity)",
    )
    kg.add_argument(
        "--service-account-annotation",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="on that ServiceAccount, e.g. eks.amazonaws.com/role-arn=... (repeat)",
    )
    kg.add_argument("--priority-class", metavar="NAME", help="PriorityClass of the server pods")
    ig = p.add_argument_group("ingress")
    ig.add_argument("--ingress-host", metavar="HOST", help="serve on this host name")
    ig.add_argument("--ingress-path", metavar="PATH", help="under this path (default /)")
    eg = p.add_argument_group(
        "environment and secrets (secret values are write-only: never printed, never returned)"
    )
    eg.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="a plain variable (repeat)"
    )
    eg.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="a secret variable; NAME alone takes the value of environment variable NAME, which keeps it "
        "out of shell history (repeat)",
    )
    eg.add_argument(
        "--secret-from-file",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a secret variable read from a file (one trailing newline dropped) (repeat)",
    )
    eg.add_argument(
        "--secret-ref",
        action="append",
        default=[],
        metavar="SECRET",
        help="an existing Kubernetes Secret in the namespace, all its keys as env (repeat)",
    )
    eg.add_argument(
        "--external-database-uri-file",
        metavar="PATH",
        help="use your own Postgres: a file holding postgres://... (never deleted by lgp)",
    )
    eg.add_argument(
        "--external-redis-uri-file", metavar="PATH", help="use your own Redis: a file holding redis://..."
    )
    if update:
        eg.add_argument("--unset-env", action="append", default=[], metavar="NAME", help="remove a variable")
        eg.add_argument("--unset-secret", action="append", default=[], metavar="NAME", help="remove a secret")
        eg.add_argument(
            "--remove-secret-ref",
            action="append",
            default=[],
            metavar="SECRET",
            help="remove a Secret reference",
        )
        g.add_argument(
            "--remove-image-pull-secret",
            action="append",
            default=[],
            metavar="SECRET",
            help="stop using this image pull Secret",
        )
        eg.add_argument("--managed-database", action="store_true", help="switch back to a managed Postgres")
        eg.add_argument("--managed-redis", action="store_true", help="switch back to a managed Redis")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    s = actions(
        sub, "deployments", help="create, list, change and delete deployments", aliases=["deployment", "dep"]
    )

    p = s.add_parser("create", parents=[common], help="create a deployment and roll out its first revision")
    p.add_argument("name", metavar="NAME", help="DNS label, unique in your tenant")
    p.add_argument("--listener", required=True, metavar="LISTENER", help="the listener (cluster): name or id")
    p.add_argument("--namespace", required=True, help="a namespace the listener may use")
    p.add_argument(
        "--type", choices=("development", "production"), default="development", help="(default development)"
    )
    _setting_flags(p, update=False)
    add_wait_options(p)
    p.set_defaults(func=deployments_create)

    p = s.add_parser("list", parents=[common], help="list deployments")
    p.add_argument("--name-contains", metavar="TEXT", help="names containing this (case-insensitive)")
    p.add_argument("--status", choices=DEPLOYMENT_STATUSES)
    p.add_argument("--type", choices=("development", "production"))
    p.add_argument("--listener", metavar="LISTENER", help="name or id")
    page_flags(p)
    p.set_defaults(func=deployments_list)

    p = s.add_parser("get", parents=[common], help="show a deployment (and its latest revision)")
    p.add_argument("deployment", metavar="NAME_OR_ID")
    p.set_defaults(func=deployments_get)

    p = s.add_parser(
        "update", parents=[common], help="change settings (a new revision when what runs changes)"
    )
    p.add_argument("deployment", metavar="NAME_OR_ID")
    _setting_flags(p, update=True)
    add_wait_options(p)
    p.set_defaults(func=deployments_update)

    p = s.add_parser(
        "delete", parents=[common], help="delete a deployment (the listener removes its objects)"
    )
    p.add_argument("deployment", metavar="NAME_OR_ID")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--wait", action="store_true", help="wait until the listener confirms the deletion")
    p.add_argument("--timeout", type=positive_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS")
    p.add_argument("--poll-interval", type=positive_seconds, default=DEFAULT_INTERVAL, metavar="SECONDS")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=deployments_delete)

    p = s.add_parser(
        "events", parents=[common], help="why is it stuck: status, conditions, transitions, cluster events"
    )
    p.add_argument("deployment", metavar="NAME_OR_ID")
    p.add_argument("--revision", metavar="REVISION", help="only this revision's (id or DEPLOYMENT:NUMBER)")
    p.add_argument("--kind", choices=EVENT_KINDS)
    page_flags(p, limit=50)
    p.set_defaults(func=deployments_events)

    p = s.add_parser(
        "logs",
        parents=[common],
        help="the deployment's container logs (api server, queue workers) and events, read in the cluster "
        "by its listener; secret values redacted",
    )
    p.add_argument("deployment", metavar="NAME_OR_ID")
    p.add_argument(
        "--revision", metavar="REVISION", help="only this revision's pods and events (number, or revision id)"
    )
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new lines until Ctrl-C")
    p.add_argument(
        "--since",
        metavar="TIME",
        help="lines from this time on: RFC 3339, or a duration ago (30s, 10m, 2h, 1d)",
    )
    p.add_argument("--until", metavar="TIME", help="lines before this time: RFC 3339, or a duration ago")
    p.add_argument(
        "--level",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        help="this level or a more severe one (a line stating none counts as INFO)",
    )
    p.add_argument("-g", "--grep", metavar="TEXT", help="lines containing TEXT (any case)")
    p.add_argument("--limit", type=int, default=100, metavar="N", help="most lines, 1-1000 (default 100)")
    p.set_defaults(func=deployments_logs)
