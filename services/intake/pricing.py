"""Pricing a paid repair's quote (有偿维修报价) from the project's standard service items
(常规服务项目表): a pure rule over plain data, tested without any server.

- The project has a table: each line names one of its codes and gets the table's name and
  unit price; a unit price given must be the table's (prices are reviewed and approved, a
  technician does not invent them). Work outside the table, its price negotiated with the
  owner by the maintenance supervisor (001 §4.3.3), is quoted as `OFF-LIST` with its name
  and unit price given.
- The project has no table: every line carries its own name and unit price.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.common.errors import Rejection
from workflows.repair.messages import Quote, QuoteLine

OFF_LIST = "OFF-LIST"


class LineAsked(Protocol):
    """A quote line as the caller wrote it: a code and a quantity, name and price optional."""

    code: str
    name: str | None
    quantity: int
    unit_price_fen: int | None


@dataclass(frozen=True)
class StandardItem:
    """One row of the table as pricing needs it."""

    name: str
    unit_price_fen: int


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def price(*, project: str, lines: Sequence[LineAsked], by: str,
          table: Mapping[str, StandardItem], field: str = "lines") -> Quote:
    """The quote, each line priced by the rules above; every line at fault is refused at
    once (the first is the answer's `field`, all are in `errors`). An empty table is a
    project without one."""
    priced: list[QuoteLine] = []
    problems: list[dict[str, str]] = []

    def refuse(at: str, code: str, message_en: str, message_zh: str) -> None:
        problems.append({"field": at, "code": code, "message_en": message_en,
                         "message_zh": message_zh})

    for index, line in enumerate(lines):
        at = f"{field}[{index}]"
        standard = table.get(line.code) if line.code != OFF_LIST else None
        if standard is None and table and line.code != OFF_LIST:
            refuse(f"{at}.code", "unknown_service_item",
                   f"{line.code!r} is not one of project {project}'s standard service items; "
                   f"quote work outside them as {OFF_LIST!r} with its name and the unit price "
                   "agreed with the owner.",
                   f"“{line.code}”不在{project}项目的常规服务项目表中；表外项目请以"
                   f"“{OFF_LIST}”报价，并填写名称和与业主协商的单价。")
        elif standard is not None:
            if line.unit_price_fen is not None and line.unit_price_fen != standard.unit_price_fen:
                refuse(f"{at}.unit_price_fen", "not_the_standard_price",
                       f"{line.code} ({standard.name}) is {yuan(standard.unit_price_fen)} yuan "
                       f"({standard.unit_price_fen} fen) in the standard service items, not "
                       f"{line.unit_price_fen} fen; leave the price out to take the table's.",
                       f"{line.code}（{standard.name}）的标准单价为{yuan(standard.unit_price_fen)}"
                       f"元（{standard.unit_price_fen}分），不是{line.unit_price_fen}分；"
                       "不填单价即按服务项目表计价。")
            else:
                priced.append(QuoteLine(code=line.code, name=standard.name,
                                        quantity=line.quantity,
                                        unit_price_fen=standard.unit_price_fen))
        elif line.name is None or line.unit_price_fen is None:
            missing = "name" if line.name is None else "unit_price_fen"
            if table:
                en = (f"An item outside the standard service items ({OFF_LIST}) needs its name "
                      "and the unit price agreed with the owner.")
                zh = "表外项目（OFF-LIST）须填写名称和与业主协商的单价。"
            else:
                en = (f"Project {project} has no standard service items: give each line its "
                      "name and unit_price_fen.")
                zh = f"{project}项目尚无常规服务项目表，每项报价须填写名称和单价。"
            refuse(f"{at}.{missing}", "price_required", en, zh)
        else:
            priced.append(QuoteLine(code=line.code, name=line.name, quantity=line.quantity,
                                    unit_price_fen=line.unit_price_fen))
    if problems:
        first = problems[0]
        raise Rejection(first["code"], first["message_en"], first["message_zh"],
                        first["field"], 422, errors=problems if len(problems) > 1 else None)
    return Quote(lines=priced, by=by)
