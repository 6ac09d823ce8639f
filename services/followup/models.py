"""Follow-up's own tables: the repairs it follows (facts copied from the repairs' events),
return visits (回访) with their results, complaints (投诉), the sampling counts that keep
each period's visit rate, corrective actions (纠正预防措施), planned quality revisits
(质量回访) and the warranty certificates handed to owners (保修证书/维修卡). Records past the
retention period are archived (`archived_at`), never deleted."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase

SCHEMA = "followup"


class Base(ServiceBase):
    __abstract__ = True
    metadata = MetaData(schema=SCHEMA)


class FollowedRepair(Base):
    """A reported repair's place and category (from `repairs.reported.v1`), when its work
    was last completed (the `completed` step: a return visit's window counts from it) and
    when it was closed (from `repairs.status_changed.v1`)."""

    __tablename__ = "repairs"
    repair_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket: Mapped[str] = mapped_column(String(40))
    project: Mapped[str] = mapped_column(String(32), index=True)
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(32))
    common_area: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReturnVisit(Base):
    """One job that may get a return visit: selected (status `due`, then `done`) or not
    (`not_selected`, kept so the rate's denominator is on record)."""

    __tablename__ = "visits"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # repair-<id>, complaint-<id>
    kind: Mapped[str] = mapped_column(String(20))
    project: Mapped[str] = mapped_column(String(32), index=True)
    building: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(100))  # a complaint's subject
    repair_id: Mapped[str | None] = mapped_column(String(36))
    complaint_id: Mapped[str | None] = mapped_column(String(80))
    # The repair completed, the complaint handled: the window's start and the quarter the
    # job is sampled and counted in.
    served_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(20))
    selected_by: Mapped[str] = mapped_column(String(40))
    in_unit: Mapped[bool] = mapped_column(Boolean)
    assignee_role: Mapped[str] = mapped_column(String(40))
    assignee: Mapped[str | None] = mapped_column(String(100))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    late_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalations: Mapped[list] = mapped_column(JSONB, default=list)
    result: Mapped[dict | None] = mapped_column(JSONB)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProjectPolicy(Base):
    """A project's follow-up policy (回访制度) as its document; absent, the defaults."""

    __tablename__ = "policies"
    project: Mapped[str] = mapped_column(String(32), primary_key=True)
    document: Mapped[dict] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SamplingCount(Base):
    """Per project, kind and quarter: jobs seen and visits chosen so far (抽样计数). Locked
    while a job is decided, so two at once cannot both skip the one that keeps the rate."""

    __tablename__ = "sampling"
    project: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)  # 2026Q3
    seen: Mapped[int] = mapped_column(Integer, default=0)
    selected: Mapped[int] = mapped_column(Integer, default=0)


class Complaint(Base):
    """A complaint (投诉): opened by an unsatisfactory visit, to be answered (handled) by
    `respond_by`; not handled by then it is late and escalated; handled, it gets a visit."""

    __tablename__ = "complaints"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    project: Mapped[str] = mapped_column(String(32), index=True)
    building: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text)
    major: Mapped[bool] = mapped_column(Boolean)
    source_visit_id: Mapped[str | None] = mapped_column(String(80))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    respond_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    assignee_role: Mapped[str] = mapped_column(String(40))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    late_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalations: Mapped[list] = mapped_column(JSONB, default=list)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_by: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CorrectiveAction(Base):
    """The same repair three times or more at one place, a unit or a common area of a
    building (`unit` null): the technical department's record (不合格/纠正预防措施), with
    the repairs, an owner and a due date."""

    __tablename__ = "corrective_actions"
    # project/unit/category/date, or project/building:common area/category/date
    id: Mapped[str] = mapped_column(String(240), primary_key=True)
    project: Mapped[str] = mapped_column(String(32), index=True)
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(32))
    common_area: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32))
    repair_ids: Mapped[list[str]] = mapped_column(ARRAY(String(36)))
    owner: Mapped[str] = mapped_column(String(40))
    detected_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)


class Revisit(Base):
    """A planned quality revisit (质量回访) of a building: due on a day, made once, with its
    result and the repairs it found. One per (project, year, kind, due_on, building, scope),
    so planning a year again adds only what is missing."""

    __tablename__ = "revisits"
    __table_args__ = (
        UniqueConstraint("project", "year", "kind", "due_on", "building", "scope",
                         name="uq_revisits_plan_item"),
        Index("ix_followup_revisits_project_due_on", "project", "due_on"),
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    project: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # half_yearly, quarterly, seasonal, ...
    due_on: Mapped[date] = mapped_column(Date)
    building: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # planned, done
    result: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[str | None] = mapped_column(String(100))
    found_repair_ids: Mapped[list[str]] = mapped_column(ARRAY(String(36)))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Certificate(Base):
    """A unit's warranty certificate and repair card (保修证书/维修卡), due to its owner
    within one month of the building's completion (竣工一个月内, 002 篇4 §3; of delivery
    when the completion is not known); `issued_on` stays empty until handed over."""

    __tablename__ = "certificates"
    project: Mapped[str] = mapped_column(String(32), primary_key=True)
    building: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivered_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    issued_on: Mapped[date | None] = mapped_column(Date)
    issued_by: Mapped[str | None] = mapped_column(String(100))
