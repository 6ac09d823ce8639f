"""`--profile DIR`: py-spy samples our processes during the storm (`py-spy record --format
raw`, collapsed stacks, one file per process), and a summary of where their time goes.

py-spy is in the dev extras; it reads another process's memory, so it needs the same user
(or root) and, in a container, the SYS_PTRACE capability."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from services.stack.servers import stop_process


def start(pids: dict[str, int], out: Path, *, rate: int = 50) -> dict[str, subprocess.Popen]:
    binary = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    out.mkdir(parents=True, exist_ok=True)
    return {name: subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
         "--nonblocking", "--output", str(out / f"{name}.txt")],
        stdout=subprocess.DEVNULL, stderr=open(out / f"{name}.py-spy.log", "wb"),  # noqa: SIM115
        start_new_session=True) for name, pid in pids.items()}


def stop(recorders: dict[str, subprocess.Popen]) -> None:
    """SIGINT makes py-spy write what it sampled; each stopped by its PID."""
    for process in recorders.values():
        stop_process(process, signal.SIGINT, timeout=30)


def read(path: Path) -> Counter[tuple[str, ...]]:
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks[tuple(frames.split(";"))] += int(count)
    return stacks


def _short(frame: str) -> str:
    """`function (path/to/module.py:line)` → `function (module.py)`."""
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rstrip(")")
    parts = Path(file).parts
    for anchor in ("site-packages", "main"):
        if anchor in parts:
            file = "/".join(parts[parts.index(anchor) + 1:])
            break
    return f"{name} ({file})"


# Where a thread waits rather than works: py-spy here cannot tell idle threads apart (no
# access to their kernel state in this container), so their samples are set aside by frame.
IDLE = ("EpollSelector.select (", "_worker (concurrent/futures/thread.py)",
        "Condition.wait (", "Event.wait (", "Thread._wait_for_tstate_lock (")


def summarise(path: Path, *, top: int = 15) -> dict[str, list[tuple[str, float]]]:
    """The functions with the most samples on top of the stack (self) and anywhere in it
    (inclusive), as shares of the process's busy samples (those not waiting in the event
    loop's epoll or an idle pool thread)."""
    stacks = read(path)
    idle = sum(n for frames, n in stacks.items()
               if frames and _short(frames[-1]).startswith(IDLE))
    stacks = Counter({f: n for f, n in stacks.items()
                      if not (f and _short(f[-1]).startswith(IDLE))})
    total = sum(stacks.values()) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks.items():
        leaf = _short(frames[-1]) if frames else "?"
        own[leaf] += count
        for frame in {_short(f) for f in frames}:
            inclusive[frame] += count
    return {"self": [(f, round(n / total, 3)) for f, n in own.most_common(top)],
            "inclusive": [(f, round(n / total, 3)) for f, n in inclusive.most_common(top * 2)],
            "samples": [("busy", total), ("idle", idle)]}
