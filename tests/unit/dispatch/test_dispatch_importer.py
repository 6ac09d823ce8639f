"""Reading a dispatch spreadsheet: teams, technicians or rosters, every problem at its row."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services.common.dispatch_contracts import (
    DutyLeaderIn,
    LeaveIn,
    OnCallIn,
    RosterIn,
    TeamIn,
    TechnicianIn,
)
from services.dispatch.importer import (
    Checked,
    Known,
    Unreadable,
    check_sheet,
    parse_sheet,
    read_csv,
    read_sheet,
)

DEMO = Path(__file__).resolve().parents[3] / "deploy" / "demo"
SH = ZoneInfo("Asia/Shanghai")
# What deploy/demo/demo.yaml puts in the database.
KNOWN = Known(
    projects=frozenset({"SH-LJ", "BJ-YH"}),
    teams=frozenset({"SH-ENG", "BJ-ENG", "HX-AS", "YH-WP"}),
    members={"SH-ENG": frozenset({"T-SH-01", "T-SH-02", "T-SH-03", "T-SH-04"}),
             "BJ-ENG": frozenset({"T-BJ-01", "T-BJ-02", "T-BJ-03"}),
             "HX-AS": frozenset({"T-ALL-01"}), "YH-WP": frozenset({"C-YH-01"})})

Rows = list[dict[str, str]]


def sample(name: str) -> Rows:
    """A sample's data rows (row 2 first), as the spreadsheet would show them."""
    text = (DEMO / f"{name}-sample.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def to_csv(rows: Rows, extra_columns: tuple[str, ...] = ()) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*rows[0].keys(), *extra_columns], restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def at(result: Checked) -> set[tuple[int | None, str]]:
    return {(p.row, p.field) for p in result.problems}


def edit(row: int, **cells: str) -> Callable[[Rows], None]:
    """Change cells of a spreadsheet row (2 is the first data row)."""
    return lambda rows: rows[row - 2].update(cells)


def add_row(**cells: str) -> Callable[[Rows], None]:
    return lambda rows: rows.append({name: cells.get(name, "") for name in rows[0]})


def add_column(name: str, row: int, value: str) -> Callable[[Rows], None]:
    def change(rows: Rows) -> None:
        for r in rows:
            r[name] = ""
        rows[row - 2][name] = value
    return change


def drop_column(name: str) -> Callable[[Rows], None]:
    return lambda rows: [r.pop(name) for r in rows]


def both(*changes: Callable[[Rows], None]) -> Callable[[Rows], None]:
    return lambda rows: [change(rows) for change in changes]


# --- good sheets -----------------------------------------------------------------------------

def test_a_teams_sheet_parses_into_its_teams():
    text = ("team,team_name,kind,party_name,projects\n"
            "SH-ENG2,绿景花园物业工程二部,property_engineering,,SH-LJ\n"
            "KL-DW,坚朗门窗维修队,Contractor,坚朗门窗公司,\"SH-LJ, BJ-YH\"\n")

    result = read_csv(text, KNOWN)

    assert result.problems == []
    assert result.kind == "teams"
    assert result.teams == [
        TeamIn(id="SH-ENG2", name="绿景花园物业工程二部", kind="property_engineering",
               projects=["SH-LJ"]),
        TeamIn(id="KL-DW", name="坚朗门窗维修队", kind="contractor", party_name="坚朗门窗公司",
               projects=["SH-LJ", "BJ-YH"]),
    ]


def test_the_technicians_sample_parses_into_its_technicians():
    result = check_sheet(read_sheet(DEMO / "technicians-sample.csv"), KNOWN)

    assert result.problems == []
    assert result.kind == "technicians"
    assert result.technicians == [
        TechnicianIn(id="T-SH-05", name="周国平", phone="13811110010", team="SH-ENG",
                     trades=["plumbing", "hvac", "waterproofing"], projects=["SH-LJ"]),
        TechnicianIn(id="T-SH-06", name="钱晓峰", phone="13811110011", team="SH-ENG",
                     trades=["electrical", "low_voltage", "fire"], projects=["SH-LJ"],
                     max_open_orders=4),
        TechnicianIn(id="T-BJ-04", name="孙建华", phone="13811110012", team="BJ-ENG",
                     trades=["doors_windows", "decoration", "civil"], projects=["BJ-YH"]),
        TechnicianIn(id="T-ALL-02", name="冯志明", phone="13811110013", team="HX-AS",
                     trades=["waterproofing", "facade", "decoration"],
                     projects=["SH-LJ", "BJ-YH"], max_open_orders=2),
        TechnicianIn(id="C-YH-02", name="雨虹维修工", phone="13811110014", team="YH-WP",
                     trades=["waterproofing"], projects=["SH-LJ"], day_shift=False,
                     max_open_orders=5),
    ]
    assert result.totals() == "5 technicians / 维修人员5名"


def test_the_roster_sample_parses_into_one_roster_per_team():
    result = check_sheet(read_sheet(DEMO / "roster-sample.csv"), KNOWN)

    assert result.problems == []
    assert result.kind == "roster"
    plus8 = timezone(timedelta(hours=8))
    assert result.rosters == [
        RosterIn(team="SH-ENG", on_call=[
            OnCallIn(technician="T-SH-04", starts_at=datetime(2026, 12, 1, 17, 30, tzinfo=SH),
                     ends_at=datetime(2026, 12, 2, 8, 0, tzinfo=SH)),
            OnCallIn(technician="T-SH-01", starts_at=datetime(2026, 12, 2, 17, 30, tzinfo=SH),
                     ends_at=datetime(2026, 12, 3, 8, 0, tzinfo=SH)),
            OnCallIn(technician="T-SH-04", starts_at=datetime(2026, 12, 5, tzinfo=SH),
                     ends_at=datetime(2026, 12, 7, tzinfo=SH)),
        ], leave=[LeaveIn(technician="T-SH-02", first_day=date(2026, 12, 3),
                          last_day=date(2026, 12, 4))]),
        RosterIn(team="BJ-ENG", on_call=[
            OnCallIn(technician="T-BJ-03",
                     starts_at=datetime(2026, 12, 1, 17, 30, tzinfo=plus8),
                     ends_at=datetime(2026, 12, 2, 8, 0, tzinfo=plus8)),
        ], leave=[LeaveIn(technician="T-BJ-01", first_day=date(2026, 12, 7),
                          last_day=date(2026, 12, 8))]),
        RosterIn(team="HX-AS", duty_leaders=[
            DutyLeaderIn(day=date(2026, 12, 1), technician="T-ALL-01"),
            DutyLeaderIn(day=date(2026, 12, 2), technician="T-ALL-01"),
        ]),
    ]
    assert result.totals() == ("the rosters of 3 teams: 4 on-call shifts, 2 leave, "
                               "2 duty-leader days / "
                               "3个班组的排班：值班4班，请假2次，当日总负责人2天")


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01 18:00", datetime(2026, 12, 1, 18, 0, tzinfo=SH)),
    ("2026-12-01T18:00:00", datetime(2026, 12, 1, 18, 0, tzinfo=SH)),
    ("2026/12/1 8:05", datetime(2026, 12, 1, 8, 5, tzinfo=SH)),
    ("2026-12-01T10:00Z", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
    ("2026-12-01T18:00+0800", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
    ("2026-12-01 05:00-05:00", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
])
def test_on_call_times_without_a_zone_are_in_shanghai(text, expected):
    rows = sample("roster")[:1]
    rows[0]["starts_at"] = text
    rows[0]["ends_at"] = "2026-12-02 08:00"

    (roster,) = read_csv(to_csv(rows), KNOWN).rosters

    assert roster.on_call[0].starts_at == expected


@pytest.mark.parametrize(("cell", "expected"), [
    ("plumbing;hvac", ["plumbing", "hvac"]),
    ("plumbing、hvac", ["plumbing", "hvac"]),
    ("plumbing, hvac", ["plumbing", "hvac"]),
    ("Plumbing；HVAC；plumbing;", ["plumbing", "hvac"]),
])
def test_lists_are_separated_as_people_write_them(cell, expected):
    rows = sample("technicians")[:1]
    rows[0]["trades"] = cell

    assert read_csv(to_csv(rows), KNOWN).technicians[0].trades == expected


@pytest.mark.parametrize(("cell", "expected"), [
    ("", True), ("true", True), ("Yes", True), ("1", True), ("是", True),
    ("false", False), ("no", False), ("0", False), ("否", False),
])
def test_day_shift_reads_yes_and_no(cell, expected):
    rows = sample("technicians")[:1]
    rows[0]["day_shift"] = cell

    assert read_csv(to_csv(rows), KNOWN).technicians[0].day_shift is expected


def test_optional_columns_may_be_left_out():
    rows = sample("technicians")[:1]
    drop_column("day_shift")(rows)
    drop_column("max_open_orders")(rows)

    result = read_csv(to_csv(rows), KNOWN)

    assert result.problems == []
    assert (result.technicians[0].day_shift, result.technicians[0].max_open_orders) == (True, 3)


def test_headers_are_forgiving_about_case_and_spaces():
    text = to_csv(sample("technicians")).replace("phone,", " Phone ,", 1)

    assert read_csv(text, KNOWN).problems == []


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_utf8_with_or_without_excel_bom(tmp_path, bom):
    path = tmp_path / "roster.csv"
    path.write_bytes(bom + to_csv(sample("roster")).encode())

    result = check_sheet(read_sheet(path), KNOWN)

    assert result.problems == []
    assert len(result.rosters) == 3


# --- bad rows --------------------------------------------------------------------------------

# Technicians sample: rows 2-3 SH-ENG, row 4 BJ-ENG, row 5 HX-AS, row 6 YH-WP.
@pytest.mark.parametrize(("change", "expected"), [
    pytest.param(edit(3, trades="plumbing;carpentry"), {(3, "trades")}, id="unknown-trade"),
    pytest.param(edit(3, trades=""), {(3, "trades")}, id="empty-trades"),
    pytest.param(edit(3, trades=";"), {(3, "trades")}, id="no-trade-in-the-cell"),
    pytest.param(edit(4, phone="1381111001O"), {(4, "phone")}, id="bad-phone"),
    pytest.param(edit(4, phone="1381"), {(4, "phone")}, id="short-phone"),
    pytest.param(edit(5, name=""), {(5, "name")}, id="empty-name"),
    pytest.param(edit(5, technician="何 立新"), {(5, "technician")}, id="bad-id"),
    pytest.param(edit(2, team="SH-ENQ"), {(2, "team")}, id="unknown-team"),
    pytest.param(edit(2, team=""), {(2, "team")}, id="no-team"),
    pytest.param(edit(6, projects="SH-LJ;SH-XX"), {(6, "projects")}, id="unknown-project"),
    pytest.param(edit(6, projects=""), {(6, "projects")}, id="no-project"),
    pytest.param(edit(2, day_shift="maybe"), {(2, "day_shift")}, id="bad-yes-no"),
    pytest.param(edit(2, max_open_orders="three"), {(2, "max_open_orders")}, id="not-a-number"),
    pytest.param(edit(2, max_open_orders="0"), {(2, "max_open_orders")}, id="zero-orders"),
    pytest.param(edit(6, technician="T-SH-05"), {(6, "technician")}, id="twice"),
    pytest.param(add_column("colour", 3, "red"), {(1, "colour")}, id="unknown-column"),
    pytest.param(drop_column("phone"), {(1, "phone")}, id="missing-column"),
    pytest.param(both(edit(3, trades="carpentry", phone="x"), edit(5, team="NOPE")),
                 {(3, "trades"), (3, "phone"), (5, "team")}, id="several"),
])
def test_a_technician_problem_is_found_at_its_row_and_column(change, expected):
    rows = sample("technicians")
    change(rows)

    result = read_csv(to_csv(rows), KNOWN)

    assert at(result) == expected
    assert [p.row for p in result.problems] == sorted(p.row or 0 for p in result.problems)
    assert all(p.message_en and p.message_zh for p in result.problems)


# Roster sample: rows 2-5 SH-ENG (on call T-SH-04, T-SH-01, T-SH-04 at the weekend; leave
# T-SH-02), rows 6-7 BJ-ENG (on call T-BJ-03, leave T-BJ-01), rows 8-9 HX-AS duty leaders.
@pytest.mark.parametrize(("change", "expected"), [
    pytest.param(edit(3, ends_at="2026-12-02 08:00"), {(3, "ends_at")}, id="inverted-shift"),
    pytest.param(add_row(team="SH-ENG", technician="T-SH-04", kind="on_call",
                         starts_at="2026-12-02 07:00", ends_at="2026-12-02 09:00"),
                 {(10, "starts_at")}, id="overlapping-shifts-across-rows"),
    pytest.param(edit(5, starts_at="2026-12-32"), {(5, "starts_at")}, id="bad-date"),
    pytest.param(edit(2, ends_at="tomorrow 8am"), {(2, "ends_at")}, id="bad-date-and-time"),
    pytest.param(edit(2, starts_at="2026-12-01"), {(2, "starts_at")}, id="date-without-time"),
    pytest.param(edit(9, day="12/2"), {(9, "day")}, id="bad-day"),
    pytest.param(edit(4, kind="oncall"), {(4, "kind")}, id="unknown-kind"),
    pytest.param(edit(4, kind=""), {(4, "kind")}, id="no-kind"),
    pytest.param(edit(3, technician="T-BJ-01"), {(3, "technician")}, id="not-in-the-team"),
    pytest.param(edit(6, team="BJ-ENQ"), {(6, "team")}, id="unknown-team"),
    pytest.param(edit(7, ends_at="2026-12-06"), {(7, "ends_at")}, id="inverted-leave"),
    pytest.param(edit(9, day="2026-12-01"), {(9, "day")}, id="two-leaders-one-day"),
    pytest.param(edit(2, day="2026-12-01"), {(2, "day")}, id="day-on-an-on-call-row"),
    pytest.param(edit(8, starts_at="2026-12-01 08:00"), {(8, "starts_at")},
                 id="time-on-a-duty-leader-row"),
    pytest.param(edit(5, ends_at=""), {(5, "ends_at")}, id="leave-without-end"),
    pytest.param(edit(2, technician=""), {(2, "technician")}, id="no-technician"),
    pytest.param(add_column("note", 4, "换班"), {(1, "note")}, id="unknown-column"),
    pytest.param(both(edit(3, ends_at="2026-12-02 08:00"), edit(6, kind="vacation"),
                      edit(9, day="2026-12-01")),
                 {(3, "ends_at"), (6, "kind"), (9, "day")}, id="several"),
])
def test_a_roster_problem_is_found_at_its_row_and_column(change, expected):
    rows = sample("roster")
    change(rows)

    result = read_csv(to_csv(rows), KNOWN)

    assert at(result) == expected
    assert [p.row for p in result.problems] == sorted(p.row or 0 for p in result.problems)
    assert all(p.message_en and p.message_zh for p in result.problems)


TEAMS = ("team,team_name,kind,party_name,projects\n"
         "SH-ENG2,绿景花园物业工程二部,property_engineering,,SH-LJ\n"
         "KL-DW,坚朗门窗维修队,contractor,坚朗门窗公司,SH-LJ\n")


@pytest.mark.parametrize(("row", "expected"), [
    pytest.param("XX,某维修队,subcontractor,,SH-LJ", {(4, "kind")}, id="unknown-team-kind"),
    pytest.param("XX,,contractor,,SH-LJ", {(4, "team_name")}, id="no-name"),
    pytest.param("XX,某维修队,contractor,,", {(4, "projects")}, id="no-projects"),
    pytest.param("XX,某维修队,contractor,,SH-XX", {(4, "projects")}, id="unknown-project"),
    pytest.param("KL-DW,另一个队,contractor,,SH-LJ", {(4, "team")}, id="twice"),
    pytest.param("XX,某维修队,contractor,,SH-LJ,extra", {(4, "")}, id="more-cells"),
])
def test_a_team_problem_is_found_at_its_row_and_column(row, expected):
    assert at(read_csv(TEAMS + row + "\n", KNOWN)) == expected


# --- the words -------------------------------------------------------------------------------

def test_an_unknown_trade_names_the_trades():
    rows = sample("technicians")
    rows[1]["trades"] = "plumbing;electric"

    (problem,) = read_csv(to_csv(rows), KNOWN).problems

    assert problem.message_en.startswith("Unknown trade 'electric' (did you mean 'electrical'?)")
    assert "plumbing, electrical, waterproofing, doors_windows, hvac" in problem.message_en
    assert "工种" in problem.message_zh


def test_every_unknown_trade_of_a_cell_is_named():
    rows = sample("technicians")
    rows[1]["trades"] = "carpentry;plumbin;hvac"

    (problem,) = read_csv(to_csv(rows), KNOWN).problems

    assert problem.message_en.startswith(
        "Unknown trades 'carpentry', 'plumbin' (did you mean 'plumbing'?); the trades are:")


def test_an_overlap_is_reported_at_the_later_row_in_both_languages():
    rows = sample("roster")
    add_row(team="SH-ENG", technician="T-SH-04", kind="on_call",
            starts_at="2026-12-02 07:00", ends_at="2026-12-02 09:00")(rows)

    result = read_csv(to_csv(rows), KNOWN)

    assert result.report() == [
        "row 10, starts_at: This on-call shift overlaps another of the same technician. "
        "/ 该值班与同一人的另一班次时间重叠。"]


def test_an_unknown_kind_names_the_three():
    rows = sample("roster")
    rows[0]["kind"] = "on-call"

    (problem,) = read_csv(to_csv(rows), KNOWN).problems

    assert problem.message_en == ("Unknown roster kind 'on-call' (did you mean 'on_call'?); "
                                  "the roster kinds are: on_call, leave, duty_leader.")


def test_rows_count_as_in_the_spreadsheet():
    """A cell with a line break is one row; blank rows count but are skipped."""
    rows = sample("technicians")
    rows[0]["name"] = "周国平\n(组长)"
    rows[2]["phone"] = "bad"
    text = to_csv(rows[:2]) + "\r\n" + to_csv(rows[2:]).split("\r\n", 1)[1]

    assert at(read_csv(text, KNOWN)) == {(5, "phone")}


def test_a_header_without_rows():
    assert at(read_csv("technician,name,phone,team,trades,projects\n", KNOWN)) == {(None, "")}


# --- unreadable ------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "content", "message"), [
    ("technicians.csv", None, "no such file"),
    ("technicians.xlsx", b"PK", "not a .csv file"),
    ("technicians.csv", "technician,name\nT-1,马建国\n".encode("gbk"), "is not UTF-8"),
    ("technicians.csv", b"", "row 1 is not the header of a dispatch sheet"),
    ("technicians.csv", b"id,name,phone\nT-1,A,13800000000\n", "expected teams: team,"),
    ("roster.csv", b"team,team_name,technician,kind\n", "not the header"),  # teams or roster?
])
def test_an_unreadable_file_is_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(Unreadable, match=message) as error:
        read_sheet(path)
    assert "\n" not in str(error.value)


def test_an_unknown_header_names_the_three_headers():
    with pytest.raises(Unreadable) as error:
        parse_sheet("who,when\nT-SH-01,today\n")

    for header in ("team,team_name,kind,party_name,projects",
                   "technician,name,phone,team,trades,projects,day_shift,max_open_orders",
                   "team,technician,kind,starts_at,ends_at,day"):
        assert header in str(error.value)
