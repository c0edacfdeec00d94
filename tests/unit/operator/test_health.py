"""The operator's /healthz and /readyz: alive while waiting for the Lease, ready once kopf runs, not alive
when kopf's event loop stops beating; served over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from lgp_operator.health import Health, HealthServer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("beat_at", "now", "alive", "ready"),
    [
        (None, 1000.0, (True, "waiting for the leader Lease"), (False, "waiting for the leader Lease")),
        (1000.0, 1000.0, (True, "kopf's event loop is running"), (True, "leading: kopf is running")),
        (1000.0, 1060.0, (True, "kopf's event loop is running"), (True, "leading: kopf is running")),
        (
            1000.0,
            1061.0,
            (False, "kopf's event loop has not run for 61 s"),
            (True, "leading: kopf is running"),
        ),
    ],
)
def test_health(beat_at, now, alive, ready):
    clock = Clock()
    health = Health(stale_after=60, clock=clock)
    if beat_at is not None:
        clock.now = beat_at
        health.beat()
    clock.now = now
    assert health.alive() == alive
    assert health.ready() == ready


def test_served_over_http():
    clock = Clock()
    health = Health(stale_after=60, clock=clock)
    server = HealthServer(health, "127.0.0.1", 0).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{base}/healthz").status_code == 200
        r = httpx.get(f"{base}/readyz")
        assert (r.status_code, r.text) == (503, "waiting for the leader Lease\n")
        health.beat()
        assert httpx.get(f"{base}/readyz").status_code == 200
        clock.now += 120
        r = httpx.get(f"{base}/healthz")
        assert (r.status_code, r.text) == (503, "kopf's event loop has not run for 120 s\n")
        assert httpx.get(f"{base}/metrics").status_code == 404
    finally:
        server.stop()
