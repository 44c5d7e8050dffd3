"""Time units and durations on the virtual clock (integer nanoseconds)."""

from __future__ import annotations

import re

NS = 1
US = 1_000
MS = 1_000_000
S = 1_000_000_000

_SUFFIX_NS = {"ns": NS, "us": US, "µs": US, "ms": MS, "s": S}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ns|us|µs|ms|s)\s*$")


class DurationError(ValueError):
    """A duration string that cannot be read."""


def parse_duration(text: str | int) -> int:
    """Read '250ms', '1.5s', '40us' or '12ns' as integer nanoseconds.

    A bare integer is taken as nanoseconds. Fractions of a nanosecond are refused
    rather than rounded, so a scenario never means something it did not say.
    """
    if isinstance(text, bool):
        raise DurationError(f"expected a duration such as '10ms', found {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise DurationError(f"a duration cannot be negative, found {text}")
        return text
    if not isinstance(text, str):
        raise DurationError(f"expected a duration such as '10ms', found {text!r}")
    match = _DURATION_RE.match(text)
    if not match:
        raise DurationError(f"expected a duration such as '250ms' or '1.5s' (units ns, us, ms, s), found {text!r}")
    number, unit = match.groups()
    scale = _SUFFIX_NS[unit]
    if "." in number:
        whole, _, frac = number.partition(".")
        frac_digits = len(frac)
        numerator = int(whole or "0") * 10**frac_digits + int(frac)
        value, remainder = divmod(numerator * scale, 10**frac_digits)
        if remainder:
            raise DurationError(f"{text!r} is not a whole number of nanoseconds")
        return value
    return int(number) * scale


def format_ns(t_ns: int) -> str:
    """Human form of a time: '12.500 ms', '1.250000 s', '750 ns'."""
    sign = "-" if t_ns < 0 else ""
    t = abs(t_ns)
    # Integer arithmetic, truncated: exact for any time, and 999_999_999 ns never shows
    # as "1000.000 ms" (float rounding carried into the next unit).
    if t >= S:
        return f"{sign}{t // S}.{t % S // US:06d} s"
    if t >= MS:
        return f"{sign}{t // MS}.{t % MS // US:03d} ms"
    if t >= US:
        return f"{sign}{t // US}.{t % US:03d} µs"
    return f"{sign}{t} ns"


def units_by(t_ns: int, rate_per_s: int) -> int:
    """Whole units completed after t_ns at rate_per_s (floored, integer arithmetic)."""
    return t_ns * rate_per_s // S


def time_of_unit(k: int, rate_per_s: int) -> int:
    """Earliest elapsed time (ns) at which k whole units have completed at rate_per_s."""
    return -((-k * S) // rate_per_s)
