"""Demo data for a first look: loaded once into each service's own tables.

The registry goes to warranty's tables; teams, technicians, working hours and rosters to
dispatch's; the projects' standard service items (常规服务项目表) to intake's. The demo's
on-call rota is a rule ("this technician covers every hour outside working hours"),
expanded here into dated shifts from yesterday to eight weeks ahead, so that any moment of
a demo week has someone on call.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict

from services.common.business_calendar import STATUTORY
from services.common.db import make_engine, make_sessionmaker
from services.common.dispatch_contracts import (
    DutyLeaderIn,
    OnCallIn,
    ProjectHoursIn,
    RosterIn,
    TeamIn,
    TechnicianIn,
)
from services.common.followup_policy import FollowupPolicy
from services.common.registry_contracts import GroupIn
from services.dispatch import repository as dispatch
from services.followup import demo_history
from services.followup import repository as followup
from services.intake import repository as intake
from services.intake.service_item_endpoints import ServiceItemIn
from services.warranty import repository as registry

DEMO_FILE = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "demo.yaml"
WEEKS_AHEAD = 8


class RotaRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team: str
    technician: str


class DemoData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: GroupIn
    teams: list[TeamIn]
    technicians: list[TechnicianIn]
    hours: list[ProjectHoursIn]
    on_call_rota: list[RotaRule]
    duty_leaders: list[RotaRule]
    service_items: dict[str, list[ServiceItemIn]]  # by project


def read_demo(path: Path = DEMO_FILE) -> DemoData:
    return DemoData.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def rosters(demo: DemoData, today: date) -> list[RosterIn]:
    """Dated on-call shifts and duty leaders from the demo's rules."""
    project_of = {t.id: t.projects[0] for t in demo.teams}
    hours = {h.project: h for h in demo.hours}
    days = [today + timedelta(days=n) for n in range(-1, 7 * WEEKS_AHEAD)]
    result = []
    for team in demo.teams:
        on_call: list[OnCallIn] = []
        for rule in (r for r in demo.on_call_rota if r.team == team.id):
            h = hours[project_of[team.id]]
            for day in days:
                on_call += _outside_hours(rule.technician, day, h)
        leaders = [DutyLeaderIn(day=day, technician=r.technician)
                   for r in demo.duty_leaders if r.team == team.id for day in days]
        if on_call or leaders:
            result.append(RosterIn(team=team.id, on_call=on_call, duty_leaders=leaders))
    return result


def _outside_hours(technician: str, day: date, hours: ProjectHoursIn) -> list[OnCallIn]:
    zone = ZoneInfo(hours.time_zone)

    def at(d: date, t: time) -> datetime:
        return datetime.combine(d, t, zone)

    midnight, next_midnight = at(day, time(0)), at(day + timedelta(days=1), time(0))
    if not STATUTORY.is_working_day(day):
        return [OnCallIn(technician=technician, starts_at=midnight, ends_at=next_midnight)]
    return [OnCallIn(technician=technician, starts_at=midnight, ends_at=at(day, hours.day_start)),
            OnCallIn(technician=technician, starts_at=at(day, hours.day_end),
                     ends_at=next_midnight)]


async def load_demo(database_url: str, *, path: Path = DEMO_FILE, force: bool = False,
                    today: date | None = None, followup_history: bool = True) -> bool:
    """Load the demo registry, teams, technicians, rosters, service items and a year of
    follow-up history unless a registry exists; True if loaded."""
    demo = read_demo(path)
    today = today or datetime.now(ZoneInfo("Asia/Shanghai")).date()
    engine = make_engine(database_url, pool_size=1)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions.begin() as session:
            if not force and await registry.count_projects(session=session) > 0:
                return False
            for project in demo.group.project_documents():
                await registry.save_project(session=session, project=project)
            for team in demo.teams:
                await dispatch.upsert_team(session=session, team=team)
            for technician in demo.technicians:
                await dispatch.upsert_technician(session=session, technician=technician)
            for hours in demo.hours:
                await dispatch.put_hours(session=session, hours=hours)
            for roster in rosters(demo, today):
                await dispatch.replace_roster(session=session, roster=roster)
            for project, items in demo.service_items.items():
                await intake.replace_service_items(
                    session=session, project=project, now=datetime.now(UTC),
                    items=[item.model_dump(mode="json") for item in items])
            if followup_history:
                await _followup_history(session, demo)
        return True
    finally:
        await engine.dispose()


# The demo project whose last year of return visits is generated, and its specialists.
HISTORY_PROJECT = "SH-LJ"
SPECIALISTS = ("客服 王敏", "客服 李静")


async def _followup_history(session, demo: DemoData) -> None:
    """A year of closed repairs, return visits and their results for the demo project, so
    the visits due this week, the quarter's rates and the repeated defects show at once."""
    project = next(p for p in demo.group.project_documents() if p.code == HISTORY_PROJECT)
    places = [demo_history.Place(b.code, u.code) for b in project.buildings for u in b.units]
    places += [demo_history.Place(b.code, None, a.code) for b in project.buildings
               for a in b.common_areas]
    policy = FollowupPolicy(specialists=SPECIALISTS)
    await followup.put_policy(session=session, project=project.code,
                              document={"specialists": list(SPECIALISTS)},
                              at=datetime.now(UTC))
    history = demo_history.generate(project=project.code, places=places,
                                    now=datetime.now(UTC), time_zone=project.time_zone,
                                    policy=policy)
    await demo_history.load(session, history, project.code)


async def demo_api_key(database_url: str, home: Path, *, path: Path = DEMO_FILE) -> str:
    """The demo group's API key, kept in `<home>/demo-api-key` (owner-only) so that the
    printed curl works on every `up`; made anew if the file or its key is gone."""
    from services.intake.auth import find_key
    from services.intake.keys import create_key

    saved = home / "demo-api-key"
    if saved.exists():
        token = saved.read_text().strip()
        engine = make_engine(database_url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                if await find_key(session, token) is not None:
                    return token
        finally:
            await engine.dispose()
    group = read_demo(path).group.code
    issued = await create_key(database_url, name=f"{group} demo call center", group=group,
                              projects=None)
    saved.touch(mode=0o600)
    saved.write_text(issued.token + "\n")
    return issued.token
