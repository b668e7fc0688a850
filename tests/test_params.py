"""Whole numbers from requests: ASCII digits within the database's range, or nothing."""

import pytest
from django.core.exceptions import ValidationError

from core.params import DB_INT_MAX, WholeNumberField, whole_number


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        ("0", 0),
        (str(DB_INT_MAX), DB_INT_MAX),
        (str(DB_INT_MAX + 1), None),
        ("9" * 10_000, None),
        ("²", None),
        ("١", None),  # Arabic-Indic one: int() would read it as 1
        ("-1", None),
        ("1.5", None),
        ("1\x00", None),
        ("", None),
        (None, None),
        (["1"], None),
        (True, None),
        (5, 5),
    ],
)
def test_whole_number_takes_ascii_digits_within_range_only(value, expected):
    assert whole_number(value) == expected


def test_whole_number_keeps_to_the_bounds_it_is_given():
    assert whole_number("0", minimum=1) is None
    assert whole_number("11", maximum=10) is None


@pytest.mark.parametrize("value", ["²", "١", "9" * 30, "-1", "x"])
def test_a_whole_number_field_refuses_what_is_not_one_with_a_message(value):
    field = WholeNumberField(min_value=1)
    with pytest.raises(ValidationError):
        field.clean(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  kommune ", "kommune"),
        ("\x00", ""),
        ("a\x00b", "a b"),
        ("line\r\nbreak\ttab", "line break tab"),
        ("x" * 10_000, "x" * 100),
        (None, ""),
        (["list"], ""),
        ("Nav\u00a0Oslo", "Nav Oslo"),
    ],
)
def test_a_search_term_never_carries_nul_or_control_characters(value, expected):
    from core.params import search_text

    assert search_text(value) == expected
