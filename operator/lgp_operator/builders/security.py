"""How the pods the operator runs are locked down: the defaults, which meet the "restricted" Pod Security
Standard, merged with ``spec.security``; the writable paths each image needs, as emptyDirs under a
read-only root filesystem; the service-account token only when asked for. Pure.

Identity (user, group, fsGroup, runAsNonRoot, seccomp) is set on the pod, the rest on the container, so
an override goes where its default is. What each image needs, and the runtime it was checked with:

- LangGraph server (``langgraph-api`` 0.11.1 with ``langgraph-runtime-pg``): writes only temporary
  files (``tempfile``: /tmp), as its code shows; run as UID 10001 (no passwd entry, HOME=/) under a
  read-only root with an empty /tmp, its api process and a queue worker served runs.
- Postgres (the official image and lgp's Debian-built one): its data directory on the volume (PGDATA
  in a subdirectory, owned through fsGroup), the socket directory /var/run/postgresql, /tmp; initdb
  looks its UID up in /etc/passwd, so it runs as the images' ``postgres`` user, 999.
- Redis (``--save '' --appendonly no``): its working directory /data and /tmp; any UID.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from lgp_contract.resource import ContainerSecurityContext, PodSecurityContext, WorkloadSecurity

from .common import Platform

SERVER_UID = 10001
REDIS_UID = 10001
POSTGRES_UID = 999  # the postgres user of the official images and of lgp's own
SECCOMP = {"type": "RuntimeDefault"}
CONTAINER_DEFAULTS: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def _pod_defaults(uid: int, *, fs_group: bool = False) -> dict[str, Any]:
    pod: dict[str, Any] = {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid}
    if fs_group:
        pod["fsGroup"] = uid
        pod["fsGroupChangePolicy"] = "OnRootMismatch"
    pod["seccompProfile"] = dict(SECCOMP)
    return pod


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merged key by key, everything else (lists too) replaced."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _wire(model: PodSecurityContext | ContainerSecurityContext | None) -> dict[str, Any]:
    return model.wire() if model is not None else {}


@dataclass(frozen=True)
class Hardening:
    """What one kind of pod gets: the pod and container securityContext, the emptyDirs for its writable
    paths, and whether the service-account token is mounted."""

    pod: dict[str, Any]
    container: dict[str, Any]
    writable: dict[str, str] = field(default_factory=dict)  # volume name -> mount path
    automount_token: bool = False

    def apply(self, pod_spec: dict[str, Any], container: dict[str, Any]) -> None:
        """Set these on a pod spec and its (one) container, after the volumes and mounts they have."""
        pod_spec["automountServiceAccountToken"] = self.automount_token
        pod_spec["securityContext"] = copy.deepcopy(self.pod)
        container["securityContext"] = copy.deepcopy(self.container)
        if self.writable:
            mounts = container.setdefault("volumeMounts", [])
            mounts += [{"name": n, "mountPath": p} for n, p in self.writable.items()]
            volumes = pod_spec.setdefault("volumes", [])
            volumes += [{"name": n, "emptyDir": {}} for n in self.writable]


def _hardening(
    security: WorkloadSecurity,
    pod_defaults: dict[str, Any],
    writable: dict[str, str],
    automount: bool = False,
) -> Hardening:
    return Hardening(
        pod=merge(pod_defaults, _wire(security.pod_security_context)),
        container=merge(CONTAINER_DEFAULTS, _wire(security.container_security_context)),
        writable=writable,
        automount_token=automount,
    )


def server_hardening(cr: Platform) -> Hardening:
    sec = cr.spec.security.server
    writable = {"tmp": "/tmp"}  # noqa: S108 (an emptyDir of the pod)
    for i, path in enumerate(sec.writable_paths):
        if path.rstrip("/") not in writable.values():
            writable[f"writable-{i}"] = path.rstrip("/")
    return _hardening(sec, _pod_defaults(SERVER_UID), writable, sec.automount_service_account_token)


def postgres_hardening(cr: Platform) -> Hardening:
    """The data volume (mounted by the StatefulSet builder) is owned through fsGroup."""
    writable = {"run": "/var/run/postgresql", "tmp": "/tmp"}  # noqa: S108
    return _hardening(cr.spec.security.postgres, _pod_defaults(POSTGRES_UID, fs_group=True), writable)


def redis_hardening(cr: Platform) -> Hardening:
    writable = {"data": "/data", "tmp": "/tmp"}  # noqa: S108
    return _hardening(cr.spec.security.redis, _pod_defaults(REDIS_UID), writable)
