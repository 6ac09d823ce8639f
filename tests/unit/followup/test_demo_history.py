"""The demo's year of follow-up history is made by the service's own rules."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from services.common.followup_policy import FollowupPolicy
from services.followup import demo_history
from services.followup.demo_history import Place, generate

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
PLACES = [Place("1", "1-101"), Place("1", "1-502"), Place("2", "2-301"),
          Place("1", None, "LOBBY"), Place("2", None, "BASEMENT")]
POLICY = FollowupPolicy(specialists=("客服 王敏", "客服 李静"))


def history():
    return generate(project="SH-LJ", places=PLACES, now=NOW, time_zone="Asia/Shanghai",
                    policy=POLICY)


def test_the_same_seed_gives_the_same_history():
    first, second = history(), history()
    assert [r.repair_id for r in first.repairs] == [r.repair_id for r in second.repairs]
    assert [v.status for v in first.visits] == [v.status for v in second.visits]


def test_every_quarter_meets_the_repair_rate_and_only_past_visits_have_results():
    made = history()
    for (kind, period), (seen, chosen) in made.counts.items():
        assert chosen >= POLICY.rates.repair * seen, (kind, period, seen, chosen)
    assert all(r.closed_at < NOW for r in made.repairs)
    for visit in made.visits:
        if visit.done_at is not None:
            assert visit.opens_at <= visit.done_at < NOW and visit.status == "done"
            assert visit.assignee in POLICY.specialists
        assert visit.status != "done" or visit.result is not None
    assert Counter(v.status for v in made.visits)["due"] > 0  # some still to make


def test_planted_repeats_become_corrective_actions_and_unsatisfied_owners_complaints():
    made = history()
    actions = {(a.unit, a.category) for a in made.actions}
    assert set((unit, category) for _, unit, category in demo_history.REPEATED) <= actions
    assert all(len(a.repair_ids) >= 3 and a.owner == "technical_department"
               for a in made.actions)
    for complaint in made.complaints:
        visit = next(v for v in made.visits if v.id == complaint.source_visit_id)
        assert visit.result and visit.result["satisfaction"] <= 2
