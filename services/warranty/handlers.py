"""NATS handlers of the warranty service. One transaction per message, owned here."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from services.common.contracts import LocateReport, ReportLocated
from services.common.errors import Rejection
from services.warranty import repository
from services.warranty.categories import BY_CODE


class RegistryHandlers:
    """Answers questions about the property registry."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self.sessions = sessions

    async def locate(self, command: LocateReport) -> ReportLocated:
        """Check that the project, building, unit or common area and the category exist."""
        category = BY_CODE.get(command.category)
        if category is None:
            raise Rejection(
                "unknown_category", f"Unknown defect category {command.category!r}.",
                f"未知的报修类别“{command.category}”。", "category", 422,
            )
        async with self.sessions() as session:
            project = await repository.get_project(session=session, code=command.project)
            if project is None:
                raise Rejection(
                    "unknown_project", f"Unknown project {command.project!r}.",
                    f"未知的项目“{command.project}”。", "project", 422,
                )
            building = await repository.get_building(
                session=session, project=project.code, code=command.building
            )
            if building is None:
                raise Rejection(
                    "unknown_building",
                    f"Project {project.code} has no building {command.building!r}.",
                    f"项目{project.code}没有楼栋“{command.building}”。", "building", 422,
                )
            if command.unit is not None:
                unit = await repository.get_unit(
                    session=session, project=project.code, building=building.code,
                    code=command.unit,
                )
                if unit is None:
                    raise Rejection(
                        "unknown_unit",
                        f"Building {building.code} of {project.code} has no unit {command.unit!r}.",
                        f"{project.code}项目{building.code}楼栋没有房号“{command.unit}”。",
                        "unit", 422,
                    )
            elif command.common_area is not None:
                area = await repository.get_common_area(
                    session=session, project=project.code, building=building.code,
                    code=command.common_area,
                )
                if area is None:
                    raise Rejection(
                        "unknown_common_area",
                        f"Building {building.code} of {project.code} has no common area "
                        f"{command.common_area!r}.",
                        f"{project.code}项目{building.code}楼栋没有公共区域“{command.common_area}”。",
                        "common_area", 422,
                    )
            else:
                raise Rejection(
                    "place_missing", "Give either a unit or a common area.",
                    "请填写房号或公共区域。", "unit", 422,
                )
            return ReportLocated(
                project=project.code, project_name=project.name, time_zone=project.time_zone,
                building=building.code, unit=command.unit,
                common_area=None if command.unit else command.common_area,
                category=category.code, trade=category.trade,
                always_emergency=category.always_emergency,
            )
