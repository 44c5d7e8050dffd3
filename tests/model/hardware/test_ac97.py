"""The AC'97 controller, programmed through its NAM and NABM ports as a driver would.

Facts 37-40 of hardware.md section 5 each have a test; the rest covers data order over
several laps of a ring driven by an interrupt routine, exact IOC times, capture, the
interrupt status and line, underruns with Intel's BUP meaning, restart by LVI, pause,
RR, codec registers and rates, DMA errors, arbitrary port writes and snapshot/restore.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from model import MS, US, Machine, S
from model.hardware.ac97 import XrunStretch
from model.trace import InterruptRecord, IocRecord, StateRecord

NAM = 0xD000
NABM = 0xD100
PI, PO, MC = 0x00, 0x10, 0x20
BDBAR, CIV, LVI, SR, PICB, PIV, CR = 0x0, 0x4, 0x5, 0x6, 0x8, 0xA, 0xB
GLOB_CNT, GLOB_STA, CAS = 0x2C, 0x30, 0x34
DCH, CELV, LVBCI, BCIS, FIFOE = 0x01, 0x02, 0x04, 0x08, 0x10
RPBM, RR, LVBIE, FEIE, IOCE = 0x01, 0x02, 0x04, 0x08, 0x10
POINT = 1 << 6
BDL = 0x10000
SAMPLES_PER_S = 96_000  # 48 kHz stereo


def bd(
    m: Machine,
    index: int,
    address: int,
    samples: int,
    *,
    ioc: bool = False,
    bup: bool = False,
    bdl: int = BDL,
) -> None:
    """Write BDL entry ``index``: address, then length in samples with BUP (bit 30) and IOC (bit 31)."""
    flags = (samples & 0xFFFF) | (1 << 30 if bup else 0) | (1 << 31 if ioc else 0)
    m.phys_write(bdl + 8 * index, struct.pack("<II", address, flags))


def box_write(m: Machine, box: int, reg: int, value: int) -> None:
    m.io_write(NABM + box + reg, value)


def box_read(m: Machine, box: int, reg: int) -> int:
    return m.io_read(NABM + box + reg)


def sr(m: Machine, box: int = PO) -> int:
    return m.io_read16(NABM + box + SR)


def picb(m: Machine, box: int = PO) -> int:
    return m.io_read16(NABM + box + PICB)


def start(m: Machine, box: int, lvi: int, cr: int = IOCE | LVBIE, bdl: int = BDL) -> None:
    m.io_write32(NABM + box + BDBAR, bdl)
    box_write(m, box, LVI, lvi)
    box_write(m, box, CR, cr | RPBM)


def time_of_samples(n: int, rate: int = SAMPLES_PER_S) -> int:
    return -(-n * S // rate)


def noise(length: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, length, dtype=np.uint8)


def iocs(m: Machine) -> list[IocRecord]:
    return [rec for rec in m.trace.of_kind("ioc") if isinstance(rec, IocRecord)]


def irq_actions(m: Machine, irq: int = 10) -> list[str]:
    return [rec.action for rec in m.trace.of_kind("interrupt") if isinstance(rec, InterruptRecord) and rec.irq == irq]


# --- facts 37-40 ------------------------------------------------------------------------------


def test_fact37_rpbm_from_reset_gives_civ0_piv1_and_clears_dch() -> None:
    """hardware.md fact 37: after RPBM in PO_CR (NABM+0x1B) from reset, CIV 0, PIV 1, DCH clear."""
    m = Machine()
    assert sr(m) & DCH  # reset value DCH = 1
    bd(m, 0, 0x100000, 0x1000)
    m.io_write32(NABM + PO + BDBAR, BDL)
    box_write(m, PO, LVI, 3)
    m.io_write(NABM + 0x1B, RPBM)
    assert box_read(m, PO, CIV) == 0
    assert box_read(m, PO, PIV) == 1
    assert sr(m) & DCH == 0
    assert m.ac97.port_name(NABM + 0x1B) == "PO_CR"


def test_fact38_picb_counts_samples_left_in_the_entry() -> None:
    """hardware.md fact 38: length 0x1000 samples: PICB 0x1000 at fetch, 0x0D00 after 0x600 bytes."""
    m = Machine()
    bd(m, 0, 0x100000, 0x1000)
    start(m, PO, 0)
    assert picb(m) == 0x1000
    m.run_for(time_of_samples(0x300))  # 0x300 samples = 0x600 bytes = exactly 8 ms
    assert m.ac97.sink.length == 0x600
    assert picb(m) == 0x0D00


def test_fact39_ioc_sets_bcis_cleared_by_writing_0x08_and_0x01_does_not_clear_dch() -> None:
    """hardware.md fact 39: IOC sets SR bit 3; 0x08 clears it; writing 0x01 leaves DCH alone."""
    m = Machine()
    bd(m, 0, 0x100000, 960, ioc=True)
    bd(m, 1, 0x101000, 960, ioc=False)
    start(m, PO, 1)
    m.run_for(time_of_samples(960) - 1)
    assert sr(m) & BCIS == 0
    m.run_for(1)
    assert sr(m) & BCIS
    m.io_write16(NABM + PO + SR, BCIS)
    assert sr(m) & BCIS == 0
    m.run_for(time_of_samples(960))  # entry 1 (the last valid) ends: halted
    assert sr(m) & DCH
    m.io_write16(NABM + PO + SR, DCH)
    assert sr(m) & DCH
    assert sr(m) & BCIS == 0  # entry 1 had no IOC


def test_fact40_last_valid_entry_halts_with_dch_celv_lvbci() -> None:
    """hardware.md fact 40: finishing entry LVI sets DCH, CELV and LVBCI and stops the engine."""
    m = Machine()
    m.phys_write(0x100000, noise(0x800, seed=1))
    for i in range(3):
        bd(m, i, 0x100000, 0x200)
    start(m, PO, 2)
    m.run_for(time_of_samples(3 * 0x200))
    assert sr(m) & (DCH | CELV | LVBCI) == DCH | CELV | LVBCI
    assert box_read(m, PO, CIV) == 2
    assert picb(m) == 0
    played = m.ac97.sink.length
    m.run_for(20 * MS)
    assert m.ac97.sink.length == played == 3 * 0x400  # stopped: nothing more fetched


def test_fact40_civ_advances_modulo_32_so_31_is_followed_by_0() -> None:
    """hardware.md fact 40: otherwise CIV advances by 1 modulo 32 (31 -> 0)."""
    m = Machine()
    for i in range(32):
        bd(m, i, 0x100000, 96, ioc=True)  # 1 ms each
    start(m, PO, 31)
    m.run_for(time_of_samples(96 * 31) + 10 * US)  # inside entry 31
    assert box_read(m, PO, CIV) == 31
    assert box_read(m, PO, PIV) == 0
    box_write(m, PO, LVI, 1)
    m.run_for(5 * MS)
    indices = [rec.index for rec in iocs(m)]
    assert indices == [*range(32), 0, 1]
    assert iocs(m)[-1].last_valid
    assert box_read(m, PO, CIV) == 1
    assert sr(m) & (DCH | CELV) == DCH | CELV


# --- data and timing --------------------------------------------------------------------------


class RingDriver:
    """An ISR that keeps all 32 entries cycling: acknowledge, then LVI = CIV - 1 (mod 32)."""

    def __init__(self, m: Machine, box: int) -> None:
        self.m, self.box = m, box
        self.calls = 0

    def isr(self, irq: int) -> None:
        self.calls += 1
        status = sr(self.m, self.box)
        self.m.io_write16(NABM + self.box + SR, status & (BCIS | LVBCI | FIFOE))
        civ = box_read(self.m, self.box, CIV)
        box_write(self.m, self.box, LVI, (civ - 1) % 32)


def test_played_bytes_equal_memory_in_bdl_order_over_several_laps() -> None:
    m = Machine()
    driver = RingDriver(m, PO)
    m.connect_interrupt(10, driver.isr)
    lengths = [200 + 14 * i for i in range(32)]  # samples; every entry different
    chunks = []
    address = 0x200000
    for i, n in enumerate(lengths):
        data = noise(2 * n, seed=100 + i)
        m.phys_write(address, data)
        bd(m, i, address, n, ioc=True)
        chunks.append(data)
        address += 0x1000
    lap = np.concatenate(chunks)
    start(m, PO, 30)
    m.run_for(time_of_samples(3 * len(lap) // 2) + 7 * MS)
    played = m.ac97.sink.data
    assert len(played) > 3 * len(lap)
    assert np.array_equal(played, np.tile(lap, 4)[: len(played)])
    assert m.ac97.box("PO").underruns == []
    assert driver.calls == len(iocs(m))


def test_ioc_times_are_exact_to_the_ns() -> None:
    m = Machine()
    lengths = [960, 1000, 4]
    for i, n in enumerate(lengths):
        bd(m, i, 0x100000, n, ioc=True)
    start(m, PO, 2, cr=0)
    t0 = m.now_ns
    m.run_for(30 * MS)
    ends = np.cumsum(lengths)
    assert [rec.t_ns for rec in iocs(m)] == [t0 + time_of_samples(int(e)) for e in ends]
    assert iocs(m)[0].t_ns - t0 == 10 * MS  # 960 samples at 96 000 samples/s
    assert [rec.last_valid for rec in iocs(m)] == [False, False, True]


def test_variable_rate_changes_the_fetch_rate() -> None:
    m = Machine()
    m.io_write16(NAM + 0x2A, 0x0001)  # VRA on
    m.io_write16(NAM + 0x2C, 8000)
    assert m.io_read16(NAM + 0x2C) == 8000
    bd(m, 0, 0x100000, 160, ioc=True)  # 80 stereo frames = 10 ms at 8 kHz
    bd(m, 1, 0x100000, 160, ioc=True)
    start(m, PO, 1)
    t0 = m.now_ns
    m.run_for(25 * MS)
    assert [rec.t_ns - t0 for rec in iocs(m)] == [10 * MS, 20 * MS]


def test_capture_writes_the_source_bytes_into_memory_in_order() -> None:
    m = Machine()
    bd(m, 0, 0x300000, 0x400, ioc=True)
    bd(m, 1, 0x340000, 0x200, ioc=True)
    start(m, PI, 1)
    m.run_for(20 * MS)
    assert sr(m, PI) & DCH
    fmt = m.ac97.wave_format(m.ac97.box("PI"))
    expected = m.ac97.source.expected(fmt, 0, 0xC00)
    assert np.array_equal(m.phys_read(0x300000, 0x800), expected[:0x800])
    assert np.array_equal(m.phys_read(0x340000, 0x400), expected[0x800:])
    assert m.phys_read(0x340400, 16).tolist() == [0] * 16  # nothing past the entry


def test_mic_in_box_captures_mono_at_48khz() -> None:
    m = Machine()
    bd(m, 0, 0x300000, 480, ioc=True)
    start(m, MC, 0)
    t0 = m.now_ns
    m.run_for(20 * MS)
    assert iocs(m)[0].stream == "MC"
    assert iocs(m)[0].t_ns - t0 == 10 * MS  # 480 mono samples at 48 kHz


# --- interrupts -------------------------------------------------------------------------------


def test_glob_sta_and_the_line_follow_enabled_status_bits() -> None:
    m = Machine()
    bd(m, 0, 0x100000, 96, ioc=True)
    bd(m, 1, 0x100000, 96, ioc=True)
    start(m, PO, 1, cr=0)  # no enables: status only
    m.run_for(time_of_samples(96))
    assert sr(m) & BCIS
    assert m.io_read32(NABM + GLOB_STA) & POINT == 0
    assert m.io_read32(NABM + GLOB_STA) & (1 << 8)  # primary codec ready
    assert irq_actions(m) == []
    box_write(m, PO, CR, RPBM | IOCE)  # enabling IOCE with BCIS pending asserts the line
    assert m.io_read32(NABM + GLOB_STA) & POINT
    assert irq_actions(m) == ["raise"]
    m.io_write16(NABM + PO + SR, BCIS)
    assert m.io_read32(NABM + GLOB_STA) & POINT == 0
    assert irq_actions(m) == ["raise", "ack"]
    m.run_for(time_of_samples(96))  # entry 1: BCIS (enabled) and LVBCI (not enabled)
    assert sr(m) & (BCIS | LVBCI) == BCIS | LVBCI
    assert irq_actions(m) == ["raise", "ack", "raise"]
    m.io_write16(NABM + PO + SR, BCIS)  # LVBCI is not enabled, so the line drops
    assert irq_actions(m) == ["raise", "ack", "raise", "ack"]
    assert not m.interrupts.lines[10].high


# --- underrun, restart, pause, reset ----------------------------------------------------------


@pytest.mark.parametrize("bup", [False, True])
def test_halted_box_underruns_with_intel_bup_meaning(bup: bool) -> None:
    m = Machine()
    data = np.arange(0x100, dtype=np.uint8)
    m.phys_write(0x100000, data)
    bd(m, 0, 0x100000, 0x80, ioc=True, bup=bup)
    bd(m, 1, 0x100000, 0x80, ioc=True)
    start(m, PO, 0)
    t0 = m.now_ns
    t_halt = t0 + time_of_samples(0x80)
    m.run_until(t_halt + 2 * US)  # the LVBCI interrupt routine would run now
    assert sr(m) == DCH | CELV | LVBCI | BCIS  # no FIFOE yet: the codec has not missed a sample
    m.run_until(t0 + time_of_samples(0x80 + 1))  # one sample period later it does
    assert sr(m) & FIFOE
    m.run_for(3 * MS)
    box_write(m, PO, LVI, 1)  # restart at the next entry
    assert sr(m) & (DCH | CELV) == 0
    assert box_read(m, PO, CIV) == 1
    m.run_for(5 * MS)  # entry 1 (now the last valid) plays and the box halts again
    stretch, again = m.ac97.box("PO").underruns
    assert again.start_ns == stretch.end_ns + time_of_samples(0x81) and again.end_ns is None
    assert isinstance(stretch, XrunStretch)
    assert stretch.kind == "underrun"
    assert stretch.start_ns == t0 + time_of_samples(0x81)
    restart = t0 + time_of_samples(0x81) + 3 * MS
    assert stretch.end_ns == restart
    missed = (restart - t0) * SAMPLES_PER_S // S - 0x80
    assert stretch.samples == missed
    assert stretch.bup is bup
    # Intel: BUP = 0 repeats the last valid sample (here the last frame, bytes 0xFC-0xFF); 1 sends zeros.
    assert stretch.fill == (bytes(4) if bup else bytes([0xFC, 0xFD, 0xFE, 0xFF]))
    # The sink holds only bytes from memory: entry 0, then entry 1 after the restart.
    played = m.ac97.sink.data
    assert np.array_equal(played, np.tile(data, 2)[: len(played)])
    assert len(played) == 0x200


def test_no_underrun_when_lvi_moves_before_the_next_sample_is_due() -> None:
    m = Machine()
    bd(m, 0, 0x100000, 0x80)
    bd(m, 1, 0x100000, 0x80)
    start(m, PO, 0)
    m.run_for(time_of_samples(0x80) + 5 * US)
    box_write(m, PO, LVI, 1)
    m.run_for(time_of_samples(0x80) - 10 * US)  # entry 1 not finished yet
    assert m.ac97.box("PO").underruns == []
    assert sr(m) & FIFOE == 0


def test_pause_keeps_position_and_resume_continues_mid_entry() -> None:
    m = Machine()
    data = noise(0x2000, seed=9)
    m.phys_write(0x100000, data)
    bd(m, 0, 0x100000, 0x1000)
    start(m, PO, 0)
    m.run_for(5 * MS)
    box_write(m, PO, CR, IOCE)  # RPBM off: pause
    left = picb(m)
    assert sr(m) & DCH
    m.run_for(10 * MS)
    assert picb(m) == left
    box_write(m, PO, CR, IOCE | RPBM)
    assert box_read(m, PO, CIV) == 0 and picb(m) == left  # resumed, not restarted
    m.run_for(50 * MS)
    assert np.array_equal(m.ac97.sink.data, data)
    (stretch,) = m.ac97.box("PO").underruns  # only after the whole entry had played
    assert stretch.start_ns == 5 * MS + 10 * MS + time_of_samples(0x1000 + 1 - 5 * MS * SAMPLES_PER_S // S)


def test_reset_registers_clears_the_box_but_keeps_enables() -> None:
    m = Machine()
    bd(m, 0, 0x100000, 0x1000, ioc=True)
    start(m, PO, 0, cr=IOCE | FEIE)
    m.run_for(2 * MS)
    box_write(m, PO, CR, IOCE | FEIE)  # stop first, as the datasheet asks
    box_write(m, PO, CR, IOCE | FEIE | RR)
    assert m.io_read32(NABM + PO + BDBAR) == 0
    assert (box_read(m, PO, CIV), box_read(m, PO, LVI), box_read(m, PO, PIV)) == (0, 0, 0)
    assert sr(m) == DCH
    assert picb(m) == 0
    assert box_read(m, PO, CR) == IOCE | FEIE  # RR self-clears


def test_zero_length_entries_complete_at_once() -> None:
    m = Machine()
    bd(m, 0, 0x100000, 0, ioc=True)
    bd(m, 1, 0x100000, 0, ioc=True)
    bd(m, 2, 0x100000, 96, ioc=True)
    start(m, PO, 2)
    assert [rec.index for rec in iocs(m)] == [0, 1]
    assert box_read(m, PO, CIV) == 2
    assert picb(m) == 96


# --- registers --------------------------------------------------------------------------------


def test_bdbar_is_assembled_from_byte_writes_and_8_byte_aligned() -> None:
    m = Machine()
    m.io_write32(NABM + PO + BDBAR, 0x12345677)
    assert m.io_read32(NABM + PO + BDBAR) == 0x12345670
    m.io_write(NABM + PO + BDBAR + 2, 0xAB)
    assert m.io_read32(NABM + PO + BDBAR) == 0x12AB5670
    assert m.ac97.port_name(NABM + PO + BDBAR + 2) == "PO_BDBAR+2"


def test_codec_registers_reset_values_and_variable_rate_rules() -> None:
    m = Machine()
    assert m.io_read16(NAM + 0x26) & 0xF == 0xF  # ADC, DAC, analog, reference ready
    assert m.io_read16(NAM + 0x28) & 1 == 1  # VRA supported
    assert m.io_read16(NAM + 0x2C) == 48_000
    assert m.io_read16(NAM + 0x32) == 48_000
    m.io_write16(NAM + 0x2C, 44_100)
    assert m.io_read16(NAM + 0x2C) == 48_000  # VRA off: fixed at 48 kHz
    m.io_write16(NAM + 0x2A, 1)
    m.io_write16(NAM + 0x2C, 44_100)
    assert m.io_read16(NAM + 0x2C) == 44_100
    m.io_write16(NAM + 0x32, 0xFFFF)
    assert m.io_read16(NAM + 0x32) == 48_000  # out of range: clamped
    m.io_write16(NAM + 0x2C, 0x2000)  # low byte 0x00 first (0xAC00 in between), then 0x20
    assert m.io_read16(NAM + 0x2C) == 0x2000
    m.io_write16(NAM + 0x18, 0x0808)
    assert m.io_read16(NAM + 0x18) == 0x0808
    m.io_write16(NAM + 0x00, 0)  # codec reset
    assert m.io_read16(NAM + 0x18) == 0x8808
    assert m.io_read16(NAM + 0x2A) == 0
    assert m.ac97.port_name(NAM + 0x2C) == "NAM PCM Front DAC Rate"


def test_cas_semaphore() -> None:
    m = Machine()
    assert m.io_read(NABM + CAS) == 0
    assert m.io_read(NABM + CAS) == 1  # taken by the first read
    m.io_read16(NAM + 0x02)  # a codec access releases it
    assert m.io_read(NABM + CAS) == 0


def test_glob_cnt_selects_six_channel_output() -> None:
    m = Machine()
    m.io_write32(NABM + GLOB_CNT, (2 << 20) | 0x2)
    assert m.io_read32(NABM + GLOB_CNT) == (2 << 20) | 0x2
    assert m.io_read32(NABM + GLOB_STA) & (3 << 20) == 3 << 20  # 4 and 6 channels capable
    bd(m, 0, 0x100000, 6 * 480, ioc=True)  # 480 frames of 6 samples = 10 ms
    start(m, PO, 0)
    t0 = m.now_ns
    m.run_for(20 * MS)
    assert iocs(m)[0].t_ns - t0 == 10 * MS


# --- errors -----------------------------------------------------------------------------------


def test_bdl_outside_memory_is_a_fifo_error_not_an_exception() -> None:
    m = Machine()
    m.io_write32(NABM + PO + BDBAR, 0xFFFFFFF8)
    box_write(m, PO, LVI, 5)
    box_write(m, PO, CR, RPBM | FEIE)
    assert sr(m) & (FIFOE | DCH) == FIFOE | DCH
    assert box_read(m, PO, CR) & RPBM == 0
    assert irq_actions(m) == ["raise"]
    assert "outside memory" in (m.ac97.box("PO").error or "")
    m.run_for(10 * MS)
    assert m.ac97.sink.length == 0


def test_buffer_outside_memory_stops_the_box_when_reached() -> None:
    m = Machine()
    bd(m, 0, 0x100000, 96)
    bd(m, 1, 0xFFFFFF00, 96)
    start(m, PO, 5)
    m.run_for(10 * MS)
    assert sr(m) & FIFOE
    assert m.ac97.sink.length == 2 * 96
    errors = [rec for rec in m.trace.of_kind("state") if isinstance(rec, StateRecord) and rec.what == "DMA error"]
    assert len(errors) == 1 and errors[0].t_ns == time_of_samples(96)


def test_any_port_write_is_survivable() -> None:
    m = Machine()
    rng = np.random.default_rng(11)
    ports = m.ac97.ports()
    for i in range(3000):
        port = int(rng.choice(ports))
        m.io_write(port, int(rng.integers(0, 256)))
        if i % 50 == 0:
            m.run_for(int(rng.integers(0, 2 * MS)))
        m.io_read(int(rng.choice(ports)))
    m.run_for(20 * MS)
    assert isinstance(m.ac97.describe(), dict)


# --- snapshots --------------------------------------------------------------------------------


def _records_from(m: Machine, start_index: int) -> list[dict[str, object]]:
    return [rec.to_json_dict() for rec in m.trace.records[start_index:]]


def test_snapshot_restore_mid_stream_is_exact() -> None:
    m = Machine()
    m.phys_write(0x100000, noise(0x4000, seed=4))
    for i in range(4):
        bd(m, i, 0x100000 + 0x1000 * i, 0x600, ioc=True, bup=bool(i & 1))
    bd(m, 0, 0x300000, 0x300, ioc=True, bdl=0x18000)
    start(m, PO, 2)
    start(m, PI, 0, bdl=0x18000)
    m.run_for(11 * MS + 333)
    snap = m.snapshot()
    digest = m.state_digest()
    mark = len(m.trace)

    def forward() -> None:
        m.run_for(40 * MS)  # PO halts at LVI and underruns; PI halts and overruns
        m.io_write16(NABM + PO + SR, BCIS | LVBCI | FIFOE)
        box_write(m, PO, LVI, 1)
        m.run_for(10 * MS)

    forward()
    after = _records_from(m, mark)
    final = m.state_digest()
    assert m.ac97.box("PO").underruns and m.ac97.box("PI").overruns
    m.restore(snap)
    assert m.state_digest() == digest
    assert m.ac97.box("PO").underruns == []
    forward()
    assert _records_from(m, mark) == after
    assert m.state_digest() == final
