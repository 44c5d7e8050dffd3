"""The 8237A pair, driven through I/O ports exactly as a DOS program would.

Every checkable fact 1-19 of hardware.md section 5 has its own test. Where a fact needs
data to move, the SB16 pulls it (reset, rate, start command, ``run_for``) unless the fact
is about the controller alone, in which case the test calls ``m.dma.read_units`` directly
and says so.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import Machine
from model.hardware.dma_controller import RequestMode, TransferType
from model.trace import TerminalCountRecord

SB = 0x220
RATE = 32_000  # Hz: one sample every 31 250 ns exactly
UNIT_NS = 31_250  # one mono sample = one DMA unit at RATE
PAGE_PORT = {0: 0x87, 1: 0x83, 2: 0x81, 3: 0x82, 5: 0x8B, 6: 0x89, 7: 0x8A}


# --- a DOS program's helpers ------------------------------------------------------------


def dsp_reset(m: Machine) -> None:
    m.io_write(SB + 0x6, 1)
    m.io_write(SB + 0x6, 0)
    assert m.io_read(SB + 0xA) == 0xAA


def dsp(m: Machine, *data: int) -> None:
    """Send command/argument bytes to the DSP, polling the write-buffer status like real code."""
    for byte in data:
        assert m.io_read(SB + 0xC) & 0x80 == 0
        m.io_write(SB + 0xC, byte)


def set_rate(m: Machine, rate: int) -> None:
    dsp(m, 0x41, rate >> 8, rate & 0xFF)


def program_dma1(m: Machine, ch: int, *, page: int, address: int, count: int, mode: int) -> None:
    """Program 8-bit channel ``ch`` (mode is the full byte, channel bits included) and unmask it."""
    m.io_write(0x0A, 0x04 | ch)
    m.io_write(0x0C, 0)
    m.io_write(0x0B, mode)
    m.io_write(2 * ch, address & 0xFF)
    m.io_write(2 * ch, address >> 8)
    m.io_write(PAGE_PORT[ch], page)
    m.io_write(0x0C, 0)
    m.io_write(2 * ch + 1, count & 0xFF)
    m.io_write(2 * ch + 1, count >> 8)
    m.io_write(0x0A, ch)


def program_dma2(m: Machine, ch: int, *, page: int, address: int, count: int, mode: int) -> None:
    """Program 16-bit channel ``ch`` (4-7): address and count in words, then unmask it."""
    r = ch & 3
    m.io_write(0xD4, 0x04 | r)
    m.io_write(0xD8, 0)
    m.io_write(0xD6, mode)
    m.io_write(0xC0 + 4 * r, address & 0xFF)
    m.io_write(0xC0 + 4 * r, address >> 8)
    m.io_write(PAGE_PORT[ch], page)
    m.io_write(0xD8, 0)
    m.io_write(0xC2 + 4 * r, count & 0xFF)
    m.io_write(0xC2 + 4 * r, count >> 8)
    m.io_write(0xD4, r)


def read16(m: Machine, port: int, flip_flop_port: int = 0x0C) -> int:
    """Clear the flip-flop, then read a 16-bit address or count register low byte first."""
    m.io_write(flip_flop_port, 0)
    low = m.io_read(port)
    return low | (m.io_read(port) << 8)


def pattern(length: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, length, dtype=np.uint8)


def start_8bit_playback(m: Machine, *, units: int, auto: bool = True) -> None:
    """SB16 8-bit mono playback at RATE through its 8-bit channel (DMA 1)."""
    dsp_reset(m)
    set_rate(m, RATE)
    length = units - 1
    dsp(m, 0xC6 if auto else 0xC0, 0x00, length & 0xFF, length >> 8)


def tc_records(m: Machine) -> list[TerminalCountRecord]:
    return [r for r in m.trace.of_kind("terminal_count") if isinstance(r, TerminalCountRecord)]


# --- facts 1-19 -----------------------------------------------------------------------------


def test_fact_01_address_write_loads_base_and_current_and_reads_back_low_then_high() -> None:
    """hardware.md fact 1."""
    m = Machine()
    m.io_write(0x0C, 0x00)
    m.io_write(0x02, 0x34)
    m.io_write(0x02, 0x12)
    ch1 = m.dma.channel(1)
    assert (ch1.base_address, ch1.current_address) == (0x1234, 0x1234)
    m.io_write(0x0C, 0x00)
    assert m.io_read(0x02) == 0x34
    assert m.io_read(0x02) == 0x12


def test_fact_02_one_flip_flop_is_shared_by_all_address_and_count_ports() -> None:
    """hardware.md fact 2: after a clear, 0x02 takes the address low byte and 0x03 the count high byte."""
    m = Machine()
    m.io_write(0x0C, 0)
    m.io_write(0x02, 0xAB)
    m.io_write(0x03, 0xCD)
    ch1 = m.dma.channel(1)
    assert ch1.base_address == 0x00AB
    assert ch1.base_count == 0xCD00
    assert read16(m, 0x02) == 0x00AB
    assert read16(m, 0x03) == 0xCD00


def test_fact_03_terminal_count_sets_status_bit_and_auto_init_reloads() -> None:
    """hardware.md fact 3: count 0x0FFF, 0x1000 bytes moved by the SB16, auto-init."""
    m = Machine()
    data = pattern(0x1000)
    m.phys_write(0x034000, data)
    program_dma1(m, 1, page=0x03, address=0x4000, count=0x0FFF, mode=0x59)
    start_8bit_playback(m, units=0x8000)  # the DSP block is longer than the DMA buffer
    m.run_for(0x0FFF * UNIT_NS)
    assert m.io_read(0x08) & 0x02 == 0  # one byte short of terminal count
    m.run_for(UNIT_NS)
    assert m.io_read(0x08) & 0x02 == 0x02
    assert read16(m, 0x03) == 0x0FFF
    assert read16(m, 0x02) == 0x4000
    assert np.array_equal(m.sb16.sink.data, data)
    assert [r.t_ns for r in tc_records(m)] == [0x1000 * UNIT_NS]


@pytest.mark.parametrize("base", [0x4000, 0xF800])
def test_fact_04_terminal_count_without_auto_init_masks_and_leaves_count_ffff(base: int) -> None:
    """hardware.md fact 4 (base 0xF800 also shows the address wrapping modulo 0x10000)."""
    m = Machine()
    program_dma1(m, 1, page=0x03, address=base, count=0x0FFF, mode=0x49)
    start_8bit_playback(m, units=0x8000)
    m.run_for(0x1000 * UNIT_NS)
    assert read16(m, 0x03) == 0xFFFF
    assert read16(m, 0x02) == (base + 0x1000) & 0xFFFF
    assert m.io_read(0x0F) & 0x02 == 0x02  # channel 1's mask bit
    assert m.dma.channel(1).masked
    # The card still holds DREQ but gets nothing more.
    m.run_for(50 * UNIT_NS)
    assert m.sb16.sink.length == 0x1000
    assert read16(m, 0x03) == 0xFFFF


def test_fact_05_status_read_clears_tc_bits_but_not_request_bits() -> None:
    """hardware.md fact 5."""
    m = Machine()
    program_dma1(m, 1, page=0x03, address=0, count=0x00FF, mode=0x59)
    start_8bit_playback(m, units=0x8000)
    m.run_for(0x100 * UNIT_NS)
    first = m.io_read(0x08)
    second = m.io_read(0x08)
    assert first == 0x22  # TC on channel 1, DREQ 1 held by the SB16
    assert second & 0x0F == 0
    assert second & 0xF0 == first & 0xF0 == 0x20


def test_fact_06_auto_init_terminal_count_does_not_change_the_mask() -> None:
    """hardware.md fact 6."""
    m = Machine()
    program_dma1(m, 1, page=0x03, address=0, count=0x00FF, mode=0x59)
    start_8bit_playback(m, units=0x8000)
    before = m.io_read(0x0F) & 0x0F
    m.run_for(3 * 0x100 * UNIT_NS)
    assert len(tc_records(m)) == 3
    assert m.io_read(0x0F) & 0x0F == before
    assert before & 0x02 == 0
    assert all(not r.masked for r in tc_records(m))


@pytest.mark.parametrize("k", [1, 0x123, 0xFFF])
def test_fact_07_after_k_of_n_units_count_and_address_show_progress(k: int) -> None:
    """hardware.md fact 7: after k of N bytes, count = N-1-k and address = base+k."""
    m = Machine()
    n, base = 0x1000, 0x2100
    program_dma1(m, 1, page=0x05, address=base, count=n - 1, mode=0x59)
    start_8bit_playback(m, units=0x8000)
    m.run_for(k * UNIT_NS)
    assert read16(m, 0x03) == n - 1 - k
    assert read16(m, 0x02) == base + k


def test_fact_08_count_ffff_gives_65536_transfers() -> None:
    """hardware.md fact 8 (the SB16 pulls every unit)."""
    m = Machine()
    program_dma1(m, 1, page=0x04, address=0x0000, count=0xFFFF, mode=0x59)
    start_8bit_playback(m, units=0x10000)
    m.run_for(0xFFFF * UNIT_NS)
    assert m.io_read(0x08) & 0x02 == 0
    assert read16(m, 0x03) == 0x0000  # one unit left
    m.run_for(UNIT_NS)
    assert m.io_read(0x08) & 0x02 == 0x02
    assert [r.t_ns for r in tc_records(m)] == [0x10000 * UNIT_NS]
    assert m.sb16.sink.length == 0x10000


def test_fact_09_mode_0x59_decodes_as_single_read_auto_init_increment_on_channel_1() -> None:
    """hardware.md fact 9."""
    m = Machine()
    others = [m.dma.channel(c).mode for c in (0, 2, 3)]
    m.io_write(0x0B, 0x59)
    mode = m.dma.channel(1).mode_byte
    assert mode.value & 3 == 1
    assert mode.transfer_type == TransferType.READ
    assert mode.auto_init
    assert not mode.decrement
    assert mode.request_mode == RequestMode.SINGLE
    assert [m.dma.channel(c).mode for c in (0, 2, 3)] == others
    m.io_write(0x0A, 0x01)
    assert m.dma.blocked_reason(1, TransferType.READ) is None  # memory -> device allowed
    assert m.dma.blocked_reason(1, TransferType.WRITE) == "mode is a read transfer"


def test_fact_10_mode_0xc0_puts_channel_4_in_cascade() -> None:
    """hardware.md fact 10: and DMA1 moves data only while channel 4 cascades."""
    m = Machine()
    program_dma1(m, 1, page=0x03, address=0, count=0xFFFF, mode=0x59)
    m.io_write(0xD6, 0x40)  # channel 4 in single mode: the cascade is broken
    assert m.dma.channel(4).mode_byte.request_mode == RequestMode.SINGLE
    assert m.dma.blocked_reason(1, TransferType.READ) is not None
    m.io_write(0xD6, 0xC0)
    assert m.dma.channel(4).mode_byte.request_mode == RequestMode.CASCADE
    assert m.dma.blocked_reason(1, TransferType.READ) is None
    assert m.dma.blocked_reason(4, TransferType.READ) == "channel 4 is the cascade"


def test_fact_11_single_mask_port_masks_and_unmasks_one_channel() -> None:
    """hardware.md fact 11."""
    m = Machine()
    m.io_write(0x0E, 0)  # all unmasked
    m.io_write(0x0A, 0x05)
    assert m.io_read(0x0F) & 0x0F == 0b0010
    assert m.dma.channel(1).masked
    m.io_write(0x0A, 0x01)
    assert m.io_read(0x0F) & 0x0F == 0
    assert not m.dma.channel(1).masked


def test_fact_12_clear_mask_and_write_all_masks() -> None:
    """hardware.md fact 12."""
    m = Machine()
    assert m.io_read(0x0F) & 0x0F == 0x0F  # reset state: all masked
    m.io_write(0x0E, 0x5A)  # any value
    assert [m.dma.channel(c).masked for c in range(4)] == [False] * 4
    m.io_write(0x0F, 0x0B)
    assert [m.dma.channel(c).masked for c in range(4)] == [True, True, False, True]
    assert m.io_read(0x0F) == 0xF0 | 0x0B


def test_fact_13_master_clear_masks_all_and_clears_flip_flop() -> None:
    """hardware.md fact 13."""
    m = Machine()
    m.io_write(0x0E, 0)
    m.io_write(0x0C, 0)
    m.io_write(0x02, 0x11)  # flip-flop now points at the high byte
    m.io_write(0x0D, 0x77)
    assert [m.dma.channel(c).masked for c in range(4)] == [True] * 4
    m.io_write(0x02, 0x22)  # lands in the low byte again
    assert m.dma.channel(1).base_address & 0xFF == 0x22


def test_fact_14_page_register_ports() -> None:
    """hardware.md fact 14."""
    m = Machine()
    for ch, port in PAGE_PORT.items():
        m.io_write(port, 0x10 + ch)
    for ch, port in PAGE_PORT.items():
        assert m.dma.channel(ch).page == 0x10 + ch
        assert m.io_read(port) == 0x10 + ch
    assert (PAGE_PORT[1], PAGE_PORT[2], PAGE_PORT[3], PAGE_PORT[0]) == (0x83, 0x81, 0x82, 0x87)
    assert (PAGE_PORT[5], PAGE_PORT[6], PAGE_PORT[7]) == (0x8B, 0x89, 0x8A)
    m.io_write(0x02, 0x00)
    m.io_write(0x02, 0x80)
    assert m.dma.channel(1).physical_address() == 0x118000


def test_fact_15_channel_5_ports_on_dma2() -> None:
    """hardware.md fact 15: 0xC4 address, 0xC6 count, 0xD6 mode, 0xD4 mask, 0xD8 flip-flop."""
    m = Machine()
    m.io_write(0xD8, 0)
    m.io_write(0xC4, 0x78)
    m.io_write(0xC4, 0x56)
    m.io_write(0xD8, 0)
    m.io_write(0xC6, 0xFF)
    m.io_write(0xC6, 0x07)
    m.io_write(0xD6, 0x59)
    m.io_write(0xD4, 0x01)
    ch5 = m.dma.channel(5)
    assert (ch5.base_address, ch5.base_count, ch5.mode) == (0x5678, 0x07FF, 0x59)
    assert not ch5.masked
    m.io_write(0xD4, 0x05)
    assert ch5.masked
    assert read16(m, 0xC6, 0xD8) == 0x07FF
    assert read16(m, 0xC4, 0xD8) == 0x5678


def test_fact_16_8bit_address_wraps_in_its_page() -> None:
    """hardware.md fact 16 (the SB16 pulls the two bytes)."""
    m = Machine()
    m.phys_write(0x12FFFF, b"\xa1")
    m.phys_write(0x120000, b"\xb2")
    m.phys_write(0x130000, b"\xc3")
    program_dma1(m, 1, page=0x12, address=0xFFFF, count=0x0001, mode=0x49)
    dsp_reset(m)
    set_rate(m, RATE)
    dsp(m, 0x14, 0x01, 0x00)  # 8-bit single-cycle, 2 bytes
    m.run_for(2 * UNIT_NS)
    assert m.sb16.sink.data.tolist() == [0xA1, 0xB2]
    assert m.io_read(0x83) == 0x12
    assert read16(m, 0x02) == 0x0001


def test_fact_17_16bit_physical_address_ignores_page_bit_0() -> None:
    """hardware.md fact 17 (controller alone: read_units)."""
    m = Machine()
    m.phys_write(0x234000, b"\x5a\xa5")
    m.phys_write(0x244000, b"\x11\x22")  # where page<<16 + address<<1 would land
    program_dma2(m, 5, page=0x23, address=0xA000, count=0x0000, mode=0x49)
    assert m.dma.channel(5).physical_address() == 0x234000
    assert m.dma.read_units(5, 1).tolist() == [0x5A, 0xA5]


def test_fact_18_16bit_count_is_in_words() -> None:
    """hardware.md fact 18: count 0x0FFF on channel 5 moves 0x2000 bytes (the SB16 pulls them)."""
    m = Machine()
    data = pattern(0x2000, seed=18)
    m.phys_write(0x060000, data)
    program_dma2(m, 5, page=0x06, address=0x0000, count=0x0FFF, mode=0x49)
    dsp_reset(m)
    set_rate(m, RATE)
    dsp(m, 0xB0, 0x10, 0xFF, 0x7F)  # 16-bit single-cycle, DSP block longer than the buffer
    m.run_for(0x1000 * UNIT_NS)
    assert np.array_equal(m.sb16.sink.data, data)
    assert [(r.channel, r.t_ns) for r in tc_records(m)] == [(5, 0x1000 * UNIT_NS)]
    assert read16(m, 0xC6, 0xD8) == 0xFFFF
    assert m.dma.channel(5).masked


def test_fact_19_16bit_address_wraps_in_its_128k_window() -> None:
    """hardware.md fact 19 (controller alone: read_units)."""
    m = Machine()
    m.phys_write(0x03FFFE, b"\x11\x22")
    m.phys_write(0x020000, b"\x33\x44")
    m.phys_write(0x040000, b"\x55\x66")
    program_dma2(m, 5, page=0x02, address=0xFFFF, count=0xFFFF, mode=0x59)
    assert m.dma.read_units(5, 2).tolist() == [0x11, 0x22, 0x33, 0x44]
    assert m.dma.channel(5).physical_address() == 0x020002
    assert m.io_read(0x8B) == 0x02


# --- further controller behaviour -------------------------------------------------------------


def test_status_request_bits_follow_dreq() -> None:
    m = Machine()
    program_dma1(m, 1, page=0x03, address=0, count=0xFFFF, mode=0x59)
    assert m.io_read(0x08) & 0xF0 == 0
    start_8bit_playback(m, units=0x1000)
    assert m.io_read(0x08) & 0xF0 == 0x20  # the SB16 holds DREQ 1
    dsp(m, 0xD0)  # pause: the card drops its request
    assert m.io_read(0x08) & 0xF0 == 0
    dsp(m, 0xD4)
    assert m.io_read(0x08) & 0xF0 == 0x20
    m.io_write(0x09, 0x04 | 3)  # software request on channel 3
    assert m.io_read(0x08) & 0xF0 == 0xA0
    m.io_write(0x09, 3)
    assert m.io_read(0x08) & 0xF0 == 0x20
    # The 16-bit engine requests on DMA2 channel 5 (bit 5 of DMA2's status).
    program_dma2(m, 5, page=0x06, address=0, count=0xFFFF, mode=0x59)
    dsp(m, 0xB6, 0x10, 0xFF, 0x0F)
    assert m.io_read(0xD0) & 0xF0 == 0x20


def test_decrement_mode_moves_down_through_memory() -> None:
    m = Machine()
    data = pattern(0x100, seed=5)
    m.phys_write(0x037F01, data)  # bytes 0x037F01 .. 0x038000
    program_dma1(m, 1, page=0x03, address=0x8000, count=0x00FF, mode=0x69)
    dsp_reset(m)
    set_rate(m, RATE)
    dsp(m, 0x14, 0xFF, 0x00)
    m.run_for(0x100 * UNIT_NS)
    assert np.array_equal(m.sb16.sink.data, data[::-1])
    assert read16(m, 0x02) == 0x7F00
    assert read16(m, 0x03) == 0xFFFF


def test_decrement_mode_on_a_word_channel_keeps_byte_order_inside_each_word() -> None:
    """Controller alone (read_units): words come in descending order, each little-endian."""
    m = Machine()
    m.phys_write(0x020000, bytes([0, 1, 2, 3, 4, 5]))
    program_dma2(m, 5, page=0x02, address=0x0002, count=0x0002, mode=0x69)
    assert m.dma.read_units(5, 3).tolist() == [4, 5, 2, 3, 0, 1]
    assert m.dma.channel(5).current_address == 0xFFFF


def test_command_bit_2_disables_the_controller() -> None:
    m = Machine()
    program_dma1(m, 1, page=0x03, address=0, count=0xFFFF, mode=0x59)
    start_8bit_playback(m, units=0x8000)
    m.run_for(100 * UNIT_NS)
    m.io_write(0x08, 0x04)
    assert m.sb16.transfer is not None
    assert m.sb16.transfer.stalled == "DMA1 is disabled (command bit 2)"
    m.run_for(1000 * UNIT_NS)
    assert m.sb16.sink.length == 100
    assert read16(m, 0x02) == 100
    m.io_write(0x08, 0x00)
    m.run_for(50 * UNIT_NS)
    assert m.sb16.sink.length == 150


def test_dma1_stops_while_channel_4_is_masked() -> None:
    m = Machine()
    program_dma1(m, 1, page=0x03, address=0, count=0xFFFF, mode=0x59)
    start_8bit_playback(m, units=0x8000)
    m.run_for(10 * UNIT_NS)
    m.io_write(0xD4, 0x04)  # mask channel 4, the cascade
    assert m.dma.channel(4).masked
    m.run_for(1000 * UNIT_NS)
    assert m.sb16.sink.length == 10
    assert "cascade" in (m.sb16.transfer.stalled or "")
    m.io_write(0xD4, 0x00)
    m.run_for(10 * UNIT_NS)
    assert m.sb16.sink.length == 20


def test_master_clear_keeps_address_count_and_mode() -> None:
    m = Machine()
    program_dma1(m, 2, page=0x07, address=0xBEEF, count=0x1234, mode=0x5A)
    m.io_write(0x08, 0x04)
    m.io_write(0x0D, 0)
    ch2 = m.dma.channel(2)
    assert (ch2.base_address, ch2.current_address, ch2.base_count, ch2.current_count) == (
        0xBEEF,
        0xBEEF,
        0x1234,
        0x1234,
    )
    assert ch2.mode == 0x5A
    assert ch2.page == 0x07
    assert m.dma.dma1.command == 0
    assert read16(m, 0x04) == 0xBEEF  # the flip-flop was cleared
    assert read16(m, 0x05) == 0x1234


def test_master_clear_on_dma2_keeps_cascade_mode_but_masks_it() -> None:
    m = Machine()
    program_dma1(m, 1, page=0x03, address=0, count=0xFFFF, mode=0x59)
    assert m.dma.blocked_reason(1, TransferType.READ) is None
    m.io_write(0xDA, 0)
    assert m.dma.channel(4).masked
    assert m.dma.channel(4).mode_byte.request_mode == RequestMode.CASCADE
    assert "cascade" in (m.dma.blocked_reason(1, TransferType.READ) or "")


# --- property tests: counter and address arithmetic ---------------------------------------------


def _window_pattern(base: int, size: int) -> np.ndarray:
    """A byte for every physical address of the window that tells neighbouring addresses apart."""
    a = np.arange(base, base + size, dtype=np.uint64)
    return ((a * np.uint64(2654435761)) >> np.uint64(11)).astype(np.uint8)


def _reference_walk(
    *, word: bool, base: int, count: int, auto: bool, decrement: bool, window: int, n: int
) -> tuple[list[int], int, int, bool, int]:
    """Unit by unit, as the 8237 does it: the physical address of each unit moved, then the final
    (address, count, masked, terminal counts)."""
    addr, cnt, masked, tcs = base, count, False, 0
    addresses: list[int] = []
    for _ in range(n):
        if masked:
            break
        addresses.append(window + (addr << 1 if word else addr))
        addr = (addr + (-1 if decrement else 1)) & 0xFFFF
        cnt = (cnt - 1) & 0xFFFF
        if cnt == 0xFFFF:
            tcs += 1
            if auto:
                addr, cnt = base, count
            else:
                masked = True
    return addresses, addr, cnt, masked, tcs


_channels = st.sampled_from([0, 1, 2, 3, 5, 6, 7])
_addresses = st.one_of(st.integers(0, 0xFFFF), st.integers(0xFF00, 0xFFFF), st.integers(0, 0xFF))
_counts = st.one_of(st.integers(0, 0x200), st.integers(0, 0xFFFF))
_chunks = st.lists(st.integers(1, 700), min_size=1, max_size=8)


def _program(m: Machine, ch: int, page: int, address: int, count: int, mode: int) -> None:
    if ch >= 4:
        program_dma2(m, ch, page=page, address=address, count=count, mode=mode)
    else:
        program_dma1(m, ch, page=page, address=address, count=count, mode=mode)


@settings(max_examples=60, deadline=None)
@given(
    ch=_channels,
    page=st.integers(0, 0xFF),
    base=_addresses,
    count=_counts,
    auto=st.booleans(),
    decrement=st.booleans(),
    chunks=_chunks,
)
def test_read_units_matches_unit_by_unit_reference(
    ch: int, page: int, base: int, count: int, auto: bool, decrement: bool, chunks: list[int]
) -> None:
    """Controller alone: any split of N units gives the bytes and registers of a unit-by-unit walk."""
    m = Machine()
    word = ch >= 4
    window = ((page & 0xFE) << 16) if word else page << 16
    size = 0x20000 if word else 0x10000
    m.phys_write(window, _window_pattern(window, size))
    mode = 0x40 | (0x10 if auto else 0) | (0x20 if decrement else 0) | 0x08 | (ch & 3)
    _program(m, ch, page, base, count, mode)
    got = np.concatenate([m.dma.read_units(ch, c) for c in chunks])
    addresses, addr, cnt, masked, tcs = _reference_walk(
        word=word, base=base, count=count, auto=auto, decrement=decrement, window=window, n=sum(chunks)
    )
    unit = 2 if word else 1
    expected = np.array([b for a in addresses for b in _window_pattern(a, unit)], dtype=np.uint8)
    assert np.array_equal(got, expected)
    assert all(window <= a < window + size for a in addresses)
    flip_flop = 0xD8 if word else 0x0C
    addr_port = 0xC0 + 4 * (ch & 3) if word else 2 * ch
    assert read16(m, addr_port, flip_flop) == addr
    assert read16(m, addr_port + (2 if word else 1), flip_flop) == cnt
    assert m.dma.channel(ch).masked == masked
    assert m.dma.channel(ch).terminal_counts == tcs
    status = m.io_read(0xD0 if word else 0x08)
    assert bool(status & (1 << (ch & 3))) == (tcs > 0)


@settings(max_examples=40, deadline=None)
@given(
    ch=_channels,
    page=st.integers(0, 0xFF),
    base=_addresses,
    count=_counts,
    auto=st.booleans(),
    decrement=st.booleans(),
    chunks=_chunks,
)
def test_write_units_matches_unit_by_unit_reference(
    ch: int, page: int, base: int, count: int, auto: bool, decrement: bool, chunks: list[int]
) -> None:
    """Controller alone: device -> memory lands each unit where a unit-by-unit walk puts it."""
    m = Machine()
    word = ch >= 4
    unit = 2 if word else 1
    window = ((page & 0xFE) << 16) if word else page << 16
    size = 0x20000 if word else 0x10000
    mode = 0x40 | (0x10 if auto else 0) | (0x20 if decrement else 0) | 0x04 | (ch & 3)
    _program(m, ch, page, base, count, mode)
    incoming = pattern(sum(chunks) * unit, seed=len(chunks))
    moved = 0
    offset = 0
    for c in chunks:
        moved += m.dma.write_units(ch, incoming[offset : offset + c * unit])
        offset += c * unit
    addresses, addr, cnt, masked, tcs = _reference_walk(
        word=word, base=base, count=count, auto=auto, decrement=decrement, window=window, n=sum(chunks)
    )
    expected = np.zeros(size, dtype=np.uint8)
    for i, a in enumerate(addresses):  # later units overwrite earlier ones, as in memory
        expected[a - window : a - window + unit] = incoming[i * unit : (i + 1) * unit]
    assert moved == len(addresses)
    assert np.array_equal(m.phys_read(window, size), expected)
    assert m.dma.channel(ch).current_address == addr
    assert m.dma.channel(ch).current_count == cnt
    assert m.dma.channel(ch).masked == masked
    assert m.dma.channel(ch).terminal_counts == tcs
