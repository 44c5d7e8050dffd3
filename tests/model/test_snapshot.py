"""Snapshots of a whole machine: restore is exact, and replay after restore is identical."""

from __future__ import annotations

import numpy as np

from model import MS, US, Machine
from model.trace import NoteRecord, to_json_line

SB = 0x220


class CountingIsr:
    """A service routine object: part of the model graph, so snapshots carry its state."""

    def __init__(self, m: Machine) -> None:
        self.m = m
        self.calls = 0

    def service(self, irq: int) -> None:
        self.calls += 1
        self.m.io_read(SB + 0xF)


def start_playback(m: Machine) -> CountingIsr:
    """16-bit stereo 48 kHz auto-init on DMA 5 from a 2-block buffer at 0x40000; IRQ every 10 ms."""
    isr = CountingIsr(m)
    m.connect_interrupt(5, isr.service)
    m.phys_write(0x40000, np.random.default_rng(3).integers(0, 256, 3840, dtype=np.uint8))
    m.io_write(SB + 6, 1)
    m.io_write(SB + 6, 0)
    assert m.io_read(SB + 0xA) == 0xAA
    for port, value in ((0xD4, 5), (0xD8, 0), (0xD6, 0x59), (0xC4, 0x00), (0xC4, 0x00), (0x8B, 0x04)):
        m.io_write(port, value)
    for port, value in ((0xD8, 0), (0xC6, 0x7F), (0xC6, 0x07), (0xD4, 1)):
        m.io_write(port, value)
    for byte in (0x41, 0xBB, 0x80, 0xB6, 0x30, 0xBF, 0x03):
        m.io_write(SB + 0xC, byte)
    return isr


def lines(m: Machine, start: int = 0) -> list[str]:
    return [to_json_line(r) for r in m.trace.records[start:]]


def test_restore_gives_back_the_digest_and_truncates_the_trace() -> None:
    m = Machine()
    start_playback(m)
    m.run_for(15 * MS)
    digest = m.state_digest()
    trace_before = lines(m)
    played = m.sb16.sink.data.copy()
    snap = m.snapshot()
    m.run_for(40 * MS)
    m.phys_write(0x40000, b"\x00" * 64)  # the driver scribbles on its buffer
    m.io_write(0x0A, 0x05)
    m.trace.append(NoteRecord(text="later"))
    assert m.state_digest() != digest
    m.restore(snap)
    assert m.state_digest() == digest
    assert lines(m) == trace_before
    assert np.array_equal(m.sb16.sink.data, played)
    assert m.now_ns == 15 * MS
    assert m.interrupts.lines[5].handler is not None
    assert m.interrupts.lines[5].handler.__self__.calls == 1  # type: ignore[union-attr]


def test_replay_after_restore_repeats_the_first_run_exactly() -> None:
    m = Machine()
    start_playback(m)
    m.run_for(12_345_678)  # mid-block, mid-sample
    snap = m.snapshot()
    mark = len(m.trace)
    m.run_for(47 * MS)
    m.io_write(SB + 0xC, 0xD5)  # pause
    m.run_for(3 * MS)
    first = lines(m, mark)
    first_digest = m.state_digest()
    first_played = m.sb16.sink.data.copy()
    for _ in range(2):  # the snapshot can be used again and again
        m.restore(snap)
        m.run_for(47 * MS)
        m.io_write(SB + 0xC, 0xD5)
        m.run_for(3 * MS)
        assert lines(m, mark) == first
        assert m.state_digest() == first_digest
        assert np.array_equal(m.sb16.sink.data, first_played)


def test_restored_machine_equals_one_that_never_left() -> None:
    straight, detour = Machine(), Machine()
    for m in (straight, detour):
        start_playback(m)
        m.run_for(25 * MS)
    snap = detour.snapshot()
    detour.run_for(100 * MS)
    detour.restore(snap)
    for m in (straight, detour):
        m.run_for(30 * MS)
    assert straight.state_digest() == detour.state_digest()
    assert lines(straight) == lines(detour)


def test_snapshot_is_small_and_memory_is_copy_on_write() -> None:
    m = Machine()
    m.phys_write(0x100000, b"\xaa" * 8192)
    snap = m.snapshot()
    assert snap.size_bytes < 200_000  # 64 MiB of memory is not in the pickle
    m.phys_write(0x100000, b"\x55" * 8192)
    m.restore(snap)
    assert m.phys_read(0x100000, 8192).tobytes() == b"\xaa" * 8192


def test_restore_keeps_the_root_object_and_its_services_working() -> None:
    m = Machine()
    root_id = id(m)
    start_playback(m)
    snap = m.snapshot()
    m.restore(snap)
    assert id(m) == root_id
    m.run_for(20 * MS + 10 * US)  # two blocks and their service routines
    assert m.interrupts.lines[5].handler.__self__.m is m  # type: ignore[union-attr]
    assert m.interrupts.lines[5].handler.__self__.calls == 2  # type: ignore[union-attr]
    assert m.sb16.sink.length == 2 * 1920
