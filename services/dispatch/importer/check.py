"""Checking a dispatch sheet: each row becomes a team, a technician or a roster entry, and
each problem is located at its row and column. What the database knows (the registry's
projects, the teams and their technicians) is passed in as `Known`, so that checking stays
pure."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from services.common.dispatch_contracts import (
    DutyLeaderIn,
    LeaveIn,
    OnCallIn,
    RosterIn,
    TeamIn,
    TeamKind,
    TechnicianIn,
    Trade,
)
from services.common.spreadsheets import (
    BadCell,
    RowProblem,
    counted,
    explain,
    loc_of,
    parse_bool,
    parse_date,
    parse_int,
    report_lines,
)
from services.dispatch.importer.sheet import Row, Sheet, choice, choices, items, moment, phone
from services.dispatch.roster import check_roster

Parse = Callable[[str], Any]


@dataclass(frozen=True)
class Known:
    """What the database holds: the registry's projects, the teams, and the (active)
    technicians of each team."""

    projects: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    members: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass
class Checked:
    """What a sheet holds, checked: its teams, technicians or rosters, and every problem."""

    kind: str
    teams: list[TeamIn] = field(default_factory=list)
    technicians: list[TechnicianIn] = field(default_factory=list)
    rosters: list[RosterIn] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def report(self) -> list[str]:
        """One line per problem, as `services.common.spreadsheets.report_lines` words it."""
        return report_lines(self.problems)

    def totals(self) -> str:
        if self.kind == "teams":
            return f"{counted(len(self.teams), 'team')} / 班组{len(self.teams)}个"
        if self.kind == "technicians":
            n = len(self.technicians)
            return f"{counted(n, 'technician')} / 维修人员{n}名"
        shifts, leave, leaders = (sum(len(getattr(r, part)) for r in self.rosters)
                                  for part in ("on_call", "leave", "duty_leaders"))
        return (f"the rosters of {counted(len(self.rosters), 'team')}: "
                f"{counted(shifts, 'on-call shift')}, {leave} leave, "
                f"{counted(leaders, 'duty-leader day')} / {len(self.rosters)}个班组的排班："
                f"值班{shifts}班，请假{leave}次，当日总负责人{leaders}天")


def check_sheet(sheet: Sheet, known: Known) -> Checked:
    """Every row of the sheet checked; the problems sorted by row."""
    checked = Checked(sheet.kind.name, problems=list(sheet.problems))
    {"teams": _teams, "technicians": _technicians, "roster": _rosters}[sheet.kind.name](
        sheet.rows, known, checked)
    checked.problems = sorted((p for p in checked.problems
                               if p.row == 1 or p.field not in sheet.absent),
                              key=lambda p: p.row or 0)
    return checked


# --- teams and technicians: one row each ----------------------------------------------------

def _text(text: str) -> str:
    return text


def _trades(text: str) -> list[str]:
    return list(dict.fromkeys(choices(items(text), Trade, "trade", "工种")))


_TEAM_COLUMNS: dict[str, tuple[str, Parse]] = {
    "team": ("id", _text), "team_name": ("name", _text),
    "kind": ("kind", lambda text: choice(text, TeamKind, "team kind", "班组类型")),
    "party_name": ("party_name", _text), "projects": ("projects", items),
}
_TECHNICIAN_COLUMNS: dict[str, tuple[str, Parse]] = {
    "technician": ("id", _text), "name": ("name", _text), "phone": ("phone", phone),
    "team": ("team", _text), "trades": ("trades", _trades), "projects": ("projects", items),
    "day_shift": ("day_shift", parse_bool), "max_open_orders": ("max_open_orders", parse_int),
}


def _teams(rows: list[Row], known: Known, out: Checked) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        before = len(out.problems)
        team = _model(TeamIn, row, _TEAM_COLUMNS, out.problems)
        _twice(row, "team", "Team", "班组", seen, out.problems)
        _unknown_projects(row, known, out.problems)
        if team and len(out.problems) == before:
            out.teams.append(team)


def _technicians(rows: list[Row], known: Known, out: Checked) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        before = len(out.problems)
        technician = _model(TechnicianIn, row, _TECHNICIAN_COLUMNS, out.problems)
        _twice(row, "technician", "Technician", "维修人员", seen, out.problems)
        _unknown_projects(row, known, out.problems)
        team = row.cells.get("team")
        if team and team not in known.teams and all(p.field != "team"
                                                    for p in out.problems[before:]):
            out.problems.append(_unknown_team(row, team, known))
        if technician and len(out.problems) == before:
            out.technicians.append(technician)


def _model(model: type[BaseModel], row: Row, columns: dict[str, tuple[str, Parse]],
           problems: list[RowProblem]) -> Any:
    """The row as `model`, or None with its problems added: every one, not just the first."""
    document, failed = {}, set()
    for column, text in row.cells.items():
        name, parse = columns[column]
        try:
            document[name] = parse(text)
        except BadCell as bad:
            failed.add(column)
            problems.append(RowProblem(row.number, column, *bad.args))
    column_of = {name: column for column, (name, _) in columns.items()}
    try:
        result = model.model_validate(document)
    except ValidationError as error:
        for e in error.errors():
            column = column_of.get(str(e["loc"][0]), str(e["loc"][0]))
            if column not in failed:
                problems.append(RowProblem(row.number, column, *_explain_in(column, e)))
        return None
    return None if failed else result


def _explain_in(column: str, error: Any) -> tuple[str, str]:
    kind = error["type"]
    if column == "trades" and kind in ("missing", "too_short"):
        return (f"Name at least one trade, of: {', '.join(Trade)}.",
                f"至少填写一个工种，可填：{'、'.join(Trade)}。")
    if kind == "too_short":
        return "Name at least one.", "至少填写一项。"
    return explain(error)


def _twice(row: Row, column: str, what: str, what_zh: str, seen: dict[str, int],
           problems: list[RowProblem]) -> None:
    key = row.cells.get(column)
    if key is not None and seen.setdefault(key, row.number) != row.number:
        problems.append(RowProblem(row.number, column,
                                   f"{what} {key} appears twice; first on row {seen[key]}.",
                                   f"{what_zh}{key}重复，首次出现在第{seen[key]}行。"))


def _unknown_projects(row: Row, known: Known, problems: list[RowProblem]) -> None:
    """Projects are the registry's: one problem per project it does not have."""
    for code in items(row.cells.get("projects", "")):
        if code not in known.projects:
            hint = difflib.get_close_matches(code, sorted(known.projects), n=1)
            problems.append(RowProblem(
                row.number, "projects", f"Unknown project {code!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + "; projects come from the registry (repairflow registry import).",
                f"未知的项目“{code}”" + (f"（是否应为“{hint[0]}”？）" if hint else "")
                + "；项目须先在项目档案中登记。"))


def _unknown_team(row: Row, team: str, known: Known) -> RowProblem:
    hint = difflib.get_close_matches(team, sorted(known.teams), n=1)
    return RowProblem(
        row.number, "team", f"Unknown team {team!r}"
        + (f" (did you mean {hint[0]!r}?)" if hint else "") + "; import the teams sheet first.",
        f"未知的班组“{team}”" + (f"（是否应为“{hint[0]}”？）" if hint else "")
        + "，请先导入班组表。")


# --- rosters: one row per on-call shift, leave or duty-leader day ----------------------------

# Per kind of row: the roster's list, its entry, and the entry's cells (column: field) with
# their parser. A row is one on-call shift, one leave or one duty-leader day.
_ROW_KINDS: dict[str, tuple[str, type[BaseModel], dict[str, str], Parse]] = {
    "on_call": ("on_call", OnCallIn, {"starts_at": "starts_at", "ends_at": "ends_at"}, moment),
    "leave": ("leave", LeaveIn, {"starts_at": "first_day", "ends_at": "last_day"}, parse_date),
    "duty_leader": ("duty_leaders", DutyLeaderIn, {"day": "day"}, parse_date),
}
_WHEN = ("starts_at", "ends_at", "day")
# Where each of `check_roster`'s fields is in the sheet.
_COLUMN_OF = {"technician": "technician", **{
    name: column for *_, cells, _ in _ROW_KINDS.values() for column, name in cells.items()}}


@dataclass
class _Roster:
    team: str
    entries: dict[str, list[tuple[int, BaseModel]]] = field(
        default_factory=lambda: {"on_call": [], "leave": [], "duty_leaders": []})

    def document(self) -> RosterIn:
        return RosterIn(team=self.team, **{part: [entry for _, entry in entries]
                                            for part, entries in self.entries.items()})


def _rosters(rows: list[Row], known: Known, out: Checked) -> None:
    """Each team's rows form its roster; each roster is checked against its team's members."""
    rosters: dict[str, _Roster] = {}
    for row in rows:
        out.problems += _roster_row(row, known, rosters)
    for roster in rosters.values():
        document = roster.document()
        for problem in check_roster(document, set(known.members.get(roster.team, ()))):
            part, index, name = loc_of(problem["field"])
            out.problems.append(RowProblem(roster.entries[str(part)][int(index)][0],
                                           _COLUMN_OF[str(name)],
                                           problem["message_en"], problem["message_zh"]))
        out.rosters.append(document)


def _roster_row(row: Row, known: Known, rosters: dict[str, _Roster]) -> list[RowProblem]:
    cells, problems = row.cells, []
    for column in ("team", "technician", "kind"):
        if column not in cells:
            problems.append(RowProblem(row.number, column, "Required.", "必填。"))
    team, kind = cells.get("team"), None
    if team and team not in known.teams:
        problems.append(_unknown_team(row, team, known))
    if "kind" in cells:
        try:
            kind = choice(cells["kind"], tuple(_ROW_KINDS), "roster kind", "排班类型")
        except BadCell as bad:
            problems.append(RowProblem(row.number, "kind", *bad.args))
    if kind is None:
        return problems
    part, model, wanted, parse = _ROW_KINDS[kind]
    values: dict[str, Any] = {"technician": cells.get("technician")}
    for column, name in wanted.items():
        if column not in cells:
            problems.append(RowProblem(row.number, column, f"Required for a {kind} row.",
                                       f"{kind}行必须填写此项。"))
            continue
        try:
            values[name] = parse(cells[column])
        except BadCell as bad:
            problems.append(RowProblem(row.number, column, *bad.args))
    for column in _WHEN:
        if column in cells and column not in wanted:
            problems.append(RowProblem(
                row.number, column, f"{column} is not for {kind} rows; leave it empty.",
                f"{kind}行不填写{column}，请留空。"))
    if not problems and team is not None:
        rosters.setdefault(team, _Roster(team)).entries[part].append(
            (row.number, model.model_validate(values)))
    return problems
