"""Plumbing for importers that read a spreadsheet (CSV) or a YAML file, in no service's terms.

Reading a file's text (`read_text`, or `Unreadable`), the cells that are not plain text
(`parse_date`, `parse_bool`, `parse_int`, or `BadCell`), problems located by row or line
(`RowProblem`), pydantic's errors in English and Chinese (`explain`, `explain_all`), and the
lines that report them (`report_lines`, `summary_line`). Which columns a sheet has and what
its rows mean stay with the service that owns them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

Loc = tuple[str | int, ...]


class Unreadable(Exception):
    """The file cannot be read at all: missing, not UTF-8, malformed, or of an unknown kind."""

    def __init__(self, message_en: str, message_zh: str) -> None:
        super().__init__(f"{message_en} / {message_zh}")


class BadCell(ValueError):
    """A cell that cannot be read; its args are the English and the Chinese message."""


@dataclass(frozen=True)
class RowProblem:
    """One problem, at a spreadsheet row (CSV) or a line (YAML) when known."""

    row: int | None
    field: str
    message_en: str
    message_zh: str


def read_text(path: Path) -> str:
    """The file's text, UTF-8 with or without a BOM; `Unreadable` if it is missing or not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except FileNotFoundError:
        raise Unreadable(f"{path}: no such file", f"{path}：文件不存在") from None
    except OSError as error:
        raise Unreadable(f"{path}: {error.strerror}", f"{path}：无法读取") from None
    except UnicodeDecodeError as error:
        raise Unreadable(
            f"{path} is not UTF-8 (byte {error.object[error.start]:#04x} at {error.start}); "
            "save it as CSV UTF-8", f"{path}不是UTF-8编码，请另存为“CSV UTF-8”格式") from None


# --- cells ------------------------------------------------------------------------------------

def parse_date(text: str) -> date:
    """2023-06-30, or 2023/6/30 as spreadsheets write it."""
    match = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", text)
    try:
        return date(*(int(x) for x in match.groups()))  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        raise BadCell(f"{text!r} is not a date; write 2023-06-30.",
                      f"“{text}”不是有效日期，请写成2023-06-30。") from None


def parse_bool(text: str) -> bool:
    """true/false, yes/no, 1/0 (in any case) or 是/否."""
    value = {"true": True, "yes": True, "1": True, "是": True,
             "false": False, "no": False, "0": False, "否": False}.get(text.lower())
    if value is None:
        raise BadCell(f"{text!r} is not yes or no; write true or false.",
                      f"“{text}”无法识别，请填写是或否。")
    return value


def parse_int(text: str) -> int:
    """A whole number, digits only."""
    if not text.isdigit():
        raise BadCell(f"{text!r} is not a whole number.", f"“{text}”不是整数。")
    return int(text)


# --- pydantic's errors ------------------------------------------------------------------------

def loc_of(path: str) -> Loc:
    """`buildings[0].units[3].delivered_on` → ("buildings", 0, "units", 3, "delivered_on")."""
    return tuple(int(index) if index else name
                 for name, index in re.findall(r"(\w+)|\[(\d+)\]", path))


def path_of(loc: Loc) -> str:
    """The inverse of `loc_of`."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc
                   ).lstrip(".")


def explain_all(error: ValidationError, prefix: Loc = ()) -> list[tuple[Loc, str, str]]:
    """Each of the error's problems: where (after `prefix`), in English and in Chinese."""
    return [(prefix + tuple(e["loc"]), *explain(e)) for e in error.errors()]


def explain(error: Any) -> tuple[str, str]:
    """English and Chinese for one pydantic error (an item of `ValidationError.errors()`)."""
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    if kind == "missing":
        return "Required.", "必填。"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        if least > 1:
            return f"At least {least} characters.", f"至少{least}个字符。"
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
    # The validators of the shared contracts: a time zone, a season's month-days.
    if error["loc"][-1:] == ("time_zone",):
        return f"{message}.", f"未知的时区“{value}”。"
    if error["loc"][-1:] in (("start",), ("end",)):
        return f"{message}.", "须为“月-日”，例如11-15。"
    return f"{message}.", f"取值无效：{message}。"


# --- reporting --------------------------------------------------------------------------------

def report_lines(problems: Iterable[RowProblem], located_by: str = "row") -> list[str]:
    """One line per problem: where, which column or path, English / Chinese
    (`row 7, delivered_on: ... / ...`; `located_by` is "row" or "line")."""
    lines = []
    for p in problems:
        where = ", ".join(filter(None, [
            f"{located_by} {p.row}" if p.row is not None else "", p.field]))
        lines.append(f"{where}: {p.message_en} / {p.message_zh}")
    return lines


def summary_line(count: int, name: object) -> str:
    """The last line of a refused import: how many problems were found in `name`."""
    return (f"{counted(count, 'problem')} in {name}; nothing was imported. "
            f"/ 发现{count}处问题，未导入任何数据。")


def counted(n: int, word: str) -> str:
    """`1 unit`, `2 units`: n and the word, plural unless n is 1."""
    return f"{n} {word}" + ("" if n == 1 else "s")
