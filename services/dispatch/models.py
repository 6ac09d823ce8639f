"""Dispatch's own tables: the technicians (维修技工) and what they can do where."""

from __future__ import annotations

from sqlalchemy import MetaData, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase

SCHEMA = "dispatch"


class Base(ServiceBase):
    __abstract__ = True
    metadata = MetaData(schema=SCHEMA)


class Technician(Base):
    """A technician with the trades (工种) they practise and the projects they serve."""

    __tablename__ = "technicians"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    trades: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    projects: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
