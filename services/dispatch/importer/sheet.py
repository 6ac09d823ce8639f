"""Reading a dispatch CSV: its kind (told by the header), its cells by spreadsheet row (the
header is row 1), and the parsers of the cells that are not plain text."""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from services.common.spreadsheets import BadCell, RowProblem, Unreadable, read_text

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")  # of a date and time written without a zone


@dataclass(frozen=True)
class Kind:
    name: str
    columns: tuple[str, ...]  # as a sample file has them
    required: tuple[str, ...]
    keys: tuple[str, ...]  # the columns that tell this kind from the other two

    @property
    def header(self) -> str:
        return ",".join(self.columns)


TEAMS = Kind("teams", ("team", "team_name", "kind", "party_name", "projects"),
             required=("team", "team_name", "kind", "projects"), keys=("team", "team_name"))
TECHNICIANS = Kind("technicians", ("technician", "name", "phone", "team", "trades", "projects",
                                   "day_shift", "max_open_orders"),
                   required=("technician", "name", "phone", "team", "trades", "projects"),
                   keys=("technician", "name"))
ROSTER = Kind("roster", ("team", "technician", "kind", "starts_at", "ends_at", "day"),
              required=("team", "technician", "kind"), keys=("technician", "kind"))
KINDS = (TEAMS, TECHNICIANS, ROSTER)


@dataclass(frozen=True)
class Row:
    number: int  # in the spreadsheet
    cells: dict[str, str]  # the non-empty cells under known columns, stripped


@dataclass(frozen=True)
class Sheet:
    kind: Kind
    rows: list[Row]
    problems: list[RowProblem]  # of the header and of the rows' shape
    absent: frozenset[str]  # required columns the header lacks: reported once, on row 1


def read_sheet(path: Path) -> Sheet:
    """A .csv file's rows; `Unreadable` if it is missing, not UTF-8 or of no known kind."""
    if path.suffix.lower() != ".csv":
        raise Unreadable(f"{path}: not a .csv file; save the sheet as CSV UTF-8",
                         f"{path}：只能导入.csv文件，请另存为“CSV UTF-8”格式")
    return parse_sheet(read_text(path), str(path))


def parse_sheet(text: str, name: str = "the file") -> Sheet:
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise Unreadable(f"{name}: not a readable CSV: {error}", f"{name}：CSV格式错误") from None
    header = [cell.strip().lower() for cell in records[0]] if records else []
    kind = _kind_of(header, name)
    names, problems = _read_header(kind, header)
    rows = []
    for number, cells in enumerate(records[1:], start=2):
        if any(cell.strip() for cell in cells):
            rows.append(_read_row(number, names, cells, problems))
    if not rows:
        problems.append(RowProblem(None, "", "No rows after the header.", "表头之后没有数据行。"))
    return Sheet(kind, rows, problems, frozenset(c for c in kind.required if c not in names))


def _kind_of(header: list[str], name: str) -> Kind:
    matches = [kind for kind in KINDS if set(kind.keys) <= set(header)]
    if len(matches) == 1:
        return matches[0]
    expected = "; ".join(f"{kind.name}: {kind.header}" for kind in KINDS)
    raise Unreadable(f"{name}: row 1 is not the header of a dispatch sheet; expected {expected}",
                     f"{name}：第一行不是派工表的表头，应为以下之一：{expected}")


def _read_header(kind: Kind, header: list[str]) -> tuple[list[str | None], list[RowProblem]]:
    """Column names by position (None: unknown, "": unnamed), and the header's problems."""
    names: list[str | None] = []
    problems = []
    for name in header:
        if name and name not in kind.columns:
            hint = difflib.get_close_matches(name, kind.columns, n=1)
            en, zh = ((f"did you mean {hint[0]!r}?", f"是否应为“{hint[0]}”？") if hint else
                      (f"the columns are {kind.header}.", f"可用的列：{kind.header}。"))
            problems.append(RowProblem(1, name, f"Unknown column {name!r} in a {kind.name} "
                                       f"sheet; {en}", f"未知的列“{name}”；{zh}"))
            names.append(None)
        elif name and name in names:
            problems.append(RowProblem(1, name, f"The column {name!r} appears twice.",
                                       f"列“{name}”重复。"))
            names.append(None)
        else:
            names.append(name)
    problems += [RowProblem(1, name, f"The column {name!r} is required.",
                            f"缺少必需的列“{name}”。")
                 for name in kind.required if name not in names]
    return names, problems


def _read_row(number: int, names: list[str | None], cells: list[str],
              problems: list[RowProblem]) -> Row:
    if any(cell.strip() for cell in cells[len(names):]):
        problems.append(RowProblem(number, "", "More cells than the header has columns.",
                                   "此行的单元格多于表头的列数。"))
    found = {}
    for name, text in zip(names, cells, strict=False):
        text = text.strip()
        if name is None or not text:
            continue
        if not name:
            problems.append(RowProblem(number, "", f"{text!r} is under a column without a name.",
                                       f"“{text}”所在的列没有列名。"))
            continue
        found[name] = text
    return Row(number, found)


# --- cells ------------------------------------------------------------------------------------

def items(text: str) -> list[str]:
    """`SH-LJ;BJ-YH`, `SH-LJ、BJ-YH` or `SH-LJ, BJ-YH` (a quoted cell): each once, in order."""
    return list(dict.fromkeys(x.strip() for x in re.split(r"[;,、；，]", text) if x.strip()))


def choice(text: str, allowed: type[StrEnum] | tuple[str, ...], what: str, what_zh: str) -> str:
    """One of the allowed names, in any case."""
    return choices([text], allowed, what, what_zh)[0]


def choices(texts: list[str], allowed: type[StrEnum] | tuple[str, ...], what: str,
            what_zh: str) -> list[str]:
    """Allowed names, in any case; wrong ones are named, each with the nearest allowed name,
    and so are all the allowed names."""
    names = [str(x) for x in allowed]
    wrong = [text for text in texts if text.lower() not in names]
    if not wrong:
        return [text.lower() for text in texts]
    en, zh = [], []
    for text in wrong:
        hint = difflib.get_close_matches(text.lower(), names, n=1)
        en.append(f"{text!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        zh.append(f"“{text}”" + (f"（是否应为“{hint[0]}”？）" if hint else ""))
    raise BadCell(f"Unknown {what}{'s' * (len(wrong) > 1)} {', '.join(en)}; the {what}s are: "
                  f"{', '.join(names)}.",
                  f"未知的{what_zh}{'、'.join(zh)}；可填：{'、'.join(names)}。")


def phone(text: str) -> str:
    """Digits, with `+`, `-`, spaces or brackets: 13811110001, 021-62345678, +86 138 ..."""
    if not re.fullmatch(r"\+?[\d\- ()]+", text) or sum(c.isdigit() for c in text) < 5:
        raise BadCell(f"{text!r} is not a phone number: at least 5 digits, with '+', '-', "
                      "spaces or brackets.", f"“{text}”不是有效的电话号码：至少5位数字，"
                      "可含+、-、空格或括号。")
    return text


_MOMENT = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:T|\s+)(\d{1,2}):(\d{2})"
                     r"(?::(\d{2})(?:\.\d{1,6})?)?\s*(Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE)


def moment(text: str) -> datetime:
    """ISO 8601 (2024-05-01T18:00+08:00), or 2024/5/1 18:00 as spreadsheets write it; a time
    without a zone is in Asia/Shanghai."""
    match = _MOMENT.fullmatch(text)
    try:
        *parts, zone = match.groups()  # type: ignore[union-attr]
        return datetime(*(int(x or 0) for x in parts), tzinfo=_zone(zone))
    except (AttributeError, ValueError):
        raise BadCell(f"{text!r} is not a date and time; write 2024-05-01 18:00 "
                      "(Asia/Shanghai unless a zone such as +08:00 follows).",
                      f"“{text}”不是有效的日期时间，请写成2024-05-01 18:00"
                      "（未注明时区按北京时间）。") from None


def _zone(text: str | None) -> timezone | ZoneInfo:
    if text is None:
        return LOCAL_ZONE
    if text.upper() == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-offset if text[0] == "-" else offset)
