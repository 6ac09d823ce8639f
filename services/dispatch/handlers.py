"""NATS handlers of the dispatch service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from services.common.contracts import ListTechnicians, Technician, Technicians
from services.dispatch import repository


class RosterHandlers:
    """Answers who works where."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self.sessions = sessions

    async def technicians(self, command: ListTechnicians) -> Technicians:
        """The technicians serving a project, optionally of one trade."""
        async with self.sessions() as session:
            rows = await repository.technicians_serving(
                session=session, project=command.project, trade=command.trade
            )
        return Technicians(technicians=[
            Technician(technician_id=r.id, name=r.name, phone=r.phone, trades=list(r.trades))
            for r in rows
        ])
