"""Process plumbing shared by the test servers: free ports, readiness waits, and a watchdog.

Every server the harness starts is recorded in a state file (PIDs, cgroups and directories). A
detached watchdog process polls the owner's PID; when the owner dies without calling ``stop()``
(SIGKILL, a crashed pytest), the watchdog kills the recorded PIDs, then every process left in the
recorded cgroups (the local node's containers, shims and daemons), removes those cgroups, and
removes the recorded directories.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ProcessExited(RuntimeError):
    """A server exited while we waited for it: ``wait_for`` raises it at once instead of retrying."""


def wait_for(predicate: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll ``predicate`` until it returns something truthy; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except ProcessExited:
            raise
        except Exception as exc:  # the server may not answer yet
            last_exc = exc
        else:
            if result:
                return result
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout:.0f}s waiting for {what}"
        + (f" (last error: {last_exc})" if last_exc else "")
    )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False


def cgroup_pids(root: Path) -> list[int]:
    """Every process in the cgroup ``root`` and below (cgroup v1 or v2 ``cgroup.procs`` files)."""
    pids: list[int] = []
    for procs in root.rglob("cgroup.procs") if root.is_dir() else []:
        with contextlib.suppress(OSError, ValueError):
            pids += [int(x) for x in procs.read_text().split()]
    return pids


def kill_cgroups(roots: list[Path], timeout: float = 20.0) -> None:
    """SIGKILL every process in these cgroup subtrees until they are empty, then remove the cgroups,
    deepest first. A process forked while we kill is found on the next pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [p for r in roots for p in cgroup_pids(r)]
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    for root in roots:
        # an emptied cgroup can be removed a moment after its last process is reaped
        while root.is_dir() and time.monotonic() < deadline:
            for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                with contextlib.suppress(OSError):
                    d.rmdir()
            with contextlib.suppress(OSError):
                root.rmdir()
            if root.is_dir():
                time.sleep(0.05)


def remove_dirs(dirs: list[Path], timeout: float = 10.0) -> None:
    """Remove directories; retried until the deadline, since a dying mount namespace may still hold
    a mount below them for a moment."""
    deadline = time.monotonic() + timeout
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
        while d.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
            shutil.rmtree(d, ignore_errors=True)


def terminate(pids: list[int], grace: float = 5.0) -> None:
    """SIGTERM every PID, then SIGKILL what is still alive after ``grace`` seconds."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for pid in pids:
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


class ProcessGroup:
    """Servers started for one owner, with a state file the watchdog can act on."""

    def __init__(self, workdir: Path, owner_pid: int | None = None) -> None:
        self.workdir = workdir
        self.state_file = workdir / "state.json"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.extra_dirs: list[Path] = []
        self.cgroups: list[Path] = []
        self.owner_pid = owner_pid if owner_pid is not None else os.getpid()
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._save()

    def _save(self) -> None:
        state = {
            "pids": {name: p.pid for name, p in self.procs.items()},
            "cgroups": [str(c) for c in self.cgroups],
            "dirs": [str(d) for d in [*self.extra_dirs, self.workdir]],
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.state_file)

    def add_dir(self, path: Path) -> None:
        self.extra_dirs.append(path)
        self._save()

    def add_cgroup(self, path: Path) -> None:
        """A cgroup subtree whose every process is killed, and which is removed, on stop."""
        self.cgroups.append(path)
        self._save()

    def spawn(
        self,
        name: str,
        argv: list[str],
        *,
        log: Path,
        env: dict[str, str] | None = None,
        user: str | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                user=user,
                cwd=cwd,
                start_new_session=True,
            )
        self.procs[name] = proc
        self._save()
        return proc

    def start_watchdog(self) -> None:
        """Start a detached process that cleans up if the owner dies without calling stop()."""
        self._watchdog = subprocess.Popen(
            [sys.executable, "-m", "lgp_local.procs", str(self.owner_pid), str(self.state_file)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd=Path(__file__).resolve().parents[1],
        )

    def pids(self) -> list[int]:
        pids = [p.pid for p in self.procs.values()]
        if self._watchdog is not None:
            pids.append(self._watchdog.pid)
        return pids

    def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None
        # Stop in reverse start order: clients of etcd before etcd.
        procs = list(self.procs.values())[::-1]
        terminate([p.pid for p in procs])
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
        self.procs.clear()
        kill_cgroups(self.cgroups)
        remove_dirs([*self.extra_dirs, self.workdir])


def _watchdog_main(owner_pid: int, state_file: Path) -> None:
    while pid_alive(owner_pid):
        if not state_file.exists():  # stopped normally
            return
        time.sleep(0.5)
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return
    terminate([int(p) for p in state["pids"].values()][::-1])
    kill_cgroups([Path(c) for c in state.get("cgroups", [])])
    remove_dirs([Path(d) for d in state["dirs"]])


if __name__ == "__main__":
    _watchdog_main(int(sys.argv[1]), Path(sys.argv[2]))
