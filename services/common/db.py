"""Async SQLAlchemy engine and sessions. Each service owns a schema; this is only plumbing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from services.common.settings import to_sqlalchemy_url


def make_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An engine on asyncpg; `pool_pre_ping` so that a restarted PostgreSQL is reconnected."""
    return create_async_engine(
        to_sqlalchemy_url(database_url), pool_size=pool_size, pool_pre_ping=True
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    """Sessions that keep loaded objects usable after commit (the handler owns the commit)."""
    return async_sessionmaker(engine, expire_on_commit=False)


class ServiceBase(DeclarativeBase):
    """Each service declares `class Base(ServiceBase)` with `metadata` bound to its schema."""

    __abstract__ = True
