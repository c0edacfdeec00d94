"""The api-server and queue-worker Deployments."""

from __future__ import annotations

from typing import Any

from lgp_contract import names
from lgp_contract.resource import JOB_GRACE_ENV, ServerProcess, Workload

from ..settings import OperatorSettings
from .common import (
    PORT,
    REVISION_ANNOTATION,
    REVISION_NUMBER_ANNOTATION,
    InvalidSpec,
    Platform,
    api_server_name,
    child_annotations,
    labels,
    metadata,
    postgres_name,
    quantity_map,
    queue_name,
    redis_name,
    selector_labels,
    target_revision,
)
from .routing import mount_prefix
from .security import server_hardening
from .usage import usage_env

LICENSE_KEY = "license-key"
# The official server image's queue-worker entrypoint (LangChain's chart runs queue pods with it); lgp's
# local images put one at the same path.
QUEUE_ENTRYPOINT = "/storage/queue_entrypoint.sh"


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def build_env(
    cr: Platform, settings: OperatorSettings, *, jobs_per_worker: int, api_server: bool = True
) -> list[dict[str, Any]]:
    """The server's environment: ours, then the user's (a user variable replaces ours of that name)."""
    spec = cr.spec
    env: list[dict[str, Any]] = [{"name": "PORT", "value": str(PORT)}]
    if spec.database.external is not None:
        db_secret, db_key = spec.database.external.secret_ref.name, spec.database.external.secret_ref.key
    else:
        db_secret, db_key = postgres_name(cr), "uri"
    # langgraph-api reads POSTGRES_URI; the open Postgres runtime (langgraph-runtime-pg) requires
    # DATABASE_URI and exits without it (realserver REPORT): both, from the same Secret key.
    env.append(_secret_env("POSTGRES_URI", db_secret, db_key))
    env.append(_secret_env("DATABASE_URI", db_secret, db_key))
    if spec.redis.external is not None:
        ref = spec.redis.external.secret_ref
        env.append(_secret_env("REDIS_URI", ref.name, ref.key))
    else:
        env.append({"name": "REDIS_URI", "value": f"redis://{redis_name(cr)}.{cr.namespace}.svc:6379/0"})
    env.append({"name": "N_JOBS_PER_WORKER", "value": str(jobs_per_worker)})
    # How long the server may wait for its running runs after SIGTERM before it stops them (langgraph-api's
    # setting; the open runtime langgraph-runtime-pg 0.11.1.post1 ignores it and puts them back at once):
    # what is left of terminationGracePeriodSeconds after the preStop drain and a margin to exit.
    grace = spec.job_shutdown_grace(api_server=api_server)
    env.append({"name": JOB_GRACE_ENV, "value": str(grace)})
    prefix = mount_prefix(cr, settings)
    if prefix:  # served under a path: the server mounts its routes there (langgraph-api MOUNT_PREFIX)
        env.append({"name": "MOUNT_PREFIX", "value": prefix})
    if spec.redis.external is not None:
        # A shared Redis: a key prefix of this deployment's own, for runtimes that read it (langgraph-api's
        # REDIS_KEY_PREFIX; the open runtime langgraph-runtime-pg 0.11.1 ignores it: see the README).
        env.append({"name": "REDIS_KEY_PREFIX", "value": f"lgp:{cr.namespace}:{cr.name}:"})
    if settings.license_secret:
        env.append(_secret_env("LANGGRAPH_CLOUD_LICENSE_KEY", settings.license_secret, LICENSE_KEY))
    user = {e.name: e.value for e in spec.env}
    env = [e for e in env if e["name"] not in user]
    env += [{"name": k, "value": v} for k, v in user.items()]
    return usage_env(cr, settings, env)  # where the server reports its own usage (ours win)


def _probe(path: str, period: int, failures: int, timeout: int = 3) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http", "scheme": "HTTP"},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    }


def build_container(
    cr: Platform,
    settings: OperatorSettings,
    *,
    name: str,
    jobs_per_worker: int,
    resources: Any,
    workload: Workload | None = None,
    command: list[str] | None = None,
    args: list[str] | None = None,
    api_server: bool = True,
) -> dict[str, Any]:
    spec = cr.spec
    container: dict[str, Any] = {
        "name": name,
        "image": spec.image,
        "imagePullPolicy": spec.image_pull_policy,
        # a server that crashes at start leaves its last log line in the pod status (and so in Degraded)
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "env": build_env(cr, settings, jobs_per_worker=jobs_per_worker, api_server=api_server),
        "startupProbe": _probe("/ok", period=5, failures=60),
        "readinessProbe": _probe("/ok", period=5, failures=3),
        "livenessProbe": _probe("/ok", period=10, failures=6, timeout=5),
    }
    if command:
        container["command"] = command
    if args is not None:
        container["args"] = args
    env_from = ([spec.env_from_secret] if spec.env_from_secret else []) + spec.env_from_secrets
    if env_from:
        container["envFrom"] = [{"secretRef": {"name": n}} for n in env_from]
    res = quantity_map(resources)
    if res:
        container["resources"] = res
    if workload is not None and workload.volume_mounts:
        container["volumeMounts"] = [m.wire() for m in workload.volume_mounts]
    if api_server and spec.pre_stop_drain_seconds > 0:
        # Keep serving while endpoints and load balancers drop the pod, then SIGTERM lets runs finish
        # within terminationGracePeriodSeconds (which counts from here). Queue workers serve no traffic:
        # a drain would only let them claim new runs they would then have to give back.
        container["lifecycle"] = {
            "preStop": {"exec": {"command": ["sh", "-c", f"sleep {spec.pre_stop_drain_seconds}"]}}
        }
    return container


def build_pod_template(
    cr: Platform,
    settings: OperatorSettings,
    component: str,
    container: dict[str, Any],
    workload: Workload | None = None,
) -> dict[str, Any]:
    """spec.labels < placement.labels < ours; spec.annotations < placement.annotations < lgp.dev/revision."""
    spec, placement = cr.spec, cr.spec.placement
    revision = target_revision(cr)
    own = {**placement.annotations, REVISION_ANNOTATION: revision.id}
    if revision.number is not None:
        own[REVISION_NUMBER_ANNOTATION] = str(revision.number)
    annotations = child_annotations(cr, own)
    pod_labels = {**spec.labels, **placement.labels, **labels(cr, component)}
    pod: dict[str, Any] = {
        "containers": [container, *(c.wire() for c in (workload.sidecars if workload else []))],
        "terminationGracePeriodSeconds": spec.termination_grace_period_seconds,
    }
    if workload is not None and workload.init_containers:
        pod["initContainers"] = [c.wire() for c in workload.init_containers]
    if workload is not None and workload.volumes:
        pod["volumes"] = [v.wire() for v in workload.volumes]
    if spec.image_pull_secrets:
        pod["imagePullSecrets"] = [{"name": n} for n in spec.image_pull_secrets]
    if placement.node_selector:
        pod["nodeSelector"] = dict(placement.node_selector)
    if placement.tolerations:
        pod["tolerations"] = [t.wire() for t in placement.tolerations]
    if placement.affinity:
        pod["affinity"] = placement.affinity
    account = placement.service_account_name or (
        names.service_account_name(cr.name) if spec.service_account.create else None
    )
    if account:
        # The deprecated twin too: the apiserver copies serviceAccountName into serviceAccount, and a
        # serviceAccount nobody applied would survive our dropping serviceAccountName and be copied back.
        pod["serviceAccountName"] = pod["serviceAccount"] = account
    if placement.priority_class_name:
        pod["priorityClassName"] = placement.priority_class_name
    if placement.topology_spread_constraints:
        pod["topologySpreadConstraints"] = [
            {"labelSelector": {"matchLabels": selector_labels(cr, component)}, **t.wire()}
            for t in placement.topology_spread_constraints
        ]
    server_hardening(cr).apply(pod, container)
    names_ = [v["name"] for v in pod.get("volumes", [])]
    taken = sorted({n for n in names_ if names_.count(n) > 1})
    if taken:  # a volume of spec.<workload>.volumes named like one the operator adds (tmp, writable-N)
        raise InvalidSpec(f"spec volumes: the name {taken[0]!r} is taken by a volume the operator adds")
    return {"metadata": {"labels": pod_labels, "annotations": annotations}, "spec": pod}


def _deployment(
    cr: Platform,
    settings: OperatorSettings,
    *,
    name: str,
    component: str,
    container_name: str,
    replicas: int,
    resources: Any,
    jobs_per_worker: int,
    workload: ServerProcess,
    default_command: list[str] | None = None,
) -> dict[str, Any]:
    container = build_container(
        cr,
        settings,
        name=container_name,
        jobs_per_worker=jobs_per_worker,
        resources=resources,
        workload=workload,
        command=workload.command or default_command,
        args=workload.args,
        api_server=component == "api-server",
    )
    spec: dict[str, Any] = {
        "selector": {"matchLabels": selector_labels(cr, component)},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "revisionHistoryLimit": 5,
        "progressDeadlineSeconds": 600,
        "template": build_pod_template(cr, settings, component, container, workload),
    }
    if cr.spec.suspend:
        spec["replicas"] = 0
    elif not cr.spec.autoscaling.enabled:
        spec["replicas"] = replicas
    # With autoscaling on, replicas belong to the autoscaler: the operator leaves the field alone.
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(cr, name, component),
        "spec": spec,
    }


def build_api_server_deployment(cr: Platform, settings: OperatorSettings) -> dict[str, Any]:
    """The api-server: runs no background jobs itself when queue workers are enabled; the image's
    entrypoint unless spec.apiServer.command / args say otherwise."""
    spec = cr.spec
    jobs = 0 if spec.queue.enabled else spec.queue.jobs_per_worker
    return _deployment(
        cr,
        settings,
        name=api_server_name(cr),
        component="api-server",
        container_name="api-server",
        replicas=spec.api_server.replicas,
        resources=spec.api_server.resources,
        jobs_per_worker=jobs,
        workload=spec.api_server,
    )


def build_queue_deployment(cr: Platform, settings: OperatorSettings) -> dict[str, Any]:
    """Queue workers: the same image and environment, N_JOBS_PER_WORKER from spec.queue.jobsPerWorker,
    run by the image's queue entrypoint (the image's default entrypoint is the api server), or by
    spec.queue.command / args."""
    spec = cr.spec
    return _deployment(
        cr,
        settings,
        name=queue_name(cr),
        component="queue",
        container_name="queue-worker",
        replicas=spec.queue.replicas,
        resources=spec.queue.resources,
        jobs_per_worker=spec.queue.jobs_per_worker,
        workload=spec.queue,
        default_command=[QUEUE_ENTRYPOINT],
    )
