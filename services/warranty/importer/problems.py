"""What reading a registry finds, and the words for it.

The types both readers return (`Import`, `RowProblem`, `Unreadable`), and the helpers that
turn pydantic's errors and the registry's paths (`buildings[0].units[3].delivered_on`) into
located, bilingual problems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from services.common.registry_contracts import ProjectIn

Loc = tuple[str | int, ...]


class Unreadable(Exception):
    """The file cannot be read at all: missing, not UTF-8, not YAML, or of an unknown kind."""

    def __init__(self, message_en: str, message_zh: str) -> None:
        super().__init__(f"{message_en} / {message_zh}")


@dataclass(frozen=True)
class RowProblem:
    """One problem, at a spreadsheet row (CSV) or a line (YAML) when known."""

    row: int | None
    field: str
    message_en: str
    message_zh: str


@dataclass(frozen=True)
class Import:
    """What a file holds: its projects and every problem (none: it may be saved)."""

    projects: list[ProjectIn]
    problems: list[RowProblem]
    located_by: str = "row"  # "row" (CSV) or "line" (YAML)

    def report(self) -> list[str]:
        """One line per problem: where, which column or path, English / Chinese."""
        lines = []
        for p in self.problems:
            where = ", ".join(filter(None, [
                f"{self.located_by} {p.row}" if p.row is not None else "", p.field]))
            lines.append(f"{where}: {p.message_en} / {p.message_zh}")
        return lines


def _loc(path: str) -> Loc:
    """`buildings[0].units[3].delivered_on` → ("buildings", 0, "units", 3, "delivered_on")."""
    return tuple(int(index) if index else name
                 for name, index in re.findall(r"(\w+)|\[(\d+)\]", path))


def _path(loc: Loc) -> str:
    """The inverse of `_loc`."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc
                   ).lstrip(".")


def _pydantic(error: ValidationError, prefix: Loc = ()) -> list[tuple[Loc, str, str]]:
    return [(prefix + tuple(e["loc"]), *_explain(e)) for e in error.errors()]


def _explain(error: Any) -> tuple[str, str]:
    """English and Chinese for one pydantic error."""
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    if kind == "missing":
        return "Required.", "必填。"
    if kind == "string_too_short":
        return "Must not be empty.", "不能为空。"
    if kind == "string_too_long":
        return f"At most {ctx['max_length']} characters.", f"最多{ctx['max_length']}个字符。"
    if kind == "string_pattern_mismatch":
        return (f"{value!r} is not a code: up to 32 letters, digits, '_', '.' or '-'.",
                f"“{value}”不是有效编码：最多32个字母、数字或_.-。")
    if kind == "string_type":
        return ("Must be text; quote a number such as \"1\".", "须为文本；数字请加引号，如\"1\"。")
    if kind.startswith("date"):
        return (f"{value!r} is not a date; write 2023-06-30.",
                f"“{value}”不是有效日期，请写成2023-06-30。")
    if kind.startswith("int"):
        return f"{value!r} is not a whole number.", f"“{value}”不是整数。"
    if kind == "greater_than_equal":
        return f"Must be at least {ctx['ge']}.", f"不能小于{ctx['ge']}。"
    if kind == "less_than_equal":
        return f"Must be at most {ctx['le']}.", f"不能大于{ctx['le']}。"
    if kind == "extra_forbidden":
        return "Unknown field.", "未知字段。"
    if kind in ("literal_error", "enum"):
        return f"Must be {ctx['expected']}.", f"取值须为{ctx['expected']}。"
    message = error["msg"].removeprefix("Value error, ")
    message = message[:1].upper() + message[1:]
    if error["loc"][-1:] == ("time_zone",):
        return f"{message}.", f"未知的时区“{value}”。"
    if error["loc"][-1:] in (("start",), ("end",)):
        return f"{message}.", "须为“月-日”，例如11-15。"
    return f"{message}.", f"取值无效：{message}。"
