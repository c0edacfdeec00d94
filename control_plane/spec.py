"""Pure functions from a deployment's settings to what runs: type defaults, merging, checks, and the
LangGraphPlatform spec a revision deploys (the contract's model, built here and nowhere else)."""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from control_plane.models import (
    DatabaseConfig,
    DeploymentSettings,
    EnvVar,
    Ingress,
    KubernetesSettings,
    RedisConfig,
    Resources,
)
from lgp_contract import resource as cr
from lgp_contract.names import listener_secret_name

T = TypeVar("T")

POSTGRES_URI_KEY = "POSTGRES_URI_CUSTOM"
REDIS_URI_KEY = "REDIS_URI_CUSTOM"
# Set by the platform: a user may not set them as env or secrets.
RESERVED_ENV = frozenset(
    {
        "POSTGRES_URI",
        "DATABASE_URI",
        "REDIS_URI",
        POSTGRES_URI_KEY,
        REDIS_URI_KEY,
        "PORT",
        "N_JOBS_PER_WORKER",
    }
)

DEFAULT_RESOURCES: dict[str, dict[str, dict[str, Any]]] = {
    "development": {
        "server": {"replicas": 1, "min_replicas": None, "max_replicas": None, "cpu": "1", "memory": "1Gi"},
        "queue": {"enabled": False, "replicas": 1, "jobs_per_worker": 10, "cpu": "1", "memory": "1Gi"},
        "postgres": {"storage": "10Gi", "cpu": "500m", "memory": "1Gi"},
        "redis": {"cpu": "250m", "memory": "256Mi"},
    },
    "production": {
        "server": {"replicas": None, "min_replicas": 1, "max_replicas": 10, "cpu": "2", "memory": "2Gi"},
        "queue": {"enabled": True, "replicas": 1, "jobs_per_worker": 10, "cpu": "2", "memory": "2Gi"},
        "postgres": {"storage": "10Gi", "cpu": "1", "memory": "2Gi"},
        "redis": {"cpu": "500m", "memory": "512Mi"},
    },
}


class FieldError(ValueError):
    """Bad input found after parsing: ``loc`` names the field (under the request body)."""

    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        self.loc, self.msg = loc, msg
        super().__init__(f"{'.'.join(map(str, loc))}: {msg}")


def resolve_resources(
    type_: str, given: Resources | None, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``base`` (the current resources, or the type's defaults) with every field ``given`` sets."""
    out = copy.deepcopy(base if base is not None else DEFAULT_RESOURCES[type_])
    if given is not None:
        for part in ("queue", "postgres", "redis"):
            for k, v in getattr(given, part).model_dump(exclude_none=True).items():
                out[part][k] = v
        server = given.server.model_dump(exclude_none=True)
        if "replicas" in server and ({"min_replicas", "max_replicas"} & server.keys()):
            raise FieldError(
                ("resources", "server", "replicas"),
                "set either replicas or min_replicas/max_replicas, not both",
            )
        srv = out["server"]
        if "replicas" in server:
            srv.update(replicas=server["replicas"], min_replicas=None, max_replicas=None)
        elif {"min_replicas", "max_replicas"} & server.keys():
            fixed = srv.get("replicas")
            srv["replicas"] = None
            srv["min_replicas"] = server.get("min_replicas", srv.get("min_replicas") or 1)
            srv["max_replicas"] = server.get("max_replicas", srv.get("max_replicas") or max(fixed or 1, 10))
        for k in ("cpu", "memory"):
            if k in server:
                srv[k] = server[k]
    srv = out["server"]
    if srv.get("replicas") is None and srv["min_replicas"] > srv["max_replicas"]:
        raise FieldError(("resources", "server", "max_replicas"), "must be at least min_replicas")
    q = out["queue"]
    low = q.get("min_replicas") or srv.get("min_replicas") or 1
    high = q.get("max_replicas") or srv.get("max_replicas") or low
    if (q.get("min_replicas") or q.get("max_replicas")) and low > high:
        raise FieldError(("resources", "queue", "max_replicas"), "must be at least min_replicas")
    return out


def check_env(env: list[EnvVar], secret_names: list[str]) -> None:
    seen: set[str] = set()
    for i, var in enumerate(env):
        if var.name in RESERVED_ENV:
            raise FieldError(("env", i, "name"), f"{var.name} is set by the platform")
        if var.name in seen:
            raise FieldError(("env", i, "name"), f"{var.name} appears twice")
        seen.add(var.name)
    for name in secret_names:
        if name in RESERVED_ENV:
            raise FieldError(("secrets", name), f"{name} is set by the platform")
        if name in seen:
            raise FieldError(("secrets", name), f"{name} is also a plain env variable")


def check_backing(
    database: DatabaseConfig, redis: RedisConfig, *, have_db_uri: bool, have_redis_uri: bool
) -> None:
    for field, cfg, have in (("database", database, have_db_uri), ("redis", redis, have_redis_uri)):
        if cfg.type == "managed" and cfg.uri is not None:
            raise FieldError((field, "uri"), "a managed one takes no uri (use type external)")
        if cfg.type == "external" and cfg.uri is None and not have:
            raise FieldError((field, "uri"), "required when type is external")


def build_settings(
    *,
    image: str,
    resources: dict[str, Any],
    env: list[dict[str, str]],
    ingress: dict[str, Any] | None,
    secret_refs: list[str],
    database_type: str,
    redis_type: str,
    secret_names: list[str],
    image_pull_secrets: list[str] | None = None,
) -> DeploymentSettings:
    """The user-facing settings of a revision (no secret values): what a rollback restores."""
    return DeploymentSettings.model_validate(
        {
            "image": image,
            "resources": resources,
            "env": env,
            "ingress": ingress,
            "secret_refs": secret_refs,
            "database": {"type": database_type},
            "redis": {"type": redis_type},
            "secret_names": sorted(secret_names),
            "image_pull_secrets": list(image_pull_secrets or []),
        }
    )


def _resolved(value: T | None, field: str) -> T:
    """A value of resolved resources (``resolve_resources`` fills every one in)."""
    if value is None:
        raise ValueError(f"resources.{field} was not resolved")
    return value


def _resources(cpu: str | None, memory: str | None) -> cr.Resources:
    amounts = cr.ResourceList(cpu=cpu, memory=memory)
    return cr.Resources(requests=amounts, limits=amounts)


def _backing(name: str, key: str) -> cr.External:
    """An external database or Redis: its URI is in the listener's Secret under ``key``."""
    return cr.External(secret_ref=cr.SecretKeyRef(name=listener_secret_name(name), key=key))


def build_spec(
    *, name: str, settings: DeploymentSettings, revision_id: str, revision_number: int
) -> cr.LangGraphPlatformSpec:
    """The LangGraphPlatform spec a revision deploys, built once, when the revision is created; the
    listener applies it as it is. Only the fields given here are written (``written()``); the custom
    resource's defaults fill in the rest."""
    res = settings.resources
    srv, queue, pg, rd = res.server, res.queue, res.postgres, res.redis
    autoscale = srv.replicas is None
    fixed = _resolved(srv.min_replicas if autoscale else srv.replicas, "server.replicas")
    external_db, external_redis = settings.database.type == "external", settings.redis.type == "external"
    given: dict[str, Any] = {}
    # the listener's Secret first (secret values, external URIs), then the user's own Secrets
    env_from = [listener_secret_name(name)] if settings.secret_names or external_db or external_redis else []
    env_from += settings.secret_refs
    if env_from:
        given["env_from_secret"] = env_from[0]
    if len(env_from) > 1:
        given["env_from_secrets"] = env_from[1:]
    if settings.image_pull_secrets:  # given only when set: older revisions' specs stay as they were
        given["image_pull_secrets"] = list(settings.image_pull_secrets)
    ingress = settings.ingress or Ingress()
    host = {"host": ingress.host} if ingress.host is not None else {}  # given only when there is one
    k8s = settings.kubernetes or KubernetesSettings()
    given.update(_kubernetes(k8s))
    scaling: dict[str, Any] = {
        k: v
        for k, v in (("queue_min_replicas", queue.min_replicas), ("queue_max_replicas", queue.max_replicas))
        if v is not None and autoscale
    }
    if k8s.keda is not None:
        scaling["keda"] = k8s.keda
    return cr.LangGraphPlatformSpec(
        image=settings.image,
        revision=cr.Revision(id=revision_id, number=revision_number),
        env=[cr.EnvVar(name=e.name, value=e.value) for e in settings.env],
        api_server=cr.ApiServer(
            replicas=fixed, resources=_resources(srv.cpu, srv.memory), **_workload(k8s.api_server)
        ),
        queue=cr.Queue(
            enabled=bool(queue.enabled),
            replicas=_resolved(queue.replicas, "queue.replicas"),
            jobs_per_worker=_resolved(queue.jobs_per_worker, "queue.jobs_per_worker"),
            resources=_resources(queue.cpu, queue.memory),
            **_workload(k8s.queue),
        ),
        autoscaling=cr.Autoscaling(
            enabled=autoscale,
            min_replicas=fixed,
            max_replicas=_resolved(srv.max_replicas, "server.max_replicas") if autoscale else fixed,
            **scaling,
        ),
        database=cr.Database(external=_backing(name, POSTGRES_URI_KEY))
        if external_db
        else cr.Database(
            managed=cr.ManagedDatabase(
                storage=_resolved(pg.storage, "postgres.storage"), resources=_resources(pg.cpu, pg.memory)
            )
        ),
        redis=cr.Redis(external=_backing(name, REDIS_URI_KEY))
        if external_redis
        else cr.Redis(managed=cr.ManagedRedis(resources=_resources(rd.cpu, rd.memory))),
        ingress=cr.Ingress.model_validate(
            {"enabled": settings.ingress is not None, "path": ingress.path, **host}
        ),
        **given,
    )


def _workload(workload: cr.Workload | None) -> dict[str, Any]:
    """The extensions given for one Deployment, as keyword arguments (only those set are written)."""
    if workload is None:
        return {}
    return {name: getattr(workload, name) for name in cr.Workload.model_fields if getattr(workload, name)}


def _kubernetes(k8s: KubernetesSettings) -> dict[str, Any]:
    """The spec fields the Kubernetes settings give, outside apiServer, queue and autoscaling."""
    names = ("labels", "annotations", "service_account", "placement")
    return {name: getattr(k8s, name) for name in names if getattr(k8s, name)}


def kubernetes_dict(k8s: KubernetesSettings | None) -> dict[str, Any] | None:
    """As stored: the custom resource's shape, without what is empty or default."""
    return None if k8s is None else k8s.stored()


def secret_data(secrets: dict[str, Any]) -> dict[str, str]:
    """The key/values of the Kubernetes Secret a listener writes, from the opened sealed secrets."""
    data = dict(secrets.get("env", {}))
    if secrets.get("database_uri"):
        data[POSTGRES_URI_KEY] = secrets["database_uri"]
    if secrets.get("redis_uri"):
        data[REDIS_URI_KEY] = secrets["redis_uri"]
    return data


def ingress_dict(ingress: Ingress | None) -> dict[str, Any] | None:
    return None if ingress is None else ingress.model_dump()
