"""Layer recipes: what goes into a layer (its *material*, hashed into the layer's cache key) and
how to build it.

- ``DebianRootfs``: a Debian root filesystem made by ``mmdebstrap`` (no Docker, no registry: the
  host's own apt sources are the mirror), with fixed system users created before the packages'
  maintainer scripts run;
- ``PipPackages``: Python packages installed by pip into ``/usr/local/lib/python3.11/dist-packages``
  (on Debian's ``sys.path``), compiled to unchecked-hash ``.pyc`` so a read-only root filesystem
  needs no bytecode writes;
- ``Files``: files, directories and symlinks given one by one (entrypoint scripts, a project tree).
"""

from __future__ import annotations

import functools
import os
import platform
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .oci import MEDIA_LAYER, Descriptor, Entry, encode, sha256_bytes, tree_entries, write_layer
from .store import Store

# Bump when the way a layer is written changes without its inputs changing.
FORMAT = "1"
PYTHON_VERSION = "3.11"  # Debian bookworm's python3
SITE = f"/usr/local/lib/python{PYTHON_VERSION}/dist-packages"
SUITE = "bookworm"

Log = Callable[[str], None]


class BuildError(RuntimeError):
    """A build step failed; the message names the step and ends with its last output lines."""


class Layer(Protocol):
    @property
    def created_by(self) -> str: ...

    def material(self) -> dict[str, Any]: ...

    def build(self, store: Store, work: Path, out: Path, log: Log) -> None: ...


def layer_key(layer: Layer) -> str:
    """The cache key of a layer: a hash of everything that goes into it."""
    material = {"layer": type(layer).__name__, "format": FORMAT, **layer.material()}
    return sha256_bytes(encode(material)).split(":", 1)[1]


def ensure_layer(store: Store, layer: Layer, log: Log) -> tuple[Descriptor, bool]:
    """The layer's descriptor, built now unless a build with the same key is cached.
    Returns (descriptor, built_now)."""
    key = layer_key(layer)

    def cached() -> Descriptor | None:
        rec = store.record("layers", key)
        if rec and store.has_blob(rec["digest"], rec["size"]):
            return Descriptor(MEDIA_LAYER, rec["digest"], rec["size"])
        return None

    if (hit := cached()) is not None:
        return hit, False
    with store.locked(key):
        if (hit := cached()) is not None:
            return hit, False
        t0 = time.monotonic()
        log(f"building layer: {layer.created_by}")
        with store.workdir("layer-") as work:
            out = work / "layer.tar"
            layer.build(store, work, out, log)
            digest, size = store.add_file(out)
        seconds = round(time.monotonic() - t0, 1)
        store.save_record(
            "layers",
            key,
            {"digest": digest, "size": size, "created_by": layer.created_by, "seconds": seconds},
        )
        log(f"  done in {seconds} s, {size / 2**20:.0f} MiB")
        return Descriptor(MEDIA_LAYER, digest, size), True


def _run(step: str, argv: list[str], *, log_file: Path, env: dict[str, str] | None = None) -> None:
    with open(log_file, "ab") as out:
        proc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    if proc.returncode != 0:
        tail = log_file.read_text(errors="replace").splitlines()[-25:]
        raise BuildError(f"{step} failed (exit {proc.returncode}); last lines:\n" + "\n".join(tail))


# ---------------------------------------------------------------------------- Debian rootfs
@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    home: str
    shell: str = "/usr/sbin/nologin"
    gecos: str = ""

    def passwd(self) -> str:
        return f"{self.name}:x:{self.uid}:{self.gid}:{self.gecos}:{self.home}:{self.shell}"


def debian_mirror() -> str:
    """What mmdebstrap gets as its mirror: ``LGP_DEBIAN_MIRROR``, else this machine's own apt
    sources file (so the machine's mirror, proxy-free or not, is used), else deb.debian.org."""
    if os.environ.get("LGP_DEBIAN_MIRROR"):
        return os.environ["LGP_DEBIAN_MIRROR"]
    for candidate in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        p = Path(candidate)
        if p.is_file() and p.stat().st_size > 0:
            return candidate
    return "http://deb.debian.org/debian"


@functools.cache
def apt_candidates(packages: tuple[str, ...]) -> dict[str, str]:
    """The versions apt on this machine would install (``apt-cache policy``), part of the key so
    that a security update seen by this machine's apt lists rebuilds the layer."""
    if not shutil.which("apt-cache"):
        return {}
    proc = subprocess.run(["apt-cache", "policy", *packages], capture_output=True, text=True)
    out: dict[str, str] = {}
    current = None
    for line in proc.stdout.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = line[:-1]
        elif current and line.strip().startswith("Candidate:"):
            out[current] = line.split(":", 1)[1].strip()
    return out


DPKG_EXCLUDES = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/lintian/*",
)


@dataclass(frozen=True)
class DebianRootfs:
    """``mmdebstrap --variant=essential --include=<packages>``: Debian's Essential set plus these
    packages and their dependencies, nothing else (no apt in the image)."""

    packages: tuple[str, ...]
    users: tuple[User, ...] = ()
    remove: tuple[str, ...] = ()  # paths removed after the packages are installed
    suite: str = SUITE
    variant: str = "essential"

    @property
    def created_by(self) -> str:
        return f"mmdebstrap --variant={self.variant} {self.suite} +{','.join(self.packages)}"

    def material(self) -> dict[str, Any]:
        mirror = debian_mirror()
        mirror_path = Path(mirror)
        return {
            "suite": self.suite,
            "variant": self.variant,
            "packages": list(self.packages),
            "candidates": apt_candidates(self.packages),
            "users": [u.passwd() for u in self.users],
            "remove": list(self.remove),
            "dpkg": list(DPKG_EXCLUDES),
            "mirror": mirror_path.read_text() if mirror_path.is_file() else mirror,
        }

    def _users_hook(self) -> str:
        lines = ["set -e"]
        for u in self.users:
            lines.append(f'echo {shlex.quote(u.passwd())} >> "$1/etc/passwd"')
            lines.append(f'echo {shlex.quote(f"{u.name}:x:{u.gid}:")} >> "$1/etc/group"')
            shadow = shlex.quote(f"{u.name}:!:0::::::")
            lines.append(f'if [ -f "$1/etc/shadow" ]; then echo {shadow} >> "$1/etc/shadow"; fi')
        return "; ".join(lines)

    def build(self, store: Store, work: Path, out: Path, log: Log) -> None:
        if not shutil.which("mmdebstrap"):
            raise BuildError("mmdebstrap is not installed: run `make deps` (apt-get install mmdebstrap)")
        debs = store.debs
        argv = [
            "mmdebstrap",
            "--mode=unshare",
            f"--variant={self.variant}",
            f"--include={','.join(self.packages)}",
            # keep the downloaded essential packages so sync-out can cache them
            "--skip=essential/unlink",
            "--dpkgopt=force-unsafe-io",
            *[f"--dpkgopt={o}" for o in DPKG_EXCLUDES],
            '--setup-hook=mkdir -p "$1"/var/cache/apt/archives/',
            f"--setup-hook=sync-in {debs} /var/cache/apt/archives/",
        ]
        if self.users:
            argv.append(f"--essential-hook={self._users_hook()}")
        argv.append(f"--customize-hook=sync-out /var/cache/apt/archives {debs}")
        if self.remove:
            # paths may hold globs (they come from the recipes, not from users)
            if any(
                not p.startswith("/") or any(c.isspace() or c in "'\"$;&|`" for c in p) for p in self.remove
            ):
                raise BuildError(f"invalid path to remove in {self.remove}")
            argv.append("--customize-hook=rm -rf " + " ".join(f'"$1"{p}' for p in self.remove))
        argv += [self.suite, str(out), debian_mirror()]
        # One mmdebstrap at a time: they share the package cache (and there are two cores here).
        with store.locked("mmdebstrap"):
            _run(
                "mmdebstrap", argv, log_file=work / "mmdebstrap.log", env={**os.environ, "TMPDIR": str(work)}
            )


# ---------------------------------------------------------------------------- pip
DEBIAN_PYTHON = "/usr/bin/python3"


@functools.cache
def debian_python_version() -> str:
    """The full version of this machine's Debian python3, which must be the image's: pip evaluates
    markers such as ``python_full_version < "3.11.3"`` (redis needs async-timeout below it) and
    builds sdists with the interpreter that runs it."""
    if not Path(DEBIAN_PYTHON).is_file():
        raise BuildError(
            f"installing an image's Python packages needs Debian's python3 at {DEBIAN_PYTHON} "
            "(the image's interpreter): apt-get install python3 python3-venv"
        )
    out = subprocess.run(
        [
            DEBIAN_PYTHON,
            "-c",
            "import sys, platform; print(platform.python_version(), sys.implementation.name)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not out[0].startswith(PYTHON_VERSION + ".") or out[1] != "cpython" or platform.machine() != "x86_64":
        raise BuildError(
            f"{DEBIAN_PYTHON} is {out[1]} {out[0]} on {platform.machine()}; the image's Python is Debian "
            f"{SUITE}'s CPython {PYTHON_VERSION} on x86_64: build on Debian {SUITE} (amd64)"
        )
    return out[0]


def pip_python(store: Store) -> str:
    """A virtualenv of Debian's python3 (cached in the store) whose pip installs the packages."""
    version = debian_python_version()
    venv = store.root / "tools" / f"pip-python{version}"
    python = venv / "bin" / "python"
    if python.exists():
        return str(python)
    with store.locked("pip-venv"):
        if not python.exists():
            tmp = venv.with_name(venv.name + ".partial")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.parent.mkdir(parents=True, exist_ok=True)
            proc = subprocess.run([DEBIAN_PYTHON, "-m", "venv", str(tmp)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise BuildError(
                    f"{DEBIAN_PYTHON} -m venv failed (apt-get install python3-venv): {proc.stderr.strip()}"
                )
            tmp.rename(venv)
    return str(python)


@dataclass(frozen=True)
class PipPackages:
    """``pip install --target <dist-packages>`` of requirements under constraints, plus local
    packages (directories with a pyproject.toml or setup.py) given with a digest of their files."""

    requirements: tuple[str, ...]
    constraints: str = ""
    requirement_files: tuple[tuple[str, str], ...] = ()  # (label, text)
    local_packages: tuple[tuple[Path, str], ...] = ()  # (directory, digest of its files)
    pip_config: str | None = None
    label: str = "python packages"

    @property
    def created_by(self) -> str:
        return f"pip install ({self.label})"

    def material(self) -> dict[str, Any]:
        return {
            "python": debian_python_version(),
            "site": SITE,
            "requirements": list(self.requirements),
            "constraints": self.constraints,
            "requirement_files": [list(r) for r in self.requirement_files],
            "local_packages": [[p.name, d] for p, d in self.local_packages],
            "pip_config": self.pip_config,
        }

    def build(self, store: Store, work: Path, out: Path, log: Log) -> None:
        python = pip_python(store)
        root = work / "root"
        site = root / SITE.lstrip("/")
        argv = [python, "-m", "pip", "install", "--no-input", "--no-compile", "--disable-pip-version-check"]
        argv += ["--target", str(site)]
        if self.constraints:
            (work / "constraints.txt").write_text(self.constraints)
            argv += ["-c", str(work / "constraints.txt")]
        for i, (_, text) in enumerate(self.requirement_files):
            req = work / f"requirements-{i}.txt"
            req.write_text(text)
            argv += ["-r", str(req)]
        argv += list(self.requirements) + [str(p) for p, _ in self.local_packages]
        env = {**os.environ, "PIP_CACHE_DIR": str(store.pip_cache), "PYTHONNOUSERSITE": "1"}
        env.pop("PYTHONPATH", None)
        if self.pip_config is not None:
            (work / "pip.conf").write_text(self.pip_config)
            env["PIP_CONFIG_FILE"] = str(work / "pip.conf")
        _run("pip install", argv, log_file=work / "pip.log", env=env)
        # Console scripts: to /usr/local/bin, with the image's interpreter in the shebang.
        scripts = site / "bin"
        if scripts.is_dir():
            bindir = root / "usr/local/bin"
            bindir.mkdir(parents=True)
            for script in sorted(scripts.iterdir()):
                data = script.read_bytes()
                if data.startswith(b"#!") and b"python" in data.split(b"\n", 1)[0]:
                    data = b"#!/usr/bin/python3" + data[data.index(b"\n") :]
                (bindir / script.name).write_bytes(data)
                (bindir / script.name).chmod(0o755)
            shutil.rmtree(scripts)
        # Not fatal: some packages ship files for other Python versions that do not compile; those
        # are compiled (in memory) if ever imported.
        subprocess.run(
            [
                python,
                "-m",
                "compileall",
                "-q",
                "-j",
                "0",
                "--invalidation-mode",
                "unchecked-hash",
                "-s",
                str(root),
                "-p",
                "/",
                str(site),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        entries = tree_entries(site, SITE)
        if (root / "usr/local/bin").is_dir():
            entries += [
                e
                for e in tree_entries(root / "usr/local/bin", "/usr/local/bin")
                if e.path != "/usr/local/bin"
            ]
        with open(out, "wb") as f:
            write_layer(entries, f)


# ---------------------------------------------------------------------------- files
@dataclass(frozen=True)
class Files:
    entries: tuple[Entry, ...]
    label: str

    @property
    def created_by(self) -> str:
        return self.label

    def material(self) -> dict[str, Any]:
        return {"entries": [e.material() for e in sorted(self.entries, key=lambda e: e.path)]}

    def build(self, store: Store, work: Path, out: Path, log: Log) -> None:
        with open(out, "wb") as f:
            write_layer(self.entries, f)
