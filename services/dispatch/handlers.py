"""NATS handlers of the dispatch service. One transaction per message; events after it."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.bus import Bus
from services.common.contracts import WARRANTY_LIST_PROJECTS
from services.common.dispatch_contracts import (
    DISPATCH_ACCEPTED,
    DISPATCH_ASSIGNED,
    DISPATCH_DECLINED,
    DISPATCH_TIMED_OUT,
    Assignment,
    AssignRepair,
    CloseRepair,
    DispatchEvent,
    DutyLeader,
    FindTechnicians,
    GetRoster,
    ListTeams,
    NextCandidate,
    Offer,
    Orders,
    PutHours,
    PutRoster,
    PutTeam,
    PutTechnician,
    Removed,
    RemoveTeam,
    RemoveTechnician,
    RepairClosed,
    RespondToOffer,
    RosterIn,
    Saved,
    TeamIn,
    Teams,
    TechnicianIn,
    TechnicianList,
    TechnicianOrders,
    Trade,
    WhoLeads,
)
from services.common.errors import Rejection
from services.common.registry_contracts import ListProjects, ProjectList
from services.dispatch import repository
from services.dispatch.assignment import Need as NeedFacts
from services.dispatch.assignment import choose
from services.dispatch.models import Need, OfferRecord, Technician
from services.dispatch.roster import check_roster, unknown
from services.dispatch.who import load_pool

log = structlog.get_logger(__name__)


# The caller's scope (`within`, from their API key; None means unrestricted). Records outside
# it are answered as unknown, so that a key cannot tell another group's ids exist.


def _serves(projects: list[str], within: list[str] | None) -> bool:
    """Visible to the caller: serves at least one project within."""
    return within is None or not set(projects).isdisjoint(within)


def _owns(projects: list[str], within: list[str] | None) -> bool:
    """Changeable by the caller: every project is within."""
    return within is None or set(projects) <= set(within)


def _require(projects: list[str], within: list[str] | None, field: str) -> None:
    """Refuse a command naming a project outside the caller's scope."""
    for code in projects:
        if not _owns([code], within):
            raise out_of_scope(field, code)


def out_of_scope(field: str, code: str | None = None) -> Rejection:
    name = f" {code!r}" if code else ""
    return Rejection("project_out_of_scope", f"Project{name} is outside this API key's scope.",
                     f"项目{f'“{code}”' if code else ''}不在此API密钥的授权范围内。", field, 403)


class DispatchHandlers:
    def __init__(self, sessions: async_sessionmaker, bus: Bus) -> None:
        self.sessions = sessions
        self.bus = bus

    # --- who goes -------------------------------------------------------------------------

    async def assign(self, command: AssignRepair) -> Assignment:
        """Offer the repair to the best technician now; a retry returns the same offer."""
        _require([command.project], command.within, "project")
        async with self.sessions.begin() as session:
            need = await repository.remember_need(session=session, need=Need(
                repair_id=command.repair_id, project=command.project, trade=command.trade.value,
                emergency=command.emergency, delegate_to=command.delegate_to,
                arrive_by=command.arrive_by))
            if need.project != command.project:  # never show one project's offer to another
                raise Rejection(
                    "repair_of_another_project",
                    f"Repair {command.repair_id!r} is not of project {command.project!r}.",
                    f"报修单“{command.repair_id}”不属于项目“{command.project}”。", "repair_id")
            offers = await repository.offers_of(session=session, repair_id=command.repair_id,
                                                lock=True)
            # A released offer (closed: a rework by another technician, a handover to the
            # liable party) no longer holds the repair.
            pending = next((o for o in offers if o.state in ("offered", "accepted")
                            and o.closed_at is None), None)
            if pending:
                return await self._assignment(session, pending)
            assignment, offer = await self._offer(session, need, command.at,
                                                  {o.technician_id for o in offers})
        if offer:
            await self._publish(DISPATCH_ASSIGNED, offer, offer.offered_at)
        return assignment

    async def next(self, command: NextCandidate) -> Assignment:
        """Close the open offer (as unanswered, if so) and offer to the next candidate."""
        async with self.sessions.begin() as session:
            need = await repository.get_need(session=session, repair_id=command.repair_id)
            if need is None:
                raise Rejection("not_assigned", "This repair was never assigned.",
                                "该报修尚未派工。", "repair_id", 409)
            if not _owns([need.project], command.within):
                raise out_of_scope("repair_id")  # without naming another group's project
            offers = await repository.offers_of(session=session, repair_id=command.repair_id,
                                                lock=True)
            current = [o for o in offers if o.closed_at is None]
            timed_out = [o for o in current if o.state == "offered"] if command.timed_out else []
            for offer in timed_out:
                await repository.decide_offer(session=session, offer_id=offer.id,
                                              state="timed_out", at=command.at, reason=None)
            if any(o.state == "accepted" for o in current):
                raise Rejection("already_accepted", "The repair's offer was accepted already.",
                                "该派工已被接受。", "repair_id", 409)
            if any(o.state == "offered" for o in current if o not in timed_out):
                raise Rejection("offer_open", "The current offer is still open.",
                                "当前派工尚未答复。", "repair_id", 409)
            assignment, offer = await self._offer(session, need, command.at,
                                                  {o.technician_id for o in offers})
        for closed in timed_out:
            await self._publish(DISPATCH_TIMED_OUT, closed, command.at)
        if offer:
            await self._publish(DISPATCH_ASSIGNED, offer, offer.offered_at)
        return assignment

    async def respond(self, command: RespondToOffer) -> Offer:
        """A technician accepts an offer, or declines it with a reason."""
        now = datetime.now(UTC)
        async with self.sessions.begin() as session:
            offer = await repository.get_offer(session=session, offer_id=command.offer_id,
                                               lock=True)
            if offer is not None and command.within is not None:
                need = await repository.get_need(session=session, repair_id=offer.repair_id)
                if need is None or not _owns([need.project], command.within):
                    offer = None
            if offer is None:
                raise unknown("offer", str(command.offer_id), "offer_id", 404)
            if offer.technician_id != command.technician_id:
                raise Rejection("not_your_offer", "This offer was made to someone else.",
                                "该派工不是派给您的。", "technician_id", 403)
            if offer.state != "offered":
                raise Rejection("offer_closed", f"The offer is {offer.state} already.",
                                "该派工已处理，不能再次答复。", "offer_id", 409)
            if not command.accept and not command.reason:
                raise Rejection("reason_required", "Say why the offer is declined.",
                                "拒绝派工请说明原因。", "reason", 422)
            state = "accepted" if command.accept else "declined"
            await repository.decide_offer(session=session, offer_id=offer.id, state=state,
                                          at=now, reason=command.reason)
            await session.refresh(offer)
            view = _offer_view(offer)
        await self._publish(DISPATCH_ACCEPTED if command.accept else DISPATCH_DECLINED, offer,
                            now, command.reason)
        return view

    async def _offer(self, session: AsyncSession, need: Need, at: datetime, tried: set[str]
                     ) -> tuple[Assignment, OfferRecord | None]:
        pool, hours = await load_pool(session, project=need.project, trade=need.trade, at=at)
        choice = choose(pool, NeedFacts(project=need.project, trade=need.trade, at=at,
                                        emergency=need.emergency, delegate_to=need.delegate_to,
                                        tried=frozenset(tried)), hours)
        if choice.technician_id is None:
            return Assignment(repair_id=need.repair_id, offer_id=None, technician_id=None,
                              name=None, phone=None, rule=choice.rule,
                              available_from=choice.available_from), None
        offer = await repository.add_offer(session=session, offer=OfferRecord(
            repair_id=need.repair_id, technician_id=choice.technician_id, state="offered",
            rule=choice.rule, offered_at=at, arrive_by=need.arrive_by))
        return await self._assignment(session, offer), offer

    async def _assignment(self, session: AsyncSession, offer: OfferRecord) -> Assignment:
        technician = await repository.get_technician(session=session,
                                                     technician_id=offer.technician_id)
        assert technician is not None
        return Assignment(repair_id=offer.repair_id, offer_id=offer.id,
                          technician_id=technician.id, name=technician.name,
                          phone=technician.phone, rule=offer.rule)

    async def _publish(self, subject: str, offer: OfferRecord, at: datetime,
                       reason: str | None = None) -> None:
        event = DispatchEvent(repair_id=offer.repair_id, offer_id=offer.id,
                              technician_id=offer.technician_id, at=at, reason=reason)
        try:
            await self.bus.publish_event(subject, event, msg_id=f"offer-{offer.id}:{subject}")
        except Exception as exc:  # noqa: BLE001 - the change is committed; say so, not fail
            log.warning("dispatch event not published", subject=subject, offer_id=offer.id,
                        repair_id=offer.repair_id, error=repr(exc))

    # --- questions ------------------------------------------------------------------------

    async def duty_leader(self, command: WhoLeads) -> DutyLeader:
        async with self.sessions() as session:
            leader = await repository.duty_leader(session=session, team=command.team,
                                                  day=command.day)
            if leader is not None and command.within is not None:
                team = await repository.get_team(session=session, team_id=command.team)
                if team is None or not _serves(team.projects, command.within):
                    leader = None  # the answer for a team that does not exist
            if leader is None:
                raise Rejection(
                    "no_duty_leader", f"Team {command.team} has no duty leader on {command.day}.",
                    f"{command.team}班组{command.day}未安排当日总负责人。", "day", 404)
            person = await repository.get_technician(session=session,
                                                     technician_id=leader.technician_id)
        assert person is not None
        return DutyLeader(team=command.team, day=command.day, technician_id=person.id,
                          name=person.name, phone=person.phone)

    async def orders(self, command: TechnicianOrders) -> Orders:
        async with self.sessions() as session:
            technician = await repository.get_technician(session=session,
                                                         technician_id=command.technician_id)
            if technician is None or not _serves(technician.projects, command.within):
                raise unknown("technician", command.technician_id, "technician_id", 404)
            rows = await repository.open_orders(session=session,
                                                technician_id=command.technician_id,
                                                within=command.within)
        return Orders(technician_id=command.technician_id, orders=[_offer_view(o) for o in rows])

    # --- teams, technicians, rosters, hours -----------------------------------------------

    async def _check_projects(self, projects: list[str], field: str) -> None:
        """Projects are the registry's: ask the warranty service which exist."""
        known = {p.code for p in (await self.bus.ask(
            WARRANTY_LIST_PROJECTS, ListProjects(), ProjectList)).projects}
        for i, code in enumerate(projects):
            if code not in known:
                raise unknown("project", code, f"{field}[{i}]" if field == "projects" else field)

    async def put_team(self, command: PutTeam) -> Saved:
        _require(command.projects, command.within, "projects")
        await self._check_projects(command.projects, "projects")
        async with self.sessions.begin() as session:
            existing = await repository.get_team(session=session, team_id=command.id)
            if existing is not None and not _owns(existing.projects, command.within):
                raise unknown("team", command.id, "id", 404)
            return Saved(id=command.id, created=await repository.upsert_team(
                session=session, team=command))

    async def list_teams(self, command: ListTeams) -> Teams:
        async with self.sessions() as session:
            rows = await repository.list_teams(session=session, project=command.project,
                                               within=command.within)
        return Teams(teams=[TeamIn(id=t.id, name=t.name, kind=t.kind, party_name=t.party_name,
                                   projects=list(t.projects)) for t in rows])

    async def put_technician(self, command: PutTechnician) -> Saved:
        _require(command.projects, command.within, "projects")
        await self._check_projects(command.projects, "projects")
        async with self.sessions.begin() as session:
            existing = await repository.get_technician(session=session,
                                                       technician_id=command.id)
            if existing is not None and not _owns(existing.projects, command.within):
                raise unknown("technician", command.id, "id", 404)
            team = await repository.get_team(session=session, team_id=command.team)
            if team is None or not _serves(team.projects, command.within):
                raise unknown("team", command.team, "team")
            return Saved(id=command.id, created=await repository.upsert_technician(
                session=session, technician=command))

    async def find_technicians(self, command: FindTechnicians) -> TechnicianList:
        async with self.sessions() as session:
            rows = await repository.find_technicians(
                session=session, project=command.project,
                trade=command.trade.value if command.trade else None, within=command.within)
        return TechnicianList(technicians=[_technician_view(t) for t in rows])

    async def remove_technician(self, command: RemoveTechnician) -> Removed:
        """Take a technician off every roster; refused while they hold open orders."""
        async with self.sessions.begin() as session:
            technician = await repository.get_technician(session=session,
                                                         technician_id=command.technician_id)
            if (technician is None or not technician.active
                    or not _owns(technician.projects, command.within)):
                raise unknown("technician", command.technician_id, "technician_id", 404)
            if await repository.open_orders(session=session, technician_id=technician.id):
                raise Rejection("has_open_orders",
                                f"{technician.name} still holds open orders; reassign them "
                                "first.", f"{technician.name}仍有未完成的派工，请先转派。",
                                "technician_id", 409)
            await repository.deactivate_technician(session=session,
                                                   technician_id=technician.id,
                                                   now=datetime.now(UTC))
        return Removed(id=command.technician_id)

    async def close_repair(self, command: CloseRepair) -> RepairClosed:
        """The repair ended: its offers leave the technicians' open orders (and no longer
        count against their limit of open orders). Idempotent."""
        async with self.sessions.begin() as session:
            need = await repository.get_need(session=session, repair_id=command.repair_id)
            if need is not None and not _owns([need.project], command.within):
                raise out_of_scope("repair_id")
            closed = await repository.close_offers_of(session=session,
                                                      repair_id=command.repair_id,
                                                      at=command.at)
        return RepairClosed(repair_id=command.repair_id, offers_closed=closed)

    async def remove_team(self, command: RemoveTeam) -> Removed:
        async with self.sessions.begin() as session:
            team = await repository.get_team(session=session, team_id=command.team)
            if team is None or not _owns(team.projects, command.within):
                raise unknown("team", command.team, "team", 404)
            if await repository.find_technicians(session=session, team=command.team):
                raise Rejection("team_not_empty", f"Team {command.team} still has technicians.",
                                f"{command.team}班组仍有维修人员。", "team", 409)
            await repository.delete_team(session=session, team_id=command.team)
        return Removed(id=command.team)

    async def put_roster(self, command: PutRoster) -> Saved:
        async with self.sessions.begin() as session:
            team = await repository.get_team(session=session, team_id=command.team)
            if team is None or not _owns(team.projects, command.within):
                raise unknown("team", command.team, "team")
            members = {t.id for t in await repository.find_technicians(session=session,
                                                                      team=command.team)}
            problems = check_roster(command, members)
            if problems:
                first = problems[0]
                raise Rejection(first["code"], first["message_en"], first["message_zh"],
                                first["field"], 422, errors=problems)
            await repository.replace_roster(session=session, roster=command)
        return Saved(id=command.team, created=False)

    async def get_roster(self, command: GetRoster) -> RosterIn:
        async with self.sessions() as session:
            team = await repository.get_team(session=session, team_id=command.team)
            if team is None or not _serves(team.projects, command.within):
                raise unknown("team", command.team, "team", 404)
            on_call, leave, leaders = await repository.roster_of(session=session,
                                                                 team=command.team)
        return RosterIn(
            team=command.team,
            on_call=[{"technician": o.technician_id, "starts_at": o.starts_at,
                      "ends_at": o.ends_at} for o in on_call],
            leave=[{"technician": v.technician_id, "first_day": v.first_day,
                    "last_day": v.last_day} for v in leave],
            duty_leaders=[{"day": d.day, "technician": d.technician_id} for d in leaders])

    async def put_hours(self, command: PutHours) -> Saved:
        _require([command.project], command.within, "project")
        if command.day_end <= command.day_start:
            raise Rejection("inverted_hours", "Working hours must end after they start.",
                            "下班时间必须晚于上班时间。", "day_end", 422)
        await self._check_projects([command.project], "project")
        async with self.sessions.begin() as session:
            return Saved(id=command.project, created=await repository.put_hours(
                session=session, hours=command))


def _offer_view(offer: OfferRecord) -> Offer:
    return Offer(offer_id=offer.id, repair_id=offer.repair_id,
                 technician_id=offer.technician_id, state=offer.state,
                 offered_at=offer.offered_at, arrive_by=offer.arrive_by, reason=offer.reason,
                 rule=offer.rule)


def _technician_view(t: Technician) -> TechnicianIn:
    # Constructed, not validated: a technician loaded before teams existed has none.
    return TechnicianIn.model_construct(id=t.id, name=t.name, phone=t.phone, team=t.team_id,
                        trades=[Trade(x) for x in t.trades], projects=list(t.projects),
                                        day_shift=t.day_shift,
                        max_open_orders=t.max_open_orders)
