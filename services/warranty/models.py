"""The property registry (物业档案), owned by the warranty service: groups, projects,
buildings, units and common areas. Other services ask over NATS; none reads these tables."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, ForeignKeyConstraint, Integer, MetaData, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase

SCHEMA = "warranty"


class Base(ServiceBase):
    __abstract__ = True
    metadata = MetaData(schema=SCHEMA)


class PropertyGroup(Base):
    """A developer or property-management group (集团) running many projects."""

    __tablename__ = "property_groups"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Project(Base):
    """A project (项目) in one city, with the time zone its business rules count in."""

    __tablename__ = "projects"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_code: Mapped[str] = mapped_column(ForeignKey("property_groups.code"))
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    time_zone: Mapped[str] = mapped_column(String(64))
    developer: Mapped[str | None] = mapped_column(String(200))
    jurisdiction: Mapped[str] = mapped_column(String(16), server_default="CN")
    heating_season: Mapped[dict | None] = mapped_column(JSONB)  # {"start": "11-15", "end": ...}
    cooling_season: Mapped[dict | None] = mapped_column(JSONB)
    count_season_in_progress: Mapped[bool] = mapped_column(Boolean, server_default="false")
    period_convention: Mapped[str] = mapped_column(String(24), server_default="civil_code")
    extra_days_off: Mapped[list] = mapped_column(JSONB, server_default="[]")
    extra_working_days: Mapped[list] = mapped_column(JSONB, server_default="[]")
    contract_terms: Mapped[list] = mapped_column(JSONB, server_default="[]")
    categories: Mapped[list] = mapped_column(JSONB, server_default="[]")


class Building(Base):
    """A building (楼栋): its completion dates (竣工验收合格之日 and the SPC edge cases), the
    parties liable for its works, and when its common parts were handed over."""

    __tablename__ = "buildings"
    project_code: Mapped[str] = mapped_column(
        ForeignKey("projects.code", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    completion_accepted_on: Mapped[date | None] = mapped_column(Date)
    completion_reported_on: Mapped[date | None] = mapped_column(Date)
    acceptance_delayed_by_developer: Mapped[bool] = mapped_column(Boolean, server_default="false")
    possession_on: Mapped[date | None] = mapped_column(Date)
    design_service_life_years: Mapped[int] = mapped_column(Integer, server_default="50")
    general_contractor: Mapped[str | None] = mapped_column(String(200))
    subcontractors: Mapped[dict] = mapped_column(JSONB, server_default="{}")  # trade → company
    manufacturers: Mapped[list] = mapped_column(JSONB, server_default="[]")
    common_areas_delivered_on: Mapped[date | None] = mapped_column(Date)


class Unit(Base):
    """A unit (房号) with its delivery day (交付之日) and owner (业主)."""

    __tablename__ = "units"
    __table_args__ = (
        ForeignKeyConstraint(
            ["project_code", "building_code"],
            ["buildings.project_code", "buildings.code"],
            ondelete="CASCADE",
        ),
    )
    project_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    building_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    owner_name: Mapped[str | None] = mapped_column(String(100))
    owner_phone: Mapped[str | None] = mapped_column(String(32))


class CommonArea(Base):
    """A common area (公共区域) of a building: lobby, roof, basement, lift..."""

    __tablename__ = "common_areas"
    __table_args__ = (
        ForeignKeyConstraint(
            ["project_code", "building_code"],
            ["buildings.project_code", "buildings.code"],
            ondelete="CASCADE",
        ),
    )
    project_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    building_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
