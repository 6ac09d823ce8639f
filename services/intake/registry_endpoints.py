"""The registry and warranty decisions over HTTP: intake forwards them to the warranty
service, which owns the registry (a project is validated and stored there, wholly or not
at all)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from services.common.contracts import (
    WARRANTY_DETERMINE,
    WARRANTY_GET_PROJECT,
    WARRANTY_LIST_PROJECTS,
    WARRANTY_PUT_PROJECT,
)
from services.common.errors import Rejection
from services.common.registry_contracts import (
    DetermineWarranty,
    GetProject,
    ListProjects,
    ProjectIn,
    ProjectList,
    ProjectSaved,
    WarrantyDecision,
)
from services.intake.endpoints import Rt

router = APIRouter()


@router.put("/v1/projects/{code}", response_model=ProjectSaved, tags=["registry"],
            summary="Create or replace a project with its buildings, units and parties",
            responses={201: {"model": ProjectSaved}})
async def put_project(code: str, project: ProjectIn, rt: Rt, response: Response) -> ProjectSaved:
    """Idempotent: the same document twice leaves the same project. Any problem in the
    document is refused with every problem listed (`errors`), and nothing changes."""
    if project.code != code:
        raise Rejection(
            "code_mismatch", f"The body's code {project.code!r} is not {code!r}.",
            f"请求体中的项目编码“{project.code}”与路径中的“{code}”不一致。", "code", 422)
    saved = await rt.bus.ask(WARRANTY_PUT_PROJECT, project, ProjectSaved, timeout=30)
    response.status_code = status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK
    return saved


@router.get("/v1/projects", response_model=ProjectList, tags=["registry"],
            summary="Projects, optionally of one group")
async def list_projects(rt: Rt, group: str | None = None) -> ProjectList:
    return await rt.bus.ask(WARRANTY_LIST_PROJECTS, ListProjects(group=group), ProjectList)


@router.get("/v1/projects/{code}", response_model=ProjectIn, tags=["registry"],
            summary="One project, as it was saved")
async def get_project(code: str, rt: Rt) -> ProjectIn:
    return await rt.bus.ask(WARRANTY_GET_PROJECT, GetProject(code=code), ProjectIn)


@router.post("/v1/warranty/determinations", response_model=WarrantyDecision,
             tags=["warranty"], summary="Is it under warranty, who is liable, is it free?")
async def determine_warranty(command: DetermineWarranty, rt: Rt) -> WarrantyDecision:
    """Both warranty layers with their end dates and the rule behind each, who pays and who
    repairs, and an explanation in Chinese and English an agent can read to the owner."""
    return await rt.bus.ask(WARRANTY_DETERMINE, command, WarrantyDecision)
