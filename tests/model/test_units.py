"""Durations: parsing, formatting, and the unit/time conversions devices use."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.units import MS, NS, US, DurationError, S, format_ns, parse_duration, time_of_unit, units_by


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("12ns", 12),
        ("40us", 40 * US),
        ("40µs", 40 * US),
        ("250ms", 250 * MS),
        ("1.5s", 1_500 * MS),
        (".5ms", 500 * US),
        ("0.000000001s", 1),
        ("  10 ms ", 10 * MS),
        ("0s", 0),
        (7, 7),
        (0, 0),
    ],
)
def test_parse_duration_accepts(text: str | int, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10", "units ns, us, ms, s"),
        ("-5ms", "units ns, us, ms, s"),
        ("1e3ms", "units ns, us, ms, s"),
        ("5 minutes", "units ns, us, ms, s"),
        ("", "units ns, us, ms, s"),
        ("1.5ns", "not a whole number of nanoseconds"),
        ("0.0000000001s", "not a whole number of nanoseconds"),
        (-1, "cannot be negative"),
        (1.5, "expected a duration"),
        (True, "expected a duration"),
        (None, "expected a duration"),
    ],
)
def test_parse_duration_refuses_with_a_message(value: object, message: str) -> None:
    with pytest.raises(DurationError, match=message):
        parse_duration(value)  # type: ignore[arg-type]


def test_duration_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_duration("soon")


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0 ns"),
        (750, "750 ns"),
        (1_500, "1.500 µs"),
        (12_500_000, "12.500 ms"),
        (1_250_000_000, "1.250000 s"),
        (-1_500, "-1.500 µs"),
        (999_999_999, "999.999 ms"),  # never "1000.000 ms"
        (999_999, "999.999 µs"),
        (3_600 * S + 1_000, "3600.000001 s"),
    ],
)
def test_format_ns(ns: int, text: str) -> None:
    assert format_ns(ns) == text


@given(st.integers(0, 10**15))
def test_format_ns_then_parse_is_within_the_shown_precision(ns: int) -> None:
    text = format_ns(ns).replace(" ", "")
    back = parse_duration(text)
    shown = NS if ns < MS else US  # ms and s are shown to the microsecond
    assert 0 <= ns - back < shown


@given(st.integers(0, 10**12), st.integers(1, 2_000_000))
def test_time_of_unit_is_the_first_time_the_unit_is_complete(k: int, rate: int) -> None:
    t = time_of_unit(k, rate)
    assert units_by(t, rate) >= k
    assert t == 0 or units_by(t - 1, rate) < k
