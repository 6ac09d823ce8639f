"""A repair's whole life through HTTP only, on the real processes: reported, offered,
accepted, worked, rejected once by the owner, reworked and accepted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from services.intake.keys import create_key
from services.stack.servers import free_port
from tests.e2e.processes import serving

pytestmark = pytest.mark.e2e

REPORT = {
    "project": "SH-LJ", "building": "1", "unit": "1-502", "channel": "app",
    "category": "LK-WET", "description": "卫生间地面渗水到楼下 1-402",
    "reporter": {"name": "王芳", "phone": "13900139002"},
}


@pytest.fixture
def key(demo_database: str) -> dict[str, str]:
    """The group's key, as a call-center console holds it."""
    issued = asyncio.run(create_key(demo_database, name="console", group="HX", projects=None))
    return {"Authorization": f"Bearer {issued.token}"}


@pytest.fixture
def api(servers, demo_database: str, bus, temporal_client, nats_prefix: str, task_queue: str,
        tmp_path, key: dict[str, str]) -> Iterator[httpx.Client]:
    """Warranty, dispatch, the worker and intake as processes (`temporal_client` has
    registered the search attributes, `bus` declared the streams)."""
    env = {"DATABASE_URL": demo_database, "NATS_URL": servers.nats_url,
           "TEMPORAL_ADDRESS": servers.temporal_address, "REPAIRFLOW_NATS_PREFIX": nats_prefix,
           "REPAIRFLOW_TASK_QUEUE": task_queue, "REPAIRFLOW_HTTP_PORT": str(free_port()),
           "REPAIRFLOW_HOME": str(tmp_path / "home"), "REPAIRFLOW_LOG_LEVEL": "WARNING"}
    with serving(("warranty", "dispatch", "worker", "intake"), env, key) as url, \
            httpx.Client(base_url=url, headers=key, timeout=30) as client:
        yield client


def until(probe, what: str, timeout: float = 20):
    """The probe's first truthy answer, polling."""
    deadline = time.monotonic() + timeout
    while not (answer := probe()):
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.2)
    return answer


def test_a_repair_from_report_to_acceptance_with_one_rework(api: httpx.Client):
    started = time.monotonic()
    created = api.post("/v1/repairs", json=REPORT)
    assert created.status_code == 201, created.text
    repair = created.json()["id"]

    def offered() -> str | None:
        answer = api.get(f"/v1/repairs/{repair}/progress")
        ok = answer.status_code == 200 and answer.json()["status"] == "offered"
        return answer.json()["offered_to"] if ok else None

    who = until(offered, "offered")

    def act(action: str, **body) -> dict:
        answer = api.post(f"/v1/repairs/{repair}/{action}", json=body)
        assert answer.status_code == 200, (action, answer.text)
        return answer.json()

    refused = api.post(f"/v1/repairs/{repair}/accept", json={"technician_id": "T-NOBODY"})
    assert refused.status_code == 409 and who in refused.json()["detail"]
    assert act("accept", technician_id=who)["technician_id"] == who
    act("arrive", technician_id=who)
    act("diagnose", technician_id=who, cause="construction_defect", plan="重做防水层")
    act("complete", technician_id=who, work_done="重做防水层")
    rework = act("acceptance", accepted=False, signed_by="王芳", reason="楼下仍有水渍")
    assert rework["status"] == "accepted" and rework["reworks"] == 1
    act("arrive", technician_id=who)
    act("complete", technician_id=who, work_done="补做闭水试验")
    assert act("acceptance", accepted=True, signed_by="王芳")["status"] == "closed"

    def closed() -> dict | None:
        answer = api.get(f"/v1/repairs/{repair}").json()
        return answer if answer["status"] == "closed" else None

    final = until(closed, "closed in the read model")
    assert final["assignee"] == who and final["reworks"] == 1
    steps = [entry["kind"] for entry in final["timeline"]]
    assert steps[0] == "reported" and steps[-1] == "closed" and steps.count("rework") == 1
    assert time.monotonic() - started < 30
