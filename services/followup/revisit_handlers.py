"""Follow-up's commands for planned quality revisits (质量回访), warranty certificates
(保修证书/维修卡) and retention (存档).

- Planning a year asks the registry for each building's handover and warranty ends
  (`warranty.registry.expiries`), computes the plan from the project's policy
  (plan.annual_plan) and stores it in one transaction with the units' certificates: an
  unknown project is refused before anything is saved. Planning again adds only revisits
  not stored yet; stored ones (planned or done) are never removed or changed by it, so a
  plan that changed with the policy keeps the old items, listed, for a person to judge.
- A revisit's result is recorded once (409 `already_recorded` after). Each repair it found
  is shown with its due day and state (revisit_rules.finding), as of now or the latest
  moment on record when later (the time-skipping tests run ahead of the clock).
- Certificates are tracked for every unit the registry shows delivered; the rows are
  brought up to date from the registry whenever a year is planned, a certificate is
  issued or the missing ones are listed.
- Archiving marks (`archived_at`) made visits, visits not chosen, made revisits and
  handled complaints older than the project's retention; lists leave them out. Nothing is
  deleted, and open work is never archived.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import async_sessionmaker

from services.common.bus import Bus
from services.common.contracts import WARRANTY_EXPIRIES
from services.common.errors import Rejection
from services.common.followup_contracts import (
    Archived,
    ArchivedProject,
    ArchiveRecords,
    Certificate,
    Certificates,
    IssueCertificate,
    ListMissingCertificates,
    ListRevisits,
    PlanRevisits,
    RecordRevisit,
    Revisit,
    RevisitFinding,
    RevisitPlan,
    Revisits,
)
from services.common.registry_contracts import GetWarrantyExpiries, WarrantyExpiries
from services.followup import models, repository
from services.followup.handlers import _out_of_scope, _owns, _policy
from services.followup.plan import annual_plan
from services.followup.revisit_rules import (
    Finding,
    certificate_due_on,
    finding,
    project_facts,
    retention_cutoff,
)

ZoneOf = Callable[[str], Awaitable[str]]  # a project's time zone; refuses an unknown project


class RevisitHandlers:
    def __init__(self, sessions: async_sessionmaker, bus: Bus, zone_of: ZoneOf) -> None:
        self.sessions = sessions
        self.bus = bus
        self.zone_of = zone_of

    async def plan_revisits(self, command: PlanRevisits) -> RevisitPlan:
        """Plan the project's year (年度工程质量回访计划) and track its certificates."""
        if not _owns(command.project, command.within):
            raise _out_of_scope()
        registry = await self._expiries(command.project)
        plan_facts = project_facts(registry)
        async with self.sessions.begin() as session:
            policy = await _policy(session, command.project)
            planned = annual_plan(facts=plan_facts, policy=policy, year=command.year)
            added = await repository.add_revisits(session=session, revisits=[{
                "project": command.project, "year": command.year, "kind": p.kind.value,
                "due_on": p.due_on, "building": p.building, "scope": p.scope,
                "method": p.method.value, "reason": p.reason} for p in planned])
            await repository.track_certificates(session=session,
                                                certificates=_certificates(registry))
            rows = await repository.list_revisits(session=session, within=None,
                                                  project=command.project, year=command.year)
            missing = await repository.missing_certificates(session=session,
                                                            project=command.project)
            views = await self._views(session, rows)
        return RevisitPlan(project=command.project, year=command.year,
                           time_zone=registry.time_zone, added=added, revisits=views,
                           certificates_missing=len(missing))

    async def list_revisits(self, command: ListRevisits) -> Revisits:
        """Revisits not archived, soonest first."""
        if command.project is not None and not _owns(command.project, command.within):
            return Revisits(revisits=[])
        async with self.sessions() as session:
            rows = await repository.list_revisits(
                session=session, within=command.within, project=command.project,
                year=command.year, status=command.status, due_before=command.due_before,
                limit=command.limit)
            return Revisits(revisits=await self._views(session, rows))

    async def record_revisit(self, command: RecordRevisit) -> Revisit:
        """A revisit's result, the person who made it and the repairs it found; once."""
        async with self.sessions.begin() as session:
            revisit = await repository.get_revisit(session=session,
                                                   revisit_id=command.revisit_id, lock=True)
            if revisit is None or not _owns(revisit.project, command.within):
                raise Rejection("unknown_revisit", f"No revisit {command.revisit_id}.",
                                "没有这条质量回访计划。", "revisit_id", 404)
            if revisit.status == "done":
                raise Rejection("already_recorded", "This revisit's result is recorded already.",
                                "该质量回访已有记录。", "revisit_id", 409)
            revisit.status, revisit.result = "done", command.result
            revisit.done_at, revisit.done_by = command.at, command.by
            revisit.found_repair_ids = list(dict.fromkeys(command.found_repair_ids))
        async with self.sessions() as session:  # recorded even if the zone is not known now
            (view,) = await self._views(session, [revisit])
        return view

    async def issue_certificate(self, command: IssueCertificate) -> Certificate:
        """A unit's certificate and repair card handed over (the same day again: no-op)."""
        if not _owns(command.project, command.within):
            raise _out_of_scope()
        registry = await self._expiries(command.project)
        async with self.sessions.begin() as session:
            await repository.track_certificates(session=session,
                                                certificates=_certificates(registry))
            row = await repository.get_certificate(
                session=session, project=command.project, building=command.building,
                unit=command.unit, lock=True)
            if row is None:
                raise _no_certificate(registry, command)
            if row.issued_on is not None:
                if row.issued_on == command.issued_on:
                    return certificate_view(row, as_of=row.issued_on)
                raise Rejection("already_issued",
                                f"The certificate was issued on {row.issued_on}.",
                                f"该房号的保修证书已于{row.issued_on}发放。", "issued_on", 409)
            if command.issued_on < row.delivered_on:
                raise Rejection("issued_before_delivery",
                                f"The unit was delivered on {row.delivered_on}.",
                                f"该房号交付日期为{row.delivered_on}，发放日期不能更早。",
                                "issued_on", 422)
            row.issued_on, row.issued_by = command.issued_on, command.by
            return certificate_view(row, as_of=command.issued_on)

    async def missing_certificates(self, command: ListMissingCertificates) -> Certificates:
        """Delivered units whose certificate is not issued yet (or only the overdue ones)."""
        if not _owns(command.project, command.within):
            raise _out_of_scope()
        registry = await self._expiries(command.project)
        as_of = command.as_of or datetime.now(ZoneInfo(registry.time_zone)).date()
        async with self.sessions.begin() as session:
            await repository.track_certificates(session=session,
                                                certificates=_certificates(registry))
            rows = await repository.missing_certificates(
                session=session, project=command.project,
                due_before=as_of if command.overdue_only else None)
            return Certificates(project=command.project, as_of=as_of,
                                certificates=[certificate_view(r, as_of=as_of) for r in rows])

    async def archive(self, command: ArchiveRecords) -> Archived:
        """Archive each project's records past its retention (默认保存两年)."""
        if command.project is not None:
            if not _owns(command.project, command.within):
                raise _out_of_scope()
            await self.zone_of(command.project)  # an unknown project is refused
        as_of = command.as_of or datetime.now(UTC)
        at = datetime.now(UTC)
        done = []
        async with self.sessions.begin() as session:
            projects = ([command.project] if command.project is not None else
                        await repository.projects_with_records(session=session,
                                                               within=command.within))
            for project in projects:
                years = (await _policy(session, project)).retention.years
                cutoff = retention_cutoff(as_of, years)
                visits, revisits, complaints = await repository.archive_before(
                    session=session, project=project, cutoff=cutoff, at=at)
                done.append(ArchivedProject(project=project, retention_years=years,
                                            cutoff=cutoff, visits=visits, revisits=revisits,
                                            complaints=complaints))
        return Archived(as_of=as_of, projects=done,
                        total=sum(p.visits + p.revisits + p.complaints for p in done))

    async def _views(self, session, rows: list[models.Revisit]) -> list[Revisit]:
        """The revisits, each found repair with its due day and state."""
        solved = await repository.completions(
            session=session, repair_ids=[i for r in rows for i in r.found_repair_ids or []])
        as_of = max([datetime.now(UTC), *(r.done_at for r in rows if r.done_at),
                     *(at for at in solved.values() if at)])
        rules: dict[str, tuple[int, str]] = {}  # per project: findings_days, time zone
        views = []
        for row in rows:
            findings = []
            if row.done_at is not None and row.found_repair_ids:
                if row.project not in rules:
                    policy = await _policy(session, row.project)
                    rules[row.project] = (policy.planned.findings_days,
                                          await self.zone_of(row.project))
                days, zone = rules[row.project]
                findings = [finding(i, found_at=row.done_at, solved_at=solved.get(i),
                                    days=days, time_zone=zone, as_of=as_of)
                            for i in row.found_repair_ids]
            views.append(revisit_view(row, findings))
        return views

    async def _expiries(self, project: str) -> WarrantyExpiries:
        return await self.bus.ask(WARRANTY_EXPIRIES, GetWarrantyExpiries(project=project),
                                  WarrantyExpiries, timeout=10)


def _certificates(registry: WarrantyExpiries) -> list[dict]:
    return [{"project": registry.project, "building": b.building, "unit": u.code,
             "delivered_on": u.delivered_on,
             "due_on": certificate_due_on(b.completion_on, u.delivered_on)}
            for b in registry.buildings for u in b.units if u.delivered_on is not None]


def _no_certificate(registry: WarrantyExpiries, command: IssueCertificate) -> Rejection:
    building = next((b for b in registry.buildings if b.building == command.building), None)
    unit = building and next((u for u in building.units if u.code == command.unit), None)
    if unit is not None:  # known, but not delivered: no owner to give it to yet
        return Rejection("not_delivered", f"Unit {command.unit} is not delivered yet.",
                         f"房号{command.unit}尚未交付。", "unit", 409)
    return Rejection("unknown_unit",
                     f"Building {command.building} of {command.project} has no unit "
                     f"{command.unit!r}.",
                     f"{command.project}项目{command.building}楼栋没有房号“{command.unit}”。",
                     "unit", 404)


def revisit_view(revisit: models.Revisit, findings: list[Finding]) -> Revisit:
    return Revisit(
        id=revisit.id, project=revisit.project, year=revisit.year, kind=revisit.kind,
        due_on=revisit.due_on, building=revisit.building, scope=revisit.scope,
        method=revisit.method, reason=revisit.reason, status=revisit.status,
        result=revisit.result, done_at=revisit.done_at, done_by=revisit.done_by,
        found_repair_ids=list(revisit.found_repair_ids or []),
        findings=[RevisitFinding(repair_id=f.repair_id, due_on=f.due_on, solved_at=f.solved_at,
                                 state=f.state) for f in findings])


def certificate_view(row: models.Certificate, *, as_of: date) -> Certificate:
    return Certificate(
        project=row.project, building=row.building, unit=row.unit,
        delivered_on=row.delivered_on, due_on=row.due_on, issued_on=row.issued_on,
        issued_by=row.issued_by, overdue=(row.issued_on or as_of) > row.due_on)
