"""Shell scripts and Makefile recipes under `pipefail` never pipe into a reader that stops early."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# `cmd | head -1`, `cmd | grep -q x`, `cmd | grep -m1 x`, `cmd | sed 1q`: the reader exits after what it
# needs; if `cmd` writes more afterwards it dies of SIGPIPE, and pipefail turns that into exit 141 at
# random (issue 10: the cold cluster build failed this way on `etcd --version | head -1`).
EARLY_CLOSE = re.compile(
    r"\|\s*(head\b|grep\s+(-\w*[qm]\w*|--quiet|--max-count)|sed\s+-n\s+\S*q|sed\s+\S*q\b)"
)


def _scripts() -> list[Path]:
    found = [*REPO.glob("**/*.sh"), REPO / "Makefile", REPO / ".ci" / "run"]
    return sorted(p for p in found if ".venv" not in p.parts and ".git" not in p.parts and p.is_file())


def test_the_checker_finds_the_pattern_it_guards_against() -> None:
    assert EARLY_CLOSE.search('"$OUT/bin/etcd" --version | head -1')
    assert EARLY_CLOSE.search("dpkg-query -W $p | grep -q 'install ok'")
    assert EARLY_CLOSE.search("kind get clusters | grep -qx lgp")
    assert not EARLY_CLOSE.search("grep -v x file | tail -5")


def test_no_early_closing_pipe_under_pipefail() -> None:
    offenders = []
    for path in _scripts():
        text = path.read_text(errors="replace")
        if "pipefail" not in text:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            code = line.split(" #", 1)[0]
            if not code.lstrip().startswith("#") and EARLY_CLOSE.search(code):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not offenders, "capture the output first, then test it:\n" + "\n".join(offenders)
