"""The registry and warranty decisions over HTTP: intake forwards them to the warranty
service, which owns the registry (a project is validated and stored there, wholly or not
at all)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

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
from services.intake.auth import Authorized
from services.intake.endpoints import Rt

router = APIRouter()
ProjectCode = Annotated[str, Path(description="A project's code.", examples=["SH-LJ"])]


@router.put("/v1/projects/{code}", response_model=ProjectSaved, tags=["registry"],
            summary="Create or replace a project with its buildings, units and parties",
            responses={201: {"model": ProjectSaved}})
async def put_project(code: ProjectCode, project: ProjectIn, rt: Rt, caller: Authorized,
                      response: Response) -> ProjectSaved:
    """Idempotent: the same document twice leaves the same project. Any problem in the
    document is refused with every problem listed (`errors`), and nothing changes.
    A group's key creates and replaces projects of its own group only."""
    if project.code != code:
        raise Rejection(
            "code_mismatch", f"The body's code {project.code!r} is not {code!r}.",
            f"请求体中的项目编码“{project.code}”与路径中的“{code}”不一致。", "code", 422)
    if caller.group is not None:
        await _may_save(code, project.group, rt, caller)
    saved = await rt.bus.ask(WARRANTY_PUT_PROJECT, project, ProjectSaved, timeout=30)
    rt.directory.forget(project.group)
    response.status_code = status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK
    return saved


async def _may_save(code: str, group: str, rt: Rt, caller) -> None:
    if group != caller.group:
        raise Rejection("group_out_of_scope", f"This API key is for group {caller.group!r}, "
                        f"not {group!r}.", f"该接口密钥只能管理集团“{caller.group}”的项目。",
                        "group", 403)
    if caller.projects is not None and code not in caller.projects:
        raise Rejection("project_out_of_scope", f"This API key is not for project {code!r}.",
                        f"该接口密钥无权管理项目“{code}”。", "code", 403)
    if await rt.directory.has(caller.group, code):
        return
    try:  # a new code for this group, unless another group holds it
        await rt.bus.ask(WARRANTY_GET_PROJECT, GetProject(code=code), ProjectIn)
    except Rejection as refusal:
        if refusal.status == 404:
            return
        raise
    raise Rejection("project_code_taken", f"Project code {code!r} is taken; choose another.",
                    f"项目编码“{code}”已被占用，请另选编码。", "code", 409)


@router.get("/v1/projects", response_model=ProjectList, tags=["registry"],
            summary="Projects, optionally of one group")
async def list_projects(rt: Rt, caller: Authorized,
                        group: Annotated[str | None, Query(
                            description="A property group's code.", examples=["HX"])] = None,
                        ) -> ProjectList:
    """A group's key lists its own projects (those it was given)."""
    if caller.group is not None:
        if group not in (None, caller.group):
            return ProjectList(projects=[])
        group = caller.group
    listed = await rt.bus.ask(WARRANTY_LIST_PROJECTS, ListProjects(group=group), ProjectList)
    if caller.projects is None:
        return listed
    return ProjectList(projects=[p for p in listed.projects if p.code in caller.projects])


@router.get("/v1/projects/{code}", response_model=ProjectIn, tags=["registry"],
            summary="One project, as it was saved")
async def get_project(code: ProjectCode, rt: Rt, caller: Authorized) -> ProjectIn:
    await caller.require(code, field="code")
    return await rt.bus.ask(WARRANTY_GET_PROJECT, GetProject(code=code), ProjectIn)


@router.post("/v1/warranty/determinations", response_model=WarrantyDecision,
             tags=["warranty"], summary="Is it under warranty, who is liable, is it free?")
async def determine_warranty(command: DetermineWarranty, rt: Rt, caller: Authorized
                             ) -> WarrantyDecision:
    """Both warranty layers with their end dates and the rule behind each, who pays and who
    repairs, and an explanation in Chinese and English an agent can read to the owner."""
    await caller.require(command.project, status=422)
    return await rt.bus.ask(WARRANTY_DETERMINE, command, WarrantyDecision)
