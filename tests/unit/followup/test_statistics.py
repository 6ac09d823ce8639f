"""The quarterly count: rates per kind, failed visits, repeats and what they lead to."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.followup_policy import (
    DEFAULT_POLICY,
    FollowupPolicy,
    FollowupRole,
    Rates,
    VisitKind,
)
from services.followup.statistics import (
    ComplaintRecord,
    Period,
    RepairRecord,
    VisitRecord,
    archive_dates,
    complaint_responses,
    corrective_actions,
    developer_flags,
    followup_report,
    is_failed,
    kind_statistics,
    quarter,
    quarter_of,
    repeated_complaints,
)
from services.followup.visits import should_visit, visit_window

SHANGHAI = "Asia/Shanghai"
Q1 = quarter(2026, 1, time_zone=SHANGHAI)


def at(text: str, zone: str = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def job(n: int, served: str, *, kind=VisitKind.repair, done: str | None = None, **more):
    w = visit_window(kind=kind, done_at=at(served), policy=DEFAULT_POLICY, time_zone=SHANGHAI)
    return VisitRecord(
        id=f"v{n}", kind=kind, unit=more.pop("unit", f"u{n}"), served_at=at(served),
        opens_at=w.opens_at, closes_at=w.closes_at,
        done_at=None if done is None else at(done), **more,
    )


def repair(n: int, unit: str | None, category: str, completed: str, building: str = "B1",
           common_area: str | None = None):
    return RepairRecord(f"r{n}", "P1", building, unit, category, at(completed), common_area)


def sampled(served: list[datetime], policy: FollowupPolicy = DEFAULT_POLICY
            ) -> list[VisitRecord]:
    """Repair jobs decided by the sampler as the service decides them (counts per quarter
    served in), every chosen visit made on time, on its window's first day."""
    seen: dict[str, int] = {}
    chosen: dict[str, int] = {}
    visits = []
    for n, moment in enumerate(sorted(served)):
        label = quarter_of(moment, time_zone=SHANGHAI).quarter_label
        take = should_visit(kind=VisitKind.repair, selected=chosen.get(label, 0),
                            seen=seen.get(label, 0), policy=policy)
        seen[label] = seen.get(label, 0) + 1
        chosen[label] = chosen.get(label, 0) + int(take)
        w = visit_window(kind=VisitKind.repair, done_at=moment, policy=policy,
                         time_zone=SHANGHAI)
        visits.append(VisitRecord(id=f"v{n}", kind=VisitKind.repair, unit=f"u{n}",
                                  served_at=moment, opens_at=w.opens_at, closes_at=w.closes_at,
                                  selected=take, done_at=w.opens_at if take else None))
    return visits


# --- quarters and archives


def test_quarter_bounds_are_project_zone_midnights():
    assert Q1 == Period(at("2026-01-01 00:00"), at("2026-04-01 00:00"))
    assert quarter(2026, 4, time_zone=SHANGHAI).end == at("2027-01-01 00:00")
    # 16:00 UTC on 31 March is already 1 April in Shanghai: the second quarter.
    moment = datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert quarter_of(moment, time_zone=SHANGHAI) == quarter(2026, 2, time_zone=SHANGHAI)
    assert at("2026-03-31 23:59") in Q1 and at("2026-04-01 00:00") not in Q1
    with pytest.raises(ValueError):
        quarter(2026, 5, time_zone=SHANGHAI)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                    timezones=st.just(UTC)))
def test_every_moment_is_in_its_quarter_and_quarters_follow_each_other(moment):
    q = quarter_of(moment, time_zone=SHANGHAI)
    assert moment in q
    assert quarter_of(q.end, time_zone=SHANGHAI).start == q.end


def test_records_are_archived_by_the_tenth_of_the_next_quarter_and_kept_two_years():
    archive = archive_dates(at("2026-03-31 20:00"), DEFAULT_POLICY, time_zone=SHANGHAI)
    assert (archive.archive_by, archive.keep_until) == (date(2026, 4, 10), date(2028, 4, 10))


# --- rates per kind


def test_repairs_at_exactly_eighty_percent_on_time_meet_the_target():
    # Completed in January: windows close in March, in the first quarter.
    visits = [job(n, f"2026-01-{n + 10:02d} 10:00", done=f"2026-02-{n + 15:02d} 10:00")
              for n in range(4)]
    visits.append(job(9, "2026-01-20 10:00", selected=False))
    stats = kind_statistics(visits=visits, kind=VisitKind.repair, period=Q1,
                            policy=DEFAULT_POLICY)
    assert (stats.eligible, stats.due, stats.done, stats.on_time) == (5, 4, 4, 4)
    assert stats.rate == 0.8 and stats.met


def test_late_and_early_visits_do_not_count_towards_the_rate():
    visits = [
        job(1, "2026-01-10 10:00", done="2026-02-20 10:00"),  # on time
        job(2, "2026-01-10 10:00", done="2026-01-20 10:00"),  # early: before a month
        job(3, "2026-01-05 10:00", done="2026-03-06 10:00"),  # late: window shut 6 March
        job(4, "2026-01-05 10:00"),  # never made: overdue
    ]
    stats = kind_statistics(visits=visits, kind=VisitKind.repair, period=Q1,
                            policy=DEFAULT_POLICY)
    assert (stats.done, stats.on_time, stats.early, stats.late_done) == (3, 1, 1, 1)
    assert (stats.overdue, stats.pending, stats.late) == (1, 0, 2)
    assert stats.rate == 0.25 and not stats.met


def test_a_job_counts_in_the_quarter_it_was_served_in_as_the_sampler_counts_it():
    # Four repairs 5-8 January and one 10 February: the sampler skips the fifth (4 of 5
    # is 80 %), whose window closes on 11 April. One more on 1 April, chosen. Every chosen
    # visit is made on time: both quarters meet the rate.
    served = [at(f"2026-01-0{d} 10:00") for d in range(5, 9)]
    served += [at("2026-02-10 10:00"), at("2026-04-01 10:00")]
    visits = sampled(served)
    assert [v.selected for v in visits] == [True, True, True, True, False, True]
    q1 = kind_statistics(visits=visits, kind=VisitKind.repair, period=Q1,
                         policy=DEFAULT_POLICY)
    q2 = kind_statistics(visits=visits, kind=VisitKind.repair,
                         period=quarter(2026, 2, time_zone=SHANGHAI), policy=DEFAULT_POLICY)
    assert (q1.eligible, q1.due, q1.on_time, q1.rate, q1.met) == (5, 4, 4, 0.8, True)
    assert (q2.eligible, q2.due, q2.on_time, q2.rate, q2.met) == (1, 1, 1, 1.0, True)


def test_a_visit_made_after_its_quarter_still_counts_for_it():
    # Completed 31 January: visited on 31 March... or in the window's last days, April.
    visits = [job(1, "2026-01-31 10:00", done="2026-03-31 10:00")]
    q1 = kind_statistics(visits=visits, kind=VisitKind.repair, period=Q1,
                         policy=DEFAULT_POLICY)
    assert (q1.eligible, q1.on_time, q1.met) == (1, 1, True)
    late_in_window = [job(1, "2026-03-20 10:00", done="2026-05-10 10:00")]
    q1 = kind_statistics(visits=late_in_window, kind=VisitKind.repair, period=Q1,
                         policy=DEFAULT_POLICY)
    assert (q1.eligible, q1.on_time, q1.met) == (1, 1, True)


@given(st.lists(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31),
                             timezones=st.just(ZoneInfo(SHANGHAI))), max_size=30),
       st.sampled_from([0.6, 0.8, 1.0]))
def test_when_every_chosen_visit_is_on_time_every_quarter_meets_the_rate(served, rate):
    policy = FollowupPolicy(rates=Rates(repair=rate))
    visits = sampled(served, policy)
    for number in range(1, 5):
        stats = kind_statistics(visits=visits, kind=VisitKind.repair, policy=policy,
                                period=quarter(2026, number, time_zone=SHANGHAI))
        assert stats.met, (number, stats)


def test_counted_mid_quarter_an_open_window_is_pending_and_later_visits_unseen():
    visits = [job(1, "2026-01-10 10:00", done="2026-02-20 10:00")]
    stats = kind_statistics(visits=visits, kind=VisitKind.repair, period=Q1,
                            policy=DEFAULT_POLICY, as_of=at("2026-02-01 00:00"))
    assert (stats.done, stats.pending, stats.overdue) == (0, 1, 0)


def test_no_jobs_no_rate_and_nothing_missed():
    stats = kind_statistics(visits=[], kind=VisitKind.complaint, period=Q1,
                            policy=DEFAULT_POLICY)
    assert stats.rate is None and stats.met


def test_an_in_unit_repair_without_its_visit_misses_the_target_whatever_the_rate():
    policy = FollowupPolicy(rates=Rates(repair=0.6, in_unit_repairs_all=True))
    visits = [job(n, "2026-01-10 10:00", done="2026-02-20 10:00") for n in range(4)]
    visits.append(job(5, "2026-01-10 10:00", in_unit=True))
    stats = kind_statistics(visits=visits, kind=VisitKind.repair, period=Q1, policy=policy)
    assert stats.rate == 0.8 and stats.in_unit_missed == 1 and not stats.met


# --- failed visits (回访不合格)


@pytest.mark.parametrize(
    ("satisfaction", "failed", "expected"),
    [(1, False, True), (2, False, True), (3, False, False), (5, False, False),
     (None, False, False), (5, True, True), (None, True, True)],
)
def test_a_visit_fails_at_two_or_under_or_when_the_owner_says_so(satisfaction, failed, expected):
    visit = job(1, "2026-01-10 10:00", done="2026-02-20 10:00",
                satisfaction=satisfaction, failed=failed)
    assert is_failed(visit, DEFAULT_POLICY) is expected


def test_a_visit_not_made_has_not_failed():
    assert not is_failed(job(1, "2026-01-10 10:00", failed=True), DEFAULT_POLICY)


# --- repeats


def complaint(n: int, unit: str, subject: str, served: str):
    return job(n, served, kind=VisitKind.complaint, unit=unit, subject=subject,
               done=served)


def test_the_same_complaint_twice_goes_to_the_manager():
    visits = [
        complaint(1, "1-101", "noise", "2025-11-20 10:00"),  # last quarter, still counted
        complaint(2, "1-101", "noise", "2026-02-01 10:00"),
        complaint(3, "1-101", "parking", "2026-02-02 10:00"),
        complaint(4, "1-102", "noise", "2026-02-03 10:00"),
        complaint(5, "1-201", "lift", "2025-03-01 10:00"),  # both before the quarter:
        complaint(6, "1-201", "lift", "2025-06-01 10:00"),  # reported then, not now
    ]
    found = repeated_complaints(visits=visits, period=Q1, policy=DEFAULT_POLICY,
                                time_zone=SHANGHAI)
    assert [(r.unit, r.subject, r.visit_ids, r.owner) for r in found] == [
        ("1-101", "noise", ("v1", "v2"), FollowupRole.manager),
    ]


def test_common_area_complaints_repeat_per_building_not_per_project():
    visits = [replace(complaint(n, "", "lift", f"2026-02-0{n} 10:00"), building=building)
              for n, building in ((1, "1"), (2, "2"), (3, "2"))]
    found = repeated_complaints(visits=visits, period=Q1, policy=DEFAULT_POLICY,
                                time_zone=SHANGHAI)
    assert [(r.building, r.unit, r.visit_ids) for r in found] == [("2", "", ("v2", "v3"))]


def test_a_complaint_older_than_the_look_back_is_not_a_repeat():
    visits = [complaint(1, "1-101", "noise", "2025-03-31 10:00"),
              complaint(2, "1-101", "noise", "2026-02-01 10:00")]
    assert repeated_complaints(visits=visits, period=Q1, policy=DEFAULT_POLICY,
                               time_zone=SHANGHAI) == ()


def test_the_same_repair_three_times_is_a_corrective_action_due_in_fifteen_days():
    repairs = [
        repair(1, "1-101", "LK-WET", "2025-12-20 10:00"),
        repair(2, "1-101", "LK-WET", "2026-01-15 10:00"),
        repair(3, "1-101", "LK-WET", "2026-03-02 10:00"),
        repair(4, "1-101", "EL-FIX", "2026-03-03 10:00"),
        repair(5, "1-102", "LK-WET", "2026-03-04 10:00"),
    ]
    (action,) = corrective_actions(repairs=repairs, period=Q1, policy=DEFAULT_POLICY,
                                   time_zone=SHANGHAI)
    assert (action.unit, action.category, action.repair_ids) == (
        "1-101", "LK-WET", ("r1", "r2", "r3"))
    assert action.owner == FollowupRole.technical_department
    assert (action.detected_on, action.due_on) == (date(2026, 4, 1), date(2026, 4, 16))


def test_a_common_area_repaired_three_times_is_a_corrective_action():
    # The same lift (a common area of building B1), three times: 同一种维修3次以上.
    repairs = [repair(n, None, "LIFT", f"2026-0{n}-10 10:00", common_area="1号电梯")
               for n in range(1, 4)]
    repairs.append(repair(4, None, "LIFT", "2026-03-11 10:00", common_area="2号电梯"))
    repairs.append(repair(5, None, "LIFT", "2026-03-12 10:00", building="B2",
                          common_area="1号电梯"))  # another building's lift
    (action,) = corrective_actions(repairs=repairs, period=Q1, policy=DEFAULT_POLICY,
                                   time_zone=SHANGHAI)
    assert (action.building, action.unit, action.common_area, action.category) == (
        "B1", None, "1号电梯", "LIFT")
    assert action.repair_ids == ("r1", "r2", "r3")
    # Common areas are not units: no pattern across a building's units.
    assert developer_flags(repairs=repairs, period=Q1, policy=DEFAULT_POLICY,
                           time_zone=SHANGHAI) == ()


def test_twice_is_not_yet_a_repeated_repair():
    repairs = [repair(1, "1-101", "LK-WET", "2026-01-15 10:00"),
               repair(2, "1-101", "LK-WET", "2026-03-02 10:00")]
    assert corrective_actions(repairs=repairs, period=Q1, policy=DEFAULT_POLICY,
                              time_zone=SHANGHAI) == ()


def test_a_category_across_a_building_or_a_project_is_flagged_for_the_developer():
    repairs = [repair(n, f"1-{n}01", "LK-EXTW", "2026-02-01 10:00") for n in range(1, 4)]
    repairs += [repair(n, f"2-{n}01", "LK-EXTW", "2026-02-01 10:00", building="B2")
                for n in range(4, 6)]
    flags = developer_flags(repairs=repairs, period=Q1, policy=DEFAULT_POLICY,
                            time_zone=SHANGHAI)
    assert [(f.building, f.category, len(f.units), f.owner) for f in flags] == [
        ("B1", "LK-EXTW", 3, FollowupRole.developer),
        (None, "LK-EXTW", 5, FollowupRole.developer),
    ]


def test_one_unit_repaired_often_is_not_a_building_pattern():
    repairs = [repair(n, "1-101", "LK-EXTW", f"2026-02-0{n} 10:00") for n in range(1, 6)]
    assert developer_flags(repairs=repairs, period=Q1, policy=DEFAULT_POLICY,
                           time_zone=SHANGHAI) == ()


# --- the counts always add up

zones = st.sampled_from([ZoneInfo(SHANGHAI), UTC])
instants = st.datetimes(min_value=datetime(2025, 10, 1), max_value=datetime(2026, 6, 30),
                        timezones=zones)


@st.composite
def records(draw):
    served = draw(instants)
    kind = draw(st.sampled_from(list(VisitKind)))
    w = visit_window(kind=kind, done_at=served, policy=DEFAULT_POLICY, time_zone=SHANGHAI)
    done = draw(st.none() | st.integers(0, 120).map(lambda d: served + timedelta(days=d)))
    return VisitRecord(
        id=draw(st.text("abc123", min_size=1, max_size=4)), kind=kind,
        unit=draw(st.sampled_from(["1-101", "1-102"])),
        served_at=served, opens_at=w.opens_at, closes_at=w.closes_at,
        selected=draw(st.booleans()), done_at=done,
        satisfaction=draw(st.none() | st.integers(1, 5)), failed=draw(st.booleans()),
        in_unit=draw(st.booleans()), subject=draw(st.sampled_from(["noise", "leak"])),
    )


@given(st.lists(records(), max_size=40), st.none() | instants)
def test_counts_add_up(visits, as_of):
    policy = FollowupPolicy(rates=Rates(in_unit_repairs_all=True))
    report = followup_report(visits=visits, repairs=[], period=Q1, policy=policy,
                             time_zone=SHANGHAI, as_of=as_of)
    assert sum(k.eligible for k in report.kinds) == sum(v.served_at in Q1 for v in visits)
    for k in report.kinds:
        assert k.eligible >= k.due == k.done + k.not_done
        assert k.done == k.on_time + k.early + k.late_done
        assert k.not_done == k.overdue + k.pending
        assert k.late == k.late_done + k.overdue <= k.due
        assert 0 <= k.failed <= k.done
        assert k.rate is None or 0 <= k.rate <= 1
    assert sum(k.failed for k in report.kinds) == len(report.failed_visits)
    assert all(len(r.visit_ids) >= 2 for r in report.repeated_complaints)


# --- complaint responses (投诉24小时内回应)


def answered(n: int, opened: str, handled: str | None) -> ComplaintRecord:
    return ComplaintRecord(f"c{n}", at(opened), at(opened) + timedelta(hours=24),
                           None if handled is None else at(handled))


def test_complaints_answered_after_24_hours_or_not_at_all_are_late():
    complaints = [
        answered(1, "2026-02-01 10:00", "2026-02-01 18:00"),  # on time
        answered(2, "2026-02-01 10:00", "2026-02-02 10:00"),  # at the deadline: late
        answered(3, "2026-03-30 10:00", None),  # not answered, past its deadline
        answered(4, "2026-03-31 20:00", None),  # not answered, deadline after as_of
        answered(5, "2025-12-31 10:00", None),  # opened in the last quarter
    ]
    counted = complaint_responses(complaints=complaints, period=Q1,
                                  as_of=at("2026-04-01 08:00"))
    assert (counted.opened, counted.handled, counted.on_time) == (4, 2, 1)
    assert (counted.late_handled, counted.overdue, counted.pending) == (1, 1, 1)
    assert counted.late == 2 and counted.late_ids == ("c2", "c3")
    later = complaint_responses(complaints=complaints, period=Q1)
    assert (later.overdue, later.pending, later.late_ids) == (2, 0, ("c2", "c3", "c4"))
