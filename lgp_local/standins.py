"""Two local STAND-INS the real node needs, in one small process (``python -m lgp_local.standins``):

- **the local stand-in for CoreDNS** (no CoreDNS package exists in Debian bookworm): a resolver for
  ``<service>.<namespace>.svc.cluster.local`` and ``<service>.<namespace>.svc`` (the ClusterIP; for a
  headless Service the ready endpoints' addresses) and ``<hostname>.<service>.<namespace>.svc...``
  (a StatefulSet pod behind a headless Service), fed by watches on Services and Endpoints. Every
  other name gets NXDOMAIN at once: nothing is forwarded, so nothing leaves the machine. It answers on
  the node's bridge address, which the kubelet gives pods as their nameserver (``clusterDNS``). DNS
  wire format and the UDP/TCP servers come from the ``dnslib`` library.
- **the local stand-in for a volume provisioner**: a pending PersistentVolumeClaim of the stand-in
  StorageClass gets a hostPath PersistentVolume, a directory under the node's run directory, bound to
  it; a released volume of reclaim policy Delete is removed with its directory, one of policy Retain
  is kept.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dnslib import QTYPE, RCODE, RR, A, DNSRecord
from dnslib.server import BaseResolver, DNSServer
from kubernetes import client, watch

log = logging.getLogger("lgp-standins")
CLUSTER_DOMAIN = "cluster.local"
TTL = 5


def watch_forever(
    list_fn: Callable[..., Any], on_event: Callable[[str, Any], None], stop: threading.Event, what: str
) -> None:
    """List, then watch from that resourceVersion; relist after any error (410 Gone, a restart).
    ``on_event("SYNC", items)`` gets each full list, then ("ADDED" | "MODIFIED" | "DELETED", obj)."""
    while not stop.is_set():
        try:
            listed = list_fn()
            on_event("SYNC", listed.items)
            w = watch.Watch()
            for event in w.stream(
                list_fn,
                resource_version=listed.metadata.resource_version,
                timeout_seconds=30,
                _request_timeout=40,
            ):
                if stop.is_set():
                    w.stop()
                    break
                on_event(event["type"], event["object"])
        except Exception as e:
            if not stop.is_set():
                log.info("%s watch restarts: %s", what, e)
                stop.wait(0.5)


# ---------------------------------------------------------------------------- DNS stand-in
class ClusterRecords:
    """Services and Endpoints as DNS answers, kept current by watches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cluster_ips: dict[tuple[str, str], str | None] = {}  # (ns, name) -> ClusterIP, None if headless
        self.endpoints: dict[tuple[str, str], list[tuple[str, str | None]]] = {}  # -> [(ip, hostname)]

    def on_service(self, kind: str, obj: Any) -> None:
        with self._lock:
            if kind == "SYNC":
                self.cluster_ips = {}
                for s in obj:
                    self._set_service(s)
            elif kind == "DELETED":
                self.cluster_ips.pop((obj.metadata.namespace, obj.metadata.name), None)
            else:
                self._set_service(obj)

    def _set_service(self, s: Any) -> None:
        ip = s.spec.cluster_ip
        self.cluster_ips[(s.metadata.namespace, s.metadata.name)] = ip if ip and ip != "None" else None

    def on_endpoints(self, kind: str, obj: Any) -> None:
        with self._lock:
            if kind == "SYNC":
                self.endpoints = {}
                for e in obj:
                    self._set_endpoints(e)
            elif kind == "DELETED":
                self.endpoints.pop((obj.metadata.namespace, obj.metadata.name), None)
            else:
                self._set_endpoints(obj)

    def _set_endpoints(self, e: Any) -> None:
        ready = [(a.ip, a.hostname) for sub in e.subsets or [] for a in sub.addresses or []]
        self.endpoints[(e.metadata.namespace, e.metadata.name)] = ready

    def lookup(self, qname: str) -> list[str] | None:
        """The A records of ``qname``; None when the name does not exist."""
        name = qname.rstrip(".").lower()
        for suffix in (f".svc.{CLUSTER_DOMAIN}", ".svc"):
            if name.endswith(suffix):
                parts = name[: -len(suffix)].split(".")
                break
        else:
            return None
        with self._lock:
            if len(parts) == 2:
                svc, ns = parts
                if (ns, svc) not in self.cluster_ips:
                    return None
                ip = self.cluster_ips[(ns, svc)]
                if ip:
                    return [ip]
                ips = [a for a, _ in self.endpoints.get((ns, svc), [])]
                return ips or None
            if len(parts) == 3:
                host, svc, ns = parts
                ips = [a for a, h in self.endpoints.get((ns, svc), []) if h == host]
                return ips or None
        return None


class ClusterResolver(BaseResolver):
    def __init__(self, records: ClusterRecords) -> None:
        self.records = records

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        q = request.q
        ips = self.records.lookup(str(q.qname))
        if ips is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif q.qtype in (QTYPE.A, QTYPE.ANY):
            for ip in ips:
                reply.add_answer(RR(q.qname, QTYPE.A, rdata=A(ip), ttl=TTL))
        # the name exists but has no record of this type (AAAA, ...): NOERROR with no answer
        return reply


class _QuietLogger:
    """dnslib's server logger, sent to logging at debug level."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *a: log.debug("dns %s %s", name, a[1:] if len(a) > 1 else "")


def serve_dns(records: ClusterRecords, address: str, port: int = 53) -> list[DNSServer]:
    servers = [
        DNSServer(ClusterResolver(records), address=address, port=port, tcp=tcp, logger=_QuietLogger())
        for tcp in (False, True)
    ]
    for s in servers:
        s.start_thread()
    return servers


def query(name: str, server: str, port: int = 53, timeout: float = 2) -> list[str] | None:
    """Ask a DNS server for ``name``'s A records (None: NXDOMAIN). For tests and readiness checks."""
    reply = DNSRecord.parse(DNSRecord.question(name).send(server, port, timeout=timeout))
    if reply.header.rcode == RCODE.NXDOMAIN:
        return None
    return [str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A]


# ---------------------------------------------------------------------------- provisioner stand-in
class HostPathProvisioner:
    """hostPath PersistentVolumes for pending claims of one StorageClass, under ``volumes_dir``."""

    def __init__(
        self, api: client.ApiClient, volumes_dir: Path, storage_class: str, provisioner: str
    ) -> None:
        self.core = client.CoreV1Api(api)
        self.storage = client.StorageV1Api(api)
        self.volumes_dir = volumes_dir.resolve()
        self.storage_class = storage_class
        self.provisioner = provisioner

    def on_claim(self, kind: str, obj: Any) -> None:
        for pvc in obj if kind == "SYNC" else ([obj] if kind != "DELETED" else []):
            try:
                self._provision(pvc)
            except Exception as e:  # reported, retried on the next event or relist
                log.warning("provisioning %s/%s failed: %s", pvc.metadata.namespace, pvc.metadata.name, e)

    def _provision(self, pvc: Any) -> None:
        if pvc.spec.storage_class_name != self.storage_class or pvc.spec.volume_name:
            return
        if (pvc.status.phase or "Pending") != "Pending" or pvc.metadata.deletion_timestamp:
            return
        ns, name, uid = pvc.metadata.namespace, pvc.metadata.name, pvc.metadata.uid
        path = self.volumes_dir / f"{ns}_{name}_{uid[:8]}"
        path.mkdir(exist_ok=True)
        path.chmod(0o777)  # the image's server user (postgres, ...) owns what it writes inside
        reclaim = self.storage.read_storage_class(self.storage_class).reclaim_policy or "Delete"
        body = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": f"pvc-{uid}",
                "annotations": {
                    "pv.kubernetes.io/provisioned-by": self.provisioner,
                    "lgp.dev/stand-in": "hostPath volume of the local node (no storage driver here)",
                },
            },
            "spec": {
                "capacity": {"storage": dict(pvc.spec.resources.requests)["storage"]},
                "accessModes": pvc.spec.access_modes,
                "persistentVolumeReclaimPolicy": reclaim,
                "storageClassName": self.storage_class,
                "volumeMode": "Filesystem",
                "hostPath": {"path": str(path), "type": "Directory"},
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": ns,
                    "name": name,
                    "uid": uid,
                },
            },
        }
        try:
            self.core.create_persistent_volume(body)
            log.info("provisioned pvc-%s for %s/%s at %s (%s)", uid, ns, name, path, reclaim)
        except client.ApiException as e:
            if e.status != 409:
                raise

    def on_volume(self, kind: str, obj: Any) -> None:
        for pv in obj if kind == "SYNC" else ([obj] if kind != "DELETED" else []):
            try:
                self._reclaim(pv)
            except Exception as e:
                log.warning("reclaiming %s failed: %s", pv.metadata.name, e)

    def _reclaim(self, pv: Any) -> None:
        ann = pv.metadata.annotations or {}
        if ann.get("pv.kubernetes.io/provisioned-by") != self.provisioner:
            return
        if pv.status.phase != "Released" or pv.spec.persistent_volume_reclaim_policy != "Delete":
            return  # Retain: the volume and its data stay until someone deletes them
        path = Path(pv.spec.host_path.path).resolve()
        if path.parent == self.volumes_dir:
            shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(client.ApiException):
            self.core.delete_persistent_volume(pv.metadata.name)
        log.info("deleted released volume %s and %s", pv.metadata.name, path)


# ---------------------------------------------------------------------------- process
def main(argv: list[str] | None = None) -> int:
    from kubernetes import config

    p = argparse.ArgumentParser(prog="python -m lgp_local.standins", description=__doc__.split("\n\n")[0])
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--dns-address", required=True, help="address to answer DNS on (port 53, UDP and TCP)")
    p.add_argument("--dns-port", type=int, default=53)
    p.add_argument("--volumes-dir", required=True, type=Path)
    p.add_argument("--storage-class", required=True)
    p.add_argument("--provisioner", required=True)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    api = config.new_client_from_config(args.kubeconfig)
    core = client.CoreV1Api(api)
    records = ClusterRecords()
    provisioner = HostPathProvisioner(api, args.volumes_dir, args.storage_class, args.provisioner)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    watches: list[tuple[Callable[..., Any], Callable[[str, Any], None], str]] = [
        (core.list_service_for_all_namespaces, records.on_service, "services"),
        (core.list_endpoints_for_all_namespaces, records.on_endpoints, "endpoints"),
        (core.list_persistent_volume_claim_for_all_namespaces, provisioner.on_claim, "claims"),
        (core.list_persistent_volume, provisioner.on_volume, "volumes"),
    ]
    for list_fn, on_event, what in watches:
        threading.Thread(target=watch_forever, args=(list_fn, on_event, stop, what), daemon=True).start()
    servers = serve_dns(records, args.dns_address, args.dns_port)
    log.info(
        "local stand-ins running: DNS (for CoreDNS) on %s:%d, hostPath provisioner (%s) in %s",
        args.dns_address,
        args.dns_port,
        args.storage_class,
        args.volumes_dir,
    )
    while not stop.wait(1):
        pass
    for s in servers:
        s.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
