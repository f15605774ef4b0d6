"""Account counts as exports display them: every unit and grouping read, anything else refused."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamflood.io.counts import parse_count

UNITS = {"": 1, "k": 1e3, "K": 1e3, "w": 1e4, "W": 1e4, "万": 1e4, "m": 1e6, "M": 1e6, "亿": 1e8, "b": 1e9, "B": 1e9}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1.2万", 12_000),
        ("12万", 120_000),
        ("10万+", 100_000),
        ("1.2亿", 120_000_000),
        ("1.2k", 1_200),
        ("1.5M", 1_500_000),
        ("3,456", 3_456),
        ("1,234,567", 1_234_567),
        ("3，456", 3_456),  # a full-width comma
        (" 42 ", 42),
        ("1e3", 1_000),
        ("0", 0),
        ("2.5", 2.5),  # a plain decimal stays as written
        ("1.23456万", 12_346),  # a count with a unit is whole
    ],
)
def test_display_counts(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    "text, reason",
    [
        ("many", "expected a number, got 'many'"),
        ("1,2", "expected a number, got '1,2'"),  # commas group thousands, nothing else
        ("12,34,567", "expected a number"),
        ("万", "expected a number"),
        ("", "expected a number"),
        ("-3", "non-negative"),
        ("nan", "non-negative finite"),
        ("inf", "non-negative finite"),
        ("9" * 400, "(400 characters)"),  # past any float; the message stays short
    ],
)
def test_what_is_not_a_count_says_why(text, reason):
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_count(text)


@given(
    st.integers(0, 10**12),
    st.sampled_from(sorted(UNITS)),
    st.booleans(),
    st.sampled_from(["", "+"]),
    st.sampled_from(["", " "]),
)
def test_every_whole_count_is_read_in_every_display(n, unit, grouped, plus, space):
    number = f"{n:,}" if grouped else str(n)
    assert parse_count(f"{space}{number}{space if unit else ''}{unit}{plus}{space}") == n * UNITS[unit]


@given(st.integers(0, 10**6), st.integers(0, 99), st.sampled_from([u for u in UNITS if u]))
def test_a_decimal_with_a_unit_is_rounded_to_a_whole_count(whole, hundredths, unit):
    value = parse_count(f"{whole}.{hundredths:02d}{unit}")
    assert value == round((whole + hundredths / 100) * UNITS[unit])
    assert value.is_integer()


@given(st.text(max_size=12))
def test_any_text_is_a_finite_non_negative_count_or_a_value_error(text):
    try:
        value = parse_count(text)
    except ValueError as exc:
        assert str(exc).startswith("expected a")
        return
    assert isinstance(value, float) and math.isfinite(value) and value >= 0
