"""`make dev` as a new user meets it: run the README's first command, follow what it prints (the
`lgp deployments create ... --wait`; on the real node also the call to the agent), see DEPLOYED,
press Ctrl-C, and find nothing left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from lgp_local.procs import free_port

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("LGP_TEST_KUBECONFIG")), reason="make dev starts its own local cluster"
)


def _processes_mentioning(needle: str) -> list[str]:
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in cmd:
            out.append(f"{proc.name}: {cmd[:200]}")
    return out


def test_make_dev_runs_the_stack_and_a_first_deployment_reaches_deployed():
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "CLUSTER", "LGP_URL", "LGP_API_KEY")
    }
    env["LGP_DEV_PORT"] = str(port)
    make = subprocess.Popen(
        ["make", "--no-print-directory", "dev"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    banner_done = threading.Event()

    def read() -> None:
        assert make.stdout is not None
        for line in make.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line:
                banner_done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert banner_done.wait(600), "make dev did not come up:\n" + "".join(lines[-60:])
        out = "".join(lines)
        node = re.search(r"node            REAL: (\S+) ", out)
        if node is None:
            assert "kubelet         SIMULATED: no real node here (" in out  # announced, with the reason
        assert f"http://127.0.0.1:{port}" in out
        export_lines = re.findall(r"^  (export [A-Z_]+=\S+)$", out, re.M)
        exports = dict(re.findall(r"export (LGP_URL|LGP_API_KEY|KUBECONFIG)=(\S+)", out))
        command = re.search(
            r"\n  (\.venv/bin/lgp deployments create .*?--wait)\n", out.replace("\\\n", " "), re.S
        )
        assert command, out
        workdir = re.search(r"Logs: (\S+)/logs/", out)
        assert workdir, out
        user_env = dict(env, **exports)

        def as_user(*commands: str, timeout: float) -> subprocess.CompletedProcess[str]:
            script = "\n".join([*export_lines, *(" ".join(c.split()) for c in commands)])
            return subprocess.run(
                ["bash", "-ec", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
            )

        t0 = time.monotonic()
        created = as_user(command.group(1), timeout=600)
        assert created.returncode == 0, created.stdout + created.stderr
        assert "DEPLOYED" in created.stdout + created.stderr
        assert time.monotonic() - t0 < 600
        if node is not None:  # the example agent answers from this machine, as printed
            call = re.search(r"\n  (export AGENT_URL=.*)\n  (curl \$AGENT_URL/ok)\n", out)
            assert call, out
            answered = as_user(call.group(1), call.group(2), timeout=60)
            assert answered.returncode == 0 and '"ok":true' in answered.stdout.replace(" ", ""), answered
        listed = subprocess.run(
            [str(REPO / ".venv/bin/lgp"), "deployments", "list", "--output", "json"],
            cwd=REPO,
            env=user_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        name = command.group(1).split()[3]
        assert listed.returncode == 0 and f'"{name}"' in listed.stdout
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        make.wait(timeout=120)
        reader.join(timeout=10)
    out = "".join(lines)
    assert "stopped: no lgp dev process is left." in out, out[-3000:]
    dev_dir = workdir.group(1)
    cluster_dir = str(Path(exports["KUBECONFIG"]).parent)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (
        _processes_mentioning(dev_dir) or _processes_mentioning(cluster_dir)
    ):
        time.sleep(0.5)
    assert not _processes_mentioning(dev_dir) and not _processes_mentioning(cluster_dir)
    assert not Path(dev_dir).exists() and not Path(cluster_dir).exists()
    if node is not None:  # the node's processes, cgroups (and with them its namespaces and veth) are gone
        assert not _processes_mentioning(node.group(1))
        assert not list(Path("/sys/fs/cgroup").glob(f"*/{node.group(1)}"))
