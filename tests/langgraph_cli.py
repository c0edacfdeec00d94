"""Running the real `langgraph` command (PyPI langgraph-cli, pinned in pyproject) against an lgp control
plane, as a person would: a LangGraph project folder with a langgraph.json and a .env, the control
plane's /api-host as the host URL, an lgp API key. Analytics off (LANGGRAPH_CLI_NO_ANALYTICS=1),
no LangSmith settings from the outside environment."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.stream_lines import StreamLines

LANGGRAPH = str(Path(sys.executable).with_name("langgraph"))
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


class LangGraphCli:
    """`langgraph ...` in a project folder, pointed at ``host_url`` (``<lgp>/api-host``) with ``api_key``."""

    def __init__(
        self, project: Path, host_url: str, api_key: str, *, dotenv: dict[str, str] | None = None
    ) -> None:
        if not Path(LANGGRAPH).exists() and not shutil.which("langgraph"):
            raise RuntimeError("langgraph-cli is not installed: run `make venv`")
        self.project = project
        project.mkdir(parents=True, exist_ok=True)
        (project / "langgraph.json").write_text(
            '{"dependencies": ["."], "graphs": {"agent": "./agent.py:graph"}, "env": ".env", '
            '"image_distro": "wolfi"}\n'
        )
        (project / "agent.py").write_text(
            "graph = None  # the image is built elsewhere: deployed by digest\n"
        )
        (project / ".env").write_text("".join(f"{k}={v}\n" for k, v in (dotenv or {}).items()))
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("LANGSMITH_", "LANGCHAIN_", "LANGGRAPH_", "LGP_"))
        }
        self.env.update(
            LANGGRAPH_CLI_NO_ANALYTICS="1",
            LANGGRAPH_HOST_URL=host_url,
            LANGGRAPH_HOST_API_KEY=api_key,
            HOME=str(project),
            NO_COLOR="1",
        )
        self.printed: list[str] = []

    def __call__(self, *argv: str, env: dict[str, str] | None = None, timeout: float = 120) -> Ran:
        proc = subprocess.run(
            [LANGGRAPH, *argv],
            cwd=self.project,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        ran = Ran(proc.returncode, ANSI.sub("", proc.stdout), ANSI.sub("", proc.stderr))
        self.printed.append(ran.text)
        return ran

    def start(self, *argv: str) -> Following:
        proc = subprocess.Popen(
            [LANGGRAPH, *argv],
            cwd=self.project,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        return Following(proc, self.printed)

    def deploy(self, name: str, image: str, *extra: str, wait: bool = True, timeout: float = 120) -> Ran:
        args = ["deploy", "--name", name, "--image-uri", image, "--no-input", *extra]
        return self(*args, *([] if wait else ["--no-wait"]), timeout=timeout)


class Following:
    """A `langgraph` process left running (``deploy`` waiting, ``deploy logs -f``), its output read line
    by line; stopped with SIGINT as a person would with Ctrl-C."""

    def __init__(self, proc: subprocess.Popen[str], printed: list[str]) -> None:
        assert proc.stdout is not None
        self.proc, self.printed = proc, printed
        self.output = StreamLines(proc.stdout, lambda line: ANSI.sub("", line))

    def wait_line(self, pattern: str, timeout: float = 60) -> str:
        return self.output.wait_line(pattern, timeout)

    def interrupt(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)

    def finish(self, timeout: float = 60) -> Ran:
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self.kill()
        text = self.output.join()
        self.printed.append(text)
        return Ran(code, text, "")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
