"""The bench's arithmetic and its report: percentiles, ratios, the targets of issue 8 and the
Markdown table. Pure functions of plain data (tests/unit/bench/test_report.py)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

MB = 1024 * 1024


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default); None for
    no values."""
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Iterable[float], *, scale: float = 1.0, digits: int = 1
            ) -> dict[str, float | int | None]:
    """n, p50, p95, p99 and max, each multiplied by `scale` (1000: seconds to ms)."""
    data = [v * scale for v in values]

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, digits)

    return {"n": len(data), "p50": r(percentile(data, 50)), "p95": r(percentile(data, 95)),
            "p99": r(percentile(data, 99)), "max": r(max(data) if data else None)}


def rate(count: int, seconds: float | None) -> float | None:
    """Events per second over a span; None for an empty or zero span."""
    if not seconds or seconds <= 0:
        return None
    return count / seconds


def ratio(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole


def span(starts: Iterable[float], ends: Iterable[float]) -> float | None:
    """From the first start to the last end."""
    starts, ends = list(starts), list(ends)
    if not starts or not ends:
        return None
    return max(ends) - min(starts)


# --- the targets ------------------------------------------------------------------------

def check(name: str, measured: float | None, limit: float, *, at_least: bool, unit: str = ""
          ) -> dict[str, Any]:
    """A target: met or not, and by how much it is missed (in the target's unit, and as a
    share of the limit)."""
    if measured is None:
        return {"target": name, "limit": limit, "measured": None, "met": False,
                "missed_by": None, "missed_by_share": None, "unit": unit}
    met = measured >= limit if at_least else measured <= limit
    missed = 0.0 if met else abs(limit - measured)
    return {"target": name, "limit": limit, "measured": measured, "met": met,
            "missed_by": round(missed, 4), "missed_by_share": round(missed / limit, 4)
            if limit else None, "unit": unit}


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    ratios = result.get("ratios", {})
    rest = {name: p.get("rest_rss_mb") for name, p in result.get("processes", {}).items()
            if p.get("kind") == "ours"}
    worst = max((v for v in rest.values() if v is not None), default=None)
    return [
        check("accepted reports/s ≥ 70 % of the raw start ceiling",
              ratios.get("accepted_to_start_ceiling"), 0.70, at_least=True, unit="ratio"),
        check("POST p99 ≤ 150 ms at half the ceiling rate",
              result.get("half_ceiling", {}).get("post_ms", {}).get("p99"), 150,
              at_least=False, unit="ms"),
        check("completed lifecycles/s ≥ 50 % of the repair-shaped ceiling",
              ratios.get("lifecycles_to_shaped_ceiling"), 0.50, at_least=True, unit="ratio"),
        check("breach acted on ≤ 1 s after its deadline (p99)",
              result.get("timers", {}).get("late_s", {}).get("p99"), 1.0, at_least=False,
              unit="s"),
        check("each service process ≤ 150 MB RSS at rest", worst, 150, at_least=False,
              unit="MB"),
        check("0 lost reports", result.get("correctness", {}).get("lost"), 0, at_least=False),
    ]


# --- the Markdown table -------------------------------------------------------------------

def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _dist(d: dict[str, Any] | None, keys: Sequence[str] = ("p50", "p95", "p99"),
          unit: str = "ms", digits: int = 1) -> str:
    if not d or not d.get("n"):
        return "–"
    return " / ".join(_fmt(d.get(k), digits) for k in keys) + f" {unit} (n={d['n']})"


def markdown(result: dict[str, Any]) -> str:
    c, s, h = result.get("ceilings", {}), result.get("storm", {}), result.get("half_ceiling", {})
    e, w = result.get("easy_rate", {}), result.get("history_events", {})
    lc, ok = result.get("lifecycles", {}), result.get("correctness", {})
    t, r = result.get("timers", {}), result.get("ratios", {})
    rows = [
        ("Raw start ceiling (no-op `start_workflow`)", f"{_fmt(c.get('start_per_s'))} /s"),
        ("Repair-shaped ceiling (4 activities, timer, signal)",
         f"{_fmt(c.get('shaped_per_s'))} /s"),
        ("Storm: reports sent / accepted (2xx, row and workflow)",
         f"{s.get('reports', '–')} / {s.get('accepted', '–')} in {_fmt(s.get('duration_s'))} s"),
        ("Accepted reports/s (ratio to start ceiling)",
         f"{_fmt(s.get('accepted_per_s'))} /s ({_pct(r.get('accepted_to_start_ceiling'))})"),
        ("New repairs (workflow starts)/s", f"{_fmt(s.get('new_repairs_per_s'))} /s"),
        ("POST latency p50/p95/p99 at full rate", _dist(s.get("post_ms"))),
        (f"POST latency p50/p95/p99 at half the ceiling ({_fmt(h.get('rate'))} /s offered)",
         _dist(h.get("post_ms"))),
        ("Storm reports through to their first offer/s",
         f"{_fmt(e.get('storm_through_per_s'))} /s"),
        (f"POST latency p50/p95/p99 at half that ({_fmt(e.get('rate'))} /s offered)",
         _dist(e.get("post_ms"))),
        ("POST → first offer p50/p99", _dist(s.get("offer_s"), ("p50", "p99"), "s", 2)),
        ("Completed lifecycles/s (ratio to repair-shaped ceiling)",
         f"{_fmt(lc.get('per_s'), 2)} /s ({_pct(r.get('lifecycles_to_shaped_ceiling'))}); "
         f"{lc.get('closed', '–')}/{lc.get('count', '–')} closed, {lc.get('reworks', '–')} "
         "with a rework"),
        ("Storm's driven share: lifecycles closed (rate)",
         f"{s.get('driven_closed', '–')}/{s.get('driven', '–')} "
         f"({_fmt(s.get('driven_per_s'), 2)} /s)"),
        ("CPU per repair lifecycle, our processes", f"{_fmt(lc.get('cpu_s_per_lifecycle'), 3)} s"),
        ("Lost reports (2xx without row or workflow)", _fmt(ok.get("lost"))),
        ("Repeat calls folded into the open repair",
         f"{ok.get('repeats_folded', '–')}/{ok.get('repeats', '–')}"),
        ("Idempotent retries answered with the same repair",
         f"{ok.get('retries_same', '–')}/{ok.get('retries', '–')}"),
        ("Deadline breach acted on after its deadline p50/p99 (all probes)",
         _dist(t.get("late_s"), ("p50", "p99"), "s", 3)),
        ("… of those due while the bench loaded the stack",
         _dist(t.get("under_load_late_s"), ("p50", "p99"), "s", 3)),
        ("… of those due at ease", _dist(t.get("at_ease_late_s"), ("p50", "p99"), "s", 3)),
        ("History events per workflow: " + " / ".join(w), " / ".join(_fmt(v) for v in w.values())),
    ]
    lines = ["| figure | measured |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    lines += ["", "| process | kind | CPU s | peak RSS MB | RSS at rest MB | PSS at rest MB |",
              "| --- | --- | ---: | ---: | ---: | ---: |"]
    for name, p in result.get("processes", {}).items():
        lines.append(f"| {name} | {p.get('kind')} | {_fmt(p.get('cpu_s'))} | "
                     f"{_fmt(p.get('peak_rss_mb'))} | {_fmt(p.get('rest_rss_mb'))} | "
                     f"{_fmt(p.get('rest_pss_mb'))} |")
    lines += ["", "| target | measured | met |", "| --- | --- | --- |"]
    for target in result.get("targets", []):
        measured = target["measured"]
        shown = (_pct(measured) if target["unit"] == "ratio" else
                 f"{_fmt(measured, 3 if target['unit'] == 's' else 1)} {target['unit']}".strip())
        lines.append(f"| {target['target']} | {shown} | {_verdict(target)} |")
    return "\n".join(lines)


def _verdict(target: dict[str, Any]) -> str:
    if target["met"]:
        return "yes"
    missed = target["missed_by"]
    if missed is None:
        return "no (not measured)"
    if target["unit"] == "ratio":
        return f"no, by {missed * 100:.0f} points"
    digits = 3 if target["unit"] == "s" else 1
    return f"no, by {_fmt(float(missed), digits)} {target['unit']}".rstrip()
