"""Test signals: the periodic table behind ramps and silence gives the bytes the formula gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from model.wave_format import Signal, SignalKind, WaveFormat

formats = st.builds(
    WaveFormat, st.sampled_from([8000, 22050, 48000]), st.sampled_from([8, 16]), st.sampled_from([1, 2])
)


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from([SignalKind.RAMP, SignalKind.SILENCE]),
    fmt=formats,
    offset=st.integers(0, 10**10),
    length=st.integers(1, 3 * (1 << 17)),
)
def test_periodic_signals_read_from_the_table_equal_the_formula(
    kind: SignalKind, fmt: WaveFormat, offset: int, length: int
) -> None:
    signal = Signal(kind)
    fast = signal.bytes_at(fmt, offset, length)
    assert fast.dtype == np.uint8 and len(fast) == length
    assert np.array_equal(fast, signal._compute(fmt, offset, length))


def test_a_ramp_stretch_is_a_fresh_writable_array() -> None:
    data = Signal(SignalKind.RAMP).bytes_at(WaveFormat(), 6, 4)
    data[0] = 0xFF  # callers may scribble on what they get; the table must not change
    assert Signal(SignalKind.RAMP).bytes_at(WaveFormat(), 6, 4)[0] == 3
