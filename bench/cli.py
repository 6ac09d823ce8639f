"""The bench's one entry point, for `python -m bench storm` and `repairflow bench storm`."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from bench import report
from bench.storm import Options, log, run, write
from services.common.logging import configure_logging


def storm_command(*, repairs: int = 250, rate: float = 0.0, concurrency: int = 32,
                  base_url: str | None = None, api_key: str | None = None,
                  json_out: str | Path | None = None, **more) -> int:
    """Run the storm (starting a stack of its own unless `base_url` names one), print the
    Markdown table, write the JSON; 0 when no accepted report was lost, else 1. `more`:
    the other fields of bench.storm.Options (lifecycles, drive_share, seed, ...)."""
    configure_logging(service="bench", level="WARNING", json=False)
    for chatty in ("alembic", "httpx", "temporalio"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    if more.get("profile"):
        more["profile"] = Path(more["profile"])
    options = Options(repairs=repairs, rate=rate, concurrency=concurrency, base_url=base_url,
                      api_key=api_key, json_out=Path(json_out) if json_out else None,
                      **{k: v for k, v in more.items() if v is not None})
    result = asyncio.run(run(options))
    path = write(result, options.json_out)
    print(report.markdown(result))
    print(f"\nJSON: {path}  (whole run {result.get('took_s')} s)")
    lost = result.get("correctness", {}).get("lost")
    if lost:
        log(f"LOST {lost} accepted reports: {json.dumps(result['correctness'].get('lost_ids'))}")
    return 0 if lost == 0 else 1
