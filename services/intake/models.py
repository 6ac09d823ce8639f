"""Intake's own tables: the repairs as reported (报修单) and the outbox of what must follow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase

SCHEMA = "intake"


class Base(ServiceBase):
    __abstract__ = True
    metadata = MetaData(schema=SCHEMA)


class Repair(Base):
    """One reported defect and the read model of its progress."""

    __tablename__ = "repairs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket: Mapped[str] = mapped_column(String(48), unique=True)
    project: Mapped[str] = mapped_column(String(32), index=True)
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(32))
    common_area: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    emergency: Mapped[bool] = mapped_column(Boolean)
    reporter_name: Mapped[str] = mapped_column(String(100))
    reporter_phone: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    time_zone: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    preferred_visit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrive_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    arrive_rule: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24))
    workflow_id: Mapped[str] = mapped_column(String(64))
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    trade: Mapped[str | None] = mapped_column(String(32))  # None: reported before it was kept
    finish_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finish_rule: Mapped[str | None] = mapped_column(Text)
    respond_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    respond_rule: Mapped[str | None] = mapped_column(Text)
    # Followed from the workflow's events (read_model.py); `last_sequence` is the newest step
    # the status, assignee and overdue flag reflect, so an older event never moves them back.
    technician_id: Mapped[str | None] = mapped_column(String(32))
    reworks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    warranty_outcome: Mapped[str | None] = mapped_column(String(16))
    warranty: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # the latest decision
    # An earlier repair of the place whose guarantee (维修质保) ran at the report: its id,
    # ticket, accepted_at and ends_at (ISO, in the project's zone).
    guarantee: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # A paid repair's quote (有偿维修报价), its state and the amount waived, in fen.
    quote_total_fen: Mapped[int | None] = mapped_column(Integer)
    quote_state: Mapped[str | None] = mapped_column(String(16))
    waived_fen: Mapped[int | None] = mapped_column(Integer)
    last_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


Index("repairs_by_time", Repair.received_at.desc(), Repair.id.desc())
Index("repairs_by_place", Repair.project, Repair.building, Repair.unit, Repair.common_area,
      Repair.category)
Index("repairs_by_phone", Repair.reporter_phone)


class RepairStep(Base):
    """One step of a repair's workflow (`repairs.status_changed.v1`), numbered by the
    workflow: the timeline beyond intake's own entries."""

    __tablename__ = "repair_steps"
    repair_id: Mapped[str] = mapped_column(ForeignKey("repairs.id"), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(32))
    by: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text)
    technician_id: Mapped[str | None] = mapped_column(String(32))


class RepairCall(Base):
    """Another report of an open repair (重复报修): who called again, when, how."""

    __tablename__ = "repair_calls"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    repair_id: Mapped[str] = mapped_column(ForeignKey("repairs.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    reporter_name: Mapped[str] = mapped_column(String(100))
    reporter_phone: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    emergency: Mapped[bool] = mapped_column(Boolean)


class IdempotencyKey(Base):
    """A client's Idempotency-Key and the answer it got, so a retry gets the same one."""

    __tablename__ = "idempotency_keys"
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)  # the client (API key)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    repair_id: Mapped[str] = mapped_column(ForeignKey("repairs.id"))
    status_code: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProjectIntakeSettings(Base):
    """Intake's own per-project policy: how long an open repair absorbs repeat reports, and
    the project's service levels (a ServiceLevelPolicy document as given; None: defaults)."""

    __tablename__ = "project_settings"
    project: Mapped[str] = mapped_column(String(32), primary_key=True)
    duplicate_window_hours: Mapped[int] = mapped_column(Integer)
    service_levels: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class ServiceItem(Base):
    """One of a project's standard service items (常规服务项目表): what a paid repair is
    quoted from, with its unit (个, 次, 米, 平方米...) and its price in fen (分)."""

    __tablename__ = "service_items"
    __table_args__ = (
        CheckConstraint("unit_price_fen >= 0", name="service_items_price_not_negative"),
    )
    project: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(16))
    unit_price_fen: Mapped[int] = mapped_column(Integer)
    trade: Mapped[str | None] = mapped_column(String(32))
    # When the item last changed (a replacement that leaves it as it was keeps the time).
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TicketCounter(Base):
    """The last ticket number (工单号) given out in a project."""

    __tablename__ = "ticket_counters"
    project: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class OutboxEntry(Base):
    """Something that must happen after a commit (start a workflow, publish an event).

    Written in the same transaction as the repair, delivered by the relay until done, so a
    crash between commit and delivery delays the step but never loses it.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("outbox_pending", "next_attempt_at", postgresql_where="delivered_at IS NULL"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    repair_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class Photo(Base):
    """A photo attached to a repair (报修照片), its bytes in the attachment store."""

    __tablename__ = "photos"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    repair_id: Mapped[str] = mapped_column(ForeignKey("repairs.id"), index=True)
    store_key: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """A call-center system's key (接口密钥), scoped to a property group and optionally to
    some of its projects. Only a hash of the secret is kept: a lost key is replaced."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public: in logs and lists
    name: Mapped[str] = mapped_column(String(100))
    group: Mapped[str | None] = mapped_column(String(32))  # None: an operator's key, all groups
    projects: Mapped[list[str] | None] = mapped_column(ARRAY(String(32)))  # None: the group's all
    secret_sha256: Mapped[str] = mapped_column(String(64))
    rate_per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Webhook(Base):
    """An integrator's URL that receives the repairs' events (webhooks.py), signed with its
    own secret. Deleting one disables it; its deliveries stay for audit."""

    __tablename__ = "webhooks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), index=True)  # the API key that registered it
    group: Mapped[str | None] = mapped_column(String(32), index=True)  # None: an operator's
    # The key's projects when registered (optionally narrowed); None: every project (operator).
    projects: Mapped[list[str] | None] = mapped_column(ARRAY(String(32)))
    url: Mapped[str] = mapped_column(String(2000))
    # Kept in clear, unlike an API key's secret: every delivery is signed with it (HMAC).
    secret: Mapped[str] = mapped_column(String(100))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(64)))  # empty: every event
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One event owed to one webhook: sent until a 2xx, or given up (`failed_at`).

    Of a webhook's deliveries for one repair only the oldest open one (lowest stream
    sequence) is sent; the later ones wait behind it, so a repair's events arrive in order.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        Index(
            "webhook_deliveries_open",
            "webhook_id",
            "repair_id",
            "stream_seq",
            postgresql_where="delivered_at IS NULL AND failed_at IS NULL",
        ),
        Index(
            "webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where="delivered_at IS NULL AND failed_at IS NULL",
        ),
        Index("webhook_deliveries_by_webhook", "webhook_id", "id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id"))
    event_id: Mapped[str] = mapped_column(String(200))  # Nats-Msg-Id, else stream:sequence
    repair_id: Mapped[str] = mapped_column(String(36))
    stream_seq: Mapped[int] = mapped_column(BigInteger)  # the order of the repair's events
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the body, as sent
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When it (re-)entered the queue: the age limit counts from here.
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # given up
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
