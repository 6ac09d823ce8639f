"""Importing a project registry from a spreadsheet (CSV) or a YAML file.

`read_registry` reads a whole file and returns the projects it describes with every problem
found in it, each located by its spreadsheet row (CSV: the header is row 1) or its line
(YAML). Reading is pure: only `save_projects` touches the database, and the `repairflow
registry import` command calls it only for a file without a single problem.

A CSV has one row per unit or per common area. The project's and the building's columns
repeat on every row: the first non-empty value counts, and a later row that says otherwise
is a problem on that row. A YAML file is a group (code, name, projects), bare or under
`group:` as in deploy/demo/demo.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.common.db import make_engine, make_sessionmaker
from services.common.registry_contracts import ProjectIn, ProjectSaved
from services.common.spreadsheets import Unreadable, counted, read_text
from services.warranty import repository
from services.warranty.importer.csv_rows import read_csv
from services.warranty.importer.problems import Import
from services.warranty.importer.yaml_group import read_yaml

__all__ = [
    "Import",
    "Totals",
    "Unreadable",
    "read_csv",
    "read_registry",
    "read_yaml",
    "save_projects",
]


@dataclass(frozen=True)
class Totals:
    projects: int
    buildings: int
    units: int
    common_areas: int

    @classmethod
    def of(cls, projects: list[ProjectIn]) -> Totals:
        buildings = [b for p in projects for b in p.buildings]
        return cls(len({p.code for p in projects}), len(buildings),
                   sum(len(b.units) for b in buildings),
                   sum(len(b.common_areas) for b in buildings))

    def __str__(self) -> str:
        return (f"{counted(self.projects, 'project')}, {counted(self.buildings, 'building')}, "
                f"{counted(self.units, 'unit')}, {counted(self.common_areas, 'common area')}"
                f" / 项目{self.projects}个，楼栋{self.buildings}栋，房号{self.units}户，"
                f"公共区域{self.common_areas}处")


def read_registry(path: Path) -> Import:
    """The projects and problems of a .csv, .yaml or .yml file; `Unreadable` if it can't be."""
    kind = path.suffix.lower()
    if kind not in (".csv", ".yaml", ".yml"):
        raise Unreadable(f"{path}: not a .csv, .yaml or .yml file",
                         f"{path}：只能导入.csv、.yaml或.yml文件")
    text = read_text(path)
    return read_csv(text) if kind == ".csv" else read_yaml(text)


async def save_projects(database_url: str, projects: list[ProjectIn],
                        on_saved: Callable[[ProjectSaved], object] = lambda _: None
                        ) -> list[ProjectSaved]:
    """Save every project in one transaction: all of them, or none if anything fails."""
    engine = make_engine(database_url, pool_size=1)
    try:
        saved = []
        async with make_sessionmaker(engine).begin() as session:
            for project in projects:
                saved.append(await repository.save_project(session=session, project=project))
                on_saved(saved[-1])
        return saved
    finally:
        await engine.dispose()
