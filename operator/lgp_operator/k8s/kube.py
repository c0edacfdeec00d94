"""A small synchronous Kubernetes client over ``kubernetes.client.ApiClient``: get, list, server-side
apply, merge patches, create, replace, delete, on plain dicts (the JSON the apiserver speaks). It is the
operator's one way to talk to the apiserver (kopf's own watches aside). It counts the calls that write,
so a test can prove a no-op reconcile makes none."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Protocol
from urllib.parse import urlencode

from kubernetes import client, config

MANAGER = "lgp-operator"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

PLURALS = {
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "Service": "services",
    "Secret": "secrets",
    "Ingress": "ingresses",
    "NetworkPolicy": "networkpolicies",
    "PodDisruptionBudget": "poddisruptionbudgets",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers",
    "ScaledObject": "scaledobjects",
    "Pod": "pods",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    "Event": "events",
    "Lease": "leases",
    "LangGraphPlatform": "langgraphplatforms",
    "ConfigMap": "configmaps",
    "ServiceAccount": "serviceaccounts",
    "CustomResourceDefinition": "customresourcedefinitions",
    "Namespace": "namespaces",
    "PriorityClass": "priorityclasses",
}
CLUSTER_SCOPED = {
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "Node",
    "PriorityClass",
}


class KubeError(Exception):
    """An API call failed; ``status`` is the HTTP status, ``message`` the server's explanation."""

    def __init__(self, status: int, reason: str, message: str, method: str = "", path: str = "") -> None:
        super().__init__(f"{method} {path}: {status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


def resource_path(
    api_version: str,
    kind: str,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
) -> str:
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    plural = PLURALS.get(kind) or kind.lower() + "s"
    path = base
    if namespace and kind not in CLUSTER_SCOPED:
        path += f"/namespaces/{namespace}"
    path += f"/{plural}"
    if name:
        path += f"/{name}"
    if subresource:
        path += f"/{subresource}"
    return path


# Connections kept open to the apiserver: kopf's 20 handler threads, the 8 delayed-reconcile workers
# and the children's watches (one connection each, held) all call at once; the client's default (5 per
# core) made it close and reopen TLS connections, and so did 32 once the watches held 9.
POOL_SIZE = 64


def new_api_client(kubeconfig: str | None = None) -> client.ApiClient:
    """In-cluster config in a pod, else the kubeconfig (argument, $KUBECONFIG, ~/.kube/config)."""
    cfg = client.Configuration()
    if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST") and not os.environ.get("KUBECONFIG"):
        config.load_incluster_config(client_configuration=cfg)
    else:
        path = kubeconfig or os.environ.get("KUBECONFIG")
        config.load_kube_config(config_file=path, client_configuration=cfg)
    cfg.connection_pool_maxsize = POOL_SIZE
    return client.ApiClient(cfg)


def _error(resp: Any, text: str, method: str, path: str) -> KubeError:
    """The apiserver's refusal as a KubeError: its Status message and reason when it sent one."""
    message, reason = text, getattr(resp, "reason", "") or ""
    try:
        st = json.loads(text)
        message, reason = st.get("message", text), st.get("reason", reason)
    except ValueError:
        pass
    return KubeError(resp.status, str(reason), str(message), method, path)


class ReadCache(Protocol):
    """What Kube asks of a cache of objects (``cache.ChildCache``): None means "ask the server"."""

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None: ...
    def list(
        self, api_version: str, kind: str, namespace: str | None, selector: str | None
    ) -> list[dict[str, Any]] | None: ...
    def put(self, obj: dict[str, Any]) -> None: ...


class Kube:
    def __init__(
        self, api: client.ApiClient, manager: str = MANAGER, *, record_requests: bool = False
    ) -> None:
        self.api = api
        self.manager = manager
        self.calls: Counter[str] = Counter()  # "GET", "PATCH", "PATCH?dryRun", ...
        # (method, path) of every request, with ``record_requests``: what RBAC must allow (tests derive
        # the needed verbs from it). Off in the operator: a path per object adds up at 1,000 resources.
        self.record_requests = record_requests
        self.requests: Counter[tuple[str, str]] = Counter()
        # resourceVersion of the last object each apply wrote: a watch event carrying exactly that
        # version is our own write echoed back, and needs no reconcile.
        self.written: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()
        # Children read from watches instead of the server (``cache.ChildCache``); None: every read asks.
        self.cache: ReadCache | None = None
        self.on_request: Callable[[str], None] | None = None  # the verb of each call, for metrics
        self._watches: set[Any] = set()  # open watch responses, closed by close_watches()

    @property
    def writes(self) -> int:
        """Calls that changed or could change the cluster (dry runs excluded)."""
        return sum(n for k, n in self.calls.items() if k in WRITE_METHODS)

    # ------------------------------------------------------------ transport
    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float = 30,
        as_text: bool = False,
    ) -> Any:
        """The decoded JSON answer (``as_text``: the body as text, e.g. a container's log)."""
        q = {k: v for k, v in (query or {}).items() if v is not None}
        dry = q.get("dryRun") == "All"
        self._count(method + ("?dryRun" if dry else ""), (method, path))
        headers = {"Accept": "*/*" if as_text else "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        resp = self._send(method, path, q, headers, body, timeout)
        raw = resp.read() if hasattr(resp, "read") else resp.data
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else (raw or "")
        if not 200 <= resp.status < 300:
            raise _error(resp, text, method, path)
        if as_text:
            return text
        return json.loads(text) if text else None

    def _send(
        self,
        method: str,
        path: str,
        query: dict[str, Any],
        headers: dict[str, str],
        body: Any,
        timeout: float | tuple[float, float],
    ) -> Any:
        """One call on the client's authenticated connection pool; the answer unread."""
        _, url, headers, _, _ = self.api.param_serialize(
            method=method, resource_path=path, header_params=headers, auth_settings=["BearerToken"]
        )
        if query:
            url += "?" + urlencode(query)
        # The REST layer serialises dict bodies as JSON for JSON and YAML content types (JSON is YAML).
        return self.api.rest_client.request(method, url, headers=headers, body=body, _request_timeout=timeout)

    def _count(self, call: str, request: tuple[str, str]) -> None:
        with self._lock:
            self.calls[call] += 1
            if self.record_requests:
                self.requests[request] += 1
        if self.on_request is not None:
            self.on_request(call)

    def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        selector: str | None,
        resource_version: str,
        *,
        timeout_seconds: int = 240,
    ) -> Iterator[dict[str, Any]]:
        """The events of one watch from ``resource_version`` (``{"type": ..., "object": ...}``) until the
        server ends it after ``timeout_seconds``, or ``close_watches`` is called."""
        path = resource_path(api_version, kind, namespace)
        self._count("WATCH", ("WATCH", path))
        query = {
            "watch": "true",
            "labelSelector": selector,
            "resourceVersion": resource_version or None,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": timeout_seconds,
        }
        q = {k: v for k, v in query.items() if v is not None}
        headers = {"Accept": "application/json"}
        resp = self._send("GET", path, q, headers, None, (10, timeout_seconds + 30))
        if not 200 <= resp.status < 300:
            raise _error(resp, resp.read().decode(errors="replace"), "WATCH", path)
        raw = resp.response
        with self._lock:
            self._watches.add(raw)
        try:
            for line in raw:  # one JSON event per line (urllib3 splits the chunked stream into lines)
                if line.strip():
                    yield json.loads(line)
        finally:
            with self._lock:
                self._watches.discard(raw)
            raw.release_conn()

    def close_watches(self) -> None:
        """End every open watch (their loops see the stream end)."""
        with self._lock:
            open_ = list(self._watches)
        for raw in open_:
            with contextlib.suppress(Exception):  # already closed
                raw.shutdown()

    # ------------------------------------------------------------ verbs
    def get(
        self, api_version: str, kind: str, namespace: str | None, name: str, *, fresh: bool = False
    ) -> dict[str, Any] | None:
        """The object (None: not there). From the cache when it holds it, unless ``fresh``."""
        if self.cache is not None and not fresh:
            cached = self.cache.get(api_version, kind, namespace, name)
            if cached is not None:
                return cached
        try:
            return self.request("GET", resource_path(api_version, kind, namespace, name))
        except KubeError as e:
            if e.status == 404:
                return None
            raise

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        selector: str | None = None,
        *,
        timeout: float = 30,
        fresh: bool = False,
    ) -> list[dict[str, Any]]:
        """Objects of a kind (by label ``selector``). From the cache when it can answer for all of them,
        unless ``fresh``: what a deletion is decided on is always listed from the server."""
        if self.cache is not None and not fresh:
            cached = self.cache.list(api_version, kind, namespace, selector)
            if cached is not None:
                return cached
        out = self.request(
            "GET",
            resource_path(api_version, kind, namespace),
            query={"labelSelector": selector},
            timeout=timeout,
        )
        items: list[dict[str, Any]] = out.get("items") or []
        for item in items:  # list items carry no apiVersion/kind
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def apply(self, obj: dict[str, Any], *, dry_run: bool = False, force: bool = True) -> dict[str, Any]:
        """Server-side apply under our field manager."""
        meta = obj["metadata"]
        path = resource_path(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
        query = {
            "fieldManager": self.manager,
            "force": "true" if force else None,
            "dryRun": "All" if dry_run else None,
        }
        out: dict[str, Any] = self.request(
            "PATCH", path, query=query, body=obj, content_type="application/apply-patch+yaml"
        )
        if not dry_run:
            with self._lock:
                key = (obj["kind"], meta.get("namespace") or "", meta["name"])
                self.written[key] = str((out.get("metadata") or {}).get("resourceVersion"))
            if self.cache is not None:
                self.cache.put({**out, "apiVersion": obj["apiVersion"], "kind": obj["kind"]})
        return out

    def is_own_write(self, kind: str, namespace: str, name: str, resource_version: str | None) -> bool:
        """Whether this version of the object is the one our last apply wrote."""
        with self._lock:
            return (
                resource_version is not None and self.written.get((kind, namespace, name)) == resource_version
            )

    def forget_write(self, kind: str, namespace: str, name: str) -> None:
        """The object is gone: its last written version is no longer needed."""
        with self._lock:
            self.written.pop((kind, namespace, name), None)

    def merge_patch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        patch: dict[str, Any],
        subresource: str | None = None,
    ) -> dict[str, Any]:
        path = resource_path(api_version, kind, namespace, name, subresource)
        return self.request(
            "PATCH",
            path,
            query={"fieldManager": self.manager},
            body=patch,
            content_type="application/merge-patch+json",
        )

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Replace the whole object; its metadata.resourceVersion makes it fail with 409 when the object
        changed since it was read (optimistic concurrency)."""
        meta = obj["metadata"]
        path = resource_path(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
        return self.request("PUT", path, query={"fieldManager": self.manager}, body=obj)

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        path = resource_path(obj["apiVersion"], obj["kind"], meta.get("namespace"))
        return self.request("POST", path, query={"fieldManager": self.manager}, body=obj)

    def delete(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        *,
        uid: str | None = None,
        propagation: str = "Background",
    ) -> bool:
        """Delete (only the object with ``uid`` when given). False when it was already gone."""
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation}
        if uid:
            body["preconditions"] = {"uid": uid}
        try:
            self.request("DELETE", resource_path(api_version, kind, namespace, name), body=body)
            return True
        except KubeError as e:
            if e.status in (404, 409):
                return False
            raise
