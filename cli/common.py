"""What the subcommands share: loading a scenario with a one-line error, durations, messages."""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_INTERNAL = 3  # a bug in dmaviz, reported in one line


def error(message: str) -> int:
    """Print ``dmaviz: message`` on stderr; the status for invalid input."""
    print(f"dmaviz: {message}", file=sys.stderr)
    return EXIT_INVALID


def load_scenario(source: str) -> Any:
    """The scenario, or None after printing the one-line reason it cannot be used."""
    from model.scenario import ScenarioError, load

    try:
        return load(source)
    except ScenarioError as exc:
        error(str(exc))
        return None


def duration(text: str) -> int:
    """argparse type for DURATION (ns, us, ms, s)."""
    from model.units import DurationError, parse_duration

    if text.strip().startswith("-"):
        raise argparse.ArgumentTypeError(
            f"{text!r}: a duration cannot be negative; give the simulated time from the start, e.g. 5ms"
        )
    try:
        value = parse_duration(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the duration must be more than 0")
    return value


SCENARIO_HELP = "a scenario file (.toml) or the name of a built-in scenario (see `dmaviz scenarios`)"
