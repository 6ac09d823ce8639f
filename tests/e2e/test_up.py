"""`repairflow up` as a developer runs it: every server from its wheel, every service a
supervised process, a repair reported with curl-like calls, stopped and started again."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import nats
import psutil
import pytest

from services.stack.servers import free_port
from tests.conftest import private_tempdir
from tests.e2e.processes import Running, repairflow

pytestmark = pytest.mark.e2e

REPORT = {
    "project": "BJ-YH", "building": "B", "unit": "B-0201", "channel": "app",
    "category": "HVAC-HEAT", "description": "暖气片不热", "reporter": {"name": "周强",
                                                                    "phone": "010-88776655"},
}


def temporal_cli(*args: str) -> subprocess.CompletedProcess:
    binary = str(Path(sys.executable).parent / "temporal")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=30)


def wait_healthy(api: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{api} never became healthy")


@pytest.fixture
def stack_env() -> Iterator[dict[str, str]]:
    ports = {name: str(free_port()) for name in
             ("HTTP_PORT", "TEMPORAL_PORT", "TEMPORAL_UI_PORT", "NATS_PORT", "PG_PORT")}
    env = {f"REPAIRFLOW_{k}": v for k, v in ports.items()}
    home = private_tempdir("repairflow-test-home-")  # PostgreSQL's user must reach it
    env["REPAIRFLOW_HOME"] = str(home / "state")
    for key in ("DATABASE_URL", "NATS_URL", "TEMPORAL_ADDRESS"):
        env[key] = ""  # unset: this test starts its own servers
    yield env
    shutil.rmtree(home, ignore_errors=True)


def printed_key(up: Running) -> dict[str, str]:
    """The demo key from the curl that `up` prints, as request headers."""
    token = re.search(r"Authorization: Bearer (rfk_\S+)'", "".join(up.lines))
    assert token, "up printed no API key"
    return {"Authorization": f"Bearer {token.group(1)}"}


def test_up_runs_the_whole_system_and_a_restart_keeps_every_repair(stack_env: dict[str, str]):
    env = stack_env
    api = f"http://127.0.0.1:{env['REPAIRFLOW_HTTP_PORT']}"
    temporal = f"127.0.0.1:{env['REPAIRFLOW_TEMPORAL_PORT']}"
    up = repairflow("up", env=env)
    try:
        up.wait_for(r"RepairFlow is up")
        assert "Demo data      loaded now" in "".join(up.lines)
        key = printed_key(up)
        assert httpx.post(f"{api}/v1/repairs", json=REPORT, timeout=10).status_code == 401

        created = httpx.post(f"{api}/v1/repairs", json=REPORT, timeout=10, headers=key)
        assert created.status_code == 201, created.text
        repair = created.json()
        workflow = f"repair-{repair['id']}"

        described = temporal_cli("workflow", "describe", "-w", workflow, "--address", temporal,
                                 "-o", "json")
        assert described.returncode == 0, described.stderr
        assert json.loads(described.stdout)["workflowExecutionInfo"]["status"] == (
            "WORKFLOW_EXECUTION_STATUS_RUNNING")
        listed = temporal_cli("workflow", "list", "--address", temporal, "--query",
                              "Project='BJ-YH' AND Category='HVAC-HEAT' AND Overdue=false")
        assert workflow in listed.stdout, listed.stdout + listed.stderr
        ui = httpx.get(f"http://127.0.0.1:{env['REPAIRFLOW_TEMPORAL_UI_PORT']}/", timeout=5)
        assert ui.status_code == 200

        async def bus_checks() -> None:
            nc = await nats.connect(f"nats://127.0.0.1:{env['REPAIRFLOW_NATS_PORT']}")
            try:
                event = await nc.jetstream().get_last_msg("REPAIRS", "repairs.reported.v1")
                assert event.headers["Nats-Msg-Id"] == f"{repair['id']}:reported"
                for name in ("warranty", "dispatch", "followup"):
                    await nc.request(f"$SRV.PING.repairflow-{name}", b"", timeout=2)
            finally:
                await nc.close()

        asyncio.run(bus_checks())

        # An integrator loads a project from a spreadsheet and gets explained decisions.
        database = f"postgresql://postgres@127.0.0.1:{env['REPAIRFLOW_PG_PORT']}/repairflow"
        imported = repairflow("registry", "import", "deploy/demo/registry-sample.csv",
                              env={"DATABASE_URL": database})
        assert imported.process.wait(60) == 0, "".join(imported.lines)
        projects = httpx.get(f"{api}/v1/projects", timeout=10, headers=key).json()["projects"]
        assert "HZ-XH" in [p["code"] for p in projects]
        decision = httpx.post(f"{api}/v1/warranty/determinations", timeout=10, headers=key, json={
            "project": "HZ-XH", "building": "1", "unit": "1-101", "category": "LK-WET",
            "reported_on": "2026-11-22"}).json()
        assert decision["covered"] is True and decision["contractor"]["ends_on"] == "2028-06-30"
        assert decision["liable_party_name"] == "东方雨虹防水工程公司"

        # The demo's year of follow-up: a specialist's visits still to make, the quarter's
        # rates against target, and the units with repeated defects with their actions.
        visits = httpx.get(f"{api}/v1/return-visits", timeout=10, headers=key, params={
            "project": "SH-LJ", "assignee": "客服 王敏"}).json()["visits"]
        assert visits and {v["assignee"] for v in visits} == {"客服 王敏"}
        today = datetime.now(ZoneInfo("Asia/Shanghai"))
        quarters = [(today.year, (today.month - 1) // 3 + 1)]
        quarters.append((quarters[0][0] - (quarters[0][1] == 1), (quarters[0][1] - 2) % 4 + 1))
        found = []
        for year, number in quarters:
            statistics = httpx.get(f"{api}/v1/projects/SH-LJ/followup-statistics",
                                   timeout=10, headers=key,
                                   params={"year": year, "quarter": number}).json()
            repair_row = next(k for k in statistics["kinds"] if k["kind"] == "repair")
            assert repair_row["target"] == 0.8 and repair_row["eligible"] > 0
            found += [(a["unit"], a["category"]) for a in statistics["corrective_actions"]]
        assert ("1-502", "LK-WET") in found and ("2-301", "PIPE-BLK") in found

        # A crashed service is restarted by the supervisor, and says so.
        intake = next(p for p in up.descendants() if "intake" in " ".join(p.cmdline()))
        intake.kill()
        up.wait_for(r"process exited; restarting.*process=intake", timeout=20)
        up.wait_for(r"process restarted.*process=intake", timeout=20)
        wait_healthy(api)

        # One launcher per state directory.
        second = Running([sys.executable, "-m", "services", "up"], env)
        assert second.process.wait(60) == 1
        assert "already running" in "".join(second.lines)

        # SIGTERM stops everything, children included, within seconds.
        children = up.descendants()
        assert len(children) >= 8  # 3 servers + 5 services (+ their own children)
        started = time.monotonic()
        up.process.send_signal(signal.SIGTERM)
        assert up.process.wait(30) == 0
        assert time.monotonic() - started < 15
        time.sleep(0.5)
        alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        assert alive == [], alive

        # Started again on the same state: the repair and its workflow are still there.
        up = repairflow("up", env=env)
        up.wait_for(r"RepairFlow is up")
        assert "Demo data      already there" in "".join(up.lines)
        assert printed_key(up) == key  # the demo key lasts across restarts
        again = httpx.get(f"{api}/v1/repairs/{repair['id']}", timeout=10, headers=key)
        assert again.status_code == 200
        # The same report; only what its workflow did since (offer, warranty) moved on.
        moving = {"timeline": None, "status": None, "warranty_outcome": None,
                  "warranty": None, "assignee": None, "overdue": None}
        assert {**again.json(), **moving} == {**repair, **moving}
        assert again.json()["status"] in ("reported", "offered", "unassigned")
        described = temporal_cli("workflow", "describe", "-w", workflow, "--address", temporal)
        assert described.returncode == 0, described.stderr
    finally:
        up.stop()


def test_a_taken_port_chosen_explicitly_is_one_readable_line(stack_env: dict[str, str]):
    env = stack_env

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", int(env["REPAIRFLOW_NATS_PORT"])))
        blocker.listen()
        up = repairflow("up", env=env)
        assert up.process.wait(60) == 1
    output = "".join(up.lines)
    assert f"NATS: port {env['REPAIRFLOW_NATS_PORT']} on 127.0.0.1 is taken" in output
    assert "Traceback" not in output


def test_up_uses_the_servers_it_is_given_instead_of_starting_its_own(
    servers, database_url: str, tmp_path: Path
):
    port = free_port()
    env = {
        "DATABASE_URL": database_url, "NATS_URL": servers.nats_url,
        "TEMPORAL_ADDRESS": servers.temporal_address, "REPAIRFLOW_HTTP_PORT": str(port),
        "REPAIRFLOW_HOME": str(tmp_path / "state"),
        "REPAIRFLOW_TASK_QUEUE": f"tq-{port}", "REPAIRFLOW_NATS_PREFIX": f"given{port}",
    }
    up = repairflow("up", env=env)
    try:
        up.wait_for(r"RepairFlow is up")
        commands = [" ".join(p.cmdline()) for p in up.descendants()]
        assert not any(name in c for c in commands
                       for name in ("postgres", "nats-server", "temporal server"))
        assert sum("services serve" in c for c in commands) == 5
        created = httpx.post(f"http://127.0.0.1:{port}/v1/repairs", json=REPORT, timeout=10,
                             headers=printed_key(up))
        assert created.status_code == 201, created.text
        assert not (tmp_path / "state" / "postgres").exists()
    finally:
        assert up.stop() == 0


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("postgres/PG_VERSION", "PostgreSQL exited with code"),
        ("temporal/temporal.db", "Temporal exited with code 1 while starting: Error: failed"),
    ],
)
def test_a_corrupt_data_directory_is_one_readable_line(
    stack_env: dict[str, str], damage: str, expected: str
):
    broken = Path(stack_env["REPAIRFLOW_HOME"]) / damage
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"this is not what the server wrote\n" * 1000)
    up = repairflow("up", env=stack_env)
    assert up.process.wait(60) == 1
    output = "".join(up.lines)
    failure = [line for line in output.splitlines() if line.startswith("repairflow up:")]
    assert len(failure) == 1 and expected in failure[0], output
    assert "Traceback" not in output
