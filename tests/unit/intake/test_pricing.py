"""Pricing a quote from the project's standard service items (pricing.py), without servers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from services.common.errors import Rejection
from services.intake.pricing import OFF_LIST, StandardItem, price, yuan

TABLE = {"PL-01": StandardItem(name="更换角阀", unit_price_fen=3500),
         "PL-09": StandardItem(name="疏通下水管道", unit_price_fen=8000)}


@dataclass
class Line:
    code: str
    quantity: int = 1
    name: str | None = None
    unit_price_fen: int | None = None


def test_a_table_item_takes_the_tables_name_and_price():
    quote = price(project="SH-LJ", by="T-SH-01", table=TABLE, lines=[
        Line("PL-01", 2), Line("PL-09", 1, name="通下水", unit_price_fen=8000)])
    assert [(q.code, q.name, q.quantity, q.unit_price_fen) for q in quote.lines] == [
        ("PL-01", "更换角阀", 2, 3500), ("PL-09", "疏通下水管道", 1, 8000)]
    assert quote.total_fen == 15_000 and quote.by == "T-SH-01"


def test_off_list_work_carries_its_agreed_price():
    quote = price(project="SH-LJ", by="T-SH-01", table=TABLE, lines=[
        Line(OFF_LIST, 1, name="安装业主自购浴霸", unit_price_fen=12_000)])
    assert quote.lines[0].name == "安装业主自购浴霸" and quote.total_fen == 12_000


@pytest.mark.parametrize(("line", "code", "field"), [
    (Line("PL-77"), "unknown_service_item", "lines[1].code"),
    (Line("PL-01", unit_price_fen=3000), "not_the_standard_price", "lines[1].unit_price_fen"),
    (Line(OFF_LIST, unit_price_fen=100), "price_required", "lines[1].name"),
    (Line(OFF_LIST, name="安装浴霸"), "price_required", "lines[1].unit_price_fen"),
])
def test_a_line_off_the_rules_is_refused_with_its_field(line, code, field):
    with pytest.raises(Rejection) as refused:
        price(project="SH-LJ", by="x", table=TABLE, lines=[Line("PL-01"), line],
              field="lines")
    assert (refused.value.code, refused.value.field, refused.value.status) == (code, field, 422)
    assert refused.value.message_zh and refused.value.message_en


def test_every_line_at_fault_is_listed_and_nested_fields_keep_their_prefix():
    with pytest.raises(Rejection) as refused:
        price(project="SH-LJ", by="x", table=TABLE, field="quote.lines",
              lines=[Line("PL-77"), Line("PL-09", unit_price_fen=1)])
    assert refused.value.field == "quote.lines[0].code"
    assert [e["field"] for e in refused.value.errors] == ["quote.lines[0].code",
                                                          "quote.lines[1].unit_price_fen"]


def test_without_a_table_each_line_brings_its_name_and_price():
    quote = price(project="BJ-YH", by="x", table={}, lines=[
        Line("ANY-1", 3, name="更换角阀", unit_price_fen=4000)])
    assert quote.total_fen == 12_000
    with pytest.raises(Rejection) as refused:
        price(project="BJ-YH", by="x", table={}, lines=[Line("PL-01", 1, name="更换角阀")])
    assert refused.value.code == "price_required"
    assert refused.value.field == "lines[0].unit_price_fen"


def test_yuan_keeps_every_fen():
    assert [yuan(f) for f in (0, 5, 3500, 1_000_001)] == ["0.00", "0.05", "35.00", "10000.01"]
