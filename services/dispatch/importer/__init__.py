"""Importing dispatch data from a spreadsheet (CSV): teams, technicians or on-call rosters.

The same rule as the registry import: `read_sheet` reads a file and tells its kind from its
header (pure; `Unreadable` if it can't); `check_sheet` checks every row against what the
database knows and returns every problem, located by spreadsheet row (the header is row 1);
`import_sheet` does the checking and the saving in one transaction, and saves only a sheet
without a single problem. The `repairflow dispatch import` command is its user.

- teams: `team, team_name, kind, party_name, projects`; each team replaces the saved one.
- technicians: `technician, name, phone, team, trades, projects, day_shift,
  max_open_orders`; the team must be in the database already (import the teams first).
- roster: `team, technician, kind, starts_at, ends_at, day`, one row per on-call shift
  (`on_call`: two dates and times), leave (`leave`: first and last day) or duty-leader day
  (`duty_leader`: day). Every team named gets exactly the roster of its rows.

Lists (`trades`, `projects`) are separated by `;`, `、` or `,` in a cell.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.bus import Bus
from services.common.contracts import WARRANTY_LIST_PROJECTS
from services.common.db import make_engine, make_sessionmaker
from services.common.registry_contracts import ListProjects, ProjectList
from services.common.spreadsheets import RowProblem, Unreadable
from services.dispatch import repository
from services.dispatch.importer.check import Checked, Known, check_sheet
from services.dispatch.importer.sheet import KINDS, Kind, Sheet, parse_sheet, read_sheet

__all__ = [
    "KINDS",
    "Checked",
    "Kind",
    "Known",
    "RowProblem",
    "Sheet",
    "Unreadable",
    "check_sheet",
    "import_sheet",
    "known_in",
    "registry_projects",
    "parse_sheet",
    "read_csv",
    "read_sheet",
]


def read_csv(text: str, known: Known) -> Checked:
    """A sheet's text, checked against `known`: parsing and checking in one step."""
    return check_sheet(parse_sheet(text), known)


async def known_in(session: AsyncSession, projects: frozenset[str]) -> Known:
    """The registry's projects (as the warranty service told them), and the teams and each
    team's active technicians as dispatch's tables hold them now."""
    teams = await repository.list_teams(session=session, project=None)
    members: dict[str, set[str]] = {}
    for technician in await repository.find_technicians(session=session):
        if technician.team_id:
            members.setdefault(technician.team_id, set()).add(technician.id)
    return Known(projects, frozenset(t.id for t in teams),
                 {team: frozenset(ids) for team, ids in members.items()})


async def import_sheet(database_url: str, sheet: Sheet, *, projects: frozenset[str],
                       dry_run: bool = False) -> tuple[Checked, list[str]]:
    """Check the sheet against the database and, if it has no problem and this is not a dry
    run, save it in the same transaction. Returns what was checked and one line per save."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:  # closing it unsaved rolls back
            checked = check_sheet(sheet, await known_in(session, projects))
            if checked.problems or dry_run:
                return checked, []
            saved = await _save(session, checked)
            await session.commit()
            return checked, saved
    finally:
        await engine.dispose()


async def _save(session: AsyncSession, checked: Checked) -> list[str]:
    saved = []
    for team in checked.teams:
        created = await repository.upsert_team(session=session, team=team)
        saved.append(f"team {team.id} {'created' if created else 'updated'}")
    for technician in checked.technicians:
        created = await repository.upsert_technician(session=session, technician=technician)
        saved.append(f"technician {technician.id} {'created' if created else 'updated'}")
    for roster in checked.rosters:
        await repository.replace_roster(session=session, roster=roster)
        saved.append(f"team {roster.team}: roster replaced by {len(roster.on_call)} on-call "
                     f"shifts, {len(roster.leave)} leave, {len(roster.duty_leaders)} "
                     "duty-leader days")
    return saved


async def registry_projects(nats_url: str, prefix: str) -> frozenset[str]:
    """The project codes the warranty service, which owns the registry, knows."""
    bus = await Bus.connect(nats_url, prefix=prefix, name="repairflow-dispatch-import",
                            reconnect=False)
    try:
        listed = await bus.ask(WARRANTY_LIST_PROJECTS, ListProjects(), ProjectList)
    finally:
        await bus.close()
    return frozenset(p.code for p in listed.projects)
