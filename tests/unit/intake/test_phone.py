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
        ("138-0013-8000", "13800138000"),
        ("+86-138-0013-8000", "13800138000"),
        ("0086 138 0013 8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),  # typed with a full-width IME
        ("021-62345678", "021-62345678"),
        ("02162345678", "021-62345678"),
        ("(021) 6234 5678", "021-62345678"),
        ("021-6234-5678", "021-62345678"),
        ("0755 12345678", "0755-12345678"),
        ("0571-8765432", "0571-8765432"),
        ("+86 10 88776655", "010-88776655"),
        ("0086-755-12345678", "0755-12345678"),
        ("010-88776655-123", "010-88776655-123"),
        ("010-88776655 转801", "010-88776655-801"),
        ("010 8877 6655 ext 801", "010-88776655-801"),
        ("010-88776655#12", "010-88776655-12"),
    ],
)
def test_valid_numbers_are_kept_in_one_form(typed: str, stored: str):
    assert normalise_phone(typed) == stored
    assert normalise_phone(stored) == stored  # the stored form reads back as itself


@pytest.mark.parametrize(
    "typed", ["", "12345", "12800138000", "1380013800", "138001380001", "62345678", "abc",
              "400-820-8820", "021-1234567", "021-123456789", "0755-123456", "+86 12345",
              "13800138000 转801"]
)
def test_other_strings_are_not_phone_numbers(typed: str):
    with pytest.raises(ValueError):
        normalise_phone(typed)
