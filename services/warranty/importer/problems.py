"""What reading a registry finds: its projects and every problem, located by row or line.

The problems, their wording and the report's lines are `services.common.spreadsheets`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.registry_contracts import ProjectIn
from services.common.spreadsheets import RowProblem, report_lines


@dataclass(frozen=True)
class Import:
    """What a file holds: its projects and every problem (none: it may be saved)."""

    projects: list[ProjectIn]
    problems: list[RowProblem]
    located_by: str = "row"  # "row" (CSV) or "line" (YAML)

    def report(self) -> list[str]:
        """One line per problem: where, which column or path, English / Chinese."""
        return report_lines(self.problems, self.located_by)
