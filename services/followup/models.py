"""Follow-up's own tables: the repairs it follows (facts copied from the repairs' events),
return visits (回访) with their results, complaints (投诉), the sampling counts that keep
each period's visit rate, and corrective actions (纠正预防措施)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Integer, MetaData, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase

SCHEMA = "followup"


class Base(ServiceBase):
    __abstract__ = True
    metadata = MetaData(schema=SCHEMA)


class FollowedRepair(Base):
    """A reported repair's place and category (from `repairs.reported.v1`), and when it
    was closed (from `repairs.status_changed.v1`)."""

    __tablename__ = "repairs"
    repair_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket: Mapped[str] = mapped_column(String(40))
    project: Mapped[str] = mapped_column(String(32), index=True)
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(32))
    common_area: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
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
    served_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
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
    """A complaint (投诉): opened by an unsatisfactory visit; handled, it gets a visit."""

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
    assignee_role: Mapped[str] = mapped_column(String(40))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_by: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(Text)


class CorrectiveAction(Base):
    """The same repair three times or more in a unit: the technical department's record
    (不合格/纠正预防措施), with the repairs, an owner and a due date."""

    __tablename__ = "corrective_actions"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)  # project/unit/category/date
    project: Mapped[str] = mapped_column(String(32), index=True)
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    repair_ids: Mapped[list[str]] = mapped_column(ARRAY(String(36)))
    owner: Mapped[str] = mapped_column(String(40))
    detected_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
