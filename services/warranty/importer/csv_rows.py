"""Reading a registry CSV: one row per unit or per common area.

The known columns and how to read their cells, the projects and buildings gathered from the
columns that repeat on every row, and each problem located by its spreadsheet row (the
header is row 1).
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from services.common.registry_contracts import (
    BuildingIn,
    CommonAreaIn,
    ManufacturerIn,
    ProjectIn,
    UnitIn,
)
from services.common.spreadsheets import (
    BadCell,
    Loc,
    RowProblem,
    Unreadable,
    explain_all,
    loc_of,
    parse_bool,
    parse_date,
    parse_int,
)
from services.warranty.importer.problems import Import
from services.warranty.registry import check_project


def _text(text: str) -> str:
    return text


def _season(text: str) -> dict[str, str]:
    """11-15/03-15: the start and end month-days (SeasonIn checks them)."""
    parts = [part.strip() for part in text.split("/")]
    if len(parts) != 2:
        raise BadCell(f"{text!r} is not a season; write it as 11-15/03-15.",
                      f"“{text}”不是有效的季节，请写成11-15/03-15。")
    return {"start": parts[0], "end": parts[1]}


def _names(text: str) -> list[str]:
    """`elevators, ELEV`: the component categories a manufacturer's warranty covers."""
    return [name for name in re.split(r"[\s,，、;；]+", text) if name]


@dataclass(frozen=True)
class _Column:
    level: str  # "project", "building", "unit" or "area"
    field: str  # in the document
    parse: Callable[[str], Any] = _text


_COLUMNS = {
    "group": _Column("project", "group"),
    "group_name": _Column("project", "group_name"),
    "project": _Column("project", "code"),
    "project_name": _Column("project", "name"),
    "city": _Column("project", "city"),
    "time_zone": _Column("project", "time_zone"),
    "developer": _Column("project", "developer"),
    "heating_season": _Column("project", "heating_season", _season),
    "cooling_season": _Column("project", "cooling_season", _season),
    "building": _Column("building", "code"),
    "building_name": _Column("building", "name"),
    "completion_accepted_on": _Column("building", "completion_accepted_on", parse_date),
    "completion_reported_on": _Column("building", "completion_reported_on", parse_date),
    "acceptance_delayed_by_developer": _Column("building", "acceptance_delayed_by_developer",
                                               parse_bool),
    "possession_on": _Column("building", "possession_on", parse_date),
    "design_service_life_years": _Column("building", "design_service_life_years", parse_int),
    "general_contractor": _Column("building", "general_contractor"),
    "common_areas_delivered_on": _Column("building", "common_areas_delivered_on", parse_date),
    "unit": _Column("unit", "code"),
    "delivered_on": _Column("unit", "delivered_on", parse_date),
    "owner_name": _Column("unit", "owner_name"),
    "owner_phone": _Column("unit", "owner_phone"),
    "common_area": _Column("area", "code"),
    "common_area_name": _Column("area", "name"),
}
# `subcontractor:waterproofing` and the like: one column per trade, on the building.
_TRADE_COLUMNS = {
    "subcontractor": _Column("building", "subcontractors"),
    "manufacturer": _Column("building", "manufacturers"),
    "manufacturer_warranty_ends_on": _Column("building", "manufacturers", parse_date),
    "manufacturer_categories": _Column("building", "manufacturers", _names),
}
_MANUFACTURER_KEYS = {"manufacturer": "name", "manufacturer_warranty_ends_on": "warranty_ends_on",
                      "manufacturer_categories": "categories"}
_REQUIRED = ("group", "project", "project_name", "city", "building", "building_name")
_ON_EVERY_ROW = ("project", "building")
_FIELD_COLUMNS = {level: {c.field: name for name, c in _COLUMNS.items() if c.level == level}
                  for level in ("project", "building", "unit", "area")}


def _column(name: str) -> _Column | None:
    kind, colon, trade = name.partition(":")
    if colon:
        return _TRADE_COLUMNS.get(kind) if trade else None
    return _COLUMNS.get(name)


@dataclass
class _Cell:
    value: Any  # a `BadCell` when the text cannot be read
    text: str
    row: int

    def failure(self, name: str) -> RowProblem | None:
        bad = self.value if isinstance(self.value, BadCell) else None
        return RowProblem(self.row, name, *bad.args) if bad else None


@dataclass
class _Entity:
    """A project or building, gathered from the rows that repeat its columns."""

    row: int  # the first
    cells: dict[str, _Cell] = field(default_factory=dict)
    failed: set[tuple[str, str]] = field(default_factory=set)

    def take(self, row: int, cells: dict[str, _Cell]) -> list[RowProblem]:
        """Keep the first non-empty value of each column; a different one later is a problem.

        A cell that can't be read is reported once, not on every row that repeats it."""
        problems = []
        for name, cell in cells.items():
            if failure := cell.failure(name):
                if (name, cell.text) not in self.failed:
                    self.failed.add((name, cell.text))
                    problems.append(failure)
                continue
            first = self.cells.setdefault(name, cell)
            if first.value != cell.value:
                problems.append(RowProblem(
                    row, name, f"{cell.text!r} here, but {first.text!r} on row {first.row}.",
                    f"此处为“{cell.text}”，与第{first.row}行的“{first.text}”不一致。"))
        return problems

    def value(self, name: str) -> Any:
        return self.cells[name].value if name in self.cells else None


@dataclass
class _Place:
    """A unit or common area: one row."""

    row: int
    fields: dict[str, Any]


@dataclass
class _Building(_Entity):
    units: list[_Place] = field(default_factory=list)
    common_areas: list[_Place] = field(default_factory=list)

    def manufacturers(self) -> list[dict[str, Any]]:
        """Per trade, from `manufacturer:<trade>`, `manufacturer_warranty_ends_on:<trade>` and
        `manufacturer_categories:<trade>`."""
        found: dict[str, dict[str, Any]] = {}
        for name, cell in self.cells.items():
            kind, _, trade = name.partition(":")
            if kind in _MANUFACTURER_KEYS:
                found.setdefault(trade, {"trade": trade})[_MANUFACTURER_KEYS[kind]] = cell.value
        return list(found.values())

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "subcontractors": {name.partition(":")[2]: cell.value
                               for name, cell in self.cells.items()
                               if name.startswith("subcontractor:")},
            "manufacturers": self.manufacturers(),
            "units": [u.fields for u in self.units],
            "common_areas": [a.fields for a in self.common_areas],
        }
        doc.update((_COLUMNS[name].field, cell.value)
                   for name, cell in self.cells.items() if name in _COLUMNS)
        return doc


@dataclass
class _Project(_Entity):
    buildings: dict[str, _Building] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        return {**{_COLUMNS[name].field: cell.value for name, cell in self.cells.items()},
                "buildings": [b.document() for b in self.buildings.values()]}

    def locate(self, loc: Loc) -> tuple[int, str]:
        """The row and column of a problem at `loc` in this project's document."""
        if len(loc) < 2 or loc[0] != "buildings":
            return self._cell(self, _FIELD_COLUMNS["project"].get(str(loc[0]), str(loc[0])))
        building = list(self.buildings.values())[int(loc[1])]
        part, rest = (loc[2], loc[3:]) if len(loc) > 2 else ("code", ())
        if part in ("units", "common_areas") and rest:
            places = building.units if part == "units" else building.common_areas
            level = "unit" if part == "units" else "area"
            name = str(rest[1]) if len(rest) > 1 else "code"
            return places[int(rest[0])].row, _FIELD_COLUMNS[level].get(name, name)
        if part == "subcontractors" and rest:
            return self._cell(building, f"subcontractor:{rest[0]}")
        if part == "manufacturers" and rest:
            trade = building.manufacturers()[int(rest[0])]["trade"]
            key = str(rest[1]) if len(rest) > 1 else "name"
            kind = next((k for k, v in _MANUFACTURER_KEYS.items() if v == key), "manufacturer")
            return self._cell(building, f"{kind}:{trade}")
        return self._cell(building, _FIELD_COLUMNS["building"].get(str(part), str(part)))

    @staticmethod
    def _cell(entity: _Entity, name: str) -> tuple[int, str]:
        """Where the value came from, or the entity's first row when it has none."""
        return (entity.cells[name].row if name in entity.cells else entity.row), name


def read_csv(text: str) -> Import:
    """One row per unit or common area; problems are located by spreadsheet row."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise Unreadable(f"not a readable CSV: {error}", "CSV格式错误") from None
    if not records or not any(cell.strip() for cell in records[0]):
        return Import([], [RowProblem(1, "", "The first row must name the columns.",
                                      "第一行应为列名。")])
    names, problems = _read_header(records[0])
    absent = {name for name in _REQUIRED if name not in names}  # reported once, on row 1
    if absent & set(_ON_EVERY_ROW):
        return Import([], problems)  # the rows cannot be told apart
    projects: dict[str, _Project] = {}
    for row, cells in enumerate(records[1:], start=2):
        if any(cell.strip() for cell in cells):
            problems += _read_row(row, names, cells, projects)
    if not projects and not problems:
        problems.append(RowProblem(None, "", "No rows after the header.", "表头之后没有数据行。"))
    problems += _group_names_agree(projects.values())
    checked = []
    for project in projects.values():
        raw = project.document()
        try:
            document = ProjectIn.model_validate(raw)
        except ValidationError as error:
            found = explain_all(error) + _business(_unvalidated(raw))
        else:
            checked.append(document)
            found = _business(document)
        for loc, en, zh in found:
            problems.append(RowProblem(*project.locate(loc), en, zh))
    problems = [p for p in problems if p.row == 1 or p.field not in absent]
    problems.sort(key=lambda p: p.row or 0)
    return Import(checked, problems)


def _business(project: ProjectIn) -> list[tuple[Loc, str, str]]:
    return [(loc_of(p.field), p.message_en, p.message_zh) for p in check_project(project)]


def _unvalidated(raw: dict[str, Any]) -> ProjectIn:
    """A document that failed validation, built as is: its cells are typed already, so the
    business checks can still report their problems alongside the structural ones."""
    return ProjectIn.model_construct(**{**raw, "buildings": [BuildingIn.model_construct(**{
        **b, "units": [UnitIn.model_construct(**u) for u in b["units"]],
        "manufacturers": [ManufacturerIn.model_construct(**m) for m in b["manufacturers"]],
        "common_areas": [CommonAreaIn.model_construct(**a) for a in b["common_areas"]],
    }) for b in raw["buildings"]]})


def _read_header(cells: list[str]) -> tuple[list[str | None], list[RowProblem]]:
    """Column names by position (None: unknown, "": unnamed), and the header's problems."""
    names: list[str | None] = []
    problems = []
    for cell in cells:
        kind, colon, trade = cell.strip().partition(":")
        name: str | None = kind.strip().lower() + colon + trade.strip()
        if not name:
            pass  # a spreadsheet's trailing empty columns; a value under one is a problem
        elif _column(name) is None:
            hint = difflib.get_close_matches(name, [*_COLUMNS, *_TRADE_COLUMNS], n=1)
            problems.append(RowProblem(
                1, name, f"Unknown column {name!r}"
                + (f"; did you mean {hint[0]!r}?" if hint else "."),
                f"未知的列“{name}”" + (f"，是否应为“{hint[0]}”？" if hint else "。")))
            name = None
        elif name in names:
            problems.append(RowProblem(1, name, f"The column {name!r} appears twice.",
                                       f"列“{name}”重复。"))
            name = None
        names.append(name)
    problems += [RowProblem(1, name, f"The column {name!r} is required.",
                            f"缺少必需的列“{name}”。")
                 for name in _REQUIRED if name not in names]
    return names, problems


def _read_row(row: int, names: list[str | None], cells: list[str],
              projects: dict[str, _Project]) -> list[RowProblem]:
    """Add one row's unit or common area, and its project's and building's values."""
    problems = []
    if any(cell.strip() for cell in cells[len(names):]):
        problems.append(RowProblem(row, "", "More cells than the header has columns.",
                                   "此行的单元格多于表头的列数。"))
    by_level: dict[str, dict[str, _Cell]] = {"project": {}, "building": {}, "unit": {}, "area": {}}
    for name, text in zip(names, cells, strict=False):
        text = text.strip()
        if name is None or not text:
            continue
        if not name:
            problems.append(RowProblem(row, "", f"{text!r} is under a column without a name.",
                                       f"“{text}”所在的列没有列名。"))
            continue
        column = _column(name)
        assert column is not None
        try:
            value = column.parse(text)
        except BadCell as bad:
            value = bad
        by_level[column.level][name] = _Cell(value, text, row)
    missing = [key for key in _ON_EVERY_ROW if key not in by_level[key]]
    if missing:
        return problems + [RowProblem(row, key, f"{key} is required on every row.",
                                      f"每一行都必须填写{key}。") for key in missing
                           ] + _failures(c for level in by_level.values() for c in level.items())
    project = projects.setdefault(by_level["project"]["project"].value, _Project(row))
    problems += project.take(row, by_level["project"])
    building = project.buildings.setdefault(by_level["building"]["building"].value,
                                            _Building(row))
    problems += building.take(row, by_level["building"])
    return problems + _add_place(row, building, by_level["unit"], by_level["area"])


def _add_place(row: int, building: _Building, unit: dict[str, _Cell],
               area: dict[str, _Cell]) -> list[RowProblem]:
    """The row's unit or common area: exactly one of the two."""
    if "unit" in unit and "common_area" in area:
        return [RowProblem(row, "unit", "A row is a unit or a common area, not both.",
                           "一行只能填写房号或公共区域之一。")]
    if "unit" not in unit and "common_area" not in area:
        return [RowProblem(row, "unit", "Fill in unit or common_area.",
                           "请填写unit（房号）或common_area（公共区域）。")]
    places, own, other = ((building.units, unit, area) if "unit" in unit
                          else (building.common_areas, area, unit))
    places.append(_Place(row, {_COLUMNS[name].field: c.value for name, c in own.items()
                               if not c.failure(name)}))
    what_en, what_zh = ("common area", "公共区域") if own is unit else ("unit", "房号")
    return _failures(own.items()) + [
        RowProblem(row, name, f"{name} is for {what_en} rows only.",
                   f"{name}只适用于{what_zh}行。") for name in other]


def _failures(cells: Iterable[tuple[str, _Cell]]) -> list[RowProblem]:
    return [failure for name, cell in cells if (failure := cell.failure(name))]


def _group_names_agree(projects: Iterable[_Project]) -> list[RowProblem]:
    """One name per group code, across all the projects of the file."""
    first: dict[str, _Cell] = {}
    problems = []
    for project in projects:
        group, name = project.value("group"), project.cells.get("group_name")
        if group is None or name is None:
            continue
        seen = first.setdefault(group, name)
        if seen.value != name.value:
            problems.append(RowProblem(
                name.row, "group_name", f"{name.text!r} here, but {seen.text!r} on row "
                f"{seen.row} for the same group {group}.",
                f"同一集团{group}的名称此处为“{name.text}”，与第{seen.row}行的“{seen.text}”不一致。"))
    return problems
