"""A Sound Blaster 16 style card: DSP, mixer, and DMA through the system 8237 channels.

The DSP pulls (playback) or pushes (recording) one DMA unit per sample period through its
8237 channel: a byte on the 8-bit channel, a word on the 16-bit channel, one unit per
sample (so two per stereo frame). Progress is computed from time, never ticked. When
the block counter runs out the card sets its bit in mixer register 0x82 and raises its
IRQ; auto-init reloads the block, single-cycle stops. While the 8237 channel is masked
(or programmed for the wrong direction) the card gets no data and its block counter
waits, as in DOSBox and 86Box.

Where emulators disagree (hardware.md §2.8): the 0xBx/0xCx length counts DMA units, i.e.
individual samples, so a stereo block of length L-1 is L/2 frames (DOSBox and 86Box, the
closer to hardware; QEMU shifts single-cycle stereo lengths). Mixer 0x82's high nibble
reads 0x2 (DOSBox). 0x40 time constants give rate = 1,000,000 / (256 - TC).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from model.hardware.audio_io import AudioSink, AudioSource
from model.hardware.dma_controller import TransferType
from model.hardware.unit_clock import ClockGroup, UnitClock
from model.hardware.wake_up import WakeUp
from model.trace import BlockEndRecord
from model.wave_format import WaveFormat

if TYPE_CHECKING:
    from model.hardware.dma_controller import DmaControllerPair
    from model.hardware.interrupts import InterruptController
    from model.simulator import Simulator

DSP_VERSION = (4, 5)

# Argument bytes each DSP command takes.
_ARGUMENTS: dict[int, int] = {
    0x10: 1,
    0x14: 2,
    0x24: 2,
    0x40: 1,
    0x41: 2,
    0x42: 2,
    0x48: 2,
    0xE0: 1,
    0xE4: 1,
}
_ARGUMENTS.update({cmd: 3 for cmd in range(0xB0, 0xD0)})

_IRQ_BITS = {2: 0x01, 9: 0x01, 5: 0x02, 7: 0x04, 10: 0x08}
_DMA8_BITS = {0: 0x01, 1: 0x02, 3: 0x08}
_DMA16_BITS = {5: 0x20, 6: 0x40, 7: 0x80}

_PORT_NAMES = {
    0x4: "mixer index",
    0x5: "mixer data",
    0x6: "DSP reset",
    0xA: "DSP read data",
    0xC: "DSP write command/data",
    0xE: "DSP read status / 8-bit IRQ ack",
    0xF: "16-bit IRQ ack",
}


class Direction(enum.StrEnum):
    PLAYBACK = "playback"
    RECORD = "record"


@dataclass
class DspTransfer:
    """The DMA transfer the DSP is running."""

    direction: Direction
    bits16: bool
    stereo: bool
    signed: bool
    auto_init: bool
    channel: int
    units_per_sample: int  # 2 when 16-bit data goes over the 8-bit channel
    block_units: int
    rate: int  # sample rate in Hz
    command: int
    left: int = 0  # units left in the current block
    units_done: int = 0
    blocks: int = 0
    paused: bool = False
    exit_auto_init: bool = False
    stalled: str | None = None
    unit_bytes: int = 1  # the channel's, fixed for the transfer (2 on channels 4-7)

    @property
    def transfer_type(self) -> TransferType:
        """What the 8237 channel must be programmed for: a read (memory to device) when playing."""
        return TransferType.READ if self.direction is Direction.PLAYBACK else TransferType.WRITE

    @property
    def units_per_second(self) -> int:
        return self.rate * (2 if self.stereo else 1) * self.units_per_sample

    @property
    def wave_format(self) -> WaveFormat:
        return WaveFormat(max(5000, min(48000, self.rate)), 16 if self.bits16 else 8, 2 if self.stereo else 1)


class SoundBlaster16:
    """The card. Ports base+0x4..0xF; DMA channels and IRQ selected through mixer 0x80/0x81."""

    def __init__(
        self,
        sim: Simulator,
        dma: DmaControllerPair,
        interrupts: InterruptController,
        *,
        base: int = 0x220,
        irq: int = 5,
        dma8: int = 1,
        dma16: int = 5,
    ) -> None:
        self.sim, self.dma, self.interrupts = sim, dma, interrupts
        self.base = base
        self.name = "SB16"
        # DSP
        self.output: list[int] = []  # bytes waiting at base+0xA
        self.reset_high = False
        self.command: int | None = None
        self.arguments: list[int] = []
        self.rate = 22050
        self.block_size = 0x800  # 0x48 block size in bytes (value + 1)
        self.speaker_on = False
        self.transfer: DspTransfer | None = None
        self.pending8 = False
        self.pending16 = False
        self.last_data = 0xFF
        # mixer
        self.mixer_index = 0
        self.mixer: dict[int, int] = {
            0x80: _IRQ_BITS.get(irq, 0x02),
            0x81: _DMA8_BITS.get(dma8, 0) | _DMA16_BITS.get(dma16, 0),
        }
        # flow
        self.clocks = ClockGroup()
        self.clock = UnitClock(group=self.clocks)
        self.sink = AudioSink("SB16 output")
        self.source = AudioSource()
        self._wake = WakeUp(sim, self.name, self._schedule)
        self._in_sync = False
        self._attach_channels()

    # --- configuration ---------------------------------------------------------------
    def ports(self) -> list[int]:
        return [self.base + off for off in _PORT_NAMES]

    def port_name(self, port: int) -> str:
        return f"SB16 {_PORT_NAMES.get(port - self.base, f'+0x{port - self.base:X}')}"

    @property
    def irq(self) -> int:
        bits = self.mixer.get(0x80, 0)
        for irq in (5, 7, 10, 9):
            if bits & _IRQ_BITS[irq]:
                return irq
        return 5

    @property
    def dma8(self) -> int | None:
        bits = self.mixer.get(0x81, 0)
        return next((ch for ch, bit in _DMA8_BITS.items() if bits & bit), None)

    @property
    def dma16(self) -> int | None:
        bits = self.mixer.get(0x81, 0)
        return next((ch for ch, bit in _DMA16_BITS.items() if bits & bit), None)

    def _attach_channels(self) -> None:
        for ch in (self.dma8, self.dma16):
            if ch is not None:
                self.dma.attach(ch, self.dma_channel_changed)

    # --- ports -------------------------------------------------------------------------
    def io_read(self, port: int) -> int:
        off = port - self.base
        if off == 0xA:
            if self.output:
                self.last_data = self.output.pop(0)
            return self.last_data
        if off == 0xC:
            return 0x7F  # bit 7 clear: ready for a command byte
        if off == 0xE:
            value = 0x80 if self.output else 0x00
            if self.pending8:
                self.pending8 = False
                self._update_line()
            return value | 0x7F
        if off == 0xF:
            if self.pending16:
                self.pending16 = False
                self._update_line()
            return 0xFF
        if off == 0x5:
            return self._mixer_read(self.mixer_index)
        if off == 0x4:
            return self.mixer_index
        return 0xFF

    def io_write(self, port: int, value: int) -> None:
        off = port - self.base
        if off == 0x6:
            if value & 1:
                self.reset_high = True
            elif self.reset_high:
                self.reset_high = False
                self.reset_dsp()
        elif off == 0xC:
            self._dsp_byte(value)
        elif off == 0x4:
            self.mixer_index = value
        elif off == 0x5:
            self._mixer_write(self.mixer_index, value)

    # --- mixer ---------------------------------------------------------------------------
    def _mixer_read(self, index: int) -> int:
        if index == 0x82:
            return 0x20 | (0x01 if self.pending8 else 0) | (0x02 if self.pending16 else 0)
        return self.mixer.get(index, 0)

    def _mixer_write(self, index: int, value: int) -> None:
        if index == 0x00:
            keep = {k: v for k, v in self.mixer.items() if k in (0x80, 0x81)}
            self.mixer = keep
        elif index == 0x82:
            return  # read-only
        else:
            self.mixer[index] = value
            if index == 0x81:
                self._attach_channels()

    # --- DSP -------------------------------------------------------------------------------
    def reset_dsp(self) -> None:
        """Reset: stop any transfer, drop pending IRQs, answer 0xAA."""
        self.sync(self.sim.now_ns)
        self._stop_transfer()
        self.pending8 = self.pending16 = False
        self._update_line()
        self.command, self.arguments = None, []
        self.output = [0xAA]
        self.speaker_on = False

    def _dsp_byte(self, value: int) -> None:
        if self.command is None:
            self.command, self.arguments = value, []
        else:
            self.arguments.append(value)
        need = _ARGUMENTS.get(self.command, 0)
        if len(self.arguments) >= need:
            cmd, args = self.command, self.arguments
            self.command, self.arguments = None, []
            self._execute(cmd, args)

    def _execute(self, cmd: int, a: list[int]) -> None:
        if cmd == 0xE1:
            self.output += list(DSP_VERSION)
        elif cmd == 0xE0:
            self.output.append(~a[0] & 0xFF)
        elif cmd == 0x40:
            self.rate = 1_000_000 // (256 - a[0])
        elif cmd in (0x41, 0x42):
            self.rate = (a[0] << 8) | a[1]
        elif cmd == 0x48:
            self.block_size = (a[0] | (a[1] << 8)) + 1
        elif cmd in (0x14, 0x24):
            self._start(
                cmd,
                Direction.PLAYBACK if cmd == 0x14 else Direction.RECORD,
                bits16=False,
                stereo=False,
                signed=False,
                auto=False,
                units=(a[0] | (a[1] << 8)) + 1,
            )
        elif cmd in (0x1C, 0x2C, 0x90, 0x91, 0x98, 0x99):
            playback = cmd in (0x1C, 0x90, 0x91)
            auto = cmd in (0x1C, 0x2C, 0x90, 0x98)
            self._start(
                cmd,
                Direction.PLAYBACK if playback else Direction.RECORD,
                bits16=False,
                stereo=False,
                signed=False,
                auto=auto,
                units=self.block_size,
            )
        elif 0xB0 <= cmd <= 0xCF:
            mode = a[0]
            self._start(
                cmd,
                Direction.RECORD if cmd & 0x08 else Direction.PLAYBACK,
                bits16=cmd < 0xC0,
                stereo=bool(mode & 0x20),
                signed=bool(mode & 0x10),
                auto=bool(cmd & 0x04),
                units=(a[1] | (a[2] << 8)) + 1,
            )
        elif cmd in (0xD0, 0xD5):
            self._pause(True)
        elif cmd in (0xD4, 0xD6):
            self._pause(False)
        elif cmd in (0xD9, 0xDA):
            if self.transfer is not None:
                self.transfer.exit_auto_init = True
        elif cmd == 0xD1:
            self.speaker_on = True
        elif cmd == 0xD3:
            self.speaker_on = False
        elif cmd == 0xD8:
            self.output.append(0xFF if self.speaker_on else 0x00)
        elif cmd == 0xF2:
            self._raise(bits16=False)
        elif cmd == 0xF3:
            self._raise(bits16=True)
        # Other commands (direct DAC, MIDI, ASP) are accepted and ignored.

    def _start(
        self,
        cmd: int,
        direction: Direction,
        *,
        bits16: bool,
        stereo: bool,
        signed: bool,
        auto: bool,
        units: int,
    ) -> None:
        self.sync(self.sim.now_ns)
        self._stop_transfer()
        self.pending8 = self.pending16 = False  # a new DMA command clears both (DOSBox)
        self._update_line()
        channel = self.dma16 if bits16 else self.dma8
        units_per_sample = 1
        if bits16 and channel is None:
            channel, units_per_sample = self.dma8, 2  # 16-bit data over the 8-bit channel
        if channel is None:
            return
        units *= units_per_sample
        self.transfer = DspTransfer(
            direction=direction,
            bits16=bits16,
            stereo=stereo,
            signed=signed,
            auto_init=auto,
            channel=channel,
            units_per_sample=units_per_sample,
            block_units=units,
            rate=self.rate,
            command=cmd,
            left=units,
            unit_bytes=self.dma.channel(channel).unit_bytes,
        )
        self.dma.set_dreq(channel, True)
        self._resume_flow()

    def _stop_transfer(self) -> None:
        t = self.transfer
        if t is not None:
            self.dma.set_dreq(t.channel, False)
        self.transfer = None
        self.clock.stop(self.sim.now_ns, 0)
        self._schedule()

    def _pause(self, paused: bool) -> None:
        t = self.transfer
        if t is None:
            return
        self.sync(self.sim.now_ns)
        t.paused = paused
        self.dma.set_dreq(t.channel, not paused)
        self._resume_flow()

    # --- interrupts -------------------------------------------------------------------------
    def _raise(self, *, bits16: bool) -> None:
        if bits16:
            self.pending16 = True
        else:
            self.pending8 = True
        self.interrupts.raise_line(self.irq, self.name)

    def _update_line(self) -> None:
        if not (self.pending8 or self.pending16):
            self.interrupts.lower_line(self.irq, self.name)

    # --- data flow --------------------------------------------------------------------------
    def dma_channel_changed(self, number: int) -> None:
        """The 8237 channel was reprogrammed, masked or unmasked by software."""
        t = self.transfer
        if self._in_sync or t is None or number != t.channel:
            return
        self._resume_flow()

    def _resume_flow(self) -> None:
        """(Re)start or stop the unit clock according to whether data can flow now."""
        t = self.transfer
        now = self.sim.now_ns
        if t is None:
            return
        reason = "paused by DSP command" if t.paused else self.dma.blocked_reason(t.channel, t.transfer_type)
        t.stalled = reason
        if reason is None:
            if not self.clock.running:
                self.clock.start(now, t.units_done, t.units_per_second)
        elif self.clock.running:
            self.clock.stop(now, t.units_done)
        self._schedule()

    def sync(self, now_ns: int) -> None:
        """Move every unit that is due by ``now_ns``."""
        t = self.transfer
        if t is None or not self.clock.running:
            return
        due = self.clock.due(now_ns)
        if due <= t.units_done:
            return
        self._in_sync = True
        try:
            self._move(t, due - t.units_done, now_ns)
        finally:
            self._in_sync = False
        self._schedule()

    def _move(self, t: DspTransfer, n: int, now_ns: int) -> None:
        dma = self.dma
        channel = t.channel
        playback = t.direction is Direction.PLAYBACK
        transfer_type = t.transfer_type
        unit_bytes = t.unit_bytes
        while n > 0 and self.transfer is t:
            left = t.left
            chunk = min(n, left, dma.units_to_terminal_count(channel))
            if playback:
                moved = dma.read_units_into(channel, chunk, self.sink, now_ns)
            else:
                moved = dma.write_units(channel, self.source.take(t.wave_format, chunk * unit_bytes))
                # Input the channel did not accept is still to come, not lost.
                self.source.position -= (chunk - moved) * unit_bytes
            t.units_done += moved
            t.left = left = left - moved
            n -= moved
            if left == 0:
                self._block_end(t)
                if self.transfer is not t:
                    return
            reason = dma.blocked_reason(channel, transfer_type)
            if moved < chunk or reason is not None:
                # The channel stopped (terminal count without auto-init masks it): the card
                # waits from the last unit moved, until software unmasks the channel. The
                # notification of that mask came while in sync, so it is handled here.
                self.clock.stop(self.clock.time_of(t.units_done), t.units_done)
                t.stalled = reason
                return

    def _block_end(self, t: DspTransfer) -> None:
        t.blocks += 1
        self.sim.record(BlockEndRecord, self.name, t.channel, t.block_units * t.unit_bytes, t.auto_init)
        self._raise(bits16=t.bits16)
        if t.auto_init and not t.exit_auto_init:
            t.left = t.block_units
        else:
            self.dma.set_dreq(t.channel, False)
            self.clock.stop(self.clock.time_of(t.units_done), t.units_done)
            self.transfer = None

    def _schedule(self) -> None:
        """Keep exactly one wake-up at the next block end or terminal count."""
        t = self.transfer
        target = -1
        name = ""
        if t is not None and self.clock.running:
            to_tc = self.dma.units_to_terminal_count(t.channel)
            ahead = min(t.left, to_tc)
            target = self.clock.time_of(t.units_done + ahead)
            name = "SB16 block end" if t.left <= to_tc else f"8237 ch{t.channel} terminal count"
        self._wake.set(target, name)

    def predict_terminal_count(self, channel: int) -> int | None:
        """When ``channel`` will reach terminal count if nothing changes (None if it is not moving)."""
        t = self.transfer
        if t is None or t.channel != channel or not self.clock.running:
            return None
        return self.clock.time_of(t.units_done + self.dma.units_to_terminal_count(channel))

    # --- inspection ----------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        t = self.transfer
        return {
            "rate": self.rate,
            "irq": self.irq,
            "dma8": self.dma8,
            "dma16": self.dma16,
            "speaker": self.speaker_on,
            "pending8": self.pending8,
            "pending16": self.pending16,
            "transfer": None
            if t is None
            else {
                "direction": t.direction.value,
                "bits": 16 if t.bits16 else 8,
                "stereo": t.stereo,
                "auto_init": t.auto_init,
                "channel": t.channel,
                "block_units": t.block_units,
                "left": t.left,
                "blocks": t.blocks,
                "paused": t.paused,
                "stalled": t.stalled,
            },
        }
