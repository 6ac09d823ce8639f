"""Wire shapes of dispatch data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TechnicianIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=5, max_length=32)
    trades: list[str] = Field(min_length=1)
    projects: list[str] = Field(min_length=1)
