"""Helpers to drive RepairFlow's own processes from a test, as an operator would."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
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


@contextmanager
def serving(names: tuple[str, ...], env: dict[str, str], headers: dict[str, str],
            timeout: float = 60) -> Iterator[str]:
    """`repairflow serve <name>` for each name (intake among them, on REPAIRFLOW_HTTP_PORT);
    yields intake's URL once it is healthy and the warranty and dispatch services answer
    through it. Each process's output is printed at the end (pytest shows it on failure)."""
    processes = [repairflow("serve", name, env=env) for name in names]
    url = f"http://127.0.0.1:{env['REPAIRFLOW_HTTP_PORT']}"
    try:
        deadline = time.monotonic() + timeout
        for probe in ("/healthz", "/v1/projects", "/v1/teams"):
            while True:
                try:
                    if httpx.get(f"{url}{probe}", timeout=5, headers=headers).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{probe} never answered 200"
                time.sleep(0.3)
        yield url
    finally:
        for process in processes:
            process.stop()
        for process in processes:
            print("".join(line for line in process.lines if '"level": "info"' not in line)[-3000:])
