"""Dispatch keeps an API key's caller within its projects (`within`), over real NATS and
PostgreSQL: in scope works, out of scope is refused (or answered as unknown) and changes
nothing. The demo has SH-LJ and BJ-YH; HX-AS and T-ALL-01 serve both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import time, timedelta
from typing import TypeVar

import pytest
from pydantic import BaseModel

from services.common.bus import Bus
from services.common.db import make_engine, make_sessionmaker
from services.common.dispatch_contracts import (
    DISPATCH_SUBJECTS,
    Assignment,
    AssignRepair,
    DutyLeader,
    DutyLeaderIn,
    FindTechnicians,
    GetRoster,
    LeaveIn,
    ListTeams,
    NextCandidate,
    Offer,
    Orders,
    ProjectHoursIn,
    PutHours,
    PutRoster,
    PutTeam,
    PutTechnician,
    Removed,
    RemoveTeam,
    RemoveTechnician,
    RespondToOffer,
    RosterIn,
    Saved,
    TeamIn,
    Teams,
    TechnicianIn,
    TechnicianList,
    TechnicianOrders,
    WhoLeads,
)
from services.common.errors import Rejection
from services.dispatch import repository
from services.dispatch.service import DispatchSettings
from services.dispatch.service import running as dispatch_running
from services.warranty.service import WarrantySettings
from services.warranty.service import running as warranty_running
from tests.integration.test_dispatch import moment, next_working_day

SH, BJ = ["SH-LJ"], ["BJ-YH"]
OUT_OF_SCOPE = 403, "project_out_of_scope"
Reply = TypeVar("Reply", bound=BaseModel)


@pytest.fixture
async def dispatch(settings: dict, demo_database: str, bus: Bus) -> AsyncIterator[Bus]:
    """Warranty (for its projects) and dispatch on this test's slice; the bus to ask them."""
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(warranty_running(WarrantySettings(**settings)))
        await stack.enter_async_context(dispatch_running(DispatchSettings(**settings)))
        yield bus


async def ask(bus: Bus, name: str, command: BaseModel, reply: type[Reply]) -> Reply:
    return await bus.ask(DISPATCH_SUBJECTS[name], command, reply)


async def refusal(bus: Bus, name: str, command: BaseModel) -> tuple[int, str, str | None]:
    with pytest.raises(Rejection) as refused:
        await bus.ask(DISPATCH_SUBJECTS[name], command, BaseModel)
    assert refused.value.message_en and refused.value.message_zh
    return refused.value.status, refused.value.code, refused.value.field


async def teams(bus: Bus) -> list[dict]:
    return [t.model_dump() for t in (await ask(bus, "list_teams", ListTeams(), Teams)).teams]


async def technicians(bus: Bus) -> list[dict]:
    listed = await ask(bus, "find_technicians", FindTechnicians(), TechnicianList)
    return [t.model_dump() for t in listed.technicians]


async def roster(bus: Bus, team: str) -> RosterIn:
    return await ask(bus, "get_roster", GetRoster(team=team), RosterIn)


async def assign(bus: Bus, repair_id: str, project: str, trade: str, **scope) -> Assignment:
    command = AssignRepair(
        repair_id=repair_id, project=project, trade=trade, at=moment(time(10)), **scope
    )
    return await ask(bus, "assign", command, Assignment)


async def orders(bus: Bus, technician_id: str, **scope) -> list[str]:
    command = TechnicianOrders(technician_id=technician_id, **scope)
    return [o.repair_id for o in (await ask(bus, "orders", command, Orders)).orders]


def test_documents_do_not_carry_the_scope_only_the_commands_do():
    """Intake's PUT bodies and GET replies are the documents; a bare one is unrestricted."""
    for document in (TeamIn, TechnicianIn, RosterIn, ProjectHoursIn):
        assert "within" not in document.model_fields
    team = TeamIn(id="X", name="X", kind="contractor", projects=SH)
    assert PutTeam.model_validate_json(team.model_dump_json()).within is None
    assert '"within":["SH-LJ"]' in PutTeam(**team.model_dump(), within=SH).model_dump_json()


async def test_lists_show_only_what_serves_a_project_within(dispatch: Bus):
    listed = await ask(dispatch, "list_teams", ListTeams(within=SH), Teams)
    assert [t.id for t in listed.teams] == ["HX-AS", "SH-ENG", "YH-WP"]
    assert len(await teams(dispatch)) == 4  # unrestricted, as before
    nothing = await ask(dispatch, "list_teams", ListTeams(within=[]), Teams)
    assert nothing.teams == []
    found = await ask(dispatch, "find_technicians", FindTechnicians(within=BJ), TechnicianList)
    assert [t.id for t in found.technicians] == ["T-ALL-01", "T-BJ-01", "T-BJ-02", "T-BJ-03"]
    both = FindTechnicians(project="SH-LJ", within=BJ)
    found = await ask(dispatch, "find_technicians", both, TechnicianList)
    assert [t.id for t in found.technicians] == ["T-ALL-01"]


async def test_a_roster_or_duty_leader_outside_the_scope_is_as_unknown(dispatch: Bus):
    assert (await ask(dispatch, "get_roster", GetRoster(team="HX-AS", within=SH), RosterIn)).team
    unknown = await refusal(dispatch, "get_roster", GetRoster(team="NOPE", within=SH))
    assert unknown == (404, "unknown_team", "team")
    assert await refusal(dispatch, "get_roster", GetRoster(team="BJ-ENG", within=SH)) == unknown

    day = next_working_day()
    bj = await roster(dispatch, "BJ-ENG")
    bj.duty_leaders = [DutyLeaderIn(day=day, technician="T-BJ-01")]
    await ask(dispatch, "put_roster", PutRoster(**bj.model_dump()), Saved)
    leader = await ask(
        dispatch, "duty_leader", WhoLeads(team="BJ-ENG", day=day, within=BJ), DutyLeader
    )
    assert leader.technician_id == "T-BJ-01"
    unknown = await refusal(dispatch, "duty_leader", WhoLeads(team="NOPE", day=day, within=SH))
    assert unknown == (404, "no_duty_leader", "day")
    hidden = await refusal(dispatch, "duty_leader", WhoLeads(team="BJ-ENG", day=day, within=SH))
    assert hidden == unknown


async def test_orders_show_only_repairs_within_and_hide_technicians_outside(dispatch: Bus):
    # T-ALL-01 serves both projects; facade work by day is theirs alone.
    assert (await assign(dispatch, "r-sh", "SH-LJ", "facade")).technician_id == "T-ALL-01"
    assert (await assign(dispatch, "r-bj", "BJ-YH", "facade")).technician_id == "T-ALL-01"
    assert await orders(dispatch, "T-ALL-01") == ["r-bj", "r-sh"]
    assert await orders(dispatch, "T-ALL-01", within=SH) == ["r-sh"]
    assert await orders(dispatch, "T-ALL-01", within=BJ) == ["r-bj"]
    unknown = await refusal(dispatch, "orders", TechnicianOrders(technician_id="NOPE", within=SH))
    assert unknown == (404, "unknown_technician", "technician_id")
    hidden = TechnicianOrders(technician_id="T-BJ-01", within=SH)
    assert await refusal(dispatch, "orders", hidden) == unknown


async def test_an_offer_outside_the_scope_cannot_be_answered(dispatch: Bus):
    offer = await assign(dispatch, "r-bj", "BJ-YH", "facade")
    unknown = await refusal(
        dispatch,
        "respond",
        RespondToOffer(offer_id=10**9, technician_id="T-ALL-01", accept=True, within=SH),
    )
    assert unknown == (404, "unknown_offer", "offer_id")
    outside = RespondToOffer(
        offer_id=offer.offer_id, technician_id="T-ALL-01", accept=True, within=SH
    )
    assert await refusal(dispatch, "respond", outside) == unknown
    still = await ask(dispatch, "orders", TechnicianOrders(technician_id="T-ALL-01"), Orders)
    assert [o.state for o in still.orders] == ["offered"]
    inside = RespondToOffer(
        offer_id=offer.offer_id, technician_id="T-ALL-01", accept=True, within=BJ
    )
    assert (await ask(dispatch, "respond", inside, Offer)).state == "accepted"


async def test_assign_and_next_only_for_projects_within(dispatch: Bus):
    outside = AssignRepair(
        repair_id="r-bj", project="BJ-YH", trade="plumbing", at=moment(time(10)), within=SH
    )
    assert await refusal(dispatch, "assign", outside) == (*OUT_OF_SCOPE, "project")
    never = NextCandidate(repair_id="r-bj", at=moment(time(10, 5)))
    assert (await refusal(dispatch, "next", never))[1] == "not_assigned"  # nothing remembered

    first = await assign(dispatch, "r-bj", "BJ-YH", "plumbing", within=BJ)
    assert first.technician_id == "T-BJ-01"
    timed_out = NextCandidate(repair_id="r-bj", at=moment(time(10, 5)), timed_out=True)
    refused = await refusal(dispatch, "next", timed_out.model_copy(update={"within": SH}))
    assert refused == (*OUT_OF_SCOPE, "repair_id")
    assert await orders(dispatch, "T-BJ-01") == ["r-bj"]  # the offer is still open
    following = await ask(dispatch, "next", timed_out.model_copy(update={"within": BJ}), Assignment)
    assert following.technician_id != "T-BJ-01" and await orders(dispatch, "T-BJ-01") == []


async def test_teams_are_written_only_within_and_never_over_anothers(dispatch: Bus):
    before = await teams(dispatch)
    wide = PutTeam(id="SH-NEW", name="新班组", kind="contractor", projects=SH + BJ, within=SH)
    assert await refusal(dispatch, "put_team", wide) == (*OUT_OF_SCOPE, "projects")
    for taken in ("BJ-ENG", "HX-AS"):  # another group's, or partly
        over = PutTeam(id=taken, name="冒名", kind="contractor", projects=SH, within=SH)
        assert await refusal(dispatch, "put_team", over) == (404, "unknown_team", "id")
    for team in ("BJ-ENG", "HX-AS"):
        refused = await refusal(dispatch, "remove_team", RemoveTeam(team=team, within=SH))
        assert refused == (404, "unknown_team", "team")
    assert await teams(dispatch) == before

    new = PutTeam(id="SH-NEW", name="新班组", kind="contractor", projects=SH, within=SH)
    assert (await ask(dispatch, "put_team", new, Saved)).created
    assert not (await ask(dispatch, "put_team", new, Saved)).created
    stored = [t for t in await teams(dispatch) if t["id"] == "SH-NEW"]
    assert stored == [new.model_dump(exclude={"within"})]
    await ask(dispatch, "remove_team", RemoveTeam(team="SH-NEW", within=SH), Removed)
    assert await teams(dispatch) == before


async def test_technicians_are_written_only_within_and_never_over_anothers(dispatch: Bus):
    before = await technicians(dispatch)
    body = {"name": "新人", "phone": "13811112222", "trades": ["plumbing"]}
    wide = PutTechnician(id="T-NEW", team="SH-ENG", projects=BJ, within=SH, **body)
    assert await refusal(dispatch, "put_technician", wide) == (*OUT_OF_SCOPE, "projects")
    for taken in ("T-BJ-01", "T-ALL-01"):
        over = PutTechnician(id=taken, team="SH-ENG", projects=SH, within=SH, **body)
        assert await refusal(dispatch, "put_technician", over) == (404, "unknown_technician", "id")
        gone = RemoveTechnician(technician_id=taken, within=SH)
        assert await refusal(dispatch, "remove_technician", gone) == (
            404,
            "unknown_technician",
            "technician_id",
        )
    foreign_team = PutTechnician(id="T-NEW", team="BJ-ENG", projects=SH, within=SH, **body)
    assert await refusal(dispatch, "put_technician", foreign_team) == (422, "unknown_team", "team")
    assert await technicians(dispatch) == before

    new = PutTechnician(id="T-NEW", team="HX-AS", projects=SH, within=SH, **body)
    assert (await ask(dispatch, "put_technician", new, Saved)).created
    listed = await ask(dispatch, "find_technicians", FindTechnicians(within=SH), TechnicianList)
    assert "T-NEW" in [t.id for t in listed.technicians]
    await ask(
        dispatch, "remove_technician", RemoveTechnician(technician_id="T-NEW", within=SH), Removed
    )
    assert await technicians(dispatch) == before


async def test_a_roster_is_replaced_only_for_a_team_wholly_within(dispatch: Bus):
    bj, shared = await roster(dispatch, "BJ-ENG"), await roster(dispatch, "HX-AS")
    unknown = await refusal(dispatch, "put_roster", PutRoster(team="NOPE", within=SH))
    assert unknown == (422, "unknown_team", "team")
    for team in ("BJ-ENG", "HX-AS"):
        assert await refusal(dispatch, "put_roster", PutRoster(team=team, within=SH)) == unknown
    assert (await roster(dispatch, "BJ-ENG"), await roster(dispatch, "HX-AS")) == (bj, shared)

    day = next_working_day() + timedelta(days=30)
    sh = await roster(dispatch, "SH-ENG")
    sh.leave = [LeaveIn(technician="T-SH-01", first_day=day, last_day=day)]
    await ask(dispatch, "put_roster", PutRoster(**sh.model_dump(), within=SH), Saved)
    assert await roster(dispatch, "SH-ENG") == sh


async def test_working_hours_only_for_a_project_within(dispatch: Bus, demo_database: str):
    late = {"day_start": time(9), "day_end": time(18)}
    outside = PutHours(project="BJ-YH", within=SH, **late)
    assert await refusal(dispatch, "put_hours", outside) == (*OUT_OF_SCOPE, "project")
    await ask(dispatch, "put_hours", PutHours(project="SH-LJ", within=SH, **late), Saved)
    engine = make_engine(demo_database)
    try:
        async with make_sessionmaker(engine)() as session:
            bj = await repository.get_hours(session=session, project="BJ-YH")
            sh = await repository.get_hours(session=session, project="SH-LJ")
    finally:
        await engine.dispose()
    assert (bj.day_start, sh.day_start) == (time(8), time(9))
