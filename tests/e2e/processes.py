"""Helpers to drive RepairFlow's own processes from a test, as an operator would."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


class Running:
    """A child process whose output is collected line by line as it comes."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        """`env` adds to this process's environment; an empty value removes the variable."""
        merged = {k: v for k, v in {**os.environ, **env}.items() if v}
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=merged, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, bufsize=1,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            self._queue.put(line)

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match:
        """The first line from now on matching `pattern`; fails with the output so far."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and self._queue.empty():
                    break
                continue
            if match := regex.search(line):
                return match
        raise AssertionError(f"no line matching {pattern!r}; output:\n{''.join(self.lines)}")

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout)


def repairflow(*args: str, env: dict[str, str]) -> Running:
    return Running([sys.executable, "-m", "services", *args], env)
