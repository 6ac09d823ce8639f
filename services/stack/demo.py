"""Demo data for a first look: loaded once into each service's own tables."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from services.common.db import make_engine, make_sessionmaker
from services.common.registry_contracts import GroupIn
from services.dispatch import repository as dispatch_repository
from services.dispatch.schemas import TechnicianIn
from services.warranty import repository as registry

DEMO_FILE = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "demo.yaml"


class DemoData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: GroupIn
    technicians: list[TechnicianIn]


def read_demo(path: Path = DEMO_FILE) -> DemoData:
    return DemoData.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


async def load_demo(database_url: str, *, path: Path = DEMO_FILE, force: bool = False) -> bool:
    """Load the demo registry and technicians unless a registry exists; True if loaded."""
    demo = read_demo(path)
    engine = make_engine(database_url, pool_size=1)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions.begin() as session:
            if not force and await registry.count_projects(session=session) > 0:
                return False
            for project in demo.group.project_documents():
                await registry.save_project(session=session, project=project)
            for technician in demo.technicians:
                await dispatch_repository.upsert_technician(session=session, technician=technician)
        return True
    finally:
        await engine.dispose()
