"""Mainland phone numbers as call-center agents type them."""

from __future__ import annotations

import pytest

from services.intake.schemas import normalise_phone


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("+86 13800138000", "13800138000"),
        ("+86-13800138000", "13800138000"),
        ("021-62345678", "021-62345678"),
        ("0755 12345678", "075512345678"),
        ("010-88776655-123", "010-88776655-123"),
    ],
)
def test_valid_numbers_are_kept_in_one_form(typed: str, stored: str):
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize(
    "typed", ["", "12345", "12800138000", "1380013800", "138001380001", "62345678", "abc"]
)
def test_other_strings_are_not_phone_numbers(typed: str):
    with pytest.raises(ValueError):
        normalise_phone(typed)
