"""The HD Audio controller, programmed through its MMIO registers as a driver would.

Facts 41 and 42 of hardware.md section 5 each have a test; the rest covers data order over
several laps of the BDL, exact IOC times, capture, interrupts and their acknowledgement,
the DMA position buffer, pause/resume and stream reset, byte/word/dword register access,
descriptor errors, arbitrary register writes, and snapshot/restore mid-stream.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from model import MS, Machine, S
from model.hardware.hda import HdaController
from model.trace import InterruptRecord, IocRecord, StateRecord

BAR = 0xFEBF0000
GCTL, INTCTL, INTSTS, DPLBASE, DPUBASE = 0x08, 0x20, 0x24, 0x70, 0x74
GIE = 1 << 31
RUN, IOCE, DEIE = 0x02, 0x04, 0x10
BCIS, DESE = 0x04, 0x10
FMT_48K_16_STEREO = 0x0011
OUT0 = 4  # output stream 0 is descriptor 4 (ISS = 4)
BDL = 0x20000


def sd(n: int) -> int:
    return 0x80 + 0x20 * n


def w(m: Machine, off: int, value: int, size: int = 4) -> None:
    m.mmio_write(BAR + off, value, size)


def r(m: Machine, off: int, size: int = 4) -> int:
    return m.mmio_read(BAR + off, size)


def time_of_bytes(n: int, bytes_per_frame: int = 4, rate: int = 48_000) -> int:
    """When ``n`` bytes have moved: the end of the frame holding byte n-1, rounded up to the ns."""
    frames = -(-n // bytes_per_frame)
    return -(-frames * S // rate)


def noise(length: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, length, dtype=np.uint8)


def write_bdl(m: Machine, entries: list[tuple[int, int, bool]], bdl: int = BDL) -> None:
    for i, (address, length, ioc) in enumerate(entries):
        m.phys_write(bdl + 16 * i, struct.pack("<QII", address, length, 1 if ioc else 0))


def start_stream(
    m: Machine,
    n: int,
    entries: list[tuple[int, int, bool]],
    *,
    cbl: int | None = None,
    fmt: int = FMT_48K_16_STEREO,
    ctl: int = RUN | IOCE,
    bdl: int = BDL,
) -> None:
    """Leave controller reset, program descriptor ``n`` for ``entries`` and set RUN."""
    w(m, GCTL, 1)
    write_bdl(m, entries, bdl)
    base = sd(n)
    w(m, base + 0x18, bdl)
    w(m, base + 0x1C, 0)
    w(m, base + 0x08, sum(length for _, length, _ in entries) if cbl is None else cbl)
    w(m, base + 0x0C, len(entries) - 1, 2)
    w(m, base + 0x12, fmt, 2)
    w(m, INTCTL, GIE | (1 << n))
    w(m, base + 2, 1 << 4, 1)  # stream tag 1 first, then RUN
    w(m, base, ctl, 1)


def iocs(m: Machine) -> list[IocRecord]:
    return [rec for rec in m.trace.of_kind("ioc") if isinstance(rec, IocRecord)]


def irq_actions(m: Machine, irq: int = 11) -> list[str]:
    return [rec.action for rec in m.trace.of_kind("interrupt") if isinstance(rec, InterruptRecord) and rec.irq == irq]


# --- global registers -------------------------------------------------------------------------


def test_gcap_reports_four_inputs_four_outputs_like_qemu() -> None:
    m = Machine()
    assert r(m, 0x00, 2) == 0x4401
    assert (r(m, 0x00, 2) >> 8) & 0xF == 4 and (r(m, 0x00, 2) >> 12) & 0xF == 4


def test_controller_ignores_writes_until_crst_and_then_reports_a_codec() -> None:
    m = Machine()
    w(m, INTCTL, GIE | 0xFF)
    assert r(m, INTCTL) == 0  # still in reset
    w(m, GCTL, 1)
    assert r(m, GCTL) & 1 == 1
    assert r(m, 0x0E, 2) == 0x0001  # STATESTS: codec on SDI0
    w(m, 0x0E, 0x0001, 2)
    assert r(m, 0x0E, 2) == 0  # write 1 to clear
    w(m, INTCTL, GIE | 0xFF)
    assert r(m, INTCTL) == GIE | 0xFF
    w(m, GCTL, 0)  # back into reset: registers return to defaults
    assert r(m, INTCTL) == 0


def test_wall_clock_counts_at_24_mhz() -> None:
    m = Machine()
    m.run_for(1 * MS)
    assert r(m, 0x30) == 24_000


# --- facts 41 and 42 --------------------------------------------------------------------------


def test_fact41_out0_lpib_at_0x104_wraps_to_zero_at_cbl() -> None:
    """hardware.md fact 41: output stream 0 (ISS = 4) has LPIB at 0x104; LPIB wraps at CBL."""
    m = Machine()
    assert HdaController.sd_offset(OUT0) + 4 == 0x104
    assert m.hda.mmio_name(0x104) == "out0 LPIB"
    start_stream(m, OUT0, [(0x100000, 0x1000, True), (0x101000, 0x1000, True)])
    t0 = m.now_ns
    m.run_until(t0 + time_of_bytes(0x1800))
    assert r(m, 0x104) == 0x1800
    assert r(m, 0x2104) == 0x1800  # the alias
    m.run_until(t0 + time_of_bytes(0x2000) - 1)
    assert r(m, 0x104) == 0x2000 - 4  # one frame short of CBL
    m.run_until(t0 + time_of_bytes(0x2000))
    assert r(m, 0x104) == 0  # reached CBL: wrapped, never reads CBL
    m.run_until(t0 + time_of_bytes(0x2100))
    assert r(m, 0x104) == 0x100


def test_fact41_lpib_wraps_at_cbl_not_at_bdl_wrap() -> None:
    """hardware.md fact 41 (Intel, not QEMU): LPIB follows CBL even when the BDL holds more."""
    m = Machine()
    entries = [(0x100000 + 0x1000 * i, 0x1000, False) for i in range(3)]
    start_stream(m, OUT0, entries, cbl=0x2000)
    t0 = m.now_ns
    m.run_until(t0 + time_of_bytes(0x2800))
    assert r(m, 0x104) == 0x800
    assert m.hda.output_stream(0).entry_index == 2  # the engine is in the third entry
    m.run_until(t0 + time_of_bytes(0x3000))
    assert r(m, 0x104) == 0x1000  # BDL wrapped to entry 0; LPIB did not reset
    assert m.hda.output_stream(0).entry_index == 0


def test_fact42_ioc_entry_sets_bcis_when_its_last_byte_has_moved() -> None:
    """hardware.md fact 42: IOC in dword 3 bit 0 sets SDnSTS BCIS (0x04); writing 0x04 clears it."""
    m = Machine()
    start_stream(m, OUT0, [(0x100000, 0x1000, True), (0x101000, 0x1000, False)])
    t0 = m.now_ns
    m.run_until(t0 + time_of_bytes(0x1000) - 1)
    assert r(m, sd(OUT0) + 3, 1) & BCIS == 0
    m.run_until(t0 + time_of_bytes(0x1000))
    assert r(m, sd(OUT0) + 3, 1) & BCIS == BCIS
    assert r(m, sd(OUT0)) >> 24 & BCIS == BCIS  # the same bit, as bits 31:24 of a dword read
    w(m, sd(OUT0) + 3, BCIS, 1)
    assert r(m, sd(OUT0) + 3, 1) & BCIS == 0
    # The second entry has no IOC: no BCIS at its end.
    m.run_until(t0 + time_of_bytes(0x2000))
    assert r(m, sd(OUT0) + 3, 1) & BCIS == 0
    assert [(rec.stream, rec.index) for rec in iocs(m)] == [("out0", 0)]


# --- data and timing --------------------------------------------------------------------------


def test_played_bytes_equal_memory_in_bdl_order_over_several_laps() -> None:
    m = Machine()
    layout = [(0x300000, 0x0C00), (0x120000, 0x2000), (0x208000, 0x0400)]
    chunks = []
    for i, (address, length) in enumerate(layout):
        data = noise(length, seed=i)
        m.phys_write(address, data)
        chunks.append(data)
    start_stream(m, OUT0, [(a, n, True) for a, n in layout])
    lap = np.concatenate(chunks)
    m.run_for(time_of_bytes(len(lap) * 3 + 0x555 * 4))
    played = m.hda.sink.data
    assert len(played) == len(lap) * 3 + 0x555 * 4
    expected = np.tile(lap, 4)[: len(played)]
    assert np.array_equal(played, expected)


def test_ioc_times_are_exact_to_the_ns_at_192000_bytes_per_second() -> None:
    m = Machine()
    lengths = [0x1000, 0x0C00, 0x1800]
    start_stream(m, OUT0, [(0x100000 + 0x2000 * i, n, True) for i, n in enumerate(lengths)])
    t0 = m.now_ns
    m.run_for(200 * MS)
    ends = np.cumsum(lengths * 4)
    expected = [t0 + time_of_bytes(int(e)) for e in ends if time_of_bytes(int(e)) <= 200 * MS]
    assert [rec.t_ns for rec in iocs(m)] == expected
    assert [rec.index for rec in iocs(m)] == [i % 3 for i in range(len(expected))]
    # 0x1000 bytes = 1024 frames at 48 kHz = 21 333 333.3 ns, so the first IOC is at ...334.
    assert expected[0] - t0 == 21_333_334


def test_whole_frames_only_and_rate_from_sdnfmt() -> None:
    m = Machine()
    # 44.1 kHz base, 24-bit (4-byte container), stereo: 8 bytes per frame.
    fmt = 0x4000 | (3 << 4) | 1
    start_stream(m, OUT0, [(0x100000, 0x8000, False), (0x108000, 0x8000, False)], fmt=fmt)
    assert m.hda.output_stream(0).format.describe() == "44100 Hz 24-bit 2ch"
    t0 = m.now_ns
    m.run_until(t0 + 10 * MS)
    assert r(m, 0x104) == (10 * MS * 44_100 // S) * 8


def test_capture_writes_the_source_bytes_into_memory_in_order() -> None:
    m = Machine()
    layout = [(0x400000, 0x1000), (0x500000, 0x0800)]
    start_stream(m, 0, [(a, n, True) for a, n in layout])
    total = 0x1800 * 2 + 0x400
    m.run_for(time_of_bytes(total))
    fmt = m.hda.input_stream(0).format.wave_format()
    expected = m.hda.source.expected(fmt, 0, total)
    captured = np.concatenate([m.phys_read(a, n) for a, n in layout])
    # Two full laps, then the start of the third overwrote the first 0x400 bytes.
    assert np.array_equal(captured[:0x400], expected[0x3000:0x3400])
    assert np.array_equal(captured[0x400:], expected[0x1800 + 0x400 : 0x3000])
    assert m.hda.source.position == total


# --- interrupts -------------------------------------------------------------------------------


class Isr:
    """A minimal HDA interrupt service routine: reads INTSTS, acknowledges every stream."""

    def __init__(self, m: Machine) -> None:
        self.m = m
        self.seen: list[tuple[int, int]] = []

    def __call__(self, irq: int) -> None:
        sts = r(self.m, INTSTS)
        self.seen.append((self.m.now_ns, sts))
        for n in range(8):
            if sts & (1 << n):
                w(self.m, sd(n) + 3, BCIS | 0x08 | DESE, 1)


def test_ioc_raises_the_line_and_the_isr_acknowledges_it() -> None:
    m = Machine()
    isr = Isr(m)
    m.connect_interrupt(11, isr)
    start_stream(m, OUT0, [(0x100000, 0x1000, True), (0x101000, 0x1000, True)])
    t0 = m.now_ns
    m.run_for(50 * MS)
    assert len(isr.seen) == 2
    latency = m.interrupts.isr_latency_ns
    assert [t for t, _ in isr.seen] == [
        t0 + time_of_bytes(0x1000) + latency,
        t0 + time_of_bytes(0x2000) + latency,
    ]
    assert all(sts == (1 << 31) | (1 << OUT0) for _, sts in isr.seen)
    assert irq_actions(m) == ["raise", "isr", "ack", "raise", "isr", "ack"]
    assert r(m, INTSTS) == 0
    assert not m.interrupts.lines[11].high


def test_bcis_without_ioce_or_stream_enable_raises_nothing() -> None:
    m = Machine()
    start_stream(m, OUT0, [(0x100000, 0x1000, True), (0x101000, 0x1000, True)], ctl=RUN)
    m.run_for(30 * MS)
    assert r(m, sd(OUT0) + 3, 1) & BCIS  # status is set regardless
    assert r(m, INTSTS) == 0  # but the stream does not request service
    assert irq_actions(m) == []
    w(m, sd(OUT0), RUN | IOCE, 1)  # enabling IOCE with BCIS pending asserts the line
    assert r(m, INTSTS) == (1 << 31) | (1 << OUT0)
    assert irq_actions(m) == ["raise"]
    w(m, INTCTL, 1 << OUT0)  # GIE off: the line drops, status stays
    assert irq_actions(m) == ["raise", "ack"]
    assert r(m, INTSTS) == (1 << 31) | (1 << OUT0)


# --- stream control ---------------------------------------------------------------------------


def test_pause_keeps_position_and_resume_loses_no_byte() -> None:
    m = Machine()
    data = noise(0x2000, seed=7)
    m.phys_write(0x100000, data)
    start_stream(m, OUT0, [(0x100000, 0x1000, False), (0x101000, 0x1000, False)])
    m.run_for(5 * MS)
    w(m, sd(OUT0), IOCE, 1)  # RUN off
    lpib = r(m, 0x104)
    m.run_for(20 * MS)
    assert r(m, 0x104) == lpib
    w(m, sd(OUT0), RUN | IOCE, 1)
    m.run_for(30 * MS)
    played = m.hda.sink.data
    assert np.array_equal(played, np.tile(data, 2)[: len(played)])
    assert len(played) == (5 * MS * 48_000 // S + 30 * MS * 48_000 // S) * 4


def test_stream_reset_returns_to_entry_zero_and_lpib_zero() -> None:
    m = Machine()
    start_stream(m, OUT0, [(0x100000, 0x1000, False), (0x101000, 0x1000, False)])
    m.run_for(30 * MS)
    w(m, sd(OUT0), 0, 1)
    w(m, sd(OUT0), 1, 1)  # SRST
    assert r(m, sd(OUT0), 1) & 1 == 1
    assert r(m, 0x104) == 0
    assert r(m, sd(OUT0) + 8) == 0  # CBL back to its default
    w(m, sd(OUT0), 0, 1)
    assert r(m, sd(OUT0), 1) == 0
    s = m.hda.output_stream(0)
    assert (s.entry_index, s.lpib, s.bytes_done) == (0, 0, 0)
    states = [(rec.what, rec.new) for rec in m.trace.of_kind("state") if isinstance(rec, StateRecord)]
    assert ("stream reset", True) in states and ("stream reset", False) in states


def test_registers_accept_byte_word_and_dword_access() -> None:
    m = Machine()
    w(m, GCTL, 1)
    base = sd(OUT0)
    w(m, base + 0x08, 0x12345678)
    assert r(m, base + 0x08, 1) == 0x78
    assert r(m, base + 0x09, 2) == 0x3456
    assert r(m, base + 0x0B, 1) == 0x12
    w(m, base + 0x0A, 0xABCD, 2)
    assert r(m, base + 0x08) == 0xABCD5678
    w(m, base + 0x0C, 0x0203)  # dword across LVI and FIFOW
    assert r(m, base + 0x0C, 2) == 0x03
    w(m, base + 0x18, 0x12345FFF)  # BDPL is 128-byte aligned
    assert r(m, base + 0x18) == 0x12345F80
    w(m, base + 0x12, 0x4011, 2)
    assert r(m, base + 0x10) == 0x4011_00BF  # FIFOS (output default 0xBF) with FMT above it
    assert m.hda.mmio_name(base + 0x03) == "out0 STS"
    assert m.hda.mmio_name(base + 0x05) == "out0 LPIB+1"


def test_position_buffer_holds_each_streams_lpib_at_its_global_index() -> None:
    m = Machine()
    start_stream(m, OUT0, [(0x100000, 0x1000, True), (0x101000, 0x1000, True)])
    w(m, DPUBASE, 0)
    w(m, DPLBASE, 0x30000 | 1)
    m.run_for(7 * MS)
    m.run_for(3 * MS)  # an event-free stretch: the buffer follows every sync
    lpib = r(m, 0x104)
    assert lpib > 0
    assert m.memory.read_u32(0x30000 + 8 * OUT0) == lpib
    assert m.memory.read_u32(0x30000 + 8 * 0) == 0


# --- errors -----------------------------------------------------------------------------------


def test_bdl_outside_memory_is_a_descriptor_error_not_an_exception() -> None:
    m = Machine()
    start_stream(m, OUT0, [], bdl=0x7FFFFF80, ctl=RUN | IOCE | DEIE)
    sts = r(m, sd(OUT0) + 3, 1)
    assert sts & DESE
    assert r(m, sd(OUT0), 1) & RUN == 0
    assert "outside memory" in (m.hda.output_stream(0).error or "")
    assert irq_actions(m) == ["raise"]  # DEIE and the stream's INTCTL bit were on
    m.run_for(10 * MS)
    assert m.hda.sink.length == 0


def test_buffer_outside_memory_stops_the_stream_when_reached() -> None:
    m = Machine()
    start_stream(m, OUT0, [(0x100000, 0x1000, False), (0xFFFF_FFFF_0000, 0x1000, False)])
    t0 = m.now_ns
    m.run_for(50 * MS)
    assert r(m, sd(OUT0) + 3, 1) & DESE
    assert m.hda.sink.length == 0x1000  # the first entry played, the second never started
    errors = [
        rec for rec in m.trace.of_kind("state") if isinstance(rec, StateRecord) and rec.what == "descriptor error"
    ]
    assert len(errors) == 1 and errors[0].t_ns == t0 + time_of_bytes(0x1000)


def test_all_zero_length_bdl_is_a_descriptor_error() -> None:
    m = Machine()
    start_stream(m, OUT0, [(0x100000, 0, False), (0x101000, 0, False)])
    assert r(m, sd(OUT0) + 3, 1) & DESE
    m.run_for(5 * MS)


def test_any_register_write_is_survivable() -> None:
    m = Machine()
    rng = np.random.default_rng(5)
    w(m, GCTL, 1)
    for _ in range(3000):
        size = int(rng.choice([1, 2, 4]))
        off = int(rng.integers(0, 0x200)) if rng.random() < 0.9 else int(rng.integers(0, 0x4000))
        if off == GCTL and rng.random() < 0.9:
            continue
        w(m, off, int(rng.integers(0, 1 << (8 * size))), size)
        if rng.random() < 0.05:
            m.run_for(int(rng.integers(0, 2 * MS)))
        r(m, int(rng.integers(0, 0x4000)), size)
    m.run_for(20 * MS)
    assert isinstance(m.hda.describe(), dict)


# --- snapshots --------------------------------------------------------------------------------


def _records_from(m: Machine, start: int) -> list[dict[str, object]]:
    return [rec.to_json_dict() for rec in m.trace.records[start:]]


@pytest.mark.parametrize("stream", [OUT0, 0])
def test_snapshot_restore_mid_stream_is_exact(stream: int) -> None:
    m = Machine()
    m.phys_write(0x100000, noise(0x3000, seed=3))
    start_stream(m, stream, [(0x100000, 0x1000, True), (0x101000, 0x0800, False), (0x102000, 0x1000, True)])
    w(m, DPLBASE, 0x30001)
    m.run_for(13 * MS + 77)
    snap = m.snapshot()
    digest = m.state_digest()
    mark = len(m.trace)
    m.run_for(60 * MS)
    w(m, sd(stream) + 3, BCIS, 1)
    m.run_for(5 * MS)
    after = _records_from(m, mark)
    final = m.state_digest()
    m.restore(snap)
    assert m.state_digest() == digest
    m.run_for(60 * MS)
    w(m, sd(stream) + 3, BCIS, 1)
    m.run_for(5 * MS)
    assert _records_from(m, mark) == after
    assert m.state_digest() == final
