"""NATS handlers of the warranty service. One transaction per message, owned here."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.contracts import LocateReport, ReportLocated
from services.common.errors import Rejection
from services.common.registry_contracts import (
    BuildingExpiries,
    CategoryExpiry,
    DetermineWarranty,
    GetProject,
    GetWarrantyExpiries,
    LayerView,
    ListProjects,
    ProjectIn,
    ProjectList,
    ProjectSaved,
    UnitDelivery,
    WarrantyDecision,
    WarrantyExpiries,
)
from services.warranty import repository
from services.warranty.determination import CategoryFacts, determine
from services.warranty.expiries import contractor_expiries, first_handover, site_completion
from services.warranty.models import Building, CommonArea, Project, Unit
from services.warranty.registry import category_facts, check_project, site_facts


class RegistryHandlers:
    """Answers about, and changes to, the property registry."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self.sessions = sessions

    async def locate(self, command: LocateReport) -> ReportLocated:
        """Check that the place and the category of a report exist."""
        async with self.sessions() as session:
            project, building, _, _ = await find_place(
                session, command.project, command.building, command.unit, command.common_area)
        category = find_category(project, command.category)
        return ReportLocated(
            project=project.code, project_name=project.name, time_zone=project.time_zone,
            building=building.code, unit=command.unit,
            common_area=None if command.unit else command.common_area,
            category=category.code, trade=category.trade,
            always_emergency=category.always_emergency,
            extra_days_off=[date.fromisoformat(d) for d in project.extra_days_off],
            extra_working_days=[date.fromisoformat(d) for d in project.extra_working_days],
        )

    async def put_project(self, command: ProjectIn) -> ProjectSaved:
        """Create or replace a project wholly; a document with any problem changes nothing."""
        problems = check_project(command)
        if problems:
            first = problems[0]
            raise Rejection(first.code, first.message_en, first.message_zh, first.field, 422,
                            errors=[asdict(p) for p in problems])
        async with self.sessions.begin() as session:
            return await repository.save_project(session=session, project=command)

    async def get_project(self, command: GetProject) -> ProjectIn:
        async with self.sessions() as session:
            project = await repository.load_project(session=session, code=command.code)
        if project is None:
            raise unknown_project(command.code, status=404)
        return project

    async def list_projects(self, command: ListProjects) -> ProjectList:
        async with self.sessions() as session:
            return ProjectList(projects=await repository.list_projects(
                session=session, group=command.group))


class WarrantyHandlers:
    """Answers who is liable for a defect and whether it is free (保修责任判定)."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self.sessions = sessions

    async def determine(self, command: DetermineWarranty) -> WarrantyDecision:
        async with self.sessions() as session:
            project, building, unit, area = await find_place(
                session, command.project, command.building, command.unit, command.common_area)
            delivered_on = await _handed_over_on(session, building, unit)
        category = find_category(project, command.category)
        facts = site_facts(project=project, building=building,
                           unit_code=unit.code if unit else None,
                           common_area=area.code if area else None, delivered_on=delivered_on)
        decision = determine(facts, category, command.reported_on, command.cause)
        return WarrantyDecision(
            project=project.code, building=building.code, unit=facts.unit,
            common_area=facts.common_area,
            **{k: v for k, v in asdict(decision).items()
               if k not in ("contractor", "developer", "liable_party")},
            liable_party=decision.liable_party.value,
            contractor=LayerView(**asdict(decision.contractor)),
            developer=LayerView(**asdict(decision.developer)),
        )

    async def expiries(self, command: GetWarrantyExpiries) -> WarrantyExpiries:
        """Per building: its first handover, its units' deliveries and each warranty
        category's contractor-layer end (read only)."""
        async with self.sessions() as session:
            project = await repository.get_project(session=session, code=command.project)
            if project is None:
                raise unknown_project(command.project, status=404)
            buildings = await repository.buildings_with_units(session=session,
                                                              project=project.code)
        answer = []
        for building, units in buildings:
            site = site_facts(project=project, building=building, unit_code=None,
                              common_area=None, delivered_on=None)
            ends = contractor_expiries(site)
            answer.append(BuildingExpiries(
                building=building.code,
                completion_on=site_completion(site),
                delivered_on=first_handover(building.common_areas_delivered_on,
                                            [u.delivered_on for u in units]),
                units=[UnitDelivery(code=u.code, delivered_on=u.delivered_on) for u in units],
                categories=[CategoryExpiry(warranty_category=e.warranty_category,
                                           period_kind=e.period_kind, ends_on=e.ends_on,
                                           notes=list(e.notes)) for e in ends]))
        return WarrantyExpiries(project=project.code, time_zone=project.time_zone,
                                buildings=answer)


async def _handed_over_on(session: AsyncSession, building: Building,
                          unit: Unit | None) -> date | None:
    """A unit's delivery; for common parts their handover, else the first unit delivered."""
    if unit is not None:
        return unit.delivered_on
    return building.common_areas_delivered_on or await repository.first_delivery(
        session=session, project=building.project_code, building=building.code)


async def find_place(session: AsyncSession, project_code: str, building_code: str,
                     unit_code: str | None, area_code: str | None
                     ) -> tuple[Project, Building, Unit | None, CommonArea | None]:
    """The registry rows of a place, or a refusal naming the field that is wrong."""
    project = await repository.get_project(session=session, code=project_code)
    if project is None:
        raise unknown_project(project_code)
    building = await repository.get_building(session=session, project=project.code,
                                             code=building_code)
    if building is None:
        raise Rejection("unknown_building",
                        f"Project {project.code} has no building {building_code!r}.",
                        f"项目{project.code}没有楼栋“{building_code}”。", "building", 422)
    if unit_code is not None and area_code is not None:
        raise Rejection("place_ambiguous", "Give either a unit or a common area, not both.",
                        "房号和公共区域只能填写一项。", "common_area", 422)
    if unit_code is not None:
        unit = await repository.get_unit(session=session, project=project.code,
                                         building=building.code, code=unit_code)
        if unit is None:
            raise Rejection(
                "unknown_unit",
                f"Building {building.code} of {project.code} has no unit {unit_code!r}.",
                f"{project.code}项目{building.code}楼栋没有房号“{unit_code}”。", "unit", 422)
        return project, building, unit, None
    if area_code is not None:
        area = await repository.get_common_area(session=session, project=project.code,
                                                building=building.code, code=area_code)
        if area is None:
            raise Rejection(
                "unknown_common_area",
                f"Building {building.code} of {project.code} has no common area {area_code!r}.",
                f"{project.code}项目{building.code}楼栋没有公共区域“{area_code}”。",
                "common_area", 422)
        return project, building, None, area
    raise Rejection("place_missing", "Give either a unit or a common area.",
                    "请填写房号或公共区域。", "unit", 422)


def find_category(project: Project, code: str) -> CategoryFacts:
    category = category_facts(project, code)
    if category is None:
        raise Rejection("unknown_category", f"Unknown defect category {code!r}.",
                        f"未知的报修类别“{code}”。", "category", 422)
    return category


def unknown_project(code: str, *, status: int = 422) -> Rejection:
    return Rejection("unknown_project", f"Unknown project {code!r}.", f"未知的项目“{code}”。",
                     "project", status)
