"""The NATS services answer discovery and their endpoints, on a real NATS server."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack

import pytest

from services.common.bus import Bus
from services.common.contracts import WARRANTY_LOCATE, LocateReport, ReportLocated
from services.common.dispatch_contracts import DISPATCH_SUBJECTS, FindTechnicians, TechnicianList
from services.common.errors import Rejection, ServiceUnavailable
from services.dispatch.service import DispatchSettings
from services.dispatch.service import running as dispatch_running
from services.followup.service import FollowupSettings
from services.followup.service import running as followup_running
from services.warranty.service import WarrantySettings
from services.warranty.service import running as warranty_running


@pytest.fixture
async def services(settings: dict, demo_database: str):
    async with AsyncExitStack() as stack:
        for running, cls in ((warranty_running, WarrantySettings),
                             (dispatch_running, DispatchSettings),
                             (followup_running, FollowupSettings)):
            await stack.enter_async_context(running(cls(**settings)))
        yield


async def test_each_service_answers_ping_info_and_stats(services, bus: Bus):
    for name in ("repairflow-warranty", "repairflow-dispatch", "repairflow-followup"):
        ping = json.loads((await bus.nc.request(f"$SRV.PING.{name}", b"", timeout=2)).data)
        assert ping["name"] == name
        info = json.loads((await bus.nc.request(f"$SRV.INFO.{name}", b"", timeout=2)).data)
        assert info["description"]
        stats = json.loads((await bus.nc.request(f"$SRV.STATS.{name}", b"", timeout=2)).data)
        assert stats["name"] == name
    info = json.loads((await bus.nc.request("$SRV.INFO.repairflow-warranty", b"")).data)
    assert {e["subject"] for e in info["endpoints"]} == {bus.subject(s) for s in (
        "warranty.determine", WARRANTY_LOCATE, "warranty.registry.put_project",
        "warranty.registry.get_project", "warranty.registry.list_projects",
        "warranty.registry.expiries")}


async def test_warranty_locates_units_and_common_areas(services, bus: Bus):
    unit = await bus.ask(WARRANTY_LOCATE, LocateReport(
        project="SH-LJ", building="1", unit="1-502", category="PIPE-BURST"), ReportLocated)
    assert unit.time_zone == "Asia/Shanghai"
    assert (unit.trade, unit.always_emergency) == ("plumbing", True)
    area = await bus.ask(WARRANTY_LOCATE, LocateReport(
        project="BJ-YH", building="A", common_area="ROOF", category="LK-ROOF"), ReportLocated)
    assert area.common_area == "ROOF" and area.unit is None and area.trade == "waterproofing"


@pytest.mark.parametrize(
    ("command", "field"),
    [
        ({"project": "XX", "building": "1", "unit": "1-502", "category": "LK-ROOF"}, "project"),
        ({"project": "SH-LJ", "building": "1", "common_area": "POOL", "category": "LAND"},
         "common_area"),
        ({"project": "SH-LJ", "building": "1", "category": "LAND"}, "unit"),
    ],
)
async def test_warranty_refuses_unknown_places_naming_the_field(services, bus: Bus, command, field):
    with pytest.raises(Rejection) as refused:
        await bus.ask(WARRANTY_LOCATE, LocateReport(**command), ReportLocated)
    assert refused.value.field == field
    assert refused.value.message_zh


async def test_a_malformed_command_is_refused_not_crashed_on(services, bus: Bus):
    reply = await bus.nc.request(bus.subject(WARRANTY_LOCATE), b'{"project": 1}', timeout=2)
    assert reply.headers["Nats-Service-Error-Code"] == "400"
    assert json.loads(reply.data)["code"] == "invalid_command"


async def test_dispatch_lists_who_serves_a_project(services, bus: Bus):
    subject = DISPATCH_SUBJECTS["find_technicians"]
    everyone = await bus.ask(subject, FindTechnicians(project="BJ-YH"), TechnicianList)
    assert [t.id for t in everyone.technicians] == ["T-ALL-01", "T-BJ-01", "T-BJ-02", "T-BJ-03"]
    plumbers = await bus.ask(subject, FindTechnicians(project="SH-LJ", trade="plumbing"),
                             TechnicianList)
    assert [t.name for t in plumbers.technicians] == ["马建国", "陈立伟"]


async def test_asking_a_service_nobody_runs_is_unavailable_not_a_hang(bus: Bus):
    with pytest.raises(ServiceUnavailable):
        await bus.ask(WARRANTY_LOCATE, LocateReport(
            project="SH-LJ", building="1", unit="1-502", category="LK-ROOF"), ReportLocated)
