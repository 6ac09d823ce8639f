"""Signed webhooks (回调): an integrator registers a URL and receives its repairs' events.

Three parts, all in intake:

- the endpoints (`/v1/webhooks`): register, list, delete, see and retry deliveries; a key
  sees only its own group's webhooks (another group's reads as unknown);
- the fan-out: a durable JetStream consumer on the REPAIRS stream writes one delivery row
  per (webhook, event) the event concerns, commits, then acknowledges, one event at a time
  in stream order. At least once: a redelivered event inserts nothing, the row is unique
  per (webhook, event id);
- the sender: posts due deliveries signed per Standard Webhooks (HMAC-SHA256, the
  `standardwebhooks` package verifies them), retried with exponential backoff until a 2xx
  or given up. Of one webhook's open deliveries for one repair only the oldest (by stream
  sequence) is sent, so a repair's events arrive in order.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import json
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit

import httpx
import structlog
from fastapi import APIRouter, Path, Query, Response, status
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import AnyUrl, BaseModel, ConfigDict, Field, UrlConstraints
from sqlalchemy import and_, any_, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from standardwebhooks.webhooks import Webhook as Signer

from services.common import contracts
from services.common.bus import Bus
from services.common.consumer import Unreadable, consume
from services.common.contracts import WARRANTY_LIST_PROJECTS
from services.common.errors import Rejection
from services.common.registry_contracts import ListProjects, ProjectList
from services.intake.auth import Authorized, Caller
from services.intake.endpoints import Rt
from services.intake.models import ApiKey, Repair, Webhook, WebhookDelivery

log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])

CONSUMER = "intake-webhooks"
SEND_BATCH = 50
MAX_ID = 2**63 - 1  # PostgreSQL's bigint: a larger id or cursor is simply unknown
# Every `repairs.*` subject the contracts name: a lifecycle event declared there (assigned,
# arrived, completed...) can be subscribed to without touching this module.
EVENT_TYPES = frozenset(
    value
    for name, value in vars(contracts).items()
    if name.startswith("REPAIR_")
    and isinstance(value, str)
    and value.startswith("repairs.")
    and not value.endswith(">")
)


# --- wire shapes ------------------------------------------------------------------------

HookUrl = Annotated[
    AnyUrl, UrlConstraints(max_length=2000, allowed_schemes=["http", "https"], host_required=True)
]


class WebhookIn(BaseModel):
    """`POST /v1/webhooks`: where to send which events of which projects."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://crm.example.com/repairflow/events",
                    "events": ["repairs.reported.v1", "repairs.overdue.v1"],
                    "projects": ["SH-LJ"],
                }
            ]
        },
    )
    url: HookUrl = Field(description="http or https; receives a POST per event.")
    events: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list,
        max_length=50,
        description="Event types to receive, e.g. `repairs.reported.v1`; empty or absent: "
        "every event.",
    )
    projects: list[Annotated[str, Field(max_length=32)]] | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Only these projects (within the key's); absent: every project of the "
        "key when registered (an operator's key: every project, present and "
        "future).",
    )


WEBHOOK_EXAMPLE = {
    "id": "0b6f2d1e-8f1c-4a53-9a43-5f0e2b1c7d11",
    "url": "https://crm.example.com/repairflow/events",
    "events": ["repairs.reported.v1", "repairs.overdue.v1"],
    "projects": ["SH-LJ"],
    "group": "HX",
    "key_id": "3f9a1c2b7d4e",
    "created_at": "2026-12-01T09:30:00Z",
}
REPAIR_EXAMPLE = "5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"
DELIVERY_EXAMPLE = {
    "id": 42,
    "event_id": f"{REPAIR_EXAMPLE}:reported",
    "event_type": "repairs.reported.v1",
    "repair_id": REPAIR_EXAMPLE,
    "state": "pending",
    "attempts": 2,
    "created_at": "2026-12-01T09:31:00Z",
    "next_attempt_at": "2026-12-01T09:31:05Z",
    "delivered_at": None,
    "failed_at": None,
    "last_status": 503,
    "last_error": "HTTP 503",
}


class WebhookView(BaseModel):
    """A registered webhook; its secret is never shown again."""

    model_config = ConfigDict(json_schema_extra={"examples": [WEBHOOK_EXAMPLE]})
    id: str
    url: str
    events: list[str] = Field(description="Empty: every event.")
    projects: list[str] | None = Field(description="None: every project (an operator's).")
    group: str | None = Field(description="The property group; None for an operator's.")
    key_id: str = Field(description="The API key that registered it.")
    created_at: datetime


class WebhookCreated(WebhookView):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**WEBHOOK_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]
        }
    )
    secret: str = Field(
        description="Shown once: verify each delivery's `webhook-signature` "
        "with it (Standard Webhooks)."
    )


class WebhookList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"webhooks": [WEBHOOK_EXAMPLE]}]})
    webhooks: list[WebhookView]


class DeliveryView(BaseModel):
    """One event owed to a webhook and how sending it went."""

    model_config = ConfigDict(json_schema_extra={"examples": [DELIVERY_EXAMPLE]})
    id: int
    event_id: str = Field(description="The `webhook-id` header: the same on every attempt.")
    event_type: str
    repair_id: str
    state: Literal["pending", "delivered", "failed"] = Field(
        description="`failed`: given up after too many attempts or too long; see retry."
    )
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="Only while pending.")
    delivered_at: datetime | None
    failed_at: datetime | None
    last_status: int | None = Field(description="The receiver's last HTTP status.")
    last_error: str | None


class DeliveryPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"deliveries": [DELIVERY_EXAMPLE], "next_cursor": "41"}]}
    )
    deliveries: list[DeliveryView]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for older deliveries; absent on the last page."
    )


# --- endpoints --------------------------------------------------------------------------


@router.post(
    "/v1/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    summary="Register a URL for the repairs' events (回调)",
    responses={403: {"description": "A project outside the key's."}},
)
async def register_webhook(hook: WebhookIn, rt: Rt, caller: Authorized) -> WebhookCreated:
    """Each event of the covered projects is POSTed to the URL, signed with the secret
    returned here (once). See docs/webhooks.md for the payload and how to verify it."""
    unknown = sorted(set(hook.events) - EVENT_TYPES)
    if unknown:
        known = ", ".join(sorted(EVENT_TYPES))
        raise Rejection(
            "unknown_event_type",
            f"Unknown event type {unknown[0]!r}; known: {known}.",
            f"未知的事件类型“{unknown[0]}”，可选：{known}。",
            "events",
            422,
        )
    url = str(hook.url)
    if len(url) > 2000:  # normalising (punycode, percent-encoding) can lengthen it
        raise Rejection(
            "url_too_long",
            "The URL is longer than 2000 characters once normalised.",
            "网址规范化后超过 2000 个字符。",
            "url",
            422,
        )
    projects = await _covered_projects(hook.projects, rt, caller)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    webhook = Webhook(
        id=str(uuid.uuid4()),
        key_id=caller.key_id,
        group=caller.group,
        projects=projects,
        url=url,
        secret=secret,
        event_types=sorted(set(hook.events)),
        created_at=datetime.now(UTC),
        disabled_at=None,
    )
    async with rt.sessions.begin() as session:
        session.add(webhook)
    log.info("webhook registered", webhook_id=webhook.id, group=caller.group, key_id=caller.key_id)
    return WebhookCreated(**_view(webhook).model_dump(), secret=secret)


@router.get("/v1/webhooks", response_model=WebhookList, summary="The webhooks of the key's group")
async def list_webhooks(rt: Rt, caller: Authorized) -> WebhookList:
    """An operator's key sees every group's."""
    query = (
        select(Webhook)
        .where(Webhook.disabled_at.is_(None))
        .order_by(Webhook.created_at, Webhook.id)
    )
    if caller.group is not None:
        query = query.where(Webhook.group == caller.group)
    async with rt.sessions() as session:
        hooks = (await session.scalars(query)).all()
    return WebhookList(webhooks=[_view(h) for h in hooks if await _sees(caller, h)])


@router.get("/v1/webhooks/{webhook_id}", response_model=WebhookView, summary="One webhook")
async def get_webhook(webhook_id: str, rt: Rt, caller: Authorized) -> WebhookView:
    async with rt.sessions() as session:
        return _view(await _own(session, caller, webhook_id))


@router.delete(
    "/v1/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Stop sending to a webhook",
)
async def delete_webhook(webhook_id: str, rt: Rt, caller: Authorized) -> Response:
    """Nothing more is sent, not even what was waiting; its deliveries are kept for audit."""
    async with rt.sessions.begin() as session:
        webhook = await _own(session, caller, webhook_id, lock=True)
        webhook.disabled_at = datetime.now(UTC)
    log.info("webhook deleted", webhook_id=webhook_id, key_id=caller.key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    summary="A webhook's deliveries, newest first",
)
async def list_deliveries(
    webhook_id: str,
    rt: Rt,
    caller: Authorized,
    state: Literal["pending", "delivered", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> DeliveryPage:
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        query = query.where(WebhookDelivery.id < _decode_cursor(cursor))
    if state == "pending":
        query = query.where(
            WebhookDelivery.delivered_at.is_(None), WebhookDelivery.failed_at.is_(None)
        )
    elif state == "delivered":
        query = query.where(WebhookDelivery.delivered_at.is_not(None))
    elif state == "failed":
        query = query.where(WebhookDelivery.failed_at.is_not(None))
    async with rt.sessions() as session:
        await _own(session, caller, webhook_id)
        rows = (await session.scalars(query)).all()
    more = len(rows) > limit
    return DeliveryPage(
        deliveries=[_delivery_view(d) for d in rows[:limit]],
        next_cursor=str(rows[limit - 1].id) if more else None,
    )


@router.post(
    "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryView,
    summary="Send a given-up delivery again",
    responses={409: {"description": "The delivery is not a given-up one."}},
)
async def retry_delivery(
    webhook_id: str, delivery_id: Annotated[int, Path(ge=1, le=MAX_ID)], rt: Rt, caller: Authorized
) -> DeliveryView:
    """Queued again as new (its attempts start over). Later events of its repair that were
    sent meanwhile are not sent again, so this one arrives after them."""
    async with rt.sessions.begin() as session:
        await _own(session, caller, webhook_id)
        delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.webhook_id != webhook_id:
            raise Rejection(
                "unknown_delivery",
                f"No delivery {delivery_id} of this webhook.",
                f"该回调没有编号为 {delivery_id} 的投递。",
                "delivery_id",
                404,
            )
        if delivery.failed_at is None:
            raise Rejection(
                "delivery_not_failed",
                "Only a given-up delivery can be retried; "
                "this one is delivered or still being tried.",
                "只能重试已放弃的投递；该投递已送达或仍在重试中。",
                "delivery_id",
                409,
            )
        now = datetime.now(UTC)
        delivery.failed_at = None
        delivery.attempts = 0
        delivery.queued_at = now
        delivery.next_attempt_at = now
    log.info("webhook delivery queued again", webhook_id=webhook_id, delivery_id=delivery_id)
    return _delivery_view(delivery)


async def _covered_projects(
    requested: list[str] | None, rt: Rt, caller: Caller
) -> list[str] | None:
    """The projects a new webhook covers: the key's (None: every project, an operator's),
    or those requested, each of which must be within the key's."""
    allowed = await caller.allowed()
    if requested is None:
        return None if allowed is None else sorted(allowed)
    requested = sorted(set(requested))
    if allowed is None:
        listed = await rt.bus.ask(WARRANTY_LIST_PROJECTS, ListProjects(group=None), ProjectList)
        known = {p.code for p in listed.projects}
        for code in requested:
            if code not in known:
                raise Rejection(
                    "unknown_project",
                    f"Unknown project {code!r}.",
                    f"未知的项目“{code}”。",
                    "projects",
                    422,
                )
        return requested
    for code in requested:
        # Another group's project gets the same answer as one of the group's not given to
        # the key: a key cannot learn which codes other groups use.
        if code not in allowed:
            raise Rejection(
                "project_out_of_scope",
                f"This API key is not for project {code!r}.",
                f"该接口密钥无权访问项目“{code}”。",
                "projects",
                403,
            )
    return requested


async def _own(
    session: AsyncSession, caller: Caller, webhook_id: str, *, lock: bool = False
) -> Webhook:
    """The caller's live webhook, or 404 (another group's is not said to exist)."""
    webhook = await session.get(Webhook, webhook_id, with_for_update=lock)
    if webhook is None or webhook.disabled_at is not None or not await _sees(caller, webhook):
        raise Rejection(
            "unknown_webhook",
            f"No webhook {webhook_id!r}.",
            f"没有编号为“{webhook_id}”的回调。",
            "webhook_id",
            404,
        )
    return webhook


async def _sees(caller: Caller, webhook: Webhook) -> bool:
    """An operator sees every webhook; a group's key those of its group, and a key narrowed
    to some projects only those within them (their deliveries name repairs)."""
    if caller.group is None:
        return True
    if webhook.group != caller.group:
        return False
    if caller.projects is None:
        return True
    return set(webhook.projects or ()) <= (await caller.allowed() or frozenset())


def _view(webhook: Webhook) -> WebhookView:
    return WebhookView(
        id=webhook.id,
        url=webhook.url,
        events=list(webhook.event_types),
        projects=list(webhook.projects) if webhook.projects is not None else None,
        group=webhook.group,
        key_id=webhook.key_id,
        created_at=webhook.created_at,
    )


def _delivery_view(delivery: WebhookDelivery) -> DeliveryView:
    state = "delivered" if delivery.delivered_at else "failed" if delivery.failed_at else "pending"
    return DeliveryView(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        repair_id=delivery.repair_id,
        state=state,
        attempts=delivery.attempts,
        created_at=delivery.created_at,
        next_attempt_at=delivery.next_attempt_at if state == "pending" else None,
        delivered_at=delivery.delivered_at,
        failed_at=delivery.failed_at,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
    )


def _decode_cursor(cursor: str) -> int:
    if cursor.isascii() and cursor.isdigit() and 0 < int(cursor) <= MAX_ID:
        return int(cursor)
    raise Rejection(
        "invalid_cursor", "This cursor is not one we gave out.", "分页游标无效。", "cursor", 422
    )


# --- fan-out: events → delivery rows -----------------------------------------------------


async def fan_out(
    *,
    bus: Bus,
    sessions: async_sessionmaker,
    stop: asyncio.Event,
    queued: asyncio.Event | None = None,
) -> None:
    """Turn the REPAIRS stream's events into deliveries until `stop` is set; `queued` is set
    when new ones were written (it wakes the sender).

    Each event is written in its own transaction and acknowledged after the commit. The
    consumer hands out one event at a time (`max_ack_pending=1`), even to several intake
    replicas, so events become deliveries in stream order: the sender never sees a repair's
    later event before its earlier one. Repairs' events are few (thousands a day), so one
    at a time is fast enough."""
    prefix = bus.subject("")

    async def handle(subject: str, message: Msg) -> None:
        async with sessions.begin() as session:
            written = await _write_deliveries(session, message, prefix)
        if written is None:
            raise Unreadable("no repair to place it")
        if written and queued is not None:
            queued.set()

    await consume(
        bus=bus, name=CONSUMER, subjects=["repairs.>"], handle=handle, stop=stop, batch=1,
        retry_delay=lambda delivered: min(30, 2 ** min(delivered, 5)),
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=30,
            # Unlimited redelivery: an event is never dropped while PostgreSQL is away.
            max_deliver=-1,
            # One event in flight over all replicas: their commits stay in stream order.
            max_ack_pending=1,
        ))


async def _write_deliveries(session: AsyncSession, message: Msg, prefix: str) -> int | None:
    """The delivery rows of one event; returns how many were new, or None when the event
    cannot be delivered (no repair to place it): it is dropped rather than retried."""
    event_type = message.subject.removeprefix(prefix)
    try:
        data = json.loads(message.data)
    except ValueError:
        data = None
    repair_id = data.get("repair_id") if isinstance(data, dict) else None
    if not isinstance(repair_id, str) or len(repair_id) > 36:
        log.error("event without a repair dropped by the webhooks", subject=message.subject)
        return None
    project = data.get("project")
    if not isinstance(project, str):  # only RepairReported carries it
        project = await session.scalar(select(Repair.project).where(Repair.id == repair_id))
    if project is None:
        log.error(
            "event of an unknown repair dropped by the webhooks",
            repair_id=repair_id,
            subject=message.subject,
        )
        return None
    metadata = message.metadata
    published_at = metadata.timestamp
    event_id = (
        (message.headers or {}).get("Nats-Msg-Id")
        or f"{metadata.stream}:{metadata.sequence.stream}"
    )[:200]
    hooks = (
        await session.scalars(
            select(Webhook.id)
            .join(ApiKey, ApiKey.id == Webhook.key_id)
            .where(
                Webhook.disabled_at.is_(None),
                ApiKey.revoked_at.is_(None),
                or_(Webhook.projects.is_(None), literal(project) == any_(Webhook.projects)),
                or_(
                    func.cardinality(Webhook.event_types) == 0,
                    literal(event_type) == any_(Webhook.event_types),
                ),
                # A webhook receives what happens from its registration on.
                Webhook.created_at <= published_at,
            )
        )
    ).all()
    if not hooks:
        return 0
    now = datetime.now(UTC)
    body = {
        "id": event_id,
        "type": event_type,
        "repair_id": repair_id,
        "project": project,
        "sequence": metadata.sequence.stream,
        "occurred_at": published_at.isoformat(),
        "data": data,
    }
    result = await session.execute(
        insert(WebhookDelivery)
        .values(
            [
                {
                    "webhook_id": hook,
                    "event_id": event_id,
                    "repair_id": repair_id,
                    "stream_seq": metadata.sequence.stream,
                    "event_type": event_type[:64],
                    "payload": body,
                    "created_at": now,
                    "queued_at": now,
                    "attempts": 0,
                    "next_attempt_at": now,
                }
                for hook in hooks
            ]
        )
        .on_conflict_do_nothing(index_elements=["webhook_id", "event_id"])
    )
    return result.rowcount


# --- sender: delivery rows → signed POSTs -----------------------------------------------


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard to try: the timeout of one POST, the backoff and when to give up."""

    timeout: float = 10.0
    backoff_base: float = 1.0
    backoff_cap: float = 3600.0
    max_attempts: int = 50
    max_age: float = 24 * 3600.0
    # Off in production: a key must not make RepairFlow POST into its own network (SSRF).
    allow_private_networks: bool = False


def backoff(attempts: int, *, base: float, cap: float) -> float:
    """Seconds to wait after the `attempts`-th failure: doubling from `base`, at most `cap`,
    between half and all of it at random so that many failed deliveries spread out."""
    delay = min(cap, base * 2 ** min(max(attempts - 1, 0), 62))
    return delay * random.uniform(0.5, 1.0)


class WebhookSender:
    """Sends the due deliveries; any number of intake replicas may run one."""

    def __init__(self, *, sessions: async_sessionmaker, policy: DeliveryPolicy) -> None:
        self.sessions = sessions
        self.policy = policy
        self.queued = asyncio.Event()  # set by the fan-out: something new to send
        self.client = httpx.AsyncClient(
            timeout=policy.timeout,
            follow_redirects=False,
            headers={"User-Agent": "RepairFlow-Webhooks/1"},
        )

    async def send_due(self, *, limit: int = SEND_BATCH) -> int:
        """One round: claim due deliveries, post them at once, record each outcome; returns
        how many were attempted. The rows stay locked until recorded, so another replica
        skips them, and a crash mid-round only means they are sent again (at least once)."""
        async with self.sessions.begin() as session:
            claimed = (await session.execute(_due(datetime.now(UTC), limit))).all()
            if not claimed:
                return 0
            outcomes = await asyncio.gather(*(self._post(d, w) for d, w in claimed))
            finished = datetime.now(UTC)
            for (delivery, webhook), (code, error) in zip(claimed, outcomes, strict=True):
                self._record(delivery, code, error, finished, webhook)
        return len(claimed)

    async def run(self, *, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Send until `stop` is set, looking again every `interval` seconds or when woken
        (`queued`); set `queued` too when stopping, to end the wait at once."""
        while not stop.is_set():
            try:
                while not stop.is_set() and await self.send_due() > 0:
                    pass
            except Exception as exc:  # noqa: BLE001 - e.g. PostgreSQL restarting
                log.warning("webhook round failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.queued.wait(), timeout=interval)
            self.queued.clear()

    async def close(self) -> None:
        await self.client.aclose()

    async def _post(
        self, delivery: WebhookDelivery, webhook: Webhook
    ) -> tuple[int | None, str | None]:
        """The receiver's status, or None and why nothing was received."""
        if not self.policy.allow_private_networks:
            refusal = await private_target(webhook.url)
            if refusal:
                return None, refusal
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"))
        moment = datetime.now(UTC)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": Signer(webhook.secret).sign(delivery.event_id, moment, body),
        }
        try:
            # The whole exchange, not each read: a receiver trickling bytes is cut off too.
            async with asyncio.timeout(self.policy.timeout):
                # Streamed and not read: a receiver's answer is its status, whatever its size.
                async with self.client.stream(
                    "POST", webhook.url, content=body.encode(), headers=headers
                ) as response:
                    return response.status_code, None
        except TimeoutError:
            return None, f"no answer within {self.policy.timeout:g} s"
        except Exception as exc:  # noqa: BLE001 - any failure to deliver is retried
            return None, f"{type(exc).__name__}: {exc}"[:500]

    def _record(
        self,
        delivery: WebhookDelivery,
        code: int | None,
        error: str | None,
        now: datetime,
        webhook: Webhook,
    ) -> None:
        delivery.attempts += 1
        delivery.last_status = code
        if code is not None and 200 <= code < 300:
            delivery.delivered_at = now
            delivery.last_error = None
            return
        delivery.last_error = error or f"HTTP {code}"
        policy = self.policy
        if (
            delivery.attempts >= policy.max_attempts
            or (now - delivery.queued_at).total_seconds() >= policy.max_age
        ):
            delivery.failed_at = now
            log.warning(
                "webhook delivery given up",
                webhook_id=webhook.id,
                delivery_id=delivery.id,
                attempts=delivery.attempts,
                error=delivery.last_error,
            )
            return
        delivery.next_attempt_at = now + timedelta(
            seconds=backoff(delivery.attempts, base=policy.backoff_base, cap=policy.backoff_cap)
        )
        log.info(
            "webhook delivery failed; will retry",
            webhook_id=webhook.id,
            delivery_id=delivery.id,
            attempts=delivery.attempts,
            error=delivery.last_error,
        )


async def private_target(url: str) -> str | None:
    """Why a URL must not be posted to: its host resolves to a loopback, private, link-local
    or otherwise internal address (checked before each attempt, so a DNS name that moves
    inside is caught too); None when it is public."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await asyncio.get_running_loop().getaddrinfo(host, port)
    except OSError as error:
        return f"cannot resolve {host}: {error}"
    for *_, sockaddr in addresses:
        address = ipaddress.ip_address(sockaddr[0])
        if not address.is_global:
            return (f"refused: {host} is {address}, an internal address (set "
                    "REPAIRFLOW_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow)")
    return None


def _due(now: datetime, limit: int):
    """Due open deliveries of live webhooks (not deleted, their key not revoked), each the
    oldest open one of its (webhook, repair): a later event waits until the earlier one is
    delivered or given up."""
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.webhook_id == WebhookDelivery.webhook_id,
        earlier.repair_id == WebhookDelivery.repair_id,
        earlier.delivered_at.is_(None),
        earlier.failed_at.is_(None),
        earlier.stream_seq < WebhookDelivery.stream_seq,
    )
    return (
        select(WebhookDelivery, Webhook)
        .join(
            Webhook, and_(Webhook.id == WebhookDelivery.webhook_id, Webhook.disabled_at.is_(None))
        )
        # A webhook lives as long as the key that registered it: revoking stops the sending.
        .join(ApiKey, and_(ApiKey.id == Webhook.key_id, ApiKey.revoked_at.is_(None)))
        .where(
            WebhookDelivery.delivered_at.is_(None),
            WebhookDelivery.failed_at.is_(None),
            WebhookDelivery.next_attempt_at <= now,
            ~blocked,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
