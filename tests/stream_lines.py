"""The lines a running process writes to one of its streams, read as they come, to wait for one."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import IO


class StreamLines:
    """Reads ``stream`` in a thread; ``clean`` is applied to each line (e.g. to drop colours)."""

    def __init__(self, stream: IO[str], clean: Callable[[str], str] = lambda line: line) -> None:
        self.lines: list[str] = []
        self.ended = False
        self.cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream, clean), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str], clean: Callable[[str], str]) -> None:
        for line in stream:
            with self.cond:
                self.lines.append(clean(line))
                self.cond.notify_all()
        with self.cond:
            self.ended = True
            self.cond.notify_all()

    def wait_line(self, pattern: str, timeout: float = 30) -> str:
        """Block until a line matches ``pattern`` (a regex); fail when the stream ends or time runs out."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if rx.search(line):
                        return line
                if self.ended:
                    raise AssertionError(f"the output ended without {pattern!r}:\n{''.join(self.lines)}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {pattern!r} in {timeout}s:\n{''.join(self.lines)}")
                self.cond.wait(remaining)

    def join(self, timeout: float = 10) -> str:
        self._thread.join(timeout)
        return "".join(self.lines)
