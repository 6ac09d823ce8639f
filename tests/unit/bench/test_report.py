"""The bench's arithmetic and report (bench/report.py), its call-center mix (bench/mix.py)
and the next step of a driven repair (bench/lifecycle.py): pure functions, no servers."""

from __future__ import annotations

import pytest

from bench.lifecycle import next_step
from bench.mix import ALWAYS_EMERGENCY, Place, plan
from bench.report import check, markdown, percentile, rate, ratio, span, summary, targets


def test_percentiles_interpolate_between_ranks_like_numpy():
    values = [15, 20, 35, 40, 50]
    assert percentile(values, 0) == 15
    assert percentile(values, 100) == 50
    assert percentile(values, 50) == 35
    assert percentile(values, 40) == pytest.approx(29.0)  # numpy.percentile: 29.0
    assert percentile(values, 99) == pytest.approx(49.6)
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([7], 99) == 7
    assert percentile([], 50) is None


def test_percentile_ignores_order_and_refuses_nonsense():
    assert percentile([3, 1, 2], 50) == 2
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


def test_summary_scales_and_rounds():
    s = summary([0.010, 0.020, 0.030, 0.040], scale=1000)
    assert s == {"n": 4, "p50": 25.0, "p95": 38.5, "p99": 39.7, "max": 40.0}
    assert summary([]) == {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}


def test_rates_ratios_and_spans():
    assert rate(100, 4.0) == 25.0
    assert rate(5, 0) is None and rate(5, None) is None
    assert ratio(35.0, 50.0) == pytest.approx(0.7)
    assert ratio(None, 50.0) is None and ratio(3.0, 0) is None
    assert span([10.0, 12.0], [15.0, 20.5]) == 10.5
    assert span([], [1.0]) is None


def test_a_target_says_whether_it_is_met_and_by_how_much_it_is_missed():
    assert check("x", 0.8, 0.7, at_least=True)["met"] is True
    missed = check("x", 0.35, 0.7, at_least=True, unit="ratio")
    assert missed["met"] is False
    assert missed["missed_by"] == pytest.approx(0.35)
    assert missed["missed_by_share"] == pytest.approx(0.5)
    late = check("y", 1.5, 1.0, at_least=False, unit="s")
    assert (late["met"], late["missed_by"]) == (False, 0.5)
    assert check("y", 1.0, 1.0, at_least=False)["met"] is True  # the limit itself is met
    assert check("z", None, 1.0, at_least=False)["met"] is False


def _result() -> dict:
    return {
        "ceilings": {"start_per_s": 100.0, "shaped_per_s": 10.0},
        "storm": {"reports": 200, "accepted": 200, "accepted_per_s": 80.0,
                  "post_ms": summary([0.1, 0.2], scale=1000)},
        "half_ceiling": {"rate": 50.0, "post_ms": {"n": 10, "p50": 40.0, "p95": 90.0,
                                                   "p99": 120.0, "max": 130.0}},
        "lifecycles": {"per_s": 4.0, "count": 10, "closed": 10},
        "timers": {"late_s": {"n": 5, "p50": 0.1, "p95": 0.5, "p99": 1.2, "max": 1.3}},
        "processes": {"intake": {"kind": "ours", "rest_rss_mb": 120.0},
                      "worker": {"kind": "ours", "rest_rss_mb": 140.0},
                      "postgres": {"kind": "server", "rest_rss_mb": 500.0}},
        "correctness": {"lost": 0, "repeats": 3, "repeats_folded": 3},
        "ratios": {"accepted_to_start_ceiling": 0.8, "lifecycles_to_shaped_ceiling": 0.4},
    }


def test_the_targets_of_issue_8():
    checks = {c["target"]: c for c in targets(_result())}
    assert checks["accepted reports/s ≥ 70 % of the raw start ceiling"]["met"]
    assert checks["POST p99 ≤ 150 ms at half the ceiling rate"]["met"]
    lifecycles = checks["completed lifecycles/s ≥ 50 % of the repair-shaped ceiling"]
    assert not lifecycles["met"] and lifecycles["missed_by"] == pytest.approx(0.1)
    breach = checks["breach acted on ≤ 1 s after its deadline (p99)"]
    assert not breach["met"] and breach["missed_by"] == pytest.approx(0.2)
    memory = checks["each service process ≤ 150 MB RSS at rest"]
    assert memory["met"] and memory["measured"] == 140.0  # servers are not ours
    assert checks["0 lost reports"]["met"]


def test_the_markdown_table_shows_the_figures_and_the_verdicts():
    result = _result()
    result["targets"] = targets(result)
    table = markdown(result)
    assert "| Raw start ceiling (no-op `start_workflow`) | 100.0 /s |" in table
    assert "80.0 /s (80 %)" in table
    assert "| completed lifecycles/s ≥ 50 % of the repair-shaped ceiling | 40 % | no, by 10 " \
           "points |" in table
    assert "| breach acted on ≤ 1 s after its deadline (p99) | 1.200 s | no, by 0.200 s |" \
           in table
    assert "| worker | ours | – | – | 140.0 | – |" in table
    assert markdown({})  # an empty run still renders


PLACES = [Place("SH-LJ", "1", unit=f"1-{n:03d}") for n in range(400)] + [
    Place("BJ-YH", "A", common_area="LOBBY")]


def test_the_plan_mixes_new_reports_repeat_calls_emergencies_and_retries():
    requests = plan(places=PLACES, count=1000, seed=1)
    fresh = [r for r in requests if r.kind == "fresh"]
    repeats = [r for r in requests if r.kind == "repeat"]
    assert 0.06 < len(repeats) / len(requests) < 0.14
    assert 0.03 < sum(r.emergency for r in requests) / len(requests) < 0.08
    assert 0.02 < sum(r.retry is not None for r in requests) / len(requests) < 0.09
    combos = [(r.body["project"], r.body["building"], r.body.get("unit"),
               r.body.get("common_area"), r.body["category"]) for r in fresh]
    assert len(set(combos)) == len(combos)  # each new report: a place and category not open
    by_index = {r.index: r for r in requests}
    for repeat in repeats:
        original = by_index[repeat.repeat_of]
        assert original.kind == "fresh" and original.index < repeat.index
        assert original.keep_open
        for field in ("project", "building", "unit", "common_area", "category"):
            assert repeat.body.get(field) == original.body.get(field)
    for r in fresh:
        assert r.emergency == (r.body.get("emergency", False)
                               or r.body["category"] in ALWAYS_EMERGENCY)
    assert len({r.idempotency_key for r in requests}) == len(requests)
    assert plan(places=PLACES, count=50, seed=1)[7].body == requests[7].body  # seeded


def test_a_plan_leaves_alone_what_another_took():
    taken: set = set()
    first = plan(places=PLACES, count=200, seed=2, taken=taken)
    second = plan(places=PLACES, count=200, seed=3, taken=taken, start_index=1000,
                  repeats=False)
    assert all(r.kind == "fresh" for r in second)
    combos = [(r.body.get("unit"), r.body.get("common_area"), r.body["category"])
              for r in first + second if r.kind == "fresh"]
    assert len(set(combos)) == len(combos)


def test_the_next_step_follows_the_status():
    offered = {"status": "offered", "offered_to": "T-1", "technician_id": None}
    assert next_step(offered, rework=False) == ("accept", {"technician_id": "T-1"})
    mine = {"technician_id": "T-1", "offered_to": "T-1"}
    assert next_step({**mine, "status": "accepted"}, rework=False)[0] == "arrive"
    paid = {**mine, "status": "arrived", "warranty_outcome": "chargeable", "quote_state": None}
    assert next_step(paid, rework=False)[0] == "diagnose"
    assert next_step({**paid, "quote_state": "accepted"}, rework=False)[0] == "complete"
    assert next_step({**mine, "status": "quoted"}, rework=False)[0] == "quote-decision"
    assert next_step({**mine, "status": "arrived", "warranty_outcome": "delegated"},
                     rework=False)[0] == "complete"
    done = {**mine, "status": "completed", "reworks": 0}
    assert next_step(done, rework=True)[1]["accepted"] is False
    assert next_step({**done, "reworks": 1}, rework=True)[1]["accepted"] is True
    assert next_step(done, rework=False)[1]["accepted"] is True
    assert next_step({**mine, "status": "unassigned"}, rework=False) == (None, None)
