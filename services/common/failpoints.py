"""Named crash points for fault-injection tests: `REPAIRFLOW_FAILPOINTS=name,...` makes the
process die at once (like a `kill -9`) when it reaches one. Unset in normal operation."""

from __future__ import annotations

import os
import sys


def failpoint(name: str) -> None:
    if name in os.environ.get("REPAIRFLOW_FAILPOINTS", "").split(","):
        sys.stdout.write(f'{{"event": "failpoint reached, exiting", "failpoint": "{name}"}}\n')
        sys.stdout.flush()
        os._exit(137)
