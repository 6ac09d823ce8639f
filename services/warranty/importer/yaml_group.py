"""Reading a registry YAML: one group (code, name, projects), bare or under `group:`.

Each project is checked on its own, and every problem is located by its line in the file.
"""

from __future__ import annotations

import yaml
from pydantic import ValidationError

from services.common.registry_contracts import GroupIn, ProjectBody, ProjectIn
from services.common.spreadsheets import (
    Loc,
    RowProblem,
    Unreadable,
    explain_all,
    loc_of,
    path_of,
)
from services.warranty.importer.problems import Import
from services.warranty.registry import check_project


def read_yaml(text: str) -> Import:
    """A group document, bare or under `group:`; problems are located by line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else "?"
        raise Unreadable(f"not valid YAML at line {line}: {error.problem}",
                         f"YAML格式错误（第{line}行）") from None
    except yaml.YAMLError as error:
        raise Unreadable(f"not valid YAML: {error}", "YAML格式错误") from None
    if not isinstance(data, dict):
        raise Unreadable("a registry YAML is a group (code, name, projects), bare or under group:",
                         "YAML应为一个集团（code、name、projects），或写在group:之下")
    prefix: Loc = ("group",) if isinstance(data.get("group"), dict) else ()
    projects, found = _check_group(data["group"] if prefix else data)
    problems = [RowProblem(_line(root, prefix + loc), path_of(loc), en, zh)
                for loc, en, zh in found]
    problems.sort(key=lambda p: p.row or 0)
    return Import(projects, problems, located_by="line")


def _check_group(data: dict) -> tuple[list[ProjectIn], list[tuple[Loc, str, str]]]:
    """Each project on its own, so that one broken project hides nothing in the others."""
    found: list[tuple[Loc, str, str]] = []
    try:
        group = GroupIn.model_validate({k: v for k, v in data.items() if k != "projects"})
    except ValidationError as error:
        group, found = None, explain_all(error)
    bodies = data.get("projects") or []
    if not isinstance(bodies, list):
        found.append((("projects",), "Must be a list of projects.", "须为项目列表。"))
        bodies = []
    if not bodies:
        found.append((("projects",), "The file has no projects.", "文件中没有项目。"))
    projects: list[ProjectIn] = []
    codes: set[str] = set()
    for i, body in enumerate(bodies):
        at: Loc = ("projects", i)
        try:
            project = ProjectBody.model_validate(body)
        except ValidationError as error:
            found += explain_all(error, at)
            continue
        if project.code in codes:
            found.append((at + ("code",), f"The project code {project.code} appears twice.",
                          f"项目编码{project.code}重复。"))
        codes.add(project.code)
        if group is not None:
            projects.append(ProjectIn(**project.model_dump(), group=group.code,
                                      group_name=group.name))
            found += [(at + loc_of(p.field), p.message_en, p.message_zh)
                      for p in check_project(projects[-1])]
    return projects, found


def _line(node: yaml.Node | None, loc: Loc) -> int | None:
    """The line of the deepest node on the path that exists (a missing key: its mapping)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
