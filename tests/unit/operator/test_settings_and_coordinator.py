"""Operator settings from the environment, and the per-resource coordinator that coalesces triggers."""

from __future__ import annotations

import threading
import time

from lgp_operator.coordinator import Coordinator, Resync
from lgp_operator.reconcile import Outcome
from lgp_operator.settings import OperatorSettings


def test_settings_from_environment(monkeypatch, settings):
    assert settings.namespaces == [] and settings.keda == "auto" and settings.leader_election
    monkeypatch.setenv("LGP_OPERATOR_NAMESPACES", "a, b,,c")
    monkeypatch.setenv("LGP_OPERATOR_KEDA", "disabled")
    monkeypatch.setenv("LGP_OPERATOR_RESYNC_SECONDS", "7.5")
    monkeypatch.setenv("LGP_OPERATOR_INGRESS_DOMAIN", "apps.example.com")
    s = OperatorSettings()
    assert s.namespaces == ["a", "b", "c"]
    assert s.keda == "disabled" and s.resync_seconds == 7.5 and s.ingress_domain == "apps.example.com"


def test_every_setting_is_documented():
    for name, field in OperatorSettings.model_fields.items():
        assert field.description, name


def test_coordinator_runs_one_at_a_time_and_coalesces_triggers():
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []
    active = []

    def run(ns: str, name: str) -> Outcome:
        active.append(1)
        assert len(active) == 1, "two reconciles of one resource at once"
        calls.append(1)
        if len(calls) == 1:
            started.set()
            release.wait(5)
        active.pop()
        return Outcome(ready=True)

    coord = Coordinator(run)
    t = threading.Thread(target=coord.run, args=("ns", "a"))
    t.start()
    assert started.wait(5)
    # Three triggers while the first reconcile runs: none blocks, together they cause one rerun.
    assert [coord.run("ns", "a", wait=False) for _ in range(3)] == [None, None, None]
    release.set()
    t.join(5)
    assert len(calls) == 2
    assert coord.run("ns", "a", wait=False) == Outcome(ready=True)
    assert len(calls) == 3


def test_run_soon_coalesces_a_burst_into_one_reconcile():
    calls: list[str] = []
    done = threading.Event()

    def run(ns: str, name: str) -> Outcome:
        calls.append(name)
        done.set()
        return Outcome()

    coord = Coordinator(run)
    for _ in range(20):
        coord.run_soon("ns", "a", delay=0.2)
    assert done.wait(5)
    assert calls == ["a"]
    assert not coord._scheduled  # no second run is pending: the burst was one trigger


def test_run_soon_serves_many_resources_on_a_bounded_number_of_threads():
    ran: list[str] = []
    threads: set[str] = set()
    lock = threading.Lock()
    all_ran = threading.Event()

    def run(ns: str, name: str) -> Outcome:
        with lock:
            ran.append(name)
            threads.add(threading.current_thread().name)
            if len(ran) == 200:
                all_ran.set()
        return Outcome()

    coord = Coordinator(run, workers=4)
    before = threading.active_count()
    for i in range(200):
        coord.run_soon("ns", f"r{i}", delay=0.05 if i % 2 else 0.01)
    assert threading.active_count() - before <= 4  # not a thread per trigger
    assert all_ran.wait(10)
    assert sorted(ran) == sorted(f"r{i}" for i in range(200))  # each once
    assert len(threads) <= 4 and coord.depth() == 0


def test_resync_reconciles_every_known_resource_once_per_period_spread_over_it():
    runs: list[tuple[str, float]] = []
    lock = threading.Lock()

    def run(ns: str, name: str) -> Outcome:
        with lock:
            runs.append((name, time.monotonic()))
        return Outcome()

    coord = Coordinator(run, workers=2)
    resync = Resync(coord, period=0.6)
    for i in range(4):
        resync.add("ns", f"r{i}")
    resync.remove("ns", "r3")
    t0 = time.monotonic()
    resync.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(runs) < 3:
            time.sleep(0.02)
    finally:
        resync.stop()
    with lock:
        names = sorted(n for n, _ in runs[:3])
        times = [t - t0 for _, t in runs[:3]]
    assert names == ["r0", "r1", "r2"]  # each known one, the removed one not
    assert times[0] >= 0.6  # not before one period
    assert times[2] - times[0] >= 0.3  # spread: the third 2/3 of a period after the first


def test_a_trigger_sooner_than_a_scheduled_resync_runs_soon():
    """The resync schedules a resource late in its period; a child change meanwhile must not wait for
    that slot (the listener bench saw DEPLOYED a minute late when it did)."""
    ran = threading.Event()
    runs: list[float] = []

    def run(ns: str, name: str) -> Outcome:
        runs.append(time.monotonic())
        ran.set()
        return Outcome()

    coord = Coordinator(run, workers=2)
    coord.run_soon("ns", "a", delay=30)  # the resync's slot
    t0 = time.monotonic()
    coord.run_soon("ns", "a", delay=0.05)  # a child changed
    coord.run_soon("ns", "a", delay=0.2)  # a later trigger joins the sooner run
    assert ran.wait(5)
    assert runs[0] - t0 < 5
    time.sleep(0.4)
    assert len(runs) == 1 and coord.depth() == 0  # the 30 s entry was superseded, not kept
