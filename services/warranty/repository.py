"""SQL for the registry. Callers own the transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.registry_contracts import (
    BuildingIn,
    CommonAreaIn,
    ProjectIn,
    ProjectSaved,
    ProjectSummary,
    UnitIn,
)
from services.warranty.models import Building, CommonArea, Project, PropertyGroup, Unit

_PROJECT_FIELDS = (
    "name", "city", "time_zone", "developer", "jurisdiction", "count_season_in_progress",
    "period_convention",
)
_BUILDING_FIELDS = (
    "code", "name", "completion_accepted_on", "completion_reported_on",
    "acceptance_delayed_by_developer", "possession_on", "design_service_life_years",
    "general_contractor", "subcontractors", "common_areas_delivered_on",
)


async def get_project(*, session: AsyncSession, code: str) -> Project | None:
    return await session.get(Project, code)


async def get_building(*, session: AsyncSession, project: str, code: str) -> Building | None:
    return await session.get(Building, (project, code))


async def get_unit(*, session: AsyncSession, project: str, building: str, code: str) -> Unit | None:
    return await session.get(Unit, (project, building, code))


async def get_common_area(
    *, session: AsyncSession, project: str, building: str, code: str
) -> CommonArea | None:
    return await session.get(CommonArea, (project, building, code))


async def first_delivery(*, session: AsyncSession, project: str, building: str) -> date | None:
    """The earliest delivery of a unit in the building (when its common parts were in use)."""
    return await session.scalar(
        select(func.min(Unit.delivered_on)).where(
            Unit.project_code == project, Unit.building_code == building)
    )


async def count_projects(*, session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Project)) or 0


async def save_project(*, session: AsyncSession, project: ProjectIn) -> ProjectSaved:
    """Create or replace a project with exactly the buildings, units and areas given."""
    group = insert(PropertyGroup).values(code=project.group,
                                         name=project.group_name or project.group)
    await session.execute(
        group.on_conflict_do_update(index_elements=["code"], set_={"name": group.excluded.name})
        if project.group_name else group.on_conflict_do_nothing(index_elements=["code"])
    )
    existed = await session.get(Project, project.code) is not None
    values = {
        "code": project.code, "group_code": project.group,
        **{f: getattr(project, f) for f in _PROJECT_FIELDS},
        "heating_season": project.heating_season.model_dump() if project.heating_season else None,
        "cooling_season": project.cooling_season.model_dump() if project.cooling_season else None,
        "extra_days_off": [d.isoformat() for d in project.extra_days_off],
        "extra_working_days": [d.isoformat() for d in project.extra_working_days],
        "contract_terms": [t.model_dump(mode="json") for t in project.contract_terms],
        "categories": [c.model_dump(mode="json") for c in project.categories],
    }
    stmt = insert(Project).values(**values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=values))
    # Children are replaced as a whole: a building missing from the document is gone.
    await session.execute(delete(Building).where(Building.project_code == project.code))
    units = areas = 0
    for building in project.buildings:
        fields = building.model_dump(include=set(_BUILDING_FIELDS))
        session.add(Building(project_code=project.code, **fields, manufacturers=[
            m.model_dump(mode="json") for m in building.manufacturers]))
        await session.flush()
        session.add_all(Unit(project_code=project.code, building_code=building.code,
                             **unit.model_dump()) for unit in building.units)
        session.add_all(CommonArea(project_code=project.code, building_code=building.code,
                                   **area.model_dump()) for area in building.common_areas)
        units += len(building.units)
        areas += len(building.common_areas)
    await session.flush()
    session.expunge_all()  # the bulk delete above left stale objects behind
    return ProjectSaved(code=project.code, created=not existed,
                        buildings=len(project.buildings), units=units, common_areas=areas)


async def load_project(*, session: AsyncSession, code: str) -> ProjectIn | None:
    """The project document as it was saved."""
    project = await session.get(Project, code)
    if project is None:
        return None
    group = await session.get(PropertyGroup, project.group_code)
    buildings = (await session.scalars(
        select(Building).where(Building.project_code == code).order_by(Building.code))).all()
    units = (await session.scalars(
        select(Unit).where(Unit.project_code == code).order_by(Unit.code))).all()
    areas = (await session.scalars(
        select(CommonArea).where(CommonArea.project_code == code).order_by(CommonArea.code)
    )).all()
    return ProjectIn(
        code=project.code, group=project.group_code, group_name=group.name if group else None,
        **{f: getattr(project, f) for f in _PROJECT_FIELDS},
        heating_season=project.heating_season, cooling_season=project.cooling_season,
        extra_days_off=project.extra_days_off, extra_working_days=project.extra_working_days,
        contract_terms=project.contract_terms, categories=project.categories,
        buildings=[BuildingIn(
            **{f: getattr(b, f) for f in _BUILDING_FIELDS}, manufacturers=b.manufacturers,
            units=[UnitIn(code=u.code, delivered_on=u.delivered_on, owner_name=u.owner_name,
                          owner_phone=u.owner_phone)
                   for u in units if u.building_code == b.code],
            common_areas=[CommonAreaIn(code=a.code, name=a.name)
                          for a in areas if a.building_code == b.code],
        ) for b in buildings],
    )


async def list_projects(*, session: AsyncSession, group: str | None = None
                        ) -> list[ProjectSummary]:
    buildings = (select(Building.project_code, func.count().label("n"))
                 .group_by(Building.project_code).subquery())
    units = (select(Unit.project_code, func.count().label("n"))
             .group_by(Unit.project_code).subquery())
    query = (
        select(Project, func.coalesce(buildings.c.n, 0), func.coalesce(units.c.n, 0))
        .outerjoin(buildings, buildings.c.project_code == Project.code)
        .outerjoin(units, units.c.project_code == Project.code)
        .order_by(Project.code)
    )
    if group is not None:
        query = query.where(Project.group_code == group)
    return [ProjectSummary(code=p.code, name=p.name, city=p.city, group=p.group_code,
                           buildings=b, units=u)
            for p, b, u in (await session.execute(query)).all()]


async def buildings_with_units(*, session: AsyncSession, project: str
                               ) -> list[tuple[Building, list[Unit]]]:
    """The project's buildings in code order, each with its units in code order."""
    buildings = (await session.scalars(select(Building).where(
        Building.project_code == project).order_by(Building.code))).all()
    units = (await session.scalars(select(Unit).where(
        Unit.project_code == project).order_by(Unit.code))).all()
    return [(b, [u for u in units if u.building_code == b.code]) for b in buildings]
