"""The system DMA controller: two Intel 8237A chips wired as in the PC/AT.

DMA1 (ports 0x00-0x0F) serves channels 0-3 and moves bytes. DMA2 (ports 0xC0-0xDE, even
addresses only) serves channels 4-7 and moves 16-bit words; its channel 0 (system channel
4) carries DMA1's cascade, so DMA1 moves data only while channel 4 is unmasked in cascade
mode. Page registers (0x81-0x8F) supply the upper address bits.

The chip never advances byte by byte here: a device that holds DREQ asks for ``units``
transfers at once (``read_units``/``write_units``), and the channel moves them in at most
a few numpy slices, splitting at the 64 KiB / 128 KiB address wrap and at terminal count.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from model.trace import TerminalCountRecord

if TYPE_CHECKING:
    from model.hardware.audio_io import AudioSink
    from model.hardware.memory import PhysicalMemory
    from model.simulator import Simulator

# Page register port of each channel (channel 4's latch exists but is not used for DMA).
PAGE_PORTS: dict[int, int] = {0: 0x87, 1: 0x83, 2: 0x81, 3: 0x82, 4: 0x8F, 5: 0x8B, 6: 0x89, 7: 0x8A}
HIGH_PAGE_PORTS: dict[int, int] = {ch: 0x400 + port for ch, port in PAGE_PORTS.items()}
SPARE_PAGE_LATCHES = (0x80, 0x84, 0x85, 0x86, 0x88, 0x8C, 0x8D, 0x8E)

_REGISTER_NAMES = {
    8: "status/command",
    9: "request",
    10: "single mask",
    11: "mode",
    12: "clear flip-flop",
    13: "temporary/master clear",
    14: "clear mask",
    15: "write all mask bits",
}


class TransferType(enum.IntEnum):
    """Mode bits 3-2, named from memory's point of view as the 8237 does."""

    VERIFY = 0
    WRITE = 1  # I/O -> memory (recording)
    READ = 2  # memory -> I/O (playback)
    ILLEGAL = 3


class RequestMode(enum.IntEnum):
    """Mode bits 7-6."""

    DEMAND = 0
    SINGLE = 1
    BLOCK = 2
    CASCADE = 3


@dataclass(frozen=True, slots=True)
class ModeByte:
    """The decoded mode register of one channel."""

    value: int

    @property
    def transfer_type(self) -> TransferType:
        return TransferType((self.value >> 2) & 3)

    @property
    def auto_init(self) -> bool:
        return bool(self.value & 0x10)

    @property
    def decrement(self) -> bool:
        return bool(self.value & 0x20)

    @property
    def request_mode(self) -> RequestMode:
        return RequestMode((self.value >> 6) & 3)

    def describe(self) -> str:
        return (
            f"{self.request_mode.name.lower()}, {self.transfer_type.name.lower()}"
            f"{' (memory→device)' if self.transfer_type == TransferType.READ else ''}"
            f"{' (device→memory)' if self.transfer_type == TransferType.WRITE else ''}, "
            f"{'auto-init' if self.auto_init else 'single-cycle'}, "
            f"{'decrement' if self.decrement else 'increment'}"
        )


@dataclass
class DmaChannelRegisters:
    """Registers of one channel (plus its page latch, which lives outside the chip)."""

    number: int
    word: bool
    base_address: int = 0
    base_count: int = 0
    current_address: int = 0
    current_count: int = 0
    mode: int = 0
    masked: bool = True
    software_request: bool = False
    dreq: bool = False  # a device holds DREQ
    page: int = 0
    high_page: int = 0
    terminal_counts: int = 0

    @property
    def unit_bytes(self) -> int:
        return 2 if self.word else 1

    @property
    def mode_byte(self) -> ModeByte:
        return ModeByte(self.mode)

    def window_base(self) -> int:
        """Physical base of the 64 KiB (bytes) or 128 KiB (words) window the address wraps in."""
        if self.word:
            return (self.page & 0xFE) << 16
        return self.page << 16

    def physical_address(self, address: int | None = None) -> int:
        """Physical byte address of a channel address (the current one by default)."""
        a = self.current_address if address is None else address
        return self.window_base() + (a << 1 if self.word else a)


@dataclass
class Intel8237:
    """One 8237A: four channels, the byte flip-flop, command, status, temporary."""

    index: int  # 1 or 2
    word: bool
    first_channel: int
    channels: list[DmaChannelRegisters] = field(default_factory=list)
    flip_flop_high: bool = False
    command: int = 0
    status_tc: int = 0
    temporary: int = 0

    def __post_init__(self) -> None:
        if not self.channels:
            self.channels = [DmaChannelRegisters(self.first_channel + i, self.word) for i in range(4)]

    @property
    def disabled(self) -> bool:
        return bool(self.command & 0x04)

    def request_bits(self) -> int:
        return sum(1 << i for i, ch in enumerate(self.channels) if ch.dreq or ch.software_request)

    def _toggle(self) -> bool:
        high = self.flip_flop_high
        self.flip_flop_high = not high
        return high

    def read_register(self, r: int) -> int:
        if r < 8:
            ch = self.channels[r >> 1]
            value = ch.current_count if r & 1 else ch.current_address
            return (value >> 8) & 0xFF if self._toggle() else value & 0xFF
        if r == 8:
            value = self.status_tc | (self.request_bits() << 4)
            self.status_tc = 0  # reading clears the TC bits only
            return value
        if r == 13:
            return self.temporary
        if r == 15:
            return 0xF0 | sum(1 << i for i, ch in enumerate(self.channels) if ch.masked)
        return 0xFF

    def write_register(self, r: int, value: int) -> set[int]:
        """Write register ``r``; returns the channel indices (0-3) whose state changed."""
        if r < 8:
            ch = self.channels[r >> 1]
            high = self._toggle()
            if r & 1:
                ch.base_count = _set_byte(ch.base_count, value, high)
                ch.current_count = _set_byte(ch.current_count, value, high)
            else:
                ch.base_address = _set_byte(ch.base_address, value, high)
                ch.current_address = _set_byte(ch.current_address, value, high)
            return {r >> 1}
        if r == 8:
            self.command = value
            return {0, 1, 2, 3}
        if r == 9:
            self.channels[value & 3].software_request = bool(value & 4)
            return {value & 3}
        if r == 10:
            self.channels[value & 3].masked = bool(value & 4)
            return {value & 3}
        if r == 11:
            self.channels[value & 3].mode = value
            return {value & 3}
        if r == 12:
            self.flip_flop_high = False
            return set()
        if r == 13:
            self.master_clear()
            return {0, 1, 2, 3}
        if r == 14:
            for ch in self.channels:
                ch.masked = False
            return {0, 1, 2, 3}
        if r == 15:
            for i, ch in enumerate(self.channels):
                ch.masked = bool(value & (1 << i))
            return {0, 1, 2, 3}
        return set()

    def master_clear(self) -> None:
        """Same as a hardware reset: masks set; command, status, requests, temporary, flip-flop cleared.

        Address, count and mode registers keep their values (as in every emulator).
        """
        for ch in self.channels:
            ch.masked = True
            ch.software_request = False
        self.command = 0
        self.status_tc = 0
        self.temporary = 0
        self.flip_flop_high = False


def _set_byte(word: int, value: int, high: bool) -> int:
    if high:
        return (word & 0x00FF) | ((value & 0xFF) << 8)
    return (word & 0xFF00) | (value & 0xFF)


ChannelListener = Callable[[int], None]


@dataclass
class DmaControllerPair:
    """Both 8237s, the page registers, and the transfer engine devices call into."""

    sim: Simulator
    memory: PhysicalMemory
    name: str = "8237"
    dma1: Intel8237 = field(default_factory=lambda: Intel8237(1, False, 0))
    dma2: Intel8237 = field(default_factory=lambda: Intel8237(2, True, 4))
    spare_latches: dict[int, int] = field(default_factory=dict)
    _listeners: dict[int, ChannelListener] = field(default_factory=dict)

    # --- wiring -------------------------------------------------------------------
    def ports(self) -> list[int]:
        ports = list(range(0x00, 0x10)) + list(range(0xC0, 0xE0, 2))
        ports += list(PAGE_PORTS.values()) + list(HIGH_PAGE_PORTS.values()) + list(SPARE_PAGE_LATCHES)
        return ports

    def channel(self, number: int) -> DmaChannelRegisters:
        if not 0 <= number <= 7:
            raise ValueError(f"there is no DMA channel {number}")
        chip = self.dma2 if number >= 4 else self.dma1
        return chip.channels[number & 3]

    def chip_of(self, number: int) -> Intel8237:
        return self.dma2 if number >= 4 else self.dma1

    def attach(self, number: int, listener: ChannelListener) -> None:
        """A device that drives DREQ on ``number`` wants to hear when the channel changes."""
        self._listeners[number] = listener

    def _decode(self, port: int) -> tuple[Intel8237, int] | None:
        if 0x00 <= port <= 0x0F:
            return self.dma1, port
        if 0xC0 <= port <= 0xDF and not port & 1:
            return self.dma2, (port - 0xC0) >> 1
        return None

    def _page_channel(self, port: int) -> tuple[int, bool] | None:
        for ch, p in PAGE_PORTS.items():
            if p == port:
                return ch, False
        for ch, p in HIGH_PAGE_PORTS.items():
            if p == port:
                return ch, True
        return None

    def port_name(self, port: int) -> str:
        decoded = self._decode(port)
        if decoded is not None:
            chip, r = decoded
            if r < 8:
                return f"DMA{chip.index} ch{chip.first_channel + (r >> 1)} {'count' if r & 1 else 'address'}"
            return f"DMA{chip.index} {_REGISTER_NAMES[r]}"
        page = self._page_channel(port)
        if page is not None:
            return f"ch{page[0]} {'high page' if page[1] else 'page'}"
        return f"page latch 0x{port:02X}"

    # --- port access ----------------------------------------------------------------
    def io_read(self, port: int) -> int:
        decoded = self._decode(port)
        if decoded is not None:
            chip, r = decoded
            return chip.read_register(r)
        page = self._page_channel(port)
        if page is not None:
            ch = self.channel(page[0])
            return ch.high_page if page[1] else ch.page
        return self.spare_latches.get(port, 0)

    def io_write(self, port: int, value: int) -> None:
        decoded = self._decode(port)
        if decoded is not None:
            chip, r = decoded
            changed = chip.write_register(r, value)
            self._notify(chip, changed)
            return
        page = self._page_channel(port)
        if page is not None:
            ch = self.channel(page[0])
            if page[1]:
                ch.high_page = value
            else:
                ch.page = value
            self._notify_channel(page[0])
            return
        self.spare_latches[port] = value

    def _notify(self, chip: Intel8237, changed: set[int]) -> None:
        for i in sorted(changed):
            self._notify_channel(chip.first_channel + i)
        if chip is self.dma2 and 0 in changed:
            # Channel 4 carries DMA1: every DMA1 channel is affected by the cascade.
            for number in range(4):
                self._notify_channel(number)

    def _notify_channel(self, number: int) -> None:
        listener = self._listeners.get(number)
        if listener is not None:
            listener(number)

    # --- transfers --------------------------------------------------------------------
    def blocked_reason(self, number: int, transfer: TransferType) -> str | None:
        """Why ``number`` cannot move data of this type now (None when it can)."""
        chip = self.dma2 if number >= 4 else self.dma1
        ch = chip.channels[number & 3]
        mode = ch.mode
        if (
            not ch.masked
            and not chip.command & 0x04
            and (mode >> 2) & 3 == transfer
            and mode & 0xC0 != 0xC0
            and number != 4
            and (number >= 4 or self._cascade_open())
        ):
            return None  # the common case, decided without building a message
        if number == 4:
            return "channel 4 is the cascade"
        if chip.disabled:
            return f"DMA{chip.index} is disabled (command bit 2)"
        if ch.masked:
            return "channel is masked"
        if chip is self.dma1:
            cascade = self.dma2.channels[0]
            if cascade.masked or cascade.mode_byte.request_mode != RequestMode.CASCADE:
                return "channel 4 (cascade to DMA1) is masked or not in cascade mode"
            if self.dma2.disabled:
                return "DMA2 (which DMA1 cascades through) is disabled"
        decoded = ch.mode_byte
        if decoded.request_mode == RequestMode.CASCADE:
            return "channel is in cascade mode (a bus master owns it)"
        if decoded.transfer_type != transfer:
            return f"mode is a {decoded.transfer_type.name.lower()} transfer"
        return None

    def _cascade_open(self) -> bool:
        cascade = self.dma2.channels[0]
        return not cascade.masked and cascade.mode & 0xC0 == 0xC0 and not self.dma2.command & 0x04

    def units_to_terminal_count(self, number: int) -> int:
        return self.channel(number).current_count + 1

    def read_units(self, number: int, units: int) -> np.ndarray:
        """Memory -> device: move up to ``units`` units; returns the bytes moved.

        Stops early at terminal count without auto-init (the channel masks itself) or if
        the channel cannot transfer. The caller asks ``blocked_reason`` first.
        """
        _, pieces = self._transfer(number, units, None)
        if not pieces:
            return np.empty(0, dtype=np.uint8)
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    def read_units_into(self, number: int, units: int, sink: AudioSink, t_ns: int) -> int:
        """Memory -> device, the bytes appended to ``sink`` as played at ``t_ns``; returns units moved."""
        done, _ = self._transfer(number, units, None, sink, t_ns)
        return done

    def write_units(self, number: int, data: np.ndarray) -> int:
        """Device -> memory: move the bytes of ``data`` (whole units); returns units moved."""
        done, _ = self._transfer(number, len(data) // self.channel(number).unit_bytes, data)
        return done

    def _transfer(
        self,
        number: int,
        units: int,
        incoming: np.ndarray | None,
        sink: AudioSink | None = None,
        t_ns: int = 0,
    ) -> tuple[int, list[np.ndarray]]:
        transfer = TransferType.READ if incoming is None else TransferType.WRITE
        ch = self.channel(number)
        unit = ch.unit_bytes
        out: list[np.ndarray] = []
        done = 0
        while done < units and self.blocked_reason(number, transfer) is None:
            decrement = bool(ch.mode & 0x20)
            left_to_tc = ch.current_count + 1
            addr = ch.current_address
            # Units before the 16-bit address register wraps inside its window.
            to_wrap = addr + 1 if decrement else 0x10000 - addr
            chunk = min(units - done, left_to_tc, to_wrap)
            lo_addr = addr - chunk + 1 if decrement else addr
            phys = ch.physical_address(lo_addr)
            if incoming is None:
                if sink is not None and not decrement:
                    sink.append_from(self.memory, phys, chunk * unit, t_ns)
                else:
                    data = self.memory.read(phys, chunk * unit)
                    if decrement:
                        data = data.reshape(chunk, unit)[::-1].reshape(-1)
                    if sink is not None:
                        sink.append(data, t_ns)
                    else:
                        out.append(data)
            else:
                piece = incoming[done * unit : (done + chunk) * unit]
                if decrement:
                    piece = piece.reshape(chunk, unit)[::-1].reshape(-1)
                self.memory.write(phys, piece)
            done += chunk
            ch.current_address = (addr - chunk if decrement else addr + chunk) & 0xFFFF
            ch.current_count = (ch.current_count - chunk) & 0xFFFF
            if chunk == left_to_tc:
                self._terminal_count(number)
        return done, out

    def _terminal_count(self, number: int) -> None:
        chip = self.chip_of(number)
        ch = chip.channels[number & 3]
        chip.status_tc |= 1 << (number & 3)
        ch.terminal_counts += 1
        auto = bool(ch.mode & 0x10)
        if auto:
            ch.current_address = ch.base_address
            ch.current_count = ch.base_count
        else:
            ch.masked = True  # count stays 0xFFFF, address one past the last unit
        self.sim.record(TerminalCountRecord, number, auto, ch.masked)
        if not auto:
            self._notify_channel(number)

    def set_dreq(self, number: int, active: bool) -> None:
        self.channel(number).dreq = active

    def power_on(self) -> None:
        """What the BIOS leaves behind: DMA2 channel 4 in cascade mode and unmasked."""
        cascade = self.dma2.channels[0]
        cascade.mode = 0xC0
        cascade.masked = False
