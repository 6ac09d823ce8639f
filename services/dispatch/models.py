"""Dispatch's own tables: teams, technicians (维修技工), working hours, on-call rotas, leave,
duty leaders, and the offers of repairs to technicians (派工记录)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase

SCHEMA = "dispatch"


class Base(ServiceBase):
    __abstract__ = True
    metadata = MetaData(schema=SCHEMA)


class ProjectHours(Base):
    """A project's working hours (default 08:00-17:30) and its calendar exceptions."""

    __tablename__ = "project_hours"
    project: Mapped[str] = mapped_column(String(32), primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    day_start: Mapped[time] = mapped_column(Time)
    day_end: Mapped[time] = mapped_column(Time)
    extra_days_off: Mapped[list] = mapped_column(JSONB, server_default="[]")
    extra_working_days: Mapped[list] = mapped_column(JSONB, server_default="[]")


class Team(Base):
    """A property's engineering team, a developer's after-sales team, or a contractor's or
    manufacturer's team (named by `party_name` as the registry names the company)."""

    __tablename__ = "teams"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    party_name: Mapped[str | None] = mapped_column(String(200))
    projects: Mapped[list[str]] = mapped_column(ARRAY(String(32)))


class Technician(Base):
    """A technician with the trades (工种) they practise and the projects they serve."""

    __tablename__ = "technicians"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    trades: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    projects: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"))
    day_shift: Mapped[bool] = mapped_column(Boolean, server_default="true")
    max_open_orders: Mapped[int] = mapped_column(Integer, server_default="3")
    # Removed technicians stay for the history of their offers, inactive.
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")


class OnCall(Base):
    """An on-call interval [starts_at, ends_at) outside working hours (值班)."""

    __tablename__ = "on_call"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    technician_id: Mapped[str] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"),
                                               index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Leave(Base):
    """Days a technician is away (请假), both ends included."""

    __tablename__ = "leave"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    technician_id: Mapped[str] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"),
                                               index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)


class DutyLeader(Base):
    """Who leads a team's reports on a day (售后维修小组当日总负责人)."""

    __tablename__ = "duty_leaders"
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"),
                                         primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    technician_id: Mapped[str] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"))


class Need(Base):
    """What a repair needs, remembered from its first assignment for the next candidates."""

    __tablename__ = "needs"
    repair_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project: Mapped[str] = mapped_column(String(32))
    trade: Mapped[str] = mapped_column(String(32))
    emergency: Mapped[bool] = mapped_column(Boolean)
    delegate_to: Mapped[str | None] = mapped_column(String(200))
    arrive_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OfferRecord(Base):
    """A repair offered to a technician, and what became of the offer."""

    __tablename__ = "offers"
    __table_args__ = (Index("offers_open", "technician_id", postgresql_where="closed_at IS NULL"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    repair_id: Mapped[str] = mapped_column(String(36), index=True)
    technician_id: Mapped[str] = mapped_column(ForeignKey("technicians.id"))
    state: Mapped[str] = mapped_column(String(16))  # offered, accepted, declined, timed_out
    rule: Mapped[str] = mapped_column(Text)
    offered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    arrive_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
