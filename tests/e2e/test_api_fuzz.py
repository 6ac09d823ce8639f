"""Schemathesis against the real intake, warranty, dispatch and follow-up processes:
whatever a client sends that the OpenAPI schema allows, or nearly allows, the answer is
never a 5xx."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from services.intake.keys import create_key
from services.stack.servers import free_port
from tests.e2e.processes import serving

pytestmark = pytest.mark.e2e


@pytest.fixture
def operator_key(demo_database: str) -> dict[str, str]:
    """An operator's key: every group, so that the fuzzer reaches every handler."""
    issued = asyncio.run(create_key(demo_database, name="fuzz", group=None, projects=None,
                                    rate_per_minute=100_000))
    return {"Authorization": f"Bearer {issued.token}"}


@pytest.fixture
def intake_url(servers, demo_database: str, bus, nats_prefix: str, task_queue: str, tmp_path,
               operator_key: dict[str, str]) -> Iterator[str]:
    """Intake and the services behind it as processes; `bus` has declared this test's
    streams."""
    port = free_port()
    env = {"DATABASE_URL": demo_database, "NATS_URL": servers.nats_url,
           "TEMPORAL_ADDRESS": servers.temporal_address, "REPAIRFLOW_NATS_PREFIX": nats_prefix,
           "REPAIRFLOW_TASK_QUEUE": task_queue, "REPAIRFLOW_HTTP_PORT": str(port),
           "REPAIRFLOW_HOME": str(tmp_path / "home"), "REPAIRFLOW_LOG_LEVEL": "WARNING"}
    with serving(("warranty", "dispatch", "followup", "intake"), env, operator_key) as url:
        yield url


def test_no_request_gets_a_server_error(intake_url: str, operator_key: dict[str, str]):
    schema = schemathesis.openapi.from_url(f"{intake_url}/openapi.json")
    failures: list[str] = []
    seen: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:
        @given(case=operation.as_strategy())
        # Deterministic in CI, so that a red build can be reproduced; random on a
        # developer's machine, where finding new inputs is the point.
        @settings(max_examples=15, deadline=None, database=None,
                  derandomize=bool(os.environ.get("CI")),
                  suppress_health_check=list(HealthCheck))
        def call(case) -> None:
            response = case.call(base_url=intake_url, timeout=30, headers=operator_key)
            seen[response.status_code // 100] += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> "
                                f"{response.status_code}: {response.text[:300]}")

        call()
    assert failures == []
    assert seen[2] > 0 and seen[4] > 0, seen  # it did reach the handlers, both ways
