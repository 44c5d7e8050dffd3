"""Shared helpers for the scenario tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MALFORMED = ROOT / "tests" / "scenarios" / "malformed"

MINIMAL = """\
title = "minimal"
[run]
until = "60ms"
[device]
kind = "sb16"
[[stream]]
[[action]]
at = "0ms"
object = "pin"
method = "SetState"
args = { State = "KSSTATE_RUN" }
"""


@pytest.fixture
def minimal_text() -> str:
    return MINIMAL
