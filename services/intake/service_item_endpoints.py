"""A project's standard service items (常规服务项目表) over HTTP: the price list a paid
repair is quoted from (pricing.py), replaced whole by the project's administration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.common.contracts import WARRANTY_GET_PROJECT
from services.common.dispatch_contracts import Trade
from services.common.errors import Rejection
from services.common.registry_contracts import GetProject, ProjectIn
from services.intake import repository
from services.intake.auth import Authorized
from services.intake.endpoints import Rt
from services.intake.lifecycle_endpoints import Fen
from services.intake.models import ServiceItem
from services.intake.pricing import OFF_LIST

router = APIRouter(tags=["registry"])
ProjectCode = Annotated[str, Path(description="A project's code.", examples=["SH-LJ"])]
MAX_ITEMS = 500

ANGLE_VALVE = {"code": "PL-01", "name": "更换角阀", "unit": "个", "unit_price_fen": 3500,
               "trade": "plumbing"}
DRAIN = {"code": "PL-09", "name": "疏通下水管道", "unit": "次", "unit_price_fen": 8000,
         "trade": "plumbing"}
SEALANT = {"code": "DC-07", "name": "更换玻璃胶", "unit": "米", "unit_price_fen": 1500,
           "trade": "decoration"}
WALL = {"code": "DC-01", "name": "墙面修补", "unit": "平方米", "unit_price_fen": 4500}
UPDATED_AT = "2026-06-01T09:00:00+08:00"


class ServiceItemIn(BaseModel):
    """One standard service item (常规服务项目): its code, what it is, its unit and its
    reviewed price."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra={"examples": [ANGLE_VALVE, WALL]})
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                      examples=["PL-01"], description="Unique in the project; quotes name it. "
                      f"`{OFF_LIST}` is reserved for work outside the table.")
    name: str = Field(min_length=1, max_length=100, examples=["更换角阀"])
    unit: str = Field(min_length=1, max_length=16, examples=["个", "次", "米", "平方米"],
                      description="What the quantity counts (计量单位).")
    unit_price_fen: Fen = Field(examples=[3500], description="The unit price in fen (分), a "
                                                             "whole number: 3500 is 35.00 yuan.")
    trade: Trade | None = Field(None, description="The trade (工种) that does it, if one.")


class ServiceItemsIn(BaseModel):
    """The project's whole table of standard service items; it replaces the one before.
    An empty list removes it: quotes then carry their own names and prices."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"items": [ANGLE_VALVE, DRAIN, SEALANT, WALL]}]})
    items: list[ServiceItemIn] = Field(max_length=MAX_ITEMS)


class ServiceItemView(ServiceItemIn):
    """A stored item and when it last changed."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {**ANGLE_VALVE, "updated_at": UPDATED_AT}]})
    updated_at: AwareDatetime = Field(description="When the item last changed, in the "
                                                  "project's zone.")


class ServiceItems(BaseModel):
    """A project's standard service items, by code; none: the project has no table."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "project": "SH-LJ", "items": [{**item, "updated_at": UPDATED_AT}
                                      for item in (WALL, SEALANT, ANGLE_VALVE, DRAIN)]}]})
    project: str
    items: list[ServiceItemView]


@router.put(
    "/v1/projects/{project}/service-items", response_model=ServiceItems,
    summary="Replace a project's standard service items (常规服务项目表)",
    responses={422: {"description": "The request is malformed, or a code is repeated "
                                    "(`duplicate_service_item`) or is `OFF-LIST` "
                                    "(`reserved_code`), with the field `items[i].code`."}})
async def put_service_items(project: ProjectCode, body: ServiceItemsIn, rt: Rt,
                            caller: Authorized) -> ServiceItems:
    """The list given becomes the project's whole table (up to 500 items; an empty list
    removes it). Quotes from now on are priced from it; quotes already made keep their
    prices. An item left as it was keeps its `updated_at`."""
    await caller.require(project)
    seen: set[str] = set()
    for index, item in enumerate(body.items):
        if item.code.upper() == OFF_LIST:
            raise Rejection("reserved_code", f"{OFF_LIST!r} is reserved for work outside the "
                            "standard service items.", f"“{OFF_LIST}”为表外项目保留，不能用作"
                            "服务项目编码。", f"items[{index}].code", 422)
        if item.code in seen:
            raise Rejection("duplicate_service_item", f"Code {item.code!r} is listed twice.",
                            f"服务项目编码“{item.code}”重复。", f"items[{index}].code", 422)
        seen.add(item.code)
    found = await rt.bus.ask(WARRANTY_GET_PROJECT, GetProject(code=project), ProjectIn)
    async with rt.sessions.begin() as session:
        stored = await repository.replace_service_items(
            session=session, project=project, now=datetime.now(UTC),
            items=[item.model_dump(mode="json") for item in body.items])
    return _view(found, stored)


@router.get("/v1/projects/{project}/service-items", response_model=ServiceItems,
            summary="A project's standard service items")
async def get_service_items(project: ProjectCode, rt: Rt, caller: Authorized) -> ServiceItems:
    """By code; an empty list: the project has no table, and quotes carry their prices."""
    await caller.require(project)
    found = await rt.bus.ask(WARRANTY_GET_PROJECT, GetProject(code=project), ProjectIn)
    async with rt.sessions() as session:
        stored = await repository.service_items(session=session, project=project)
    return _view(found, stored)


def _view(project: ProjectIn, stored: list[ServiceItem]) -> ServiceItems:
    """The table, times in the project's zone."""
    zone = ZoneInfo(project.time_zone)
    return ServiceItems(project=project.code, items=[ServiceItemView(
        code=item.code, name=item.name, unit=item.unit, unit_price_fen=item.unit_price_fen,
        trade=item.trade, updated_at=item.updated_at.astimezone(zone)) for item in stored])
