"""SQL for the registry. Callers own the transaction."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.warranty.models import Building, CommonArea, Project, PropertyGroup, Unit
from services.warranty.schemas import GroupIn, ProjectIn


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


async def count_projects(*, session: AsyncSession) -> int:
    return len((await session.scalars(select(Project.code))).all())


async def upsert_group(*, session: AsyncSession, group: GroupIn) -> None:
    """Create or replace a group and each of its projects, wholly (idempotent)."""
    stmt = insert(PropertyGroup).values(code=group.code, name=group.name)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["code"], set_={"name": stmt.excluded.name})
    )
    for project in group.projects:
        await replace_project(session=session, group_code=group.code, project=project)


async def replace_project(*, session: AsyncSession, group_code: str, project: ProjectIn) -> None:
    """Write a project with exactly the buildings, units and common areas given."""
    values = {
        "code": project.code, "group_code": group_code, "name": project.name,
        "city": project.city, "time_zone": project.time_zone, "developer": project.developer,
    }
    stmt = insert(Project).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["code"], set_=values)
    )
    # Children are replaced as a whole: a building missing from the document is gone.
    await session.execute(delete(Building).where(Building.project_code == project.code))
    for building in project.buildings:
        session.add(Building(
            project_code=project.code, code=building.code, name=building.name,
            completion_accepted_on=building.completion_accepted_on,
        ))
        await session.flush()
        session.add_all(
            Unit(project_code=project.code, building_code=building.code, **unit.model_dump())
            for unit in building.units
        )
        session.add_all(
            CommonArea(project_code=project.code, building_code=building.code, **area.model_dump())
            for area in building.common_areas
        )
    await session.flush()
