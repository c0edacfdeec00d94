"""A watch-fed cache of the operator's own children (informers, as client-go calls them): one list and
then a watch per kind and namespace scope, of objects labelled managed-by=lgp-operator only. The
reconcile reads children from it instead of a GET per child per trigger, and it is what triggers the
reconcile of a child's owner: the store is updated before the trigger fires, so a reconcile started by
a change sees that change.

What it never does:
- answer "not there": a child missing from the cache is read from the server (an object of that name
  without our label, a stranger's, is never in the cache, and must be seen to be left alone);
- hold back what a deletion needs: pruning lists a cached kind from it (every child this process
  made is in it, and every one its watches saw; a delete is conditioned on the listed uid), but whether
  a pod still uses a ServiceAccount is asked of the server (``fresh=True``);
- answer before its first list arrived, or while its watch is broken: reads go to the server then.

Objects are stored without ``metadata.managedFields`` (nothing here reads them), as compressed JSON
beside their labels and version: a thousand resources' twelve thousand children take about 15 MB, not
the 300 MB of as many parsed dicts, and each read gets an object of its own (no copy to share).
Our own writes go in too (``put``), so the next reconcile does not read back an older version.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .kube import MANAGER, Kube, KubeError, resource_path
from .ownership import MANAGED_BY

log = logging.getLogger(__name__)

# The children the operator lists and watches (operator/rbac/operator-rbac.yaml): the kinds every
# resource has, at API versions every supported cluster serves; the operator adds the
# PodDisruptionBudget and HorizontalPodAutoscaler at the versions discovery finds when it starts.
# Secrets are read by name only (the role has no list or watch on them, on purpose); kinds of CRDs that
# may come and go (ScaledObject, HTTPRoute, VirtualService) are read from the server.
CACHED_KINDS: tuple[tuple[str, str], ...] = (
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("v1", "Service"),
    ("v1", "Pod"),
    ("v1", "ServiceAccount"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1", "Ingress"),
)
LIST_PAGE = 250  # objects per page of a list
WATCH_SECONDS = 240  # the server ends each watch after this long; it is resumed from the last version
Key = tuple[str, str]  # (namespace, name)
OnChange = Callable[[str, dict[str, Any]], None]  # (event type, object)


def _rv(obj: dict[str, Any]) -> int:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:  # opaque to clients by contract; the apiserver's are etcd revisions
        return 0


def _slim(obj: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "apiVersion": api_version, "kind": kind, "metadata": meta}


@dataclass(frozen=True, slots=True)
class Entry:
    """One cached object: its version and labels (what lists and writes compare) and the object."""

    version: int
    labels: dict[str, str]
    blob: bytes  # zlib-compressed JSON

    @classmethod
    def of(cls, obj: dict[str, Any], api_version: str, kind: str) -> Entry:
        slim = _slim(obj, api_version, kind)
        data = json.dumps(slim, separators=(",", ":")).encode()
        return cls(_rv(slim), dict(slim["metadata"].get("labels") or {}), zlib.compress(data, 1))

    def object(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(zlib.decompress(self.blob))
        return out


def parse_selector(selector: str) -> list[tuple[str, str | None]] | None:
    """``k=v,k2`` as (key, value or None for "exists"); None when it uses anything else (!=, in, ...)."""
    out: list[tuple[str, str | None]] = []
    for part in filter(None, (p.strip() for p in selector.split(","))):
        if any(c in part for c in "!() ") or "==" in part:
            return None
        key, eq, value = part.partition("=")
        out.append((key, value if eq else None))
    return out


def matches(labels: dict[str, str], terms: list[tuple[str, str | None]]) -> bool:
    return all((k in labels) if v is None else labels.get(k) == v for k, v in terms)


class Informer:
    """List then watch one kind in one scope (a namespace, or all of them), into a store."""

    def __init__(
        self,
        kube: Kube,
        api_version: str,
        kind: str,
        namespace: str | None,
        selector: str,
        on_change: OnChange | None = None,
    ) -> None:
        self.kube = kube
        self.api_version, self.kind, self.namespace, self.selector = api_version, kind, namespace, selector
        self.on_change = on_change
        self._terms = parse_selector(selector) or []
        self.store: dict[Key, Entry] = {}
        self.lock = threading.Lock()
        self.synced = threading.Event()  # set while the store follows the server
        self.relists = 0
        self._version = ""

    # ------------------------------------------------------------ reads and writes
    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            entry = self.store.get((namespace, name))
        return entry.object() if entry is not None else None

    def list(self, namespace: str | None, terms: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
        with self.lock:
            found = [
                e
                for (ns, _), e in self.store.items()
                if (namespace is None or ns == namespace) and matches(e.labels, terms)
            ]
        return [e.object() for e in found]

    def put(self, obj: dict[str, Any]) -> None:
        """An object the server just returned (our write): kept unless the store has a newer one."""
        meta = obj.get("metadata") or {}
        if not matches(meta.get("labels") or {}, self._terms):
            return
        key = (str(meta.get("namespace") or ""), str(meta.get("name")))
        entry = Entry.of(obj, self.api_version, self.kind)
        with self.lock:
            have = self.store.get(key)
            if have is None or entry.version > have.version:
                self.store[key] = entry

    # ------------------------------------------------------------ list and watch
    def relist(self) -> None:
        """Replace the store with a fresh list; every difference is announced as a change. Listed in
        pages of LIST_PAGE, so a thousand resources' children are never one answer parsed at once."""
        path = resource_path(self.api_version, self.kind, self.namespace)
        fresh: dict[Key, Entry] = {}
        token: str | None = None
        while True:
            query = {"labelSelector": self.selector, "limit": LIST_PAGE, "continue": token}
            out = self.kube.request("GET", path, query=query)
            for item in out.pop("items", None) or []:
                meta = item.get("metadata") or {}
                key = (str(meta.get("namespace") or ""), str(meta.get("name")))
                fresh[key] = Entry.of(item, self.api_version, self.kind)
            token = (out.get("metadata") or {}).get("continue") or None
            if token is None:
                break
        with self.lock:
            old, self.store = self.store, fresh
            self._version = str((out.get("metadata") or {}).get("resourceVersion") or "")
            self.relists += 1
        self.synced.set()
        for key, entry in fresh.items():
            if key not in old or old[key].version != entry.version:
                self._announce("MODIFIED" if key in old else "ADDED", entry.object())
        for key, entry in old.items():
            if key not in fresh:
                self._announce("DELETED", entry.object())

    def _announce(self, kind: str, obj: dict[str, Any]) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(kind, obj)
        except Exception:  # a trigger that fails must not stop the watch
            log.exception("%s %s: change handler failed", self.kind, (obj.get("metadata") or {}).get("name"))

    def watch_once(self, stop: threading.Event) -> bool:
        """One watch from the last version, until the server ends it; False when a relist is needed."""
        for event in self.kube.watch(
            self.api_version,
            self.kind,
            self.namespace,
            self.selector,
            self._version,
            timeout_seconds=WATCH_SECONDS,
        ):
            if stop.is_set():
                return True
            etype, obj = event.get("type"), event.get("object") or {}
            if etype == "ERROR":  # 410 Gone: the version is too old to resume from
                log.info("%s watch: %s; listing again", self.kind, obj.get("message"))
                return False
            version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
            if etype == "BOOKMARK":
                self._version = version or self._version
                continue
            meta = obj.get("metadata") or {}
            key = (str(meta.get("namespace") or ""), str(meta.get("name")))
            entry = Entry.of(obj, self.api_version, self.kind) if etype != "DELETED" else None
            with self.lock:
                if entry is None:
                    self.store.pop(key, None)
                else:
                    have = self.store.get(key)
                    if have is None or entry.version >= have.version:
                        self.store[key] = entry
                self._version = version or self._version
            self._announce(str(etype), _slim(obj, self.api_version, self.kind))
        return True

    def run(self, stop: threading.Event) -> None:
        failures = 0
        need_list = True
        while not stop.is_set():
            try:
                if need_list:
                    self.relist()
                need_list = not self.watch_once(stop)
                failures = 0
            except Exception as e:  # apiserver away, connection dropped: reads go to the server meanwhile
                self.synced.clear()
                if stop.is_set():  # stop() closed the stream
                    return
                need_list = True
                failures += 1
                if not isinstance(e, KubeError | OSError):
                    log.warning("%s watch failed: %s", self.kind, e)
                stop.wait(min(0.5 * 2**failures, 10))


class ChildCache:
    """The informers of every cached kind, for the namespaces the operator watches (None: all)."""

    def __init__(
        self,
        kube: Kube,
        namespaces: Iterable[str] = (),
        selector: str = f"{MANAGED_BY}={MANAGER}",
        on_change: OnChange | None = None,
        kinds: tuple[tuple[str, str], ...] = CACHED_KINDS,
    ) -> None:
        self.kube = kube
        self.selector = selector
        self._terms = parse_selector(selector) or []
        scopes: list[str | None] = list(namespaces) or [None]
        self.informers: dict[str, list[Informer]] = {
            kind: [Informer(kube, av, kind, ns, selector, on_change) for ns in scopes] for av, kind in kinds
        }
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> ChildCache:
        for kind, informers in self.informers.items():
            for inf in informers:
                name = f"informer-{kind}-{inf.namespace or 'all'}"
                t = threading.Thread(target=inf.run, args=(self._stop,), name=name, daemon=True)
                t.start()
                self._threads.append(t)
        return self

    def wait_synced(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for informers in self.informers.values():
            for inf in informers:
                if not inf.synced.wait(max(0.0, deadline - time.monotonic())):
                    return False
        return True

    def stop(self) -> None:
        self._stop.set()
        self.kube.close_watches()
        for t in self._threads:
            t.join(timeout=5)

    def _informer(self, api_version: str, kind: str, namespace: str | None) -> Informer | None:
        for inf in self.informers.get(kind, ()):
            if (
                inf.api_version == api_version
                and (inf.namespace is None or inf.namespace == namespace)
                and inf.synced.is_set()
            ):
                return inf
        return None

    # ------------------------------------------------------------ what Kube asks
    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The cached object, or None: not cached (read it from the server)."""
        inf = self._informer(api_version, kind, namespace) if namespace else None
        return inf.get(namespace, name) if inf is not None and namespace else None

    def list(
        self, api_version: str, kind: str, namespace: str | None, selector: str | None
    ) -> list[dict[str, Any]] | None:
        """The cached objects matching ``selector``, or None when the cache cannot answer for all of them:
        a kind, version or scope not cached, or a selector that does not require our label."""
        terms = parse_selector(selector or "")
        if terms is None or not all(t in terms for t in self._terms):
            return None
        inf = self._informer(api_version, kind, namespace)
        return inf.list(namespace, terms) if inf is not None else None

    def put(self, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        for inf in self.informers.get(str(obj.get("kind")), ()):
            if inf.api_version == obj.get("apiVersion") and inf.namespace in (None, meta.get("namespace")):
                inf.put(obj)
