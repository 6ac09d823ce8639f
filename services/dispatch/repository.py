"""SQL for dispatch's tables. Callers own the transaction."""

from __future__ import annotations

from sqlalchemy import any_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.models import Technician
from services.dispatch.schemas import TechnicianIn


async def upsert_technician(*, session: AsyncSession, technician: TechnicianIn) -> None:
    values = technician.model_dump()
    stmt = insert(Technician).values(**values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))


async def technicians_serving(
    *, session: AsyncSession, project: str, trade: str | None = None
) -> list[Technician]:
    query = (
        select(Technician)
        .where(any_(Technician.projects) == project)
        .order_by(Technician.id)
    )
    if trade is not None:
        query = query.where(any_(Technician.trades) == trade)
    return list((await session.scalars(query)).all())
