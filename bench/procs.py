"""CPU seconds and memory of the stack's processes, sampled from a thread with psutil.

Each named process counts with its descendants (PostgreSQL's backends, a server's
helpers): CPU is the sum over every PID ever seen of its last reading, so a backend that
exited still counts; RSS is summed over the tree (for PostgreSQL this counts its shared
buffers once per backend: an upper bound)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import psutil

SERVERS = frozenset({"postgres", "nats", "temporal"})
OURS = frozenset({"intake", "worker", "warranty", "dispatch", "followup"})


@dataclass
class Track:
    name: str
    pid: int
    tree: bool = True  # with its descendants
    cpu_by_pid: dict[int, float] = field(default_factory=dict)
    sys_by_pid: dict[int, float] = field(default_factory=dict)  # of which in the kernel
    peak_rss: int = 0
    last_rss: int = 0
    processes: int = 0

    @property
    def cpu(self) -> float:
        return sum(self.cpu_by_pid.values())


class Sampler:
    """Samples every `interval` seconds until stopped; `cpu()` and `rss()` read it now."""

    def __init__(self, processes: dict[str, int], *, interval: float = 0.5) -> None:
        self.tracks = {name: Track(name, pid) for name, pid in processes.items()}
        self.tracks["bench"] = Track("bench", os.getpid(), tree=False)  # its children: the stack
        self.interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._procs: dict[int, psutil.Process] = {}

    def add(self, name: str, pid: int) -> None:
        with self._lock:
            self.tracks[name] = Track(name, pid)

    def start(self) -> Sampler:
        self.sample()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _process(self, pid: int) -> psutil.Process:
        proc = self._procs.get(pid)
        if proc is None:
            proc = self._procs[pid] = psutil.Process(pid)
        return proc

    def sample(self) -> None:
        with self._lock:
            for track in self.tracks.values():
                try:
                    root = self._process(track.pid)
                    tree = [root, *root.children(recursive=True)] if track.tree else [root]
                except psutil.Error:
                    continue
                rss, alive = 0, 0
                for proc in tree:
                    try:
                        with proc.oneshot():
                            times = proc.cpu_times()
                            memory = proc.memory_info()
                    except psutil.Error:
                        continue
                    if proc.pid not in self._procs:
                        self._procs[proc.pid] = proc
                    track.cpu_by_pid[proc.pid] = times.user + times.system
                    track.sys_by_pid[proc.pid] = times.system
                    rss += memory.rss
                    alive += 1
                track.last_rss, track.processes = rss, alive
                track.peak_rss = max(track.peak_rss, rss)

    def cpu(self) -> dict[str, float]:
        """CPU seconds of each tracked process (with its descendants) so far."""
        self.sample()
        with self._lock:
            return {name: track.cpu for name, track in self.tracks.items()}

    def kernel(self) -> dict[str, float]:
        """Of the CPU seconds, those spent in the kernel (system time)."""
        with self._lock:
            return {name: sum(t.sys_by_pid.values()) for name, t in self.tracks.items()}

    def rss(self) -> dict[str, int]:
        """Resident memory of each, in bytes, now."""
        self.sample()
        with self._lock:
            return {name: track.last_rss for name, track in self.tracks.items()}

    def peaks(self) -> dict[str, int]:
        with self._lock:
            return {name: track.peak_rss for name, track in self.tracks.items()}

    def pss(self) -> dict[str, int]:
        """Proportional set size of each (shared pages divided among their sharers: the
        fair figure for PostgreSQL's backends), in bytes, now."""
        result = {}
        with self._lock:
            for name, track in self.tracks.items():
                try:
                    root = psutil.Process(track.pid)
                    tree = [root, *root.children(recursive=True)] if track.tree else [root]
                    result[name] = sum(p.memory_full_info().pss for p in tree)
                except (psutil.Error, AttributeError):
                    continue
        return result

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {name: track.processes for name, track in self.tracks.items()}


def kind_of(name: str) -> str:
    if name in SERVERS:
        return "server"
    if name in OURS:
        return "ours"
    return "bench"


def machine() -> dict[str, object]:
    return {"cpus": os.cpu_count(), "load_average_before": list(os.getloadavg()),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
