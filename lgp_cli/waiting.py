"""``--wait``: follow a revision until it is DEPLOYED (exit 0) or fails (exit 1), or the deadline
passes (exit 124), printing status transitions and what the listener reported on stderr as they come."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from lgp_cli import exit_codes
from lgp_cli.client import ApiError, Client, Unavailable
from lgp_cli.output import event_text, revision_summary

SUCCESS = frozenset({"DEPLOYED"})
# REPLACED: it was DEPLOYED and a newer revision has since replaced it
SUCCESS_BEFORE = frozenset({"REPLACED"})
FAILURE = frozenset({"DEPLOY_FAILED", "INTERRUPTED", "SKIPPED"})
DEFAULT_TIMEOUT = 1800.0
DEFAULT_INTERVAL = 2.0


def outcome(status: str) -> int | None:
    """The exit code a revision status settles, or None while it is still on its way."""
    if status in SUCCESS or status in SUCCESS_BEFORE:
        return exit_codes.OK
    if status in FAILURE:
        return exit_codes.FAILED
    return None


@dataclass
class Progress:
    """Timestamped lines on a stream (stderr), relative to the start of the wait."""

    stream: TextIO
    clock: Callable[[], float] = time.monotonic
    quiet: bool = False
    start: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.start = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.start

    def line(self, text: str) -> None:
        if not self.quiet:
            self.stream.write(f"[{self.elapsed():6.1f}s] {text}\n")
            self.stream.flush()

    def always(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


@dataclass
class WaitResult:
    code: int
    revision: dict[str, Any] | None


def wait_for_revision(
    client: Client,
    revision_id: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
    progress: Progress,
    sleep: Callable[[float], None] = time.sleep,
    label: str = "",
) -> WaitResult:
    """Poll ``/revisions/{id}`` and its events. A control plane that does not answer for a while is
    waited out (until the deadline); 404 or 401 end the wait with their exit codes (ApiError)."""
    deadline = progress.start + timeout
    seen_event = -1
    conditions: dict[str, str] = {}
    last_status: str | None = None
    revision: dict[str, Any] | None = None
    outage = False
    first = True
    while True:
        try:
            revision = client.request("GET", f"/revisions/{revision_id}", retries=0)
            assert revision is not None
            events = client.request(
                "GET", f"/revisions/{revision_id}/events", params={"limit": 50}, retries=0
            )["data"]
            if outage:
                progress.line("the control plane answers again")
                outage = False
        except (Unavailable, ApiError) as e:
            if isinstance(e, ApiError) and e.exit_code != exit_codes.UNAVAILABLE:
                raise
            if not outage:
                progress.line(f"the control plane does not answer ({e}); still waiting")
                outage = True
        else:
            if first:
                progress.line(
                    f"waiting for {label or 'revision'} {revision['number']} ({revision['id']}) "
                    f"to be DEPLOYED: it is {revision['status']}"
                )
                last_status = revision["status"]
                first = False
                # the latest few events already there give the context
                events = events[:10]
            status = revision["status"]
            told = False
            for ev in sorted((x for x in events if x["id"] > seen_event), key=lambda x: x["id"]):
                seen_event = max(seen_event, ev["id"])
                text = event_text(ev)
                if ev["kind"] == "condition":
                    # the listener reports every condition each time one changes: say only what changed
                    ctype = str((ev.get("payload") or {}).get("type"))
                    if conditions.get(ctype) == text:
                        continue
                    conditions[ctype] = text
                progress.line(text)
                told = told or (
                    ev["kind"] == "revision_status" and (ev.get("payload") or {}).get("to") == status
                )
            if status != last_status and not told:
                progress.line(f"status {status}")
            last_status = status
            code = outcome(status)
            if code is not None:
                report(revision, code, progress)
                return WaitResult(code, revision)
        remaining = deadline - progress.clock()
        if remaining <= 0:
            where = f" (it is {revision['status']})" if revision else ""
            progress.always(
                f"lgp: timed out after {timeout:g}s waiting for the revision{where}; it may still "
                f"finish: `lgp revisions wait {revision_id}`"
            )
            return WaitResult(exit_codes.TIMEOUT, revision)
        sleep(min(interval, remaining))


def report(revision: dict[str, Any], code: int, progress: Progress) -> None:
    """The final line: success, or the failure's status, reason and message."""
    if code == exit_codes.OK:
        note = " (since replaced by a newer revision)" if revision["status"] in SUCCESS_BEFORE else ""
        progress.always(f"revision {revision['number']} is DEPLOYED{note} after {progress.elapsed():.1f}s")
        return
    progress.always(f"lgp: {revision_summary(revision)}")
    if revision["status"] == "DEPLOY_FAILED":
        progress.always(f"see `lgp deployments events {revision['deployment_id']}` for what the cluster said")


def wait_for_deletion(
    client: Client,
    deployment_id: str,
    *,
    timeout: float,
    interval: float,
    progress: Progress,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll until the deployment is gone (the listener deleted its objects and confirmed)."""
    deadline = progress.start + timeout
    progress.line("waiting for the listener to delete the deployment's objects")
    while True:
        try:
            client.request("GET", f"/deployments/{deployment_id}", retries=0)
        except ApiError as e:
            if e.status == 404:
                progress.always(f"deployment {deployment_id} is deleted after {progress.elapsed():.1f}s")
                return exit_codes.OK
            if e.exit_code != exit_codes.UNAVAILABLE:
                raise
        except Unavailable:
            pass
        remaining = deadline - progress.clock()
        if remaining <= 0:
            progress.always(f"lgp: timed out after {timeout:g}s waiting for the deletion")
            return exit_codes.TIMEOUT
        sleep(min(interval, remaining))
