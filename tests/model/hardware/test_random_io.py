"""Random I/O-port and MMIO traffic never raises, whatever a program writes (hypothesis)."""

from __future__ import annotations

import itertools

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from model import Machine
from model.units import US

_MACHINE = Machine()
PORTS = sorted(_MACHINE.io._ports)  # every claimed port: 8237 pair, page registers, SB16, AC'97
MMIO_BASE = _MACHINE.config.hda_mmio_base

operation = st.one_of(
    st.tuples(st.just("out"), st.sampled_from(PORTS), st.integers(0, 255)),
    st.tuples(st.just("in"), st.sampled_from(PORTS), st.just(0)),
    st.tuples(st.just("mmio"), st.integers(0, 0x3FFC), st.integers(0, 0xFFFFFFFF)),
    st.tuples(st.just("time"), st.just(0), st.integers(0, 5_000)),
)


@given(st.lists(operation, min_size=1, max_size=80))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_port_traffic_never_raises(ops: list[tuple[str, int, int]]) -> None:
    machine = Machine()
    machine.mmio_write(MMIO_BASE + 0x08, 1)  # HD Audio out of reset, so its registers respond
    for kind, where, value in ops:
        if kind == "out":
            machine.io_write(where, value)
        elif kind == "in":
            assert 0 <= machine.io_read(where) <= 0xFF
        elif kind == "mmio":
            machine.mmio_write(MMIO_BASE + where, value, 4)
            assert 0 <= machine.mmio_read(MMIO_BASE + where, 4) <= 0xFFFFFFFF
        else:
            machine.run_for(value * US)
    records = machine.trace.records
    assert all(a.t_ns <= b.t_ns for a, b in itertools.pairwise(records))
