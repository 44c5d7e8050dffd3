"""The Sound Blaster 16, programmed through its ports as a DOS program would.

Facts 30-36 of hardware.md section 5 each have a test; the rest covers every DMA command
family in both directions, exact block-IRQ times, pause/continue, exit auto-init, the
card waiting on a masked 8237 channel, and IRQ acknowledgement.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import MS, US, Machine
from model.hardware.audio_io import AudioSource
from model.trace import BlockEndRecord, InterruptRecord
from model.wave_format import Signal, SignalKind, WaveFormat

SB = 0x220
RATE = 32_000
UNIT_NS = 31_250  # one DMA unit per sample at RATE, mono
PAGE_PORT = {1: 0x83, 3: 0x82, 5: 0x8B, 6: 0x89}


def dsp_reset(m: Machine) -> None:
    m.io_write(SB + 0x6, 1)
    m.io_write(SB + 0x6, 0)
    assert m.io_read(SB + 0xA) == 0xAA


def dsp(m: Machine, *data: int) -> None:
    for byte in data:
        assert m.io_read(SB + 0xC) & 0x80 == 0
        m.io_write(SB + 0xC, byte)


def set_rate(m: Machine, rate: int, command: int = 0x41) -> None:
    dsp(m, command, rate >> 8, rate & 0xFF)


def mixer_write(m: Machine, index: int, value: int) -> None:
    m.io_write(SB + 0x4, index)
    m.io_write(SB + 0x5, value)


def mixer_read(m: Machine, index: int) -> int:
    m.io_write(SB + 0x4, index)
    return m.io_read(SB + 0x5)


def program_dma(m: Machine, ch: int, phys: int, n_bytes: int, *, auto: bool, record: bool) -> None:
    """Program the 8237 channel for a buffer at ``phys`` of ``n_bytes`` and unmask it."""
    mode = 0x40 | (0x10 if auto else 0) | (0x04 if record else 0x08) | (ch & 3)
    if ch >= 4:
        r = ch & 3
        mask, ff, mode_port = 0xD4, 0xD8, 0xD6
        addr_port, count_port = 0xC0 + 4 * r, 0xC2 + 4 * r
        address, count = (phys >> 1) & 0xFFFF, n_bytes // 2 - 1
    else:
        r = ch
        mask, ff, mode_port = 0x0A, 0x0C, 0x0B
        addr_port, count_port = 2 * ch, 2 * ch + 1
        address, count = phys & 0xFFFF, n_bytes - 1
    m.io_write(mask, 0x04 | r)
    m.io_write(ff, 0)
    m.io_write(mode_port, mode)
    m.io_write(addr_port, address & 0xFF)
    m.io_write(addr_port, address >> 8)
    m.io_write(PAGE_PORT[ch], phys >> 16)
    m.io_write(ff, 0)
    m.io_write(count_port, count & 0xFF)
    m.io_write(count_port, count >> 8)
    m.io_write(mask, r)


def noise(length: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, length, dtype=np.uint8)


def block_ends(m: Machine) -> list[BlockEndRecord]:
    return [r for r in m.trace.of_kind("block_end") if isinstance(r, BlockEndRecord)]


def irq_times(m: Machine, action: str = "raise", irq: int = 5) -> list[int]:
    return [
        r.t_ns
        for r in m.trace.of_kind("interrupt")
        if isinstance(r, InterruptRecord) and r.action == action and r.irq == irq
    ]


class AckIsr:
    """A DOS-style service routine: acknowledge both DSP interrupts, count calls."""

    def __init__(self, m: Machine) -> None:
        self.m = m
        self.times: list[int] = []

    def service(self, irq: int) -> None:
        self.times.append(self.m.now_ns)
        self.m.io_read(SB + 0xF)
        self.m.io_read(SB + 0xE)


# --- facts 30-36 ----------------------------------------------------------------------------------


def test_fact_30_reset_answers_0xaa() -> None:
    """hardware.md fact 30."""
    m = Machine()
    assert m.io_read(SB + 0xE) & 0x80 == 0  # nothing to read before the reset
    m.io_write(SB + 0x6, 1)
    m.io_write(SB + 0x6, 0)
    assert m.io_read(SB + 0xE) & 0x80 == 0x80
    assert m.io_read(SB + 0xA) == 0xAA
    assert m.io_read(SB + 0xE) & 0x80 == 0


def test_fact_31_rate_command_takes_high_byte_first() -> None:
    """hardware.md fact 31: 0x41 0xAC 0x44 is 44100 Hz, so 44100 bytes of 8-bit mono take 1 s."""
    m = Machine()
    dsp_reset(m)
    dsp(m, 0x41, 0xAC, 0x44)
    assert m.sb16.rate == 44_100
    program_dma(m, 1, 0x20000, 0x10000, auto=True, record=False)
    length = 44_100 - 1
    dsp(m, 0x14, length & 0xFF, length >> 8)
    m.run_for(2_000 * MS)
    assert [r.t_ns for r in block_ends(m)] == [1_000 * MS]


def test_fact_32_c6_starts_8bit_auto_init_with_irq_every_0x1000_bytes() -> None:
    """hardware.md fact 32."""
    m = Machine()
    dsp_reset(m)
    set_rate(m, RATE)
    program_dma(m, 1, 0x20000, 0x2000, auto=True, record=False)
    dsp(m, 0xC6, 0x00, 0xFF, 0x0F)
    t = m.sb16.transfer
    assert t is not None
    assert (t.bits16, t.stereo, t.signed, t.auto_init, t.channel) == (False, False, False, True, 1)
    m.run_for(3 * 0x1000 * UNIT_NS)
    assert [r.t_ns for r in block_ends(m)] == [k * 0x1000 * UNIT_NS for k in (1, 2, 3)]
    assert {(r.bytes, r.channel) for r in block_ends(m)} == {(0x1000, 1)}
    assert irq_times(m) == [k * 0x1000 * UNIT_NS for k in (1, 2, 3)]


def test_fact_33_b6_starts_16bit_auto_init_with_irq_every_0x800_words() -> None:
    """hardware.md fact 33."""
    m = Machine()
    dsp_reset(m)
    set_rate(m, RATE)
    program_dma(m, 5, 0x40000, 0x2000, auto=True, record=False)
    dsp(m, 0xB6, 0x10, 0xFF, 0x07)
    t = m.sb16.transfer
    assert t is not None
    assert (t.bits16, t.stereo, t.signed, t.auto_init, t.channel) == (True, False, True, True, 5)
    m.run_for(2 * 0x800 * UNIT_NS)
    assert [r.t_ns for r in block_ends(m)] == [0x800 * UNIT_NS, 0x1000 * UNIT_NS]
    assert {(r.bytes, r.channel) for r in block_ends(m)} == {(0x1000, 5)}


def test_fact_34_mixer_0x82_shows_pending_irqs_until_acknowledged() -> None:
    """hardware.md fact 34."""
    m = Machine()
    dsp_reset(m)
    set_rate(m, RATE)
    assert mixer_read(m, 0x82) & 0x03 == 0
    program_dma(m, 5, 0x40000, 0x200, auto=True, record=False)
    dsp(m, 0xB6, 0x10, 0xFF, 0x00)
    m.run_for(0x100 * UNIT_NS)
    assert mixer_read(m, 0x82) & 0x03 == 0x02
    m.run_for(5 * MS)
    assert mixer_read(m, 0x82) & 0x03 == 0x02  # still set: nobody read base+0xF
    m.io_read(SB + 0xE)  # the 8-bit acknowledge does not clear the 16-bit bit
    assert mixer_read(m, 0x82) & 0x03 == 0x02
    m.io_read(SB + 0xF)
    assert mixer_read(m, 0x82) & 0x03 == 0
    # The 8-bit engine: bit 0 until base+0xE is read.
    program_dma(m, 1, 0x20000, 0x100, auto=True, record=False)
    dsp(m, 0xC6, 0x00, 0xFF, 0x00)
    m.run_for(0x100 * UNIT_NS)
    assert mixer_read(m, 0x82) & 0x03 == 0x01
    m.io_read(SB + 0xF)
    assert mixer_read(m, 0x82) & 0x03 == 0x01
    m.io_read(SB + 0xE)
    assert mixer_read(m, 0x82) & 0x03 == 0
    assert mixer_read(m, 0x82) & 0xF0 == 0x20


def test_fact_35_da_finishes_the_block_raises_and_stops() -> None:
    """hardware.md fact 35."""
    m = Machine()
    dsp_reset(m)
    set_rate(m, RATE)
    program_dma(m, 1, 0x20000, 0x400, auto=True, record=False)
    dsp(m, 0xC6, 0x00, 0xFF, 0x00)  # 0x100-byte blocks
    m.run_for(0x180 * UNIT_NS)  # half-way through block 2
    dsp(m, 0xDA)
    m.run_for(0x1000 * UNIT_NS)
    assert [r.t_ns for r in block_ends(m)] == [0x100 * UNIT_NS, 0x200 * UNIT_NS]
    assert irq_times(m) == [0x100 * UNIT_NS, 0x200 * UNIT_NS]
    assert m.sb16.transfer is None
    assert m.sb16.sink.length == 0x200
    assert m.io_read(0x08) & 0x20 == 0  # the card released DREQ 1


def test_fact_36_mixer_selects_irq_and_dma_channels() -> None:
    """hardware.md fact 36 (and a transfer on the channels another setting selects)."""
    m = Machine()
    mixer_write(m, 0x80, 0x02)
    mixer_write(m, 0x81, 0x22)
    assert (m.sb16.irq, m.sb16.dma8, m.sb16.dma16) == (5, 1, 5)
    assert (mixer_read(m, 0x80), mixer_read(m, 0x81)) == (0x02, 0x22)
    mixer_write(m, 0x80, 0x04)  # IRQ 7
    mixer_write(m, 0x81, 0x48)  # 8-bit DMA 3, 16-bit DMA 6
    assert (m.sb16.irq, m.sb16.dma8, m.sb16.dma16) == (7, 3, 6)
    dsp_reset(m)
    set_rate(m, RATE)
    data = noise(0x100, 36)
    m.phys_write(0x50000, data)
    program_dma(m, 3, 0x50000, 0x100, auto=True, record=False)
    dsp(m, 0xC6, 0x00, 0xFF, 0x00)
    m.run_for(0x100 * UNIT_NS)
    assert np.array_equal(m.sb16.sink.data, data)
    assert irq_times(m, irq=7) == [0x100 * UNIT_NS]
    assert irq_times(m, irq=5) == []
    data16 = noise(0x200, 6)
    m.phys_write(0x60000, data16)
    program_dma(m, 6, 0x60000, 0x200, auto=True, record=False)
    dsp(m, 0xB6, 0x10, 0xFF, 0x00)
    m.run_for(0x100 * UNIT_NS)
    assert np.array_equal(m.sb16.sink.data[0x100:], data16)
    assert [r.channel for r in block_ends(m)] == [3, 6]


# --- playback -------------------------------------------------------------------------------------


def _played_matches_buffer(played: np.ndarray, buffer: np.ndarray) -> bool:
    """Played bytes are the DMA buffer read over and over from its start."""
    repeats = -(-len(played) // len(buffer))
    return np.array_equal(played, np.tile(buffer, repeats)[: len(played)])


def test_0x14_single_cycle_8bit_plays_exactly_the_buffer_then_stops() -> None:
    m = Machine()
    data = noise(0x300, 14)
    m.phys_write(0x21000, data)
    dsp_reset(m)
    set_rate(m, RATE)
    program_dma(m, 1, 0x21000, 0x300, auto=False, record=False)
    dsp(m, 0x14, 0xFF, 0x02)
    m.run_for(0x1000 * UNIT_NS)
    assert np.array_equal(m.sb16.sink.data, data)
    assert [r.t_ns for r in block_ends(m)] == [0x300 * UNIT_NS]
    assert not block_ends(m)[0].auto_init
    assert m.sb16.transfer is None


def test_0x1c_auto_init_8bit_uses_the_0x48_block_size() -> None:
    m = Machine()
    data = noise(0x400, 28)
    m.phys_write(0x22000, data)
    dsp_reset(m)
    set_rate(m, RATE)
    program_dma(m, 1, 0x22000, 0x400, auto=True, record=False)
    dsp(m, 0x48, 0xFF, 0x01)  # block = 0x200 bytes
    dsp(m, 0x1C)
    m.run_for(5 * 0x200 * UNIT_NS)
    assert [r.t_ns for r in block_ends(m)] == [k * 0x200 * UNIT_NS for k in range(1, 6)]
    assert m.sb16.sink.length == 5 * 0x200
    assert _played_matches_buffer(m.sb16.sink.data, data)


@pytest.mark.parametrize("command", [0xC0, 0xC2, 0xC4, 0xC6])
@pytest.mark.parametrize("mode", [0x00, 0x10, 0x20, 0x30])
def test_8bit_dma_commands_play_memory_in_dma_order(command: int, mode: int) -> None:
    m = Machine()
    buffer = noise(0x180, command ^ mode)
    m.phys_write(0x2EF80, buffer)  # crosses a 4 KiB page boundary, inside one 64 KiB page
    dsp_reset(m)
    set_rate(m, RATE)
    auto = bool(command & 0x04)
    program_dma(m, 1, 0x2EF80, 0x180, auto=True, record=False)
    length = 0xC0 - 1
    dsp(m, command, mode, length & 0xFF, length >> 8)
    t = m.sb16.transfer
    assert t is not None
    assert (t.bits16, t.stereo, t.signed, t.auto_init) == (False, bool(mode & 0x20), bool(mode & 0x10), auto)
    stereo = 2 if mode & 0x20 else 1
    m.run_for(5 * 0xC0 * UNIT_NS // stereo)
    blocks = 5 if auto else 1
    assert m.sb16.sink.length == blocks * 0xC0
    assert _played_matches_buffer(m.sb16.sink.data, buffer)
    assert [r.t_ns for r in block_ends(m)] == [k * 0xC0 * UNIT_NS // stereo for k in range(1, blocks + 1)]


@pytest.mark.parametrize("command", [0xB0, 0xB2, 0xB4, 0xB6])
@pytest.mark.parametrize("mode", [0x00, 0x10, 0x20, 0x30])
def test_16bit_dma_commands_play_memory_in_dma_order(command: int, mode: int) -> None:
    m = Machine()
    buffer = noise(0x300, command ^ mode)
    m.phys_write(0x41F00, buffer)
    dsp_reset(m)
    set_rate(m, RATE)
    auto = bool(command & 0x04)
    program_dma(m, 5, 0x41F00, 0x300, auto=True, record=False)
    length = 0xC0 - 1  # 0xC0 words = 0x180 bytes per block
    dsp(m, command, mode, length & 0xFF, length >> 8)
    t = m.sb16.transfer
    assert t is not None
    assert (t.bits16, t.stereo, t.signed, t.auto_init, t.channel) == (
        True,
        bool(mode & 0x20),
        bool(mode & 0x10),
        auto,
        5,
    )
    stereo = 2 if mode & 0x20 else 1
    m.run_for(5 * 0xC0 * UNIT_NS // stereo)
    blocks = 5 if auto else 1
    assert m.sb16.sink.length == blocks * 0x180
    assert _played_matches_buffer(m.sb16.sink.data, buffer)
    assert {r.bytes for r in block_ends(m)} == {0x180}


def test_16bit_data_over_the_8bit_channel_when_no_16bit_channel_is_selected() -> None:
    m = Machine()
    mixer_write(m, 0x81, 0x02)  # 8-bit DMA 1 only
    buffer = noise(0x200, 816)
    m.phys_write(0x20000, buffer)
    dsp_reset(m)
    set_rate(m, RATE)
    program_dma(m, 1, 0x20000, 0x200, auto=True, record=False)
    dsp(m, 0xB6, 0x10, 0x7F, 0x00)  # 0x80 samples = 0x100 bytes
    m.run_for(0x80 * UNIT_NS)
    assert m.sb16.sink.length == 0x100
    assert np.array_equal(m.sb16.sink.data, buffer[:0x100])
    assert [(r.channel, r.bytes, r.t_ns) for r in block_ends(m)] == [(1, 0x100, 0x80 * UNIT_NS)]


def test_48k_stereo_16bit_auto_init_length_959_interrupts_every_10_ms_exactly() -> None:
    m = Machine()
    isr = AckIsr(m)
    m.connect_interrupt(5, isr.service)
    dsp_reset(m)
    set_rate(m, 48_000)
    program_dma(m, 5, 0x40000, 2 * 1920, auto=True, record=False)
    dsp(m, 0xB6, 0x30, 959 & 0xFF, 959 >> 8)
    m.run_for(100 * MS + 10 * US)  # and the last service routine
    tens = [k * 10 * MS for k in range(1, 11)]
    assert [r.t_ns for r in block_ends(m)] == tens
    assert {r.bytes for r in block_ends(m)} == {1920}
    assert irq_times(m) == tens
    assert isr.times == [t + 2 * US for t in tens]
    assert irq_times(m, "ack") == [t + 2 * US for t in tens]
    assert m.sb16.sink.length == 10 * 1920


def test_block_times_at_44100_do_not_drift() -> None:
    """Each block ends at the first ns at which its last sample is due, counted from the start."""
    m = Machine()
    dsp_reset(m)
    dsp(m, 0x41, 0xAC, 0x44)
    program_dma(m, 1, 0x20000, 0x1000, auto=True, record=False)
    dsp(m, 0xC6, 0x00, 0xFF, 0x03)  # 0x400-byte blocks
    m.run_for(1_000 * MS)
    expected = [-(-(k * 0x400 * 1_000_000_000) // 44_100) for k in range(1, 44)]
    assert [r.t_ns for r in block_ends(m)] == expected


# --- recording --------------------------------------------------------------------------------------


def _use_noise_source(m: Machine, seed: int) -> None:
    m.sb16.source = AudioSource(Signal(SignalKind.NOISE, seed=seed))


def test_0x24_single_cycle_8bit_recording_writes_the_source_bytes() -> None:
    m = Machine()
    _use_noise_source(m, 24)
    dsp_reset(m)
    set_rate(m, 8_000, command=0x42)
    program_dma(m, 1, 0x30000, 0x800, auto=False, record=True)
    dsp(m, 0x24, 0xFF, 0x07)
    m.run_for(1_000 * MS)
    fmt = WaveFormat(8_000, 8, 1)
    assert np.array_equal(m.phys_read(0x30000, 0x800), m.sb16.source.expected(fmt, 0, 0x800))
    assert [r.t_ns for r in block_ends(m)] == [256 * MS]
    assert m.sb16.sink.length == 0


def test_0xce_auto_init_8bit_recording_fills_the_buffer_round_and_round() -> None:
    m = Machine()
    _use_noise_source(m, 206)
    dsp_reset(m)
    set_rate(m, 8_000, command=0x42)
    program_dma(m, 1, 0x30000, 0x400, auto=True, record=True)
    dsp(m, 0xCE, 0x20, 0xFF, 0x01)  # stereo unsigned, 0x200-unit blocks
    fmt = WaveFormat(8_000, 8, 2)
    m.run_for(0x400 * MS // 16)  # 0x400 units at 16 000 units/s
    assert np.array_equal(m.phys_read(0x30000, 0x400), m.sb16.source.expected(fmt, 0, 0x400))
    m.run_for(0x200 * MS // 16)  # half a buffer more overwrites the first half
    second = m.sb16.source.expected(fmt, 0x400, 0x200)
    assert np.array_equal(m.phys_read(0x30000, 0x200), second)
    assert len(block_ends(m)) == 3


def test_0xbe_auto_init_16bit_recording_writes_the_source_words() -> None:
    m = Machine()
    _use_noise_source(m, 190)
    dsp_reset(m)
    set_rate(m, RATE, command=0x42)
    program_dma(m, 5, 0x60000, 0x1000, auto=True, record=True)
    dsp(m, 0xBE, 0x10, 0xFF, 0x03)  # 0x400 words per block
    m.run_for(0x800 * UNIT_NS)
    fmt = WaveFormat(RATE, 16, 1)
    assert np.array_equal(m.phys_read(0x60000, 0x1000), m.sb16.source.expected(fmt, 0, 0x1000))
    assert [r.t_ns for r in block_ends(m)] == [0x400 * UNIT_NS, 0x800 * UNIT_NS]


def test_recording_waits_for_a_masked_channel_without_losing_input() -> None:
    """Single-cycle 8237 buffer shorter than the DSP block: the card waits at TC, and the input
    it could not store is still there when the driver re-arms the channel."""
    m = Machine()
    _use_noise_source(m, 4)
    dsp_reset(m)
    set_rate(m, 8_000, command=0x42)
    program_dma(m, 1, 0x30000, 0x1000, auto=False, record=True)
    dsp(m, 0x24, 0xFF, 0x1F)  # 0x2000-byte DSP block
    m.run_for(600 * MS)  # the 8237 stopped at 512 ms
    assert m.sb16.transfer is not None
    assert m.sb16.transfer.stalled == "channel is masked"
    program_dma(m, 1, 0x40000, 0x1000, auto=False, record=True)
    m.run_for(600 * MS)
    fmt = WaveFormat(8_000, 8, 1)
    recorded = np.concatenate([m.phys_read(0x30000, 0x1000), m.phys_read(0x40000, 0x1000)])
    assert np.array_equal(recorded, m.sb16.source.expected(fmt, 0, 0x2000))
    assert [r.t_ns for r in block_ends(m)] == [1_112 * MS]  # 512 ms + (600 - 512) ms stall + 512 ms


def test_recording_is_refused_by_a_channel_programmed_for_playback() -> None:
    m = Machine()
    dsp_reset(m)
    set_rate(m, RATE, command=0x42)
    program_dma(m, 1, 0x30000, 0x400, auto=True, record=False)
    dsp(m, 0xCE, 0x00, 0xFF, 0x00)
    m.run_for(50 * MS)
    assert m.sb16.transfer is not None
    assert m.sb16.transfer.stalled == "mode is a read transfer"
    assert not m.phys_read(0x30000, 0x400).any()
    assert block_ends(m) == []


# --- flow control ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "pause", "resume"),
    [((0xC6, 0x00, 0xFF, 0x0F), 0xD0, 0xD4), ((0xB6, 0x10, 0xFF, 0x0F), 0xD5, 0xD6)],
)
def test_pause_and_continue(start: tuple[int, ...], pause: int, resume: int) -> None:
    m = Machine()
    dsp_reset(m)
    set_rate(m, RATE)
    ch = 5 if start[0] < 0xC0 else 1
    program_dma(m, ch, 0x40000, 0x4000, auto=True, record=False)
    dsp(m, *start)
    unit = 2 if ch == 5 else 1
    m.run_for(320 * UNIT_NS)  # 10 ms
    dsp(m, pause)
    assert m.io_read(0xD0 if ch == 5 else 0x08) & 0x20 == 0  # DREQ dropped
    m.run_for(20 * MS)
    assert m.sb16.sink.length == 320 * unit
    assert m.sb16.transfer is not None
    assert m.sb16.transfer.stalled == "paused by DSP command"
    dsp(m, resume)
    m.run_for(200 * MS)
    assert [r.t_ns for r in block_ends(m)] == [0x1000 * UNIT_NS + 20 * MS]
    assert m.sb16.sink.length == (320 + 200 * MS // UNIT_NS) * unit


def test_d9_exits_16bit_auto_init_at_the_end_of_the_block() -> None:
    m = Machine()
    dsp_reset(m)
    set_rate(m, RATE)
    program_dma(m, 5, 0x40000, 0x800, auto=True, record=False)
    dsp(m, 0xB6, 0x10, 0xFF, 0x00)  # 0x100 words
    m.run_for(0x50 * UNIT_NS)
    dsp(m, 0xD9)
    m.run_for(10 * 0x100 * UNIT_NS)
    assert [r.t_ns for r in block_ends(m)] == [0x100 * UNIT_NS]
    assert m.sb16.transfer is None
    assert m.sb16.sink.length == 0x200


def test_card_stops_while_the_channel_is_masked_and_resumes_on_unmask() -> None:
    m = Machine()
    buffer = noise(0x1000, 99)
    m.phys_write(0x20000, buffer)
    dsp_reset(m)
    set_rate(m, RATE)
    program_dma(m, 1, 0x20000, 0x1000, auto=True, record=False)
    dsp(m, 0xC6, 0x00, 0xFF, 0x07)  # 0x800-byte blocks
    m.run_for(0x100 * UNIT_NS)
    m.io_write(0x0A, 0x05)
    m.run_for(30 * MS)
    assert m.sb16.sink.length == 0x100
    assert m.sb16.transfer is not None
    assert m.sb16.transfer.stalled == "channel is masked"
    assert block_ends(m) == []
    m.io_write(0x0A, 0x01)
    m.run_for(0x800 * UNIT_NS)
    assert [r.t_ns for r in block_ends(m)] == [0x800 * UNIT_NS + 30 * MS]
    assert _played_matches_buffer(m.sb16.sink.data, buffer)  # nothing skipped, nothing repeated


def test_a_new_dma_command_clears_pending_interrupts() -> None:
    m = Machine()
    dsp_reset(m)
    set_rate(m, RATE)
    program_dma(m, 1, 0x20000, 0x100, auto=True, record=False)
    dsp(m, 0xC6, 0x00, 0x7F, 0x00)
    m.run_for(0x80 * UNIT_NS)
    assert m.sb16.pending8
    assert m.interrupts.lines[5].high
    dsp(m, 0xC6, 0x00, 0x7F, 0x00)
    assert not m.sb16.pending8
    assert not m.interrupts.lines[5].high


# --- interrupts --------------------------------------------------------------------------------------------


def test_isr_that_acknowledges_gets_every_block_and_one_that_does_not_gets_one() -> None:
    acked = Machine()
    isr = AckIsr(acked)
    acked.connect_interrupt(5, isr.service)

    class ForgetfulIsr:
        def __init__(self) -> None:
            self.calls = 0

        def service(self, irq: int) -> None:
            self.calls += 1

    forgot = Machine()
    forgetful = ForgetfulIsr()
    forgot.connect_interrupt(5, forgetful.service)
    for m in (acked, forgot):
        dsp_reset(m)
        set_rate(m, RATE)
        program_dma(m, 1, 0x20000, 0x200, auto=True, record=False)
        dsp(m, 0xC6, 0x00, 0xFF, 0x00)
        m.run_for(4 * 0x100 * UNIT_NS + 10 * US)
    assert len(isr.times) == 4
    assert forgetful.calls == 1  # the line never went low: no new edge
    assert forgot.interrupts.lines[5].high
    assert len(irq_times(forgot)) == 4  # the card still raised it at every block end
    assert not acked.interrupts.lines[5].high


def test_line_stays_high_until_both_engines_are_acknowledged() -> None:
    m = Machine()
    dsp_reset(m)
    dsp(m, 0xF2)  # trigger an 8-bit IRQ
    dsp(m, 0xF3)  # and a 16-bit one
    assert mixer_read(m, 0x82) & 0x03 == 0x03
    assert m.interrupts.lines[5].high
    m.io_read(SB + 0xE)
    assert m.interrupts.lines[5].high
    m.io_read(SB + 0xF)
    assert not m.interrupts.lines[5].high
    assert mixer_read(m, 0x82) & 0x03 == 0


def test_dsp_version_and_speaker_status() -> None:
    m = Machine()
    dsp_reset(m)
    dsp(m, 0xE1)
    assert (m.io_read(SB + 0xA), m.io_read(SB + 0xA)) == (4, 5)
    dsp(m, 0xD1, 0xD8)
    assert m.io_read(SB + 0xA) == 0xFF
    dsp(m, 0xD3, 0xD8)
    assert m.io_read(SB + 0xA) == 0x00
