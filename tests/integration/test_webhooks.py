"""Signed webhooks on real servers: events reach a real HTTP receiver in this process,
signed (verified with `standardwebhooks`, as integrators do), retried, in order per repair,
and only within the registering key's group and projects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError
from temporalio.client import Client

from services.common.bus import Bus
from services.common.contracts import REPAIR_OVERDUE, RepairOverdue
from services.intake.app import IntakeSettings, create_app
from services.intake.keys import create_key
from services.intake.models import Webhook, WebhookDelivery
from services.intake.webhooks import DeliveryPolicy, WebhookSender, private_target
from services.warranty.service import WarrantySettings
from services.warranty.service import running as warranty_running
from tests.integration.conftest import Stack
from tests.integration.test_report_repair import REPORT
from tests.integration.test_warranty_api import PROJECT

REPORTED, OVERDUE = "repairs.reported.v1", "repairs.overdue.v1"
MAX_ATTEMPTS = 4


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    ok: bool


@dataclass
class Receiver:
    """An integrator's endpoint: a real HTTP server on loopback that records each request
    and answers 500 to the first `failures` of them, 204 after."""

    failures: int = 0
    requests: list[Received] = field(default_factory=list)
    url: str = ""

    async def __aenter__(self) -> Receiver:
        self._writers: set[asyncio.StreamWriter] = set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/hooks"
        return self

    async def __aexit__(self, *_) -> None:
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.ok]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while request_line := await reader.readline():  # keep-alive: several per connection
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                failing = self.failures > 0
                self.failures -= failing
                self.requests.append(
                    Received(request_line.decode().split()[1], headers, body, ok=not failing)
                )
                answer = b"500 Internal Server Error" if failing else b"204 No Content"
                writer.write(b"HTTP/1.1 " + answer + b"\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


async def until(
    check: Callable[[], Awaitable[object] | object], what: str, timeout: float = 20.0
) -> object:
    """Poll `check` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@pytest.fixture
async def hooked(
    settings: dict, demo_database: str, bus: Bus, temporal_client: Client
) -> AsyncIterator[Stack]:
    """Warranty and an intake app that retries webhooks within a second and gives up after
    MAX_ATTEMPTS. No worker: the workflows wait, so the only events are the reports' and
    those a test publishes."""
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(warranty_running(WarrantySettings(**settings)))
        app = create_app(
            IntakeSettings(
                **settings,
                outbox_interval=0.2,
                webhook_interval=0.1,
                webhook_backoff_base=0.1,
                webhook_backoff_cap=0.3,
                webhook_max_attempts=MAX_ATTEMPTS,
                webhook_allow_private_networks=True,  # the receivers run on loopback
            )
        )
        await stack.enter_async_context(app.router.lifespan_context(app))
        operator = await create_key(
            demo_database, name="operator", group=None, projects=None, rate_per_minute=100_000
        )
        api = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://intake",
                headers={"Authorization": f"Bearer {operator.token}"},
            )
        )
        yield Stack(
            api=api,
            app=app,
            bus=bus,
            temporal=temporal_client,
            database_url=demo_database,
            task_queue=settings["task_queue"],
        )


async def register(stack: Stack, url: str, headers: dict | None = None, **body) -> dict:
    response = await stack.api.post("/v1/webhooks", json={"url": url, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def report(stack: Stack, **change) -> dict:
    response = await stack.api.post("/v1/repairs", json={**REPORT, **change})
    assert response.status_code == 201, response.text
    return response.json()


async def deliveries(stack: Stack, webhook_id: str, headers: dict | None = None) -> list[dict]:
    response = await stack.api.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["deliveries"]


async def test_a_report_reaches_the_webhook_signed(hooked: Stack):
    hx = await hooked.key(group="HX")
    async with Receiver() as receiver:
        hook = await register(hooked, receiver.url, hx)
        assert hook["secret"].startswith("whsec_") and hook["group"] == "HX"
        assert hook["projects"] == ["BJ-YH", "SH-LJ"] and hook["events"] == []
        only_overdue = await register(hooked, receiver.url + "/overdue", hx, events=[OVERDUE])
        listed = (await hooked.api.get("/v1/webhooks", headers=hx)).json()["webhooks"]
        assert {h["id"] for h in listed} == {hook["id"], only_overdue["id"]}
        assert all("secret" not in h for h in listed)

        repair = await report(hooked)
        await until(lambda: receiver.accepted, "the report's delivery")

    (received,) = receiver.requests
    assert received.path == "/hooks"
    assert received.headers["content-type"] == "application/json"
    payload = Verifier(hook["secret"]).verify(received.body, received.headers)
    assert received.headers["webhook-id"] == payload["id"] == f"{repair['id']}:reported"
    assert payload["type"] == REPORTED and payload["repair_id"] == repair["id"]
    assert payload["project"] == "SH-LJ" and payload["data"]["ticket"] == repair["ticket"]
    assert datetime.fromisoformat(payload["occurred_at"]) <= datetime.now(UTC)
    with pytest.raises(WebhookVerificationError):
        Verifier(only_overdue["secret"]).verify(received.body, received.headers)

    (delivery,) = await deliveries(hooked, hook["id"], hx)
    assert delivery["state"] == "delivered" and delivery["attempts"] == 1
    assert delivery["last_status"] == 204 and delivery["event_type"] == REPORTED
    # The filtered webhook's rows were written in the same commit: it has none.
    assert await deliveries(hooked, only_overdue["id"], hx) == []


async def test_a_failing_receiver_gets_the_event_on_the_third_attempt(hooked: Stack):
    async with Receiver(failures=2) as receiver:
        hook = await register(hooked, receiver.url)
        repair = await report(hooked)
        await until(lambda: receiver.accepted, "the third attempt")
        (delivery,) = await deliveries(hooked, hook["id"])
    assert [r.ok for r in receiver.requests] == [False, False, True]
    assert {r.headers["webhook-id"] for r in receiver.requests} == {f"{repair['id']}:reported"}
    for attempt in receiver.requests:  # each attempt signed anew, with its own timestamp
        Verifier(hook["secret"]).verify(attempt.body, attempt.headers)
    assert delivery["state"] == "delivered" and delivery["attempts"] == 3
    assert delivery["last_status"] == 204 and delivery["last_error"] is None


async def test_a_repairs_events_arrive_in_order_behind_a_failing_one(hooked: Stack):
    async with Receiver(failures=3) as receiver:
        hook = await register(hooked, receiver.url)
        repair = await report(hooked)
        await until(lambda: receiver.requests, "the first (failed) attempt")
        now = datetime.now(UTC)
        await hooked.bus.publish_event(
            REPAIR_OVERDUE,
            RepairOverdue(
                repair_id=repair["id"],
                deadline="arrive",
                due_at=now,
                noticed_at=now,
            ),
            msg_id=f"{repair['id']}:overdue:arrive",
        )
        await until(lambda: len(receiver.accepted) == 2, "both events")

    kinds = [(r.headers["webhook-id"].split(":", 1)[1], r.ok) for r in receiver.requests]
    assert kinds == [("reported", False)] * 3 + [("reported", True), ("overdue:arrive", True)]
    first, second = (Verifier(hook["secret"]).verify(r.body, r.headers) for r in receiver.accepted)
    assert (first["type"], second["type"]) == (REPORTED, OVERDUE)
    assert first["sequence"] < second["sequence"]
    assert second["project"] == "SH-LJ"  # looked up: the overdue event does not carry it
    assert second["data"]["deadline"] == "arrive"
    states = {
        d["event_type"]: (d["state"], d["attempts"]) for d in await deliveries(hooked, hook["id"])
    }
    assert states == {REPORTED: ("delivered", 4), OVERDUE: ("delivered", 1)}


async def test_a_webhook_gets_only_its_groups_and_projects_repairs(hooked: Stack):
    created = await hooked.api.put("/v1/projects/GZ-HT", json={**PROJECT, "group": "ZX"})
    assert created.status_code == 201, created.text
    hx, zx = await hooked.key(group="HX"), await hooked.key(group="ZX")
    beijing = await hooked.key(group="HX", projects=["BJ-YH"])
    async with Receiver() as for_hx, Receiver() as for_zx, Receiver() as for_beijing:
        hx_hook = await register(hooked, for_hx.url, hx)
        zx_hook = await register(hooked, for_zx.url, zx)
        bj_hook = await register(hooked, for_beijing.url, beijing)
        narrowed = await register(hooked, for_beijing.url + "/sh", hx, projects=["SH-LJ"])
        assert zx_hook["projects"] == ["GZ-HT"] and bj_hook["projects"] == ["BJ-YH"]
        shanghai = await report(hooked)
        guangzhou = await report(hooked, project="GZ-HT", building="3", unit="3-1801")
        # Events are fanned out in stream order: once Guangzhou's reached its webhook,
        # Shanghai's rows (if any) are written too.
        await until(lambda: for_hx.accepted and for_zx.accepted, "both groups' deliveries")

        def repairs(rows: list[dict]) -> list[str]:
            return [r["repair_id"] for r in rows]

        assert repairs(await deliveries(hooked, hx_hook["id"], hx)) == [shanghai["id"]]
        assert repairs(await deliveries(hooked, zx_hook["id"], zx)) == [guangzhou["id"]]
        assert repairs(await deliveries(hooked, narrowed["id"], hx)) == [shanghai["id"]]
        assert await deliveries(hooked, bj_hook["id"], beijing) == []
    assert [r.headers["webhook-id"] for r in for_zx.requests] == [f"{guangzhou['id']}:reported"]
    assert [r.headers["webhook-id"] for r in for_hx.requests] == [f"{shanghai['id']}:reported"]


async def test_a_given_up_delivery_is_sent_again_on_request(hooked: Stack):
    async with Receiver(failures=MAX_ATTEMPTS) as receiver:
        hook = await register(hooked, receiver.url)
        await report(hooked)

        async def given_up() -> dict | None:
            rows = await deliveries(hooked, hook["id"])
            return rows[0] if rows and rows[0]["state"] == "failed" else None

        failed = await until(given_up, "the delivery to be given up")
        assert failed["attempts"] == MAX_ATTEMPTS and failed["last_status"] == 500
        assert failed["last_error"] == "HTTP 500" and failed["next_attempt_at"] is None
        listed = await hooked.api.get(f"/v1/webhooks/{hook['id']}/deliveries?state=failed")
        assert [d["id"] for d in listed.json()["deliveries"]] == [failed["id"]]
        assert len(receiver.requests) == MAX_ATTEMPTS

        retry = f"/v1/webhooks/{hook['id']}/deliveries/{failed['id']}/retry"
        queued = await hooked.api.post(retry)
        assert queued.status_code == 202, queued.text
        assert queued.json()["state"] == "pending" and queued.json()["attempts"] == 0
        await until(lambda: receiver.accepted, "the retried delivery")
        Verifier(hook["secret"]).verify(receiver.accepted[0].body, receiver.accepted[0].headers)

        async def delivered() -> bool:
            return (await deliveries(hooked, hook["id"]))[0]["state"] == "delivered"

        await until(delivered, "the retried delivery's record")
        again = await hooked.api.post(retry)
        assert again.status_code == 409 and again.json()["code"] == "delivery_not_failed"
        unknown = await hooked.api.post(f"/v1/webhooks/{hook['id']}/deliveries/999999/retry")
        assert unknown.status_code == 404 and unknown.json()["field"] == "delivery_id"


async def test_a_key_never_sees_or_touches_another_groups_webhook(stack: Stack):
    hx, zx = await stack.key(group="HX"), await stack.key(group="ZX")
    hook = await register(stack, "https://crm.example.com/hx", hx)
    theirs = await register(stack, "https://crm.example.com/zx", zx)
    path = f"/v1/webhooks/{hook['id']}"
    for method, url in (
        ("GET", path),
        ("DELETE", path),
        ("GET", f"{path}/deliveries"),
        ("POST", f"{path}/deliveries/1/retry"),
    ):
        response = await stack.api.request(method, url, headers=zx)
        assert response.status_code == 404, (method, url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unknown_webhook"
    assert [
        h["id"] for h in (await stack.api.get("/v1/webhooks", headers=zx)).json()["webhooks"]
    ] == [theirs["id"]]
    everyone = (await stack.api.get("/v1/webhooks")).json()["webhooks"]  # the operator
    assert {h["id"] for h in everyone} == {hook["id"], theirs["id"]}
    # A key narrowed to Beijing does not see a webhook that also covers Shanghai; the
    # group's full key sees the narrowed key's.
    beijing = await stack.key(group="HX", projects=["BJ-YH"])
    assert (await stack.api.get(path, headers=beijing)).status_code == 404
    own = await register(stack, "https://crm.example.com/bj", beijing)
    assert [
        h["id"] for h in (await stack.api.get("/v1/webhooks", headers=beijing)).json()["webhooks"]
    ] == [own["id"]]
    assert (await stack.api.get(f"/v1/webhooks/{own['id']}", headers=hx)).status_code == 200
    assert (await stack.api.delete(f"/v1/webhooks/{own['id']}", headers=hx)).status_code == 204

    assert (await stack.api.get(path, headers=hx)).json()["url"] == "https://crm.example.com/hx"
    assert (await stack.api.delete(path, headers=hx)).status_code == 204
    assert (await stack.api.get(path, headers=hx)).status_code == 404
    assert (await stack.api.delete(path, headers=hx)).status_code == 404
    assert (await stack.api.get("/v1/webhooks", headers=hx)).json()["webhooks"] == []


@pytest.mark.parametrize(
    ("body", "scope", "status", "code", "field"),
    [
        ({"url": "ftp://crm.example.com/hooks"}, None, 422, "invalid_field", "url"),
        ({"url": "not a url"}, None, 422, "invalid_field", "url"),
        ({"url": "https://x.example/" + "a" * 2000}, None, 422, "invalid_field", "url"),
        # Short as sent, too long once percent-encoded.
        ({"url": "https://x.example/" + "ä" * 900}, None, 422, "url_too_long", "url"),
        (
            {"url": "https://crm.example.com", "events": ["repairs.exploded.v1"]},
            None,
            422,
            "unknown_event_type",
            "events",
        ),
        (
            {"url": "https://crm.example.com", "projects": ["SH-LJ"]},
            ["BJ-YH"],
            403,
            "project_out_of_scope",
            "projects",
        ),
        (
            {"url": "https://crm.example.com", "projects": ["NOPE"]},
            "HX",
            403,
            "project_out_of_scope",
            "projects",
        ),
        (
            {"url": "https://crm.example.com", "projects": ["NOPE"]},
            "operator",
            422,
            "unknown_project",
            "projects",
        ),
        (
            {"url": "https://crm.example.com", "projects": []},
            None,
            422,
            "invalid_field",
            "projects",
        ),
    ],
)
async def test_a_bad_registration_names_the_field(stack: Stack, body, scope, status, code, field):
    headers = (
        None
        if scope == "operator"
        else await stack.key(group="HX", projects=scope if isinstance(scope, list) else None)
    )
    response = await stack.api.post("/v1/webhooks", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["field"]) == (code, field)
    assert problem["detail"] and problem["detail_zh"]
    assert (await stack.api.get("/v1/webhooks")).json()["webhooks"] == []


async def test_webhooks_need_a_key(stack: Stack):
    response = await stack.api.get("/v1/webhooks", headers={"Authorization": ""})
    assert response.status_code == 401


async def test_a_receiver_on_an_internal_address_is_refused_by_default():
    for url in ("http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/x",
                "http://[::1]:8080/x", "http://169.254.169.254/latest/meta-data"):
        reason = await private_target(url)
        assert reason and "internal address" in reason, url
    sender = WebhookSender(sessions=None, policy=DeliveryPolicy())  # type: ignore[arg-type]
    try:
        hook = Webhook(id="w", url="http://127.0.0.1:9/hook", secret="whsec_" + "A" * 44)
        delivery = WebhookDelivery(event_id="e", payload={"x": 1})
        code, error = await sender._post(delivery, hook)
    finally:
        await sender.close()
    assert code is None and error and "REPAIRFLOW_WEBHOOK_ALLOW_PRIVATE_NETWORKS" in error
