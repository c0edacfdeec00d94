"""What the CLI prints: the API's JSON as is (``--output json``), or tables and details for people.
Pure functions over the API's objects; none prints a secret value (the API never returns them)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

# API field -> the flag that sets it, so a 422 says what to change on the command line
FLAG_FOR_FIELD: dict[tuple[str, ...], str] = {
    ("name",): "NAME",
    ("image",): "--image",
    ("type",): "--type",
    ("listener_id",): "--listener",
    ("namespace",): "--namespace",
    ("namespaces",): "--namespace",
    ("resources", "server", "replicas"): "--replicas",
    ("resources", "server", "min_replicas"): "--min-replicas",
    ("resources", "server", "max_replicas"): "--max-replicas",
    ("resources", "server", "cpu"): "--cpu",
    ("resources", "server", "memory"): "--memory",
    ("resources", "queue", "enabled"): "--queue/--no-queue",
    ("resources", "queue", "replicas"): "--queue-replicas",
    ("resources", "queue", "jobs_per_worker"): "--jobs-per-worker",
    ("resources", "queue", "cpu"): "--queue-cpu",
    ("resources", "queue", "memory"): "--queue-memory",
    ("resources", "postgres", "storage"): "--postgres-storage",
    ("ingress", "host"): "--ingress-host",
    ("ingress", "path"): "--ingress-path",
    ("env",): "--env",
    ("secrets",): "--secret",
    ("secret_refs",): "--secret-ref",
    ("database", "uri"): "--external-database-uri-file",
    ("database",): "--external-database-uri-file",
    ("redis", "uri"): "--external-redis-uri-file",
    ("redis",): "--external-redis-uri-file",
    ("tenant_id",): "--tenant",
    ("image_pull_secrets",): "--image-pull-secret",
    ("since",): "--since",
    ("until",): "--until",
    ("level",): "--level",
    ("q",): "--grep",
    ("limit",): "--limit",
    ("offset",): "--offset",
}


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def field_path(loc: Sequence[Any]) -> tuple[list[Any], str]:
    """A 422 ``loc`` without its leading ``body``/``query``/``path`` and the field as dotted text."""
    parts = list(loc)
    where = ""
    if parts and parts[0] in ("body", "query", "path", "header"):
        where = str(parts.pop(0))
    text = ".".join(str(p) for p in parts) or where or "request"
    if where in ("query", "header", "path") and parts:
        text = f"{where} {text}"
    return parts, text


def flag_hint(parts: Sequence[Any]) -> str | None:
    """The flag behind a field, e.g. ('resources','server','cpu') -> --cpu; ('env', 0, 'name') -> --env."""
    names = tuple(str(p) for p in parts if not isinstance(p, int))
    for n in range(len(names), 0, -1):
        flag = FLAG_FOR_FIELD.get(names[:n])
        if flag:
            if names[:1] == ("secrets",) and len(names) > 1:
                return f"--secret {names[1]}"
            return flag
    return None


def error_lines(detail: Any) -> list[str]:
    """An API error ``detail`` as lines: one per invalid field, ``field: reason (flag)``."""
    if isinstance(detail, list):
        lines = []
        for item in detail:
            if isinstance(item, dict):
                parts, text = field_path(item.get("loc") or [])
                hint = flag_hint(parts)
                msg = str(item.get("msg") or "invalid")
                lines.append(f"{text}: {msg}" + (f" ({hint})" if hint and hint != text else ""))
            else:
                lines.append(str(item))
        return lines or ["invalid input"]
    if isinstance(detail, dict):
        return [json.dumps(detail)]
    return [str(detail)]


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def age(value: Any, now: datetime | None = None) -> str:
    """'42s', '5m', '3h', '12d' since an ISO timestamp; '-' when there is none."""
    ts = parse_time(value)
    if ts is None:
        return "-"
    seconds = max(0, int(((now or datetime.now(UTC)) - ts).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _cell(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value).replace("\n", " ")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    lines = []
    for row in [list(headers), *cells]:
        parts = [c.ljust(widths[i]) if i < len(row) - 1 else c for i, c in enumerate(row)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines) + "\n"


def details(pairs: Sequence[tuple[str, Any]]) -> str:
    """``key: value`` lines with aligned values."""
    width = max((len(k) for k, _ in pairs), default=0)
    return "".join(f"{(k + ':').ljust(width + 1)} {_cell(v)}\n" for k, v in pairs)


def page_footer(page: dict[str, Any]) -> str:
    shown, count, offset = len(page.get("data", [])), page.get("count", 0), page.get("offset", 0)
    if count > shown:
        return f"({shown} of {count} shown from offset {offset}; use --limit/--offset for more)\n"
    return ""


# ------------------------------------------------------------------------------------------ resources
def replicas_text(replicas: dict[str, Any] | None) -> str:
    r = replicas or {}
    if r.get("desired") is None and r.get("ready") is None:
        return "-"
    return f"{r.get('ready', 0) or 0}/{r.get('desired', 0) or 0}"


def scale_text(resources: dict[str, Any]) -> str:
    server = resources.get("server") or {}
    if server.get("replicas") is not None:
        return str(server["replicas"])
    if server.get("min_replicas") is not None or server.get("max_replicas") is not None:
        return f"{server.get('min_replicas', '?')}-{server.get('max_replicas', '?')} (autoscaling)"
    return "-"


def deployments_table(page: dict[str, Any], now: datetime | None = None) -> str:
    rows = [
        (
            d["name"],
            d["type"],
            d["status"],
            d["image"],
            d["namespace"],
            replicas_text(d.get("replicas")),
            d.get("endpoint"),
            age(d.get("created_at"), now),
            d["id"],
        )
        for d in page["data"]
    ]
    headers = ("NAME", "TYPE", "STATUS", "IMAGE", "NAMESPACE", "READY", "ENDPOINT", "AGE", "ID")
    return table(headers, rows) + page_footer(page)


def condition_text(c: dict[str, Any]) -> str:
    text = f"{c.get('type')}={c.get('status')}"
    if c.get("reason"):
        text += f" {c['reason']}"
    if c.get("message"):
        text += f": {c['message']}"
    return text


def deployment_details(d: dict[str, Any], latest: dict[str, Any] | None = None) -> str:
    resources = d.get("resources") or {}
    server, queue = resources.get("server") or {}, resources.get("queue") or {}
    ingress = d.get("ingress") or {}
    pairs: list[tuple[str, Any]] = [
        ("name", d["name"]),
        ("id", d["id"]),
        ("type", d["type"]),
        ("status", d["status"]),
        ("image", d["image"]),
        ("listener", d["listener_id"]),
        ("namespace", d["namespace"]),
        ("endpoint", d.get("endpoint")),
        ("replicas ready", replicas_text(d.get("replicas"))),
        ("api server", f"{scale_text(resources)} x cpu {server.get('cpu')}, memory {server.get('memory')}"),
        (
            "queue workers",
            f"{queue.get('replicas')} x cpu {queue.get('cpu')}, memory {queue.get('memory')}, "
            f"{queue.get('jobs_per_worker')} jobs each"
            if queue.get("enabled")
            else "off (the API server runs background runs)",
        ),
        ("ingress", f"{ingress.get('host') or '*'}{ingress.get('path') or '/'}" if ingress else None),
        ("database", (d.get("database") or {}).get("type")),
        ("redis", (d.get("redis") or {}).get("type")),
        ("env", [e["name"] for e in d.get("env") or []]),
        ("secrets", d.get("secret_names")),
        ("secret refs", d.get("secret_refs")),
        ("pull secrets", d.get("image_pull_secrets")),
        ("kubernetes", kubernetes_text(d.get("kubernetes"))),
        ("latest revision", d.get("latest_revision_id")),
        ("active revision", d.get("active_revision_id")),
        ("created", d.get("created_at")),
        ("updated", d.get("updated_at")),
    ]
    if d.get("deleted_at"):
        pairs.append(("deleted", d["deleted_at"]))
    if latest is not None:
        pairs.insert(4, ("latest", revision_summary(latest)))
    text = details(pairs)
    conditions = d.get("conditions") or []
    if conditions:
        text += "conditions:\n" + "".join(f"  {condition_text(c)}\n" for c in conditions)
    return text


def kubernetes_text(k8s: dict[str, Any] | None) -> str | None:
    """One line of what the deployment's Kubernetes settings set (``--output json`` shows all of it)."""
    if not k8s:
        return None
    parts = [f"labels {', '.join(f'{k}={v}' for k, v in k8s['labels'].items())}"] if k8s.get("labels") else []
    if (k8s.get("serviceAccount") or {}).get("create"):
        parts.append("own service account")
    priority = (k8s.get("placement") or {}).get("priorityClassName")
    if priority:
        parts.append(f"priority {priority}")
    for workload in ("apiServer", "queue"):
        ext = k8s.get(workload) or {}
        counts = [f"{len(ext[k])} {k}" for k in ("initContainers", "sidecars", "volumes") if ext.get(k)]
        if counts:
            parts.append(f"{workload}: {', '.join(counts)}")
    if k8s.get("keda"):
        parts.append("KEDA settings")
    return "; ".join(parts) or "set (see --output json)"


def revision_summary(r: dict[str, Any]) -> str:
    text = f"revision {r['number']} {r['status']}"
    if r.get("status_reason") or r.get("status_message"):
        text += ": " + ": ".join(str(x) for x in (r.get("status_reason"), r.get("status_message")) if x)
    return text


def revisions_table(page: dict[str, Any], now: datetime | None = None) -> str:
    rows = [
        (
            r["number"],
            r["status"],
            r.get("status_reason"),
            (r.get("config") or {}).get("image"),
            age(r.get("created_at"), now),
            r["id"],
        )
        for r in page["data"]
    ]
    return table(("REV", "STATUS", "REASON", "IMAGE", "AGE", "ID"), rows) + page_footer(page)


def revision_details(r: dict[str, Any]) -> str:
    return details(
        [
            ("revision", r["number"]),
            ("id", r["id"]),
            ("deployment", r["deployment_id"]),
            ("status", r["status"]),
            ("reason", r.get("status_reason")),
            ("message", r.get("status_message")),
            ("image", (r.get("config") or {}).get("image")),
            ("secrets", r.get("secret_names")),
            ("rolled back from", r.get("source_revision_id")),
            ("created by", r.get("created_by")),
            ("created", r.get("created_at")),
            ("deploy started", r.get("deploy_started_at")),
            ("finished", r.get("finished_at")),
        ]
    )


def listeners_table(page: dict[str, Any], now: datetime | None = None) -> str:
    rows = [
        (
            x["name"],
            x.get("namespaces"),
            x.get("online"),
            age(x.get("last_heartbeat_at"), now),
            x.get("token_prefix"),
            x["id"],
        )
        for x in page["data"]
    ]
    return table(("NAME", "NAMESPACES", "ONLINE", "LAST SEEN", "TOKEN", "ID"), rows) + page_footer(page)


def listener_details(x: dict[str, Any]) -> str:
    return details(
        [
            ("name", x["name"]),
            ("id", x["id"]),
            ("namespaces", x.get("namespaces")),
            ("online", x.get("online")),
            ("last heartbeat", x.get("last_heartbeat_at")),
            ("token prefix", x.get("token_prefix")),
            ("state version", x.get("state_version")),
            ("created", x.get("created_at")),
            ("updated", x.get("updated_at")),
        ]
    )


def api_keys_table(page: dict[str, Any], now: datetime | None = None) -> str:
    rows = [
        (
            k["name"],
            k.get("prefix"),
            age(k.get("created_at"), now),
            age(k.get("last_used_at"), now),
            "revoked" if k.get("revoked_at") else "active",
            k["id"],
        )
        for k in page["data"]
    ]
    return table(("NAME", "PREFIX", "AGE", "LAST USED", "STATE", "ID"), rows) + page_footer(page)


def api_key_details(k: dict[str, Any]) -> str:
    return details(
        [
            ("name", k["name"]),
            ("id", k["id"]),
            ("tenant", k.get("tenant_id")),
            ("prefix", k.get("prefix")),
            ("created", k.get("created_at")),
            ("last used", k.get("last_used_at")),
            ("revoked", k.get("revoked_at")),
        ]
    )


def tenants_table(page: dict[str, Any], now: datetime | None = None) -> str:
    rows = [(t["name"], age(t.get("created_at"), now), t["id"]) for t in page["data"]]
    return table(("NAME", "AGE", "ID"), rows) + page_footer(page)


def event_text(e: dict[str, Any]) -> str:
    """One event as a line: transitions, conditions, Kubernetes events, replicas, endpoint."""
    kind, reason, message = e.get("kind"), e.get("reason"), e.get("message")
    payload = e.get("payload") or {}
    if kind == "revision_status":
        text = f"{payload.get('from', '?')} -> {payload.get('to', '?')}"
        if reason and reason != payload.get("to"):
            text += f" {reason}"
        if message and message.endswith(text.split(" ", 3)[0] + " -> " + str(payload.get("to"))):
            message = None  # the control plane's default message says only the transition again
        return text + (f": {message}" if message else "")
    if kind == "condition":
        return "condition " + condition_text(payload or {"type": reason, "message": message})
    if kind == "kubernetes_event":
        text = f"{payload.get('type', 'Normal')} {reason}"
        if payload.get("object"):
            text += f" {payload['object']}"
        if payload.get("count") and payload["count"] > 1:
            text += f" (x{payload['count']})"
        return text + (f": {message}" if message else "")
    if kind == "replicas":
        return f"replicas {message or ''}".rstrip()
    if kind == "endpoint":
        return f"endpoint {message}"
    return f"{kind} {reason or ''}: {message or ''}".strip()


def events_table(page: dict[str, Any]) -> str:
    """Oldest first, so it reads as a story."""
    rows = [(e.get("occurred_at"), e.get("kind"), event_text(e)) for e in reversed(page["data"])]
    return table(("TIME", "KIND", "WHAT"), rows) + page_footer(page)


def audit_table(page: dict[str, Any], now: datetime | None = None) -> str:
    rows = [
        (
            a.get("created_at"),
            f"{a.get('actor_type')}:{a.get('actor_id')}",
            a.get("action"),
            f"{a.get('resource_type')}/{a.get('resource_id') or '-'}",
        )
        for a in page["data"]
    ]
    return table(("TIME", "ACTOR", "ACTION", "RESOURCE"), rows) + page_footer(page)


def log_line(entry: dict[str, Any]) -> str:
    """One log entry for people: ``TIME LEVEL WHERE MESSAGE`` (WHERE: pod/container, or event)."""
    if entry.get("source") == "container":
        where = f"{entry.get('pod')}/{entry.get('container')}" + (
            " (previous run)" if entry.get("previous") else ""
        )
    else:
        where = str(entry.get("source") or "")
    return f"{entry.get('timestamp')} {(entry.get('level') or '-'):<8} {where}: {entry.get('message')}"


def logs_text(page: dict[str, Any]) -> str:
    """Oldest first, as a log reads (the API answers newest first for order=desc)."""
    entries = page.get("data") or []
    ordered = list(reversed(entries)) if _newest_first(entries) else entries
    return "".join(log_line(e) + "\n" for e in ordered)


def _newest_first(entries: Sequence[dict[str, Any]]) -> bool:
    return len(entries) > 1 and str(entries[0].get("timestamp")) > str(entries[-1].get("timestamp"))
