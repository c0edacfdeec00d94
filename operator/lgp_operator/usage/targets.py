"""Which databases to count: discovered from LangGraphPlatform objects, or given explicitly.

Discovery is pluggable (:class:`TargetSource`): :class:`KubernetesTargets` lists the resources in
the configured namespaces and reads each one's database URI from a Secret;
:class:`StaticTargets` takes explicit ``(deployment id, database URI)`` pairs (for tests, and for
servers that do not run under the operator).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

from lgp_contract.names import (
    ANNOTATION_REVISION,
    LABEL_TENANT,
    USAGE_SECRET_KEY,
    postgres_name,
    usage_secret_name,
)
from lgp_contract.resource import GROUP, PLURAL, VERSION
from lgp_contract.usage import TAG_TENANT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """One deployment to count. ``deployment_id`` is stable for the deployment's life (the CR's uid)."""

    deployment_id: str
    name: str
    namespace: str
    database_uri: str = field(repr=False, default="")
    tags: dict[str, str] = field(default_factory=dict)
    report_key: str | None = field(repr=False, default=None)
    """The credential the deployment's servers send with their own usage reports (``api_key``)."""


class TargetSource(Protocol):
    def targets(self) -> list[Target]: ...


class TargetError(RuntimeError):
    """One deployment's database could not be located; the message names the resource and the Secret."""


@dataclass
class StaticTargets:
    items: list[Target]

    def targets(self) -> list[Target]:
        return list(self.items)


def parse_static_target(spec: str, namespace: str = "") -> Target:
    """``ID=URI`` or ``ID:NAME=URI`` (the deployment id, optionally a display name, and the database URI)."""
    ident, sep, uri = spec.partition("=")
    if not sep or not ident or not uri:
        raise ValueError("target: expected ID=URI or ID:NAME=URI")
    dep_id, _, name = ident.partition(":")
    return Target(deployment_id=dep_id, name=name or dep_id, namespace=namespace, database_uri=uri)


def parse_report_key(spec: str, namespace: str = "") -> Target:
    """``ID=KEY`` or ``ID:NAME=KEY``: a deployment and the credential its servers report with."""
    ident, sep, key = spec.partition("=")
    if not sep or not ident or not key:
        raise ValueError("report key: expected ID=KEY or ID:NAME=KEY")
    dep_id, _, name = ident.partition(":")
    return Target(deployment_id=dep_id, name=name or dep_id, namespace=namespace, report_key=key)


@dataclass(frozen=True)
class ManagedDatabaseSecret:
    """Where the operator keeps a managed Postgres' credentials (the operator's naming convention).

    ``name`` is a template over the resource's ``{name}``. The Secret's ``uri_key`` holds a full
    URI; when it is absent, the URI is built from ``password_key`` and the in-cluster Service
    ``{host}`` template (user ``user_key``'s value or ``postgres``, database ``postgres``).
    """

    name: str = postgres_name("{name}")
    uri_key: str = "uri"
    password_key: str = "password"  # noqa: S105 (a key name)
    user_key: str = "username"
    host: str = postgres_name("{name}") + ".{namespace}.svc"
    port: int = 5432
    database: str = "postgres"


SecretReader = Callable[
    [str, str], dict[str, str] | None
]  # (namespace, name) -> decoded data, None if absent


def database_uri_for(body: dict[str, Any], read_secret: SecretReader, managed: ManagedDatabaseSecret) -> str:
    """The database URI of one LangGraphPlatform object (external Secret reference, or managed Secret)."""
    meta = body.get("metadata") or {}
    name, ns = str(meta.get("name", "")), str(meta.get("namespace", ""))
    database = ((body.get("spec") or {}).get("database")) or {}
    external = database.get("external")
    if external:
        ref = external.get("secretRef") or {}
        secret, key = ref.get("name"), ref.get("key") or "uri"
        if not secret:
            raise TargetError(f"{ns}/{name}: spec.database.external.secretRef.name is not set")
        data = read_secret(ns, secret)
        if data is None:
            raise TargetError(f"{ns}/{name}: the database Secret {secret!r} does not exist")
        if not data.get(key):
            raise TargetError(f"{ns}/{name}: the database Secret {secret!r} has no key {key!r}")
        return data[key]
    secret = managed.name.format(name=name, namespace=ns)
    data = read_secret(ns, secret)
    if data is None:
        raise TargetError(f"{ns}/{name}: the managed database Secret {secret!r} does not exist (yet)")
    if data.get(managed.uri_key):
        return data[managed.uri_key]
    password = data.get(managed.password_key)
    if not password:
        raise TargetError(
            f"{ns}/{name}: the managed database Secret {secret!r} has neither {managed.uri_key!r} "
            f"nor {managed.password_key!r}"
        )
    user = data.get(managed.user_key) or "postgres"
    host = managed.host.format(name=name, namespace=ns)
    auth = f"{quote(user, safe='')}:{quote(password, safe='')}"
    return f"postgresql://{auth}@{host}:{managed.port}/{managed.database}"


def report_key_for(body: dict[str, Any], read_secret: SecretReader) -> str | None:
    """The usage credential of one LangGraphPlatform object (its ``<name>-usage`` Secret), if made yet."""
    meta = body.get("metadata") or {}
    data = read_secret(str(meta.get("namespace", "")), usage_secret_name(str(meta.get("name", ""))))
    return (data or {}).get(USAGE_SECRET_KEY) or None


def target_from_body(
    body: dict[str, Any], uri: str, tenant: str | None = None, report_key: str | None = None
) -> Target:
    meta = body.get("metadata") or {}
    labels = meta.get("labels") or {}
    tags = {k: str(v) for k, v in labels.items() if k.startswith("lgp.dev/")}
    revision = ((body.get("spec") or {}).get("revision")) or {}
    if revision.get("id"):
        tags[ANNOTATION_REVISION] = str(revision["id"])
    tenant_value = labels.get(LABEL_TENANT) or tenant
    if tenant_value:
        tags[TAG_TENANT] = str(tenant_value)
    return Target(
        deployment_id=str(meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"),
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        database_uri=uri,
        tags=tags,
        report_key=report_key,
    )


class KubernetesTargets:
    """LangGraphPlatform objects in ``namespaces`` (all namespaces when empty), via the apiserver."""

    def __init__(
        self,
        api_client: Any,
        namespaces: Sequence[str] = (),
        *,
        managed: ManagedDatabaseSecret | None = None,
        tenant: str | None = None,
        on_error: Callable[[TargetError], None] | None = None,
        count_from_database: bool = False,
    ) -> None:
        from kubernetes import client

        self._custom = client.CustomObjectsApi(api_client)
        self._core = client.CoreV1Api(api_client)
        self.namespaces = list(namespaces)
        self.managed = managed or ManagedDatabaseSecret()
        self.tenant = tenant
        self.on_error = on_error
        self.count_from_database = count_from_database

    def _read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        from kubernetes.client.rest import ApiException

        try:
            secret = self._core.read_namespaced_secret(name, namespace)
        except ApiException as e:
            if e.status == 404:
                return None
            raise
        return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}

    def _list(self) -> list[dict[str, Any]]:
        if not self.namespaces:
            return list(self._custom.list_cluster_custom_object(GROUP, VERSION, PLURAL).get("items", []))
        items: list[dict[str, Any]] = []
        for ns in self.namespaces:
            items += self._custom.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL).get("items", [])
        return items

    def targets(self) -> list[Target]:
        out: list[Target] = []
        for body in self._list():
            try:
                uri = (
                    database_uri_for(body, self._read_secret, self.managed)
                    if self.count_from_database
                    else ""
                )
                out.append(target_from_body(body, uri, self.tenant, report_key_for(body, self._read_secret)))
            except TargetError as e:
                log.warning("usage: skipping a deployment for now: %s", e)
                if self.on_error:
                    self.on_error(e)
        return out
