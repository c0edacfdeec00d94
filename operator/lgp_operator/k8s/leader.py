"""Leader election on a coordination.k8s.io/v1 Lease, so a second operator replica waits.

The holder renews the Lease every third of its duration; another replica takes it over only after
it expired (the holder died) or was released (the holder stopped cleanly). Optimistic concurrency
(resourceVersion on update, create conflicts) makes two takers impossible.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from .kube import Kube, KubeError

log = logging.getLogger(__name__)
LEASE_API = "coordination.k8s.io/v1"


def _micro(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(s: str | None) -> datetime | None:
    if not s:
        return None
    s = s.replace("Z", "+00:00")
    return datetime.fromisoformat(s)


def default_identity() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class LeaderElector:
    def __init__(
        self, kube: Kube, namespace: str, name: str, *, identity: str | None = None, lease_seconds: int = 15
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = name
        self.identity = identity or default_identity()
        self.lease_seconds = lease_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.holder: str | None = None

    def _lease_body(self, now: datetime, transitions: int, acquired: str | None) -> dict[str, Any]:
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.lease_seconds,
            "acquireTime": acquired or _micro(now),
            "renewTime": _micro(now),
            "leaseTransitions": transitions,
        }

    def try_acquire(self) -> bool:
        """Take or renew the Lease once. True when we hold it afterwards."""
        now = datetime.now(UTC)
        lease = self.kube.get(LEASE_API, "Lease", self.namespace, self.name)
        if lease is None:
            body = {
                "apiVersion": LEASE_API,
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._lease_body(now, 0, None),
            }
            try:
                self.kube.create(body)
            except KubeError as e:
                if e.status == 409:
                    return False
                raise
            self.holder = self.identity
            return True
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        self.holder = holder
        renewed = _parse(spec.get("renewTime")) or datetime.min.replace(tzinfo=UTC)
        expired = (
            renewed + timedelta(seconds=int(spec.get("leaseDurationSeconds") or self.lease_seconds)) < now
        )
        if holder and holder != self.identity and not expired:
            return False
        ours = holder == self.identity
        transitions = int(spec.get("leaseTransitions") or 0) + (0 if ours else 1)
        lease["spec"] = self._lease_body(now, transitions, spec.get("acquireTime") if ours else None)
        try:
            self.kube.replace(lease)
        except KubeError as e:
            if e.status == 409:
                return False
            raise
        self.holder = self.identity
        return True

    def acquire(self, timeout: float | None = None) -> bool:
        """Block until we lead (or ``timeout`` passes)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        announced = False
        while not self._stop.is_set():
            try:
                if self.try_acquire():
                    log.info(
                        "leader election: %s leads (lease %s/%s)", self.identity, self.namespace, self.name
                    )
                    return True
            except KubeError as e:
                log.warning("leader election: %s", e)
            if not announced:
                log.info(
                    "leader election: waiting; lease %s/%s is held by %s",
                    self.namespace,
                    self.name,
                    self.holder,
                )
                announced = True
            if deadline is not None and time.monotonic() > deadline:
                return False
            self._stop.wait(max(1.0, self.lease_seconds / 5))
        return False

    def keep_renewing(self, on_lost: Callable[[], None]) -> None:
        """Renew in a background thread; call ``on_lost`` when the lease cannot be renewed in time."""

        def loop() -> None:
            last_ok = time.monotonic()
            while not self._stop.wait(self.lease_seconds / 3):
                try:
                    if self.try_acquire():
                        last_ok = time.monotonic()
                        continue
                    log.error("leader election: lease taken over by %s", self.holder)
                    on_lost()
                    return
                except Exception as e:  # the apiserver may blink; give up only after the lease ran out
                    log.warning("leader election: renew failed: %s", e)
                if time.monotonic() - last_ok > self.lease_seconds:
                    log.error("leader election: could not renew the lease for %ss", self.lease_seconds)
                    on_lost()
                    return

        self._thread = threading.Thread(target=loop, name="lgp-leader-renew", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Stop renewing and hand the lease back, so a waiting replica takes over at once."""
        self._stop.set()
        try:
            lease = self.kube.get(LEASE_API, "Lease", self.namespace, self.name)
            if lease and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                lease["spec"]["holderIdentity"] = None
                lease["spec"]["renewTime"] = _micro(datetime.now(UTC) - timedelta(days=1))
                self.kube.replace(lease)
        except KubeError as e:
            log.warning("leader election: release failed: %s", e)
