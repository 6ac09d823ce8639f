"""`repairflow dispatch import` as a call center runs it, against the demo database."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from services.common.settings import to_asyncpg_dsn
from services.warranty.service import WarrantySettings
from services.warranty.service import running as warranty_running
from tests.e2e.processes import ROOT, repairflow

DEMO = ROOT / "deploy" / "demo"
TECHNICIANS = DEMO / "technicians-sample.csv"
ROSTER = DEMO / "roster-sample.csv"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
async def import_env(settings: dict, demo_database: str) -> AsyncIterator[dict[str, str]]:
    """The CLI's environment, with the warranty service it asks for the projects running."""
    async with warranty_running(WarrantySettings(**settings)):
        yield {"DATABASE_URL": demo_database, "NATS_URL": settings["nats_url"],
               "REPAIRFLOW_NATS_PREFIX": settings["nats_prefix"]}


async def run_import(path: Path, env: dict[str, str], *options: str, last_line: str
                     ) -> tuple[int, str]:
    """The exit code and output, once the line that ends the output has been read (off the
    event loop, which serves the warranty service the CLI asks)."""
    def run() -> tuple[int, str]:
        process = repairflow("dispatch", "import", str(path), *options, env=env)
        process.wait_for(last_line, timeout=60)
        return process.process.wait(timeout=30), "".join(process.lines)

    return await asyncio.to_thread(run)


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8-sig")
    return path


def sample(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


async def fetch(database_url: str, query: str) -> list[tuple]:
    conn = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        return [tuple(r) for r in await conn.fetch(query)]
    finally:
        await conn.close()


async def dispatch_rows(database_url: str) -> dict[str, list[tuple]]:
    return {table: await fetch(database_url, f"SELECT * FROM dispatch.{table} ORDER BY 1, 2")
            for table in ("teams", "technicians", "on_call", "leave", "duty_leaders")}


async def test_the_technicians_sample_is_imported(demo_database: str, import_env: dict):
    code, output = await run_import(TECHNICIANS, import_env, last_line=r"^imported")

    assert code == 0, output
    assert "technician T-SH-05 created" in output
    assert "imported 5 technicians / 维修人员5名" in output
    assert "Traceback" not in output
    assert await fetch(demo_database, """
        SELECT id, name, team_id, trades, projects, day_shift, max_open_orders
        FROM dispatch.technicians WHERE id IN ('T-SH-05', 'T-ALL-02', 'C-YH-02') ORDER BY id
    """) == [
        ("C-YH-02", "雨虹维修工", "YH-WP", ["waterproofing"], ["SH-LJ"], False, 5),
        ("T-ALL-02", "冯志明", "HX-AS", ["waterproofing", "facade", "decoration"],
         ["SH-LJ", "BJ-YH"], True, 2),
        ("T-SH-05", "周国平", "SH-ENG", ["plumbing", "hvac", "waterproofing"], ["SH-LJ"], True,
         3),
    ]


async def test_a_roster_with_bad_rows_changes_nothing(demo_database: str, import_env: dict,
                                                     tmp_path: Path):
    before = await dispatch_rows(demo_database)
    rows = sample(ROSTER)
    rows[0]["ends_at"] = "2026-12-01 08:00"  # row 2: ends before it starts
    rows[2]["technician"] = "T-BJ-01"  # row 4: not of team SH-ENG
    rows[3]["starts_at"] = "2026-12-33"  # row 5: not a date
    rows.append(dict(rows[4], starts_at="2026-12-02 06:00", ends_at="2026-12-02 09:00"))
    # row 10: overlaps row 6 (BJ-ENG, T-BJ-03 until 08:00)
    rows[6]["kind"] = "leader"  # row 8
    bad = write_csv(tmp_path / "roster.csv", rows)

    code, output = await run_import(bad, import_env, last_line="nothing was imported")

    assert code == 1, output
    for line in ("row 2, ends_at:", "row 4, technician: T-BJ-01 is not a technician of team",
                 "row 5, starts_at:", "row 8, kind:", "row 10, starts_at:",
                 "5 problems in", "未导入任何数据"):
        assert line in output
    assert "Traceback" not in output
    assert await dispatch_rows(demo_database) == before


async def test_a_dry_run_changes_nothing_and_the_import_replaces_the_rosters(
        demo_database: str, import_env: dict):
    before = await dispatch_rows(demo_database)

    code, output = await run_import(ROSTER, import_env, "--dry-run", last_line="would import")

    assert code == 0, output
    assert "no problems; would import the rosters of 3 teams: 4 on-call shifts" in output
    assert await dispatch_rows(demo_database) == before

    code, output = await run_import(ROSTER, import_env, last_line=r"^imported")

    assert code == 0, output
    assert "team SH-ENG: roster replaced by 3 on-call shifts, 1 leave" in output
    assert await fetch(demo_database, """
        SELECT o.technician_id, o.starts_at, o.ends_at FROM dispatch.on_call o
        JOIN dispatch.technicians t ON t.id = o.technician_id WHERE t.team_id = 'SH-ENG'
        ORDER BY o.starts_at
    """) == [("T-SH-04", at(2026, 12, 1, 17, 30), at(2026, 12, 2, 8)),
             ("T-SH-01", at(2026, 12, 2, 17, 30), at(2026, 12, 3, 8)),
             ("T-SH-04", at(2026, 12, 5), at(2026, 12, 7))]  # a weekend, Shanghai time
    assert await fetch(demo_database, "SELECT team_id, day::text, technician_id"
                                      " FROM dispatch.duty_leaders ORDER BY 1, 2") == [
        ("HX-AS", "2026-12-01", "T-ALL-01"), ("HX-AS", "2026-12-02", "T-ALL-01")]
    assert await fetch(demo_database, "SELECT technician_id, first_day::text, last_day::text"
                                      " FROM dispatch.leave ORDER BY 1") == [
        ("T-BJ-01", "2026-12-07", "2026-12-08"), ("T-SH-02", "2026-12-03", "2026-12-04")]


async def test_a_new_team_then_its_technicians(demo_database: str, import_env: dict,
                                               tmp_path: Path):
    teams = tmp_path / "teams.csv"
    teams.write_text("team,team_name,kind,party_name,projects\n"
                     "KL-DW,坚朗门窗维修队,contractor,坚朗门窗公司,SH-LJ\n", encoding="utf-8")
    technicians = write_csv(tmp_path / "technicians.csv", [
        dict(sample(TECHNICIANS)[0], technician="C-KL-01", team="KL-DW",
             trades="doors_windows")])

    # Before its team exists, the technician is refused.
    code, output = await run_import(technicians, import_env, last_line="nothing was imported")
    assert code == 1, output
    assert "row 2, team: Unknown team 'KL-DW'" in output

    code, output = await run_import(teams, import_env, last_line=r"^imported")
    assert code == 0, output
    assert "team KL-DW created" in output
    code, output = await run_import(technicians, import_env, last_line=r"^imported")
    assert code == 0, output
    assert await fetch(demo_database, "SELECT t.id, t.team_id, m.party_name"
                                      " FROM dispatch.technicians t JOIN dispatch.teams m"
                                      " ON m.id = t.team_id WHERE t.id = 'C-KL-01'") == [
        ("C-KL-01", "KL-DW", "坚朗门窗公司")]


async def test_an_unreadable_file_is_one_line_and_exit_2(import_env: dict, tmp_path: Path):
    missing = tmp_path / "missing.csv"
    unknown = tmp_path / "who.csv"
    unknown.write_text("who,when\nT-SH-01,today\n", encoding="utf-8")

    code, output = await run_import(missing, import_env, last_line="error:")
    assert code == 2
    assert output.strip().splitlines() == [
        f"error: {missing}: no such file / {missing}：文件不存在"]

    code, output = await run_import(unknown, import_env, last_line="error:")
    assert code == 2
    (line,) = output.strip().splitlines()
    assert line.startswith(f"error: {unknown}: row 1 is not the header of a dispatch sheet")
    assert "technician,name,phone,team,trades,projects,day_shift,max_open_orders" in line
