"""SQL of the intake service. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import OutboxEntry, Repair, TicketCounter


async def next_ticket_number(*, session: AsyncSession, project: str) -> int:
    """The next number of a project's tickets; the row lock serialises concurrent reports."""
    stmt = insert(TicketCounter).values(project=project, last_number=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["project"], set_={"last_number": TicketCounter.last_number + 1}
    ).returning(TicketCounter.last_number)
    return (await session.execute(stmt)).scalar_one()


async def get_repair(*, session: AsyncSession, repair_id: str) -> Repair | None:
    return await session.get(Repair, repair_id)


async def claim_pending(
    *, session: AsyncSession, now: datetime, limit: int, repair_id: str | None = None
) -> list[OutboxEntry]:
    """Lock due, undelivered entries; another relay skips what this one holds."""
    query = (
        select(OutboxEntry)
        .where(OutboxEntry.delivered_at.is_(None), OutboxEntry.next_attempt_at <= now)
        .order_by(OutboxEntry.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if repair_id is not None:
        query = query.where(OutboxEntry.repair_id == repair_id)
    return list((await session.scalars(query)).all())


async def mark_delivered(*, session: AsyncSession, entry_id: int, now: datetime) -> None:
    await session.execute(
        update(OutboxEntry).where(OutboxEntry.id == entry_id).values(delivered_at=now)
    )


async def mark_failed(
    *, session: AsyncSession, entry: OutboxEntry, now: datetime, error: str
) -> None:
    """Record the failure and back off: 1 s, 2 s, 4 s ... up to a minute."""
    delay = timedelta(seconds=min(60, 2 ** entry.attempts))
    await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == entry.id)
        .values(attempts=entry.attempts + 1, last_error=error[:2000], next_attempt_at=now + delay)
    )
