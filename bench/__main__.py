"""`python -m bench storm [--repairs N --rate R --concurrency C] [--base-url URL --api-key KEY
| --start-stack] [--json out.json]`: see bench/README.md."""

from __future__ import annotations

import argparse
import sys

from bench.cli import storm_command
from bench.storm import Options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    commands = parser.add_subparsers(dest="command", required=True)
    storm = commands.add_parser(
        "storm", help="a typhoon's reports, and the figures of issue 8",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    storm.add_argument("--repairs", type=int, default=Options.repairs, help="reports of the storm")
    storm.add_argument("--rate", type=float, default=Options.rate,
                       help="reports/s at full rate; 0: as fast as the callers go")
    storm.add_argument("--concurrency", type=int, default=Options.concurrency,
                       help="requests in flight")
    where = storm.add_mutually_exclusive_group()
    where.add_argument("--base-url", help="a running stack's intake, e.g. http://127.0.0.1:8000")
    where.add_argument("--start-stack", action="store_true",
                       help="start a stack of its own (what it does without --base-url)")
    storm.add_argument("--api-key", help="with --base-url; else the demo key of REPAIRFLOW_HOME, "
                                         "which allows only 600 requests/min")
    storm.add_argument("--nats-url", help="with --base-url; else NATS_URL or make up's")
    storm.add_argument("--temporal-address",
                       help="with --base-url; else TEMPORAL_ADDRESS or make up's")
    storm.add_argument("--json", dest="json_out",
                       help="where to write the JSON result; else bench/results/storm-<time>.json")
    storm.add_argument("--lifecycles", type=int, default=Options.lifecycles,
                       help="repairs reported and driven to the end in the lifecycle phase")
    storm.add_argument("--drive-share", type=float, default=Options.drive_share,
                       help="share of the storm's new repairs driven to the owner's sign-off")
    storm.add_argument("--ceiling-starts", type=int, default=Options.ceiling_starts,
                       help="no-op workflows started for the raw start ceiling")
    storm.add_argument("--ceiling-shaped", type=int, default=Options.ceiling_shaped,
                       help="repair-shaped workflows run for their ceiling")
    storm.add_argument("--half-seconds", type=float, default=Options.half_seconds,
                       help="seconds of reports at half the raw start ceiling")
    storm.add_argument("--easy-seconds", type=float, default=Options.easy_seconds,
                       help="seconds of reports at half the rate the storm got through")
    storm.add_argument("--breaches", type=int, default=Options.breaches,
                       help="deadline probes among the storm's repairs")
    storm.add_argument("--quiet-breaches", type=int, default=Options.quiet_breaches,
                       help="deadline probes at ease, after the other phases")
    storm.add_argument("--seed", type=int, default=Options.seed)
    storm.add_argument("--profile", help="py-spy our processes during the storm, into this "
                                         "folder (collapsed stacks and a summary in the JSON)")
    storm.add_argument("--keep-state", action="store_true",
                       help="keep the started stack's state directory (logs) afterwards")
    args = vars(parser.parse_args(argv))
    args.pop("command")
    args.pop("start_stack")
    return storm_command(**args)


if __name__ == "__main__":
    sys.exit(main())
