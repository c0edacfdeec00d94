"""A private containerd for running images without a kubelet (the image tests use it).

Debian's containerd and runc, with everything of its own under one directory: config, root, state,
socket, runc root, container logs. It runs in a private mount namespace (``unshare --mount``), so
the overlay mounts of its snapshots and containers never appear on the host and vanish with it.
Its CRI plugin is off (no kubelet talks to it; the local node runs its own containerd with CRI and
``restrict_oom_score_adj``), and so is the ``opt`` plugin, which would create /opt/containerd.
``stop()`` kills every task, deletes the containers, stops containerd and removes the directory,
the containers' cgroups and what containerd 1.6 leaves in /run/containerd (its shims' sockets
live in the hard-coded /run/containerd/s).

Where it cannot run (not root, no overlayfs, no containerd/runc binaries) ``unavailable()`` says
why in one sentence.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
SHIM_DIR = Path("/run/containerd")

CONFIG = """\
version = 2
root = "{root}"
state = "{state}"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "{socket}"

[ttrpc]
  address = "{socket}.ttrpc"
"""


def unavailable() -> str | None:
    """Why real containers cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "running containers needs root (containerd, runc and overlay mounts); this is uid " + str(
            os.geteuid()
        )
    missing = [b for b in ("containerd", "ctr", "runc", "unshare") if not shutil.which(b)]
    if missing:
        return f"{', '.join(missing)} not installed: run `make deps` (apt-get install containerd runc)"
    try:
        filesystems = Path("/proc/filesystems").read_text()
    except OSError:
        filesystems = ""
    if "overlay" not in filesystems:
        return "the kernel has no overlayfs (not in /proc/filesystems): containerd's snapshotter needs it"
    if not CGROUP_ROOT.is_dir() or not any(CGROUP_ROOT.iterdir()):
        return "no cgroup filesystem at /sys/fs/cgroup: runc needs one"
    return None


@dataclass
class Container:
    id: str
    log: Path
    ctr: Containerd = field(repr=False)

    def logs(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def running(self) -> bool:
        out = self.ctr.ctr("tasks", "ls", check=False).stdout
        return any(line.split()[:1] == [self.id] and "RUNNING" in line for line in out.splitlines())

    def exec(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run a command in the container (like a kubelet exec probe); its exit code is returned."""
        exec_id = f"exec-{uuid.uuid4().hex[:8]}"
        fifos = self.ctr.workdir / "fifo"
        return self.ctr.ctr(
            "tasks",
            "exec",
            "--fifo-dir",
            str(fifos),
            "--exec-id",
            exec_id,
            self.id,
            *argv,
            check=False,
            timeout=timeout,
        )


class Containerd:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.socket = workdir / "containerd.sock"
        self.cgroup_parent = f"lgp-{workdir.name}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.containers: list[Container] = []
        # what containerd 1.6 creates in /run/containerd whatever its state dir is (shim sockets)
        self._existed = {p: p.exists() for p in (SHIM_DIR / "s", SHIM_DIR)}

    @property
    def address(self) -> str:
        return str(self.socket)

    @classmethod
    def start(cls, *, timeout: float = 30) -> Containerd:
        why = unavailable()
        if why:
            raise RuntimeError(why)
        workdir = Path(tempfile.mkdtemp(prefix="lgp-ctrd-"))
        c = cls(workdir)
        config = workdir / "config.toml"
        config.write_text(CONFIG.format(root=workdir / "root", state=workdir / "state", socket=c.socket))
        (workdir / "logs").mkdir()
        with open(workdir / "containerd.log", "wb") as log:
            c.proc = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "containerd", "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if c.proc.poll() is not None:
                log_text = (workdir / "containerd.log").read_text(errors="replace")[-2000:]
                c.stop()
                raise RuntimeError(f"containerd exited ({c.proc.returncode}):\n{log_text}")
            if c.socket.exists() and c.ctr("version", check=False).returncode == 0:
                return c
            time.sleep(0.05)
        c.stop()
        raise TimeoutError(f"containerd did not answer on {c.socket} within {timeout:.0f} s")

    def ctr(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["ctr", "--address", str(self.socket), "--namespace", "default", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"ctr {' '.join(args[:3])} failed: {proc.stderr.strip() or proc.stdout.strip()}"
            )
        return proc

    def run(
        self,
        name: str,
        image: str,
        *,
        args: tuple[str, ...] = (),
        command: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        read_only: bool = True,
        tmpfs: tuple[str, ...] = (),
        binds: dict[str, Path] | None = None,
    ) -> Container:
        """Start a detached container on the host's network. ``command`` replaces the image's
        entrypoint and cmd (a pod's ``command``); ``args`` are appended to the entrypoint (a pod's
        ``args``). Environment values go through a file, never the command line."""
        from .oci import normalize_reference

        image = normalize_reference(image)  # ctr does not normalize names; the CRI does
        cid = f"{name}-{uuid.uuid4().hex[:6]}"
        log = self.workdir / "logs" / f"{cid}.log"
        env_file = self.workdir / "logs" / f"{cid}.env"
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.writelines(f"{k}={v}\n" for k, v in (env or {}).items())
        argv = ["run", "--detach", "--net-host", "--env-file", str(env_file), "--log-uri", f"file://{log}"]
        argv += ["--runc-root", str(self.workdir / "runc"), "--cgroup", f"/{self.cgroup_parent}/{cid}"]
        if read_only:
            argv.append("--read-only")
        for path in tmpfs:
            argv += ["--mount", f"type=tmpfs,src=tmpfs,dst={path},options=nosuid:nodev:mode=1777"]
        for dst, src in (binds or {}).items():
            argv += ["--mount", f"type=bind,src={src},dst={dst},options=rbind:rw"]
        process = list(command)
        if args and not command:
            entrypoint = self._entrypoint(image)
            process = [*entrypoint, *args]
        self.ctr(*argv, image, cid, *process)
        container = Container(cid, log, self)
        self.containers.append(container)
        return container

    def _entrypoint(self, image: str) -> list[str]:
        """The image's Entrypoint, read from its config in containerd's content store."""
        from .oci import normalize_reference

        ref = normalize_reference(image)
        listing = self.ctr("images", "ls").stdout.splitlines()
        digest = next((line.split()[2] for line in listing[1:] if line.split()[0] == ref), None)
        if digest is None:
            raise RuntimeError(f"image {ref} is not in this containerd")
        manifest = json.loads(self.ctr("content", "get", digest).stdout)
        config = json.loads(self.ctr("content", "get", manifest["config"]["digest"]).stdout)
        return list(config["config"].get("Entrypoint") or [])

    def stop_container(self, container: Container, timeout: float = 20) -> None:
        self.ctr("tasks", "kill", "--all", "--signal", "SIGKILL", container.id, check=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and container.running():
            time.sleep(0.05)
        self.ctr("tasks", "delete", "--force", container.id, check=False)
        self.ctr("containers", "delete", container.id, check=False)

    def stop(self) -> None:
        for container in self.containers:
            with contextlib.suppress(Exception):
                self.stop_container(container)
        self.containers.clear()
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for controller in CGROUP_ROOT.iterdir() if CGROUP_ROOT.is_dir() else []:
            for sub in (controller / self.cgroup_parent, controller / "unified" / self.cgroup_parent):
                if sub.is_dir():
                    for child in sorted(sub.iterdir(), reverse=True):
                        if child.is_dir():
                            with contextlib.suppress(OSError):
                                child.rmdir()
                    with contextlib.suppress(OSError):
                        sub.rmdir()
        shutil.rmtree(self.workdir, ignore_errors=True)
        for path, existed in self._existed.items():
            if not existed:
                with contextlib.suppress(OSError):  # not empty: another containerd uses it
                    path.rmdir()
