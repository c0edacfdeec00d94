"""Every user command: its flags and what it does over the API."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from lgp_cli import config as cfg
from lgp_cli import exit_codes, inputs, output
from lgp_cli.app import PROG, CliError, Ctx, Parser, global_options, is_uuid
from lgp_cli.inputs import UsageError
from lgp_cli.waiting import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, Progress, wait_for_deletion, wait_for_revision

REVISION_STATUSES = (
    "QUEUED",
    "AWAITING_DEPLOY",
    "DEPLOYING",
    "DEPLOYED",
    "DEPLOY_FAILED",
    "INTERRUPTED",
    "SKIPPED",
    "REPLACED",
)
DEPLOYMENT_STATUSES = ("PENDING", "DEPLOYING", "READY", "FAILED", "INTERRUPTED", "DELETING")
EVENT_KINDS = ("revision_status", "condition", "kubernetes_event", "replicas", "endpoint")


# ============================================================================== lookups
def find_deployment(ctx: Ctx, ref: str) -> dict[str, Any]:
    """A deployment by id or by exact name."""
    client = ctx.client()
    if is_uuid(ref):
        found: dict[str, Any] = client.get(f"/deployments/{ref}")
        return found
    if len(ref) <= 53:
        for d in client.get_all("/deployments", name=ref):
            if d["name"] == ref:
                return d
    raise CliError(exit_codes.NOT_FOUND, f"no deployment named {ref!r}")


def find_listener(ctx: Ctx, ref: str) -> dict[str, Any]:
    client = ctx.client()
    if is_uuid(ref):
        found: dict[str, Any] = client.get(f"/listeners/{ref}")
        return found
    for x in client.get_all("/listeners"):
        if x["name"] == ref:
            return x
    raise CliError(exit_codes.NOT_FOUND, f"no listener named {ref!r}")


def listener_id(ctx: Ctx, ref: str) -> str:
    return ref if is_uuid(ref) else str(find_listener(ctx, ref)["id"])


def find_revision(ctx: Ctx, ref: str) -> dict[str, Any]:
    """A revision by id, or ``DEPLOYMENT:NUMBER`` / ``DEPLOYMENT:latest``."""
    client = ctx.client()
    if is_uuid(ref):
        found: dict[str, Any] = client.get(f"/revisions/{ref}")
        return found
    dep, sep, number = ref.rpartition(":")
    if not sep or not dep:
        raise UsageError(f"revision {ref!r}: give a revision id, DEPLOYMENT:NUMBER or DEPLOYMENT:latest")
    d = find_deployment(ctx, dep)
    if number == "latest":
        if not d.get("latest_revision_id"):
            raise CliError(exit_codes.NOT_FOUND, f"deployment {dep!r} has no revision")
        latest: dict[str, Any] = client.get(f"/revisions/{d['latest_revision_id']}")
        return latest
    if not number.isdigit():
        raise UsageError(f"revision {ref!r}: {number!r} is not a revision number (or 'latest')")
    for r in client.get_all(f"/deployments/{d['id']}/revisions"):
        if r["number"] == int(number):
            return r
    raise CliError(exit_codes.NOT_FOUND, f"deployment {dep!r} has no revision {number}")


def confirm(ctx: Ctx, question: str) -> None:
    if ctx.opt("yes"):
        return
    if not ctx.stdin.isatty():
        raise UsageError(f"{question}: pass --yes to confirm (stdin is not a terminal)")
    ctx.err.write(f"{question} [y/N] ")
    ctx.err.flush()
    if ctx.stdin.readline().strip().lower() not in ("y", "yes"):
        raise CliError(exit_codes.FAILED, "aborted")


def _write_secret_file(path: str, value: str) -> None:
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")


# ============================================================================== waiting
def _progress(ctx: Ctx) -> Progress:
    return Progress(ctx.err, clock=ctx.clock, quiet=bool(ctx.opt("quiet")))


def _wait(ctx: Ctx, revision_id: str, label: str = "revision") -> tuple[int, dict[str, Any] | None]:
    timeout = ctx.opt("timeout", DEFAULT_TIMEOUT)
    interval = ctx.opt("poll_interval", DEFAULT_INTERVAL)
    result = wait_for_revision(
        ctx.client(),
        revision_id,
        timeout=timeout,
        interval=interval,
        progress=_progress(ctx),
        sleep=ctx.sleep,
        label=label,
    )
    return result.code, result.revision


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return number


def add_wait_options(p: argparse.ArgumentParser, flag: bool = True) -> None:
    g = p.add_argument_group("waiting")
    if flag:
        g.add_argument(
            "--wait",
            action="store_true",
            help="wait until the revision is DEPLOYED (exit 0) or fails (exit 1), showing progress on stderr",
        )
    g.add_argument(
        "--timeout",
        type=_positive,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up waiting after this long: exit 124 (default {DEFAULT_TIMEOUT:g})",
    )
    g.add_argument(
        "--poll-interval",
        type=_positive,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between polls (default {DEFAULT_INTERVAL:g})",
    )
    g.add_argument("-q", "--quiet", action="store_true", help="no progress lines, only the outcome")


# ============================================================================== deployments
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
    remove_refs = getattr(a, "remove_secret_ref", [])
    if current is None:
        if a.secret_ref:
            body["secret_refs"] = list(dict.fromkeys(a.secret_ref))
    elif a.secret_ref or remove_refs:
        body["secret_refs"] = inputs.apply_list_changes(
            current.get("secret_refs") or [], a.secret_ref, remove_refs
        )
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
    code, _ = _wait(ctx, d["latest_revision_id"], label=f"deployment {d['name']}: revision")
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
            progress=_progress(ctx),
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


def _setting_flags(p: argparse.ArgumentParser, *, update: bool) -> None:
    g = p.add_argument_group("settings")
    g.add_argument(
        "--image", required=not update, help="image with a tag or a digest, e.g. registry/agent:1.2"
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
    rg.add_argument("--jobs-per-worker", type=int, metavar="N", help="background runs per queue worker")
    rg.add_argument("--queue-cpu", metavar="CPU", help="queue worker CPU")
    rg.add_argument("--queue-memory", metavar="SIZE", help="queue worker memory")
    rg.add_argument("--postgres-storage", metavar="SIZE", help="the managed Postgres volume size, e.g. 10Gi")
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
        eg.add_argument("--managed-database", action="store_true", help="switch back to a managed Postgres")
        eg.add_argument("--managed-redis", action="store_true", help="switch back to a managed Redis")


def _page_flags(p: argparse.ArgumentParser, limit: int = 100) -> None:
    p.add_argument(
        "--limit", type=int, default=limit, metavar="N", help=f"page size, 1-500 (default {limit})"
    )
    p.add_argument("--offset", type=int, default=0, metavar="N", help="items to skip (default 0)")


def _add_deployments(sub: Any, common: argparse.ArgumentParser) -> None:
    group = sub.add_parser(
        "deployments", help="create, list, change and delete deployments", aliases=["deployment", "dep"]
    )
    s = group.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)

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
    _page_flags(p)
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
    p.add_argument("--timeout", type=_positive, default=DEFAULT_TIMEOUT, metavar="SECONDS")
    p.add_argument("--poll-interval", type=_positive, default=DEFAULT_INTERVAL, metavar="SECONDS")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=deployments_delete)

    p = s.add_parser(
        "events", parents=[common], help="why is it stuck: status, conditions, transitions, cluster events"
    )
    p.add_argument("deployment", metavar="NAME_OR_ID")
    p.add_argument("--revision", metavar="REVISION", help="only this revision's (id or DEPLOYMENT:NUMBER)")
    p.add_argument("--kind", choices=EVENT_KINDS)
    _page_flags(p, limit=50)
    p.set_defaults(func=deployments_events)


# ============================================================================== revisions
def _finish_revision(ctx: Ctx, r: dict[str, Any]) -> int:
    if not ctx.opt("wait"):
        ctx.emit(r, output.revision_details)
        return exit_codes.OK
    code, final = _wait(ctx, r["id"])
    ctx.emit(final or r, output.revision_details)
    return code


def revisions_create(ctx: Ctx) -> int:
    d = find_deployment(ctx, ctx.args.deployment)
    body = {"image": ctx.args.image} if ctx.args.image else {}
    r = ctx.client().post(f"/deployments/{d['id']}/revisions", body)
    ctx.note(f"created revision {r['number']} of {d['name']} ({r['id']}): {r['status']}")
    return _finish_revision(ctx, r)


def revisions_list(ctx: Ctx) -> int:
    a = ctx.args
    d = find_deployment(ctx, a.deployment)
    page = ctx.client().get(
        f"/deployments/{d['id']}/revisions", status=a.status, limit=a.limit, offset=a.offset
    )
    ctx.emit(page, output.revisions_table)
    return exit_codes.OK


def revisions_get(ctx: Ctx) -> int:
    ctx.emit(find_revision(ctx, ctx.args.revision), output.revision_details)
    return exit_codes.OK


def revisions_redeploy(ctx: Ctx) -> int:
    source = find_revision(ctx, ctx.args.revision)
    r = ctx.client().post(f"/revisions/{source['id']}/redeploy")
    ctx.note(f"created revision {r['number']} from revision {source['number']} ({r['id']}): {r['status']}")
    return _finish_revision(ctx, r)


def revisions_interrupt(ctx: Ctx) -> int:
    source = find_revision(ctx, ctx.args.revision)
    r = ctx.client().post(f"/revisions/{source['id']}/interrupt")
    ctx.emit(r, output.revision_details)
    return exit_codes.OK


def revisions_wait(ctx: Ctx) -> int:
    r = find_revision(ctx, ctx.args.revision)
    code, final = _wait(ctx, r["id"])
    ctx.emit(final or r, output.revision_details)
    return code


def revisions_events(ctx: Ctx) -> int:
    a = ctx.args
    r = find_revision(ctx, a.revision)
    page = ctx.client().get(f"/revisions/{r['id']}/events", kind=a.kind, limit=a.limit, offset=a.offset)
    ctx.emit(page, output.events_table)
    return exit_codes.OK


def _add_revisions(sub: Any, common: argparse.ArgumentParser) -> None:
    group = sub.add_parser(
        "revisions",
        help="roll out, roll back, interrupt and follow revisions",
        aliases=["revision", "rev"],
        description="A REVISION is its id, or DEPLOYMENT:NUMBER, or DEPLOYMENT:latest.",
    )
    s = group.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)

    p = s.add_parser(
        "create", parents=[common], help="deploy the current settings again, optionally a new image"
    )
    p.add_argument("deployment", metavar="DEPLOYMENT", help="name or id")
    p.add_argument("--image", help="deploy this image (it becomes the deployment's)")
    add_wait_options(p)
    p.set_defaults(func=revisions_create)

    p = s.add_parser("list", parents=[common], help="a deployment's revisions, newest first")
    p.add_argument("deployment", metavar="DEPLOYMENT", help="name or id")
    p.add_argument("--status", choices=REVISION_STATUSES)
    _page_flags(p)
    p.set_defaults(func=revisions_list)

    p = s.add_parser("get", parents=[common], help="show a revision")
    p.add_argument("revision", metavar="REVISION")
    p.set_defaults(func=revisions_get)

    p = s.add_parser("redeploy", parents=[common], help="roll back: a new revision with this one's settings")
    p.add_argument("revision", metavar="REVISION")
    add_wait_options(p)
    p.set_defaults(func=revisions_redeploy)

    p = s.add_parser(
        "interrupt", parents=[common], help="stop a QUEUED, AWAITING_DEPLOY or DEPLOYING revision"
    )
    p.add_argument("revision", metavar="REVISION")
    p.set_defaults(func=revisions_interrupt)

    p = s.add_parser(
        "wait", parents=[common], help="wait until DEPLOYED (exit 0) or failed (exit 1); 124 on --timeout"
    )
    p.add_argument("revision", metavar="REVISION")
    add_wait_options(p, flag=False)
    p.set_defaults(func=revisions_wait)

    p = s.add_parser("events", parents=[common], help="a revision's transitions and cluster events")
    p.add_argument("revision", metavar="REVISION")
    p.add_argument("--kind", choices=EVENT_KINDS)
    _page_flags(p, limit=50)
    p.set_defaults(func=revisions_events)


# ============================================================================== listeners
def _print_with_token(ctx: Ctx, obj: dict[str, Any], field: str, file_flag: str, what: str) -> None:
    """An object carrying a credential shown once: to a 0600 file, or on stdout with a warning."""
    path = ctx.opt(file_flag)
    if path:
        _write_secret_file(path, obj[field])
        obj = {k: v for k, v in obj.items() if k != field}
        ctx.note(f"the {what} is in {path} (mode 0600); it is not shown again")
    elif not ctx.json:
        ctx.note(f"the {what} is shown once: store it now")
    render = output.listener_details if field == "token" else output.api_key_details
    ctx.emit(obj, lambda o: render(o) + (f"{what}: {o[field]}\n" if field in o else ""))


def listeners_create(ctx: Ctx) -> int:
    a = ctx.args
    body = {"name": a.name, "namespaces": list(dict.fromkeys(a.namespace))}
    x = ctx.client().post("/listeners", body)
    _print_with_token(ctx, x, "token", "token_file", "listener token")
    return exit_codes.OK


def listeners_list(ctx: Ctx) -> int:
    page = ctx.client().get("/listeners", limit=ctx.args.limit, offset=ctx.args.offset)
    ctx.emit(page, output.listeners_table)
    return exit_codes.OK


def listeners_get(ctx: Ctx) -> int:
    ctx.emit(find_listener(ctx, ctx.args.listener), output.listener_details)
    return exit_codes.OK


def listeners_update(ctx: Ctx) -> int:
    a = ctx.args
    current = find_listener(ctx, a.listener)
    body: dict[str, Any] = {}
    if a.name:
        body["name"] = a.name
    if a.namespace and (a.add_namespace or a.remove_namespace):
        raise UsageError("--namespace (replace the list) and --add/--remove-namespace: choose one")
    if a.namespace:
        body["namespaces"] = list(dict.fromkeys(a.namespace))
    elif a.add_namespace or a.remove_namespace:
        body["namespaces"] = inputs.apply_list_changes(
            current.get("namespaces") or [], a.add_namespace, a.remove_namespace
        )
    if not body:
        raise UsageError("nothing to update: give --name, --namespace, --add-namespace or --remove-namespace")
    ctx.emit(ctx.client().patch(f"/listeners/{current['id']}", body), output.listener_details)
    return exit_codes.OK


def listeners_delete(ctx: Ctx) -> int:
    x = find_listener(ctx, ctx.args.listener)
    confirm(ctx, f"delete listener {x['name']} ({x['id']})")
    ctx.client().delete(f"/listeners/{x['id']}")
    ctx.note(f"deleted listener {x['name']}")
    if ctx.json:
        ctx.emit(x, output.to_json)
    return exit_codes.OK


def listeners_rotate_token(ctx: Ctx) -> int:
    x = find_listener(ctx, ctx.args.listener)
    confirm(
        ctx, f"replace the token of listener {x['name']} (the running listener stops working until updated)"
    )
    created = ctx.client().post(f"/listeners/{x['id']}/token")
    _print_with_token(ctx, created, "token", "token_file", "listener token")
    return exit_codes.OK


def _add_listeners(sub: Any, common: argparse.ArgumentParser) -> None:
    group = sub.add_parser(
        "listeners", help="register clusters (one listener per cluster)", aliases=["listener"]
    )
    s = group.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)

    p = s.add_parser("create", parents=[common], help="register a listener; its token is shown once")
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--namespace", action="append", default=[], metavar="NS", help="a namespace it may use (repeat)"
    )
    p.add_argument(
        "--token-file", metavar="PATH", help="write the token to this file (0600) instead of printing it"
    )
    p.set_defaults(func=listeners_create)

    p = s.add_parser("list", parents=[common], help="list listeners")
    _page_flags(p)
    p.set_defaults(func=listeners_list)

    p = s.add_parser("get", parents=[common], help="show a listener")
    p.add_argument("listener", metavar="NAME_OR_ID")
    p.set_defaults(func=listeners_get)

    p = s.add_parser("update", parents=[common], help="rename, or change its namespaces")
    p.add_argument("listener", metavar="NAME_OR_ID")
    p.add_argument("--name", help="a new name")
    p.add_argument(
        "--namespace", action="append", default=[], metavar="NS", help="replace the namespaces (repeat)"
    )
    p.add_argument("--add-namespace", action="append", default=[], metavar="NS")
    p.add_argument("--remove-namespace", action="append", default=[], metavar="NS")
    p.set_defaults(func=listeners_update)

    p = s.add_parser("delete", parents=[common], help="delete a listener (refused while deployments use it)")
    p.add_argument("listener", metavar="NAME_OR_ID")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=listeners_delete)

    p = s.add_parser("rotate-token", parents=[common], help="a new token; the old one stops working at once")
    p.add_argument("listener", metavar="NAME_OR_ID")
    p.add_argument(
        "--token-file", metavar="PATH", help="write the token to this file (0600) instead of printing it"
    )
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=listeners_rotate_token)


# ============================================================================== API keys and tenants
def api_keys_create(ctx: Ctx) -> int:
    body: dict[str, Any] = {"name": ctx.args.name}
    if ctx.args.tenant:
        body["tenant_id"] = ctx.args.tenant
    k = ctx.client().post("/api-keys", body)
    _print_with_token(ctx, k, "key", "key_file", "API key")
    return exit_codes.OK


def api_keys_list(ctx: Ctx) -> int:
    a = ctx.args
    page = ctx.client().get(
        "/api-keys",
        include_revoked="true" if a.include_revoked else None,
        tenant_id=a.tenant,
        limit=a.limit,
        offset=a.offset,
    )
    ctx.emit(page, output.api_keys_table)
    return exit_codes.OK


def api_keys_revoke(ctx: Ctx) -> int:
    ref = ctx.args.key
    client = ctx.client()
    if is_uuid(ref):
        key_id = ref
    else:
        matches = [k for k in client.get_all("/api-keys") if k["name"] == ref]
        if not matches:
            raise CliError(exit_codes.NOT_FOUND, f"no active API key named {ref!r}")
        if len(matches) > 1:
            raise CliError(exit_codes.CONFLICT, f"{len(matches)} API keys are named {ref!r}: give the id")
        key_id = matches[0]["id"]
    client.delete(f"/api-keys/{key_id}")
    ctx.note(f"revoked API key {ref}")
    if ctx.json:
        ctx.emit({"id": key_id, "revoked": True}, output.to_json)
    return exit_codes.OK


def tenants_create(ctx: Ctx) -> int:
    t = ctx.client().post("/tenants", {"name": ctx.args.name})
    ctx.emit(
        t, lambda o: output.details([("name", o["name"]), ("id", o["id"]), ("created", o["created_at"])])
    )
    return exit_codes.OK


def tenants_list(ctx: Ctx) -> int:
    ctx.emit(ctx.client().get("/tenants", limit=ctx.args.limit, offset=ctx.args.offset), output.tenants_table)
    return exit_codes.OK


def audit_list(ctx: Ctx) -> int:
    a = ctx.args
    page = ctx.client().get(
        "/audit-log",
        resource_type=a.resource_type,
        resource_id=a.resource_id,
        action=a.audit_action,
        limit=a.limit,
        offset=a.offset,
    )
    ctx.emit(page, output.audit_table)
    return exit_codes.OK


def _add_keys(sub: Any, common: argparse.ArgumentParser) -> None:
    group = sub.add_parser(
        "api-keys", help="API keys for your tenant (shown once, revocable)", aliases=["api-key"]
    )
    s = group.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    p = s.add_parser("create", parents=[common], help="a new key; it is shown once")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--tenant", metavar="TENANT_ID", help="admin key only: a key for another tenant")
    p.add_argument(
        "--key-file", metavar="PATH", help="write the key to this file (0600) instead of printing it"
    )
    p.set_defaults(func=api_keys_create)
    p = s.add_parser("list", parents=[common], help="list keys (prefixes only)")
    p.add_argument("--include-revoked", action="store_true")
    p.add_argument("--tenant", metavar="TENANT_ID", help="admin key only: another tenant's keys")
    _page_flags(p)
    p.set_defaults(func=api_keys_list)
    p = s.add_parser("revoke", parents=[common], help="revoke a key: it stops working at once")
    p.add_argument("key", metavar="ID_OR_NAME")
    p.set_defaults(func=api_keys_revoke)

    group = sub.add_parser("tenants", help="tenants (admin key only)", aliases=["tenant"])
    s = group.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    p = s.add_parser("create", parents=[common], help="create a tenant")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=tenants_create)
    p = s.add_parser("list", parents=[common], help="list tenants")
    _page_flags(p)
    p.set_defaults(func=tenants_list)

    group = sub.add_parser("audit-log", help="every change made in your tenant, newest first")
    s = group.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    p = s.add_parser("list", parents=[common], help="list audit entries")
    p.add_argument("--resource-type", help="e.g. deployment, revision, listener, api_key")
    p.add_argument("--resource-id")
    p.add_argument("--action", dest="audit_action", help="e.g. deployment.create")
    _page_flags(p)
    p.set_defaults(func=audit_list)


# ============================================================================== config
def _profile_name(ctx: Ctx) -> str:
    return cfg.check_profile_name(ctx.opt("profile") or ctx.env.get("LGP_PROFILE") or cfg.DEFAULT_PROFILE)


def _config_key(name: str) -> str:
    key = name.replace("-", "_")
    if key not in cfg.KEYS:
        raise UsageError(f"unknown setting {name!r}: use one of {', '.join(cfg.KEYS)}")
    return key


def config_set(ctx: Ctx) -> int:
    key = _config_key(ctx.args.key)
    value = ctx.args.value
    if value is None:
        if key != "api_key":
            raise UsageError(f"lgp config set {key} VALUE: the value is missing")
        tty = ctx.stdin.isatty()
        value = (getpass.getpass("API key: ", stream=ctx.err) if tty else ctx.stdin.readline()).strip()
        if not value:
            raise UsageError("no API key given")
    elif key == "api_key":
        ctx.note(
            "lgp: note: a key on the command line stays in your shell history; "
            "`lgp config set api_key` without a value reads it from stdin"
        )
    if key == "url":
        value = cfg.normalize_url(value, "the command line")
    path = cfg.config_path(ctx.env)
    profiles = cfg.read_file(path)
    name = _profile_name(ctx)
    profiles.setdefault(name, {})[key] = value
    cfg.write_file(path, profiles)
    shown = cfg.mask(value) if key == "api_key" else value
    ctx.note(f"set {key} = {shown} in {path} [{name}]")
    return exit_codes.OK


def config_unset(ctx: Ctx) -> int:
    key = _config_key(ctx.args.key)
    path = cfg.config_path(ctx.env)
    profiles = cfg.read_file(path)
    name = _profile_name(ctx)
    if key in profiles.get(name, {}):
        del profiles[name][key]
        cfg.write_file(path, profiles)
        ctx.note(f"removed {key} from {path} [{name}]")
    else:
        ctx.note(f"{key} is not set in {path} [{name}]")
    return exit_codes.OK


def config_show(ctx: Ctx) -> int:
    s = ctx.settings()
    shown = {
        "profile": s.profile,
        "config_file": str(s.config_path),
        "url": s.url,
        "url_source": s.sources["url"],
        "api_key": cfg.mask(s.api_key),
        "api_key_source": s.sources["api_key"],
        "profiles": sorted(cfg.read_file(s.config_path)),
    }
    ctx.emit(
        shown,
        lambda o: output.details(
            [
                ("profile", o["profile"]),
                ("config file", o["config_file"]),
                ("url", f"{o['url']}  (from {o['url_source']})"),
                ("api key", f"{o['api_key']}  (from {o['api_key_source']})"),
                ("profiles", o["profiles"]),
            ]
        ),
    )
    return exit_codes.OK


def _add_config(sub: Any, common: argparse.ArgumentParser) -> None:
    group = sub.add_parser(
        "config",
        help="the config file: url and api_key per profile",
        description="Settings come from flags, then env (LGP_URL, LGP_API_KEY, LGP_API_KEY_FILE, "
        "LGP_PROFILE), then the config file (LGP_CONFIG or ~/.config/lgp/config.toml), then defaults.",
    )
    s = group.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    p = s.add_parser(
        "set",
        parents=[common],
        help="set url or api_key in the profile (api_key without a value: read stdin)",
    )
    p.add_argument("key", metavar="KEY", help="url or api_key")
    p.add_argument("value", metavar="VALUE", nargs="?")
    p.set_defaults(func=config_set)
    p = s.add_parser("unset", parents=[common], help="remove a setting from the profile")
    p.add_argument("key", metavar="KEY")
    p.set_defaults(func=config_unset)
    p = s.add_parser(
        "show", parents=[common], help="the settings in effect and where each comes from (key masked)"
    )
    p.set_defaults(func=config_show)


# ============================================================================== the parser
def build_parser() -> argparse.ArgumentParser:
    common = global_options()
    parser = Parser(
        prog=PROG,
        parents=[common],
        description="lgp: deployments, revisions, listeners and API keys on an lgp control plane.",
        epilog=exit_codes.HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="group", required=True, metavar="COMMAND", parser_class=Parser)
    _add_deployments(sub, common)
    _add_revisions(sub, common)
    _add_listeners(sub, common)
    _add_keys(sub, common)
    _add_config(sub, common)
    return parser
