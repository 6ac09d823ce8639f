"""`repairflow registry import` as an operator runs it, against a real database."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import asyncpg

from services.common.settings import to_asyncpg_dsn
from tests.e2e.processes import ROOT, repairflow

SAMPLE = ROOT / "deploy" / "demo" / "registry-sample.csv"


def run_import(path: Path, database_url: str, *options: str, last_line: str) -> tuple[int, str]:
    """The exit code and output, once the line that ends the output has been read."""
    run = repairflow("registry", "import", str(path), *options,
                     env={"DATABASE_URL": database_url})
    run.wait_for(last_line, timeout=60)
    return run.process.wait(timeout=30), "".join(run.lines)


async def registry_rows(database_url: str) -> dict[str, list]:
    conn = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        return {table: [tuple(r) for r in await conn.fetch(
                    f"SELECT * FROM warranty.{table} ORDER BY 1, 2, 3")]
                for table in ("projects", "buildings", "units", "common_areas")}
    finally:
        await conn.close()


async def test_the_sample_is_imported(database_url: str):
    code, output = run_import(SAMPLE, database_url, last_line=r"^imported")

    assert code == 0, output
    assert "project HZ-XH created: 2 buildings, 5 units, 2 common areas" in output
    assert "Traceback" not in output
    conn = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        units = await conn.fetch(
            "SELECT building_code, code, delivered_on::text, owner_name FROM warranty.units"
            " WHERE project_code = 'HZ-XH' ORDER BY building_code, code")
        building = await conn.fetchrow(
            "SELECT subcontractors, manufacturers FROM warranty.buildings"
            " WHERE project_code = 'HZ-XH' AND code = '1'")
        areas = await conn.fetchval("SELECT count(*) FROM warranty.common_areas")
    finally:
        await conn.close()
    assert [tuple(u) for u in units] == [
        ("1", "1-101", "2023-12-18", "张伟"), ("1", "1-102", "2023-12-18", "王芳"),
        ("1", "1-201", "2024-01-06", "李娜"), ("2", "2-101", "2024-03-01", "刘洋"),
        ("2", "2-102", "2024-03-01", "陈静"),
    ]
    assert "东方雨虹防水工程公司" in building["subcontractors"]
    assert "2028-06-30" in building["manufacturers"]
    assert areas == 2


async def test_a_file_with_bad_rows_changes_nothing(database_url: str, tmp_path: Path):
    assert run_import(SAMPLE, database_url, last_line=r"^imported")[0] == 0
    before = await registry_rows(database_url)
    rows = list(csv.DictReader(io.StringIO(SAMPLE.read_text(encoding="utf-8-sig"))))
    rows[0]["owner_name"] = "张伟伟"  # a good change, which must not be saved either
    rows[1]["delivered_on"] = "2023-02-30"  # row 3
    rows[2]["building_name"] = "一号楼"  # row 4
    rows[5]["delivered_on"] = "2023-01-01"  # row 7: before building 2's completion
    rows[6]["common_area"] = ""  # row 8: neither unit nor common area
    bad = tmp_path / "registry.csv"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    bad.write_text(out.getvalue(), encoding="utf-8-sig")

    code, output = run_import(bad, database_url, last_line="nothing was imported")

    assert code == 1, output
    for line in ("row 3, delivered_on:", "row 4, building_name:", "row 7, delivered_on: Unit 2-102",
                 "row 8, unit:", "4 problems"):
        assert line in output
    assert "Traceback" not in output
    assert await registry_rows(database_url) == before


async def test_the_demo_yaml_imports_and_a_dry_run_saves_nothing(database_url: str):
    demo = ROOT / "deploy" / "demo" / "demo.yaml"

    code, output = run_import(demo, database_url, "--dry-run", last_line="would import")
    assert code == 0, output
    assert await registry_rows(database_url) == {
        "projects": [], "buildings": [], "units": [], "common_areas": []}

    code, output = run_import(demo, database_url, last_line=r"^imported")
    assert code == 0, output
    assert [p[0] for p in (await registry_rows(database_url))["projects"]] == ["BJ-YH", "SH-LJ"]


async def test_an_unreadable_file_is_one_line_and_exit_2(database_url: str, tmp_path: Path):
    missing = tmp_path / "missing.csv"

    code, output = run_import(missing, database_url, last_line="error:")

    assert code == 2
    assert output.strip().splitlines() == [
        f"error: {missing}: no such file / {missing}：文件不存在"]
