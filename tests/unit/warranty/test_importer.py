"""Reading a registry from a spreadsheet or YAML: every problem, at its row or line."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from services.common.registry_contracts import (
    BuildingIn,
    CommonAreaIn,
    ManufacturerIn,
    ProjectIn,
    SeasonIn,
    UnitIn,
)
from services.warranty.importer import Import, Unreadable, read_csv, read_registry

DEMO = Path(__file__).resolve().parents[3] / "deploy" / "demo"
SAMPLE = DEMO / "registry-sample.csv"

Rows = list[dict[str, str]]


def sample() -> Rows:
    """The sample's data rows (row 2 first), as the spreadsheet would show them."""
    return list(csv.DictReader(io.StringIO(SAMPLE.read_text(encoding="utf-8-sig"))))


def to_csv(rows: Rows, extra_columns: tuple[str, ...] = ()) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*rows[0].keys(), *extra_columns], restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def at(result: Import) -> set[tuple[int | None, str]]:
    return {(p.row, p.field) for p in result.problems}


def test_the_sample_parses_into_its_project():
    result = read_registry(SAMPLE)

    assert result.problems == []
    elevator = ManufacturerIn(trade="elevator", name="杭州西奥电梯有限公司",
                              warranty_ends_on=date(2028, 6, 30))
    assert result.projects == [ProjectIn(
        group="HX", group_name="华信置业集团", code="HZ-XH", name="杭州西湖云庐", city="Hangzhou",
        time_zone="Asia/Shanghai", developer="杭州华信房地产开发有限公司",
        heating_season=SeasonIn(start="12-01", end="02-28"),
        cooling_season=SeasonIn(start="06-01", end="09-30"),
        buildings=[
            BuildingIn(
                code="1", name="1号楼", completion_accepted_on=date(2023, 6, 30),
                acceptance_delayed_by_developer=False, design_service_life_years=50,
                general_contractor="浙江省建工集团", common_areas_delivered_on=date(2023, 12, 18),
                subcontractors={"waterproofing": "东方雨虹防水工程公司", "doors_windows": "坚朗门窗公司"},
                manufacturers=[elevator],
                units=[
                    UnitIn(code="1-101", delivered_on=date(2023, 12, 18), owner_name="张伟", owner_phone="13800138001"),
                    UnitIn(code="1-102", delivered_on=date(2023, 12, 18), owner_name="王芳", owner_phone="13900139002"),
                    UnitIn(code="1-201", delivered_on=date(2024, 1, 6), owner_name="李娜", owner_phone="13700137003"),
                ],
                common_areas=[CommonAreaIn(code="LOBBY", name="1号楼大堂")],
            ),
            BuildingIn(
                code="2", name="2号楼", completion_accepted_on=date(2023, 10, 20),
                completion_reported_on=date(2023, 9, 10), acceptance_delayed_by_developer=True,
                general_contractor="浙江省建工集团", common_areas_delivered_on=date(2024, 3, 1),
                subcontractors={"waterproofing": "东方雨虹防水工程公司"},
                units=[
                    UnitIn(code="2-101", delivered_on=date(2024, 3, 1), owner_name="刘洋", owner_phone="13600136004"),
                    UnitIn(code="2-102", delivered_on=date(2024, 3, 1), owner_name="陈静", owner_phone="021-62345678"),
                ],
                common_areas=[CommonAreaIn(code="ROOF", name="2号楼屋面")],
            ),
        ],
    )]


def edit(row: int, **cells: str) -> Callable[[Rows], None]:
    """Change cells of a spreadsheet row (2 is the first data row)."""
    return lambda rows: rows[row - 2].update(cells)


def edit_all(**cells: str) -> Callable[[Rows], None]:
    return lambda rows: [r.update(cells) for r in rows]


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


# Rows 2-5: building 1 (units 1-101, 1-102, 1-201, area LOBBY); rows 6-8: building 2
# (units 2-101, 2-102, area ROOF), completed 2023-09-10 (the developer delayed acceptance).
@pytest.mark.parametrize(("change", "expected"), [
    pytest.param(edit(4, building_name="一号楼"), {(4, "building_name")}, id="building-conflict"),
    pytest.param(edit(7, general_contractor="中建三局"), {(7, "general_contractor")},
                 id="contractor-conflict"),
    pytest.param(edit(5, project_name="别的项目"), {(5, "project_name")}, id="project-conflict"),
    pytest.param(edit(3, delivered_on="2023-02-30"), {(3, "delivered_on")}, id="bad-date"),
    pytest.param(edit(3, delivered_on="next week"), {(3, "delivered_on")}, id="not-a-date"),
    pytest.param(edit(7, delivered_on="2023-01-01"), {(7, "delivered_on")},
                 id="delivered-before-completion"),
    pytest.param(add_column("colour", 3, "red"), {(1, "colour")}, id="unknown-column"),
    pytest.param(edit(3, common_area="HALL"), {(3, "unit")}, id="unit-and-common-area"),
    pytest.param(edit(3, unit=""), {(3, "unit")}, id="neither-unit-nor-common-area"),
    pytest.param(edit(5, owner_name="张伟"), {(5, "owner_name")}, id="owner-on-a-common-area"),
    pytest.param(edit(3, unit="1-101"), {(3, "unit")}, id="duplicate-unit"),
    pytest.param(edit(3, unit="1号-102"), {(3, "unit")}, id="bad-unit-code"),
    pytest.param(edit(6, building=""), {(6, "building")}, id="no-building"),
    pytest.param(edit_all(city=""), {(2, "city")}, id="no-city"),
    pytest.param(edit_all(time_zone="Asia/Beijing"), {(2, "time_zone")}, id="bad-zone"),
    pytest.param(edit_all(heating_season="13-01/03-15"), {(2, "heating_season")},
                 id="bad-season-month"),
    pytest.param(edit_all(cooling_season="June to September"), {(2, "cooling_season")},
                 id="bad-season-shape"),
    pytest.param(edit_all(heating_season="12-01/02-29"), {(2, "heating_season")},
                 id="leap-day-season"),
    pytest.param(add_column("manufacturer_categories:elevator", 3, "elevators, LIFT"),
                 {(3, "manufacturer_categories:elevator")}, id="unknown-manufacturer-category"),
    pytest.param(edit(6, acceptance_delayed_by_developer="maybe"),
                 {(6, "acceptance_delayed_by_developer")}, id="bad-yes-no"),
    pytest.param(edit(2, design_service_life_years="fifty"), {(2, "design_service_life_years")},
                 id="bad-number"),
    pytest.param(both(*(edit(r, **{"manufacturer_warranty_ends_on:elevator": ""}) for r in range(2, 6))),
                 {(2, "manufacturer_warranty_ends_on:elevator")}, id="manufacturer-without-end"),
    pytest.param(edit(4, **{"subcontractor:waterproofing": "另一家"}),
                 {(4, "subcontractor:waterproofing")}, id="subcontractor-conflict"),
    pytest.param(drop_column("building_name"), {(1, "building_name")}, id="missing-column"),
    pytest.param(drop_column("project"), {(1, "project")}, id="missing-key-column"),
    pytest.param(both(edit_all(time_zone="Asia/Beijing"), edit(7, delivered_on="2023-01-01")),
                 {(2, "time_zone"), (7, "delivered_on")}, id="structural-and-business"),
    pytest.param(both(edit(3, delivered_on="2023/13/1"), edit(4, building_name="一号楼"),
                      edit(8, common_area="")),
                 {(3, "delivered_on"), (4, "building_name"), (8, "unit")}, id="several"),
])
def test_a_problem_is_found_at_its_row_and_column(change, expected):
    rows = sample()
    change(rows)

    result = read_csv(to_csv(rows))

    assert at(result) == expected
    assert [p.row for p in result.problems] == sorted(p.row for p in result.problems)
    assert all(p.message_en and p.message_zh for p in result.problems)


def test_a_manufacturer_names_the_categories_its_warranty_covers():
    rows = sample()
    add_column("manufacturer_categories:elevator", 2, "elevators，ELEV")(rows)

    result = read_csv(to_csv(rows))

    assert result.problems == []
    (elevator,) = result.projects[0].buildings[0].manufacturers
    assert elevator.categories == ["elevators", "ELEV"]


def test_the_problem_says_what_is_wrong_in_both_languages():
    rows = sample()
    rows[5]["delivered_on"] = "2023-01-01"  # row 7: unit 2-102

    (problem,) = read_csv(to_csv(rows)).problems

    assert problem.message_en == ("Unit 2-102 delivered on 2023-01-01, before the building's "
                                  "completion on 2023-09-10.")
    assert "2-102" in problem.message_zh
    assert Import([], [problem]).report() == [
        f"row 7, delivered_on: {problem.message_en} / {problem.message_zh}"]


def test_a_conflict_names_the_first_row():
    rows = sample()
    rows[2]["building_name"] = "一号楼"

    (problem,) = read_csv(to_csv(rows)).problems

    assert "'1号楼' on row 2" in problem.message_en


@pytest.mark.parametrize(("text", "expected"), [
    ("2023/6/30", date(2023, 6, 30)),
    ("2023-6-30", date(2023, 6, 30)),
    ("2023-06-30", date(2023, 6, 30)),
])
def test_dates_as_spreadsheets_write_them(text, expected):
    rows = sample()
    for row in rows[:4]:
        row["completion_accepted_on"] = text

    result = read_csv(to_csv(rows))

    assert result.problems == []
    assert result.projects[0].buildings[0].completion_accepted_on == expected


def test_empty_building_cells_keep_the_first_value():
    rows = sample()
    for row in rows[1:4]:
        row["building_name"] = row["general_contractor"] = ""

    result = read_csv(to_csv(rows))

    assert result.problems == []
    assert result.projects[0].buildings[0].name == "1号楼"


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_utf8_with_or_without_excel_bom(tmp_path, bom):
    path = tmp_path / "registry.csv"
    path.write_bytes(bom + to_csv(sample()).encode())

    result = read_registry(path)

    assert result.problems == []
    assert result.projects == read_registry(SAMPLE).projects


def test_rows_count_as_in_the_spreadsheet():
    """A cell with a line break is one row; blank rows count but are skipped."""
    rows = sample()
    rows[0]["owner_name"] = "张伟\n(业主)"
    rows[2]["delivered_on"] = "bad"
    text = to_csv(rows[:2]) + "\r\n" + to_csv(rows[2:]).split("\r\n", 1)[1]

    assert at(read_csv(text)) == {(5, "delivered_on")}


def test_headers_are_forgiving_about_case_and_spaces():
    text = to_csv(sample()).replace("building_name,", " Building_Name ,", 1)

    assert read_csv(text).problems == []


def test_an_empty_file():
    assert at(read_csv("")) == {(1, "")}


def test_group_names_agree_across_projects():
    rows = sample()
    other = [dict(r, project="HZ-2", group_name="华信集团") for r in sample()]

    assert at(read_csv(to_csv(rows + other))) == {(9, "group_name")}


@pytest.mark.parametrize(("name", "content", "message"), [
    ("registry.csv", None, "no such file"),
    ("registry.xlsx", b"PK", "not a .csv, .yaml or .yml file"),
    ("registry.csv", "group,project\nHX,杭州".encode("gbk"), "is not UTF-8"),
    ("registry.yaml", b"group: {code: HX, name: [\n", "not valid YAML at line 2"),
    ("registry.yaml", b"- a list\n", "a registry YAML is a group"),
])
def test_an_unreadable_file_is_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(Unreadable, match=message) as error:
        read_registry(path)
    assert "\n" not in str(error.value)


def test_the_demo_yaml_reads_without_problems():
    result = read_registry(DEMO / "demo.yaml")

    assert result.problems == []
    assert [p.code for p in result.projects] == ["SH-LJ", "BJ-YH"]
    assert {p.group for p in result.projects} == {"HX"}


BAD_YAML = """\
code: HX
name: 华信置业集团
projects:
  - code: P1
    name: 一期
    city: Shanghai
    buildings:
      - code: "1"
        name: 1号楼
        completion_accepted_on: 2023-06-30
        units:
          - {code: "1-101", delivered_on: 2023-12-18}
          - {code: "1-102", delivered_on: 2023-01-01}
  - code: P2
    name: 二期
    time_zone: Mars/Olympus
    buildings:
      - code: "1"
        name: 1号楼
        units:
          - code: 1-101
            delivered_on: not yet
"""


@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "under-group"])
def test_yaml_problems_have_their_path_and_line(tmp_path, wrapped):
    text = BAD_YAML
    if wrapped:
        text = "group:\n" + "".join(f"  {line}\n" for line in text.splitlines())
        text += "technicians: []\n"
    path = tmp_path / "registry.yml"
    path.write_text(text, encoding="utf-8")

    result = read_registry(path)

    shift = 1 if wrapped else 0
    assert [(p.row, p.field) for p in result.problems] == [
        (13 + shift, "projects[0].buildings[0].units[1].delivered_on"),
        (14 + shift, "projects[1].city"),
        (16 + shift, "projects[1].time_zone"),
        (22 + shift, "projects[1].buildings[0].units[0].delivered_on"),
    ]
    assert result.report()[0].startswith(
        f"line {13 + shift}, projects[0].buildings[0].units[1].delivered_on: Unit 1-102")
