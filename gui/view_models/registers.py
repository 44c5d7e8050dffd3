"""Registers of the DMA engine in use: an 8237 channel, an HD Audio stream descriptor or an AC'97 bus master box.

Values come from the devices' Python state. Reading them through the port space would
toggle the 8237's flip-flop and clear status bits, and would be traced.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from gui.view_models.stream import HardwareRef
from model.system import System


@dataclass(frozen=True)
class RegisterRow:
    name: str
    text: str  # the value as shown (hex)
    meaning: str  # decoded, for the hover text and the third column
    value: int | None = None
    group: bool = False  # a heading row


@dataclass(frozen=True)
class BdlRow:
    index: int
    address: int
    length: int  # bytes
    flags: str
    current: bool  # CIV (AC'97) / the entry the engine is in (HDA)
    last_valid: bool  # LVI


@dataclass
class RegistersView:
    title: str
    rows: list[RegisterRow] = field(default_factory=list)
    bdl: list[BdlRow] = field(default_factory=list)
    bdl_title: str = ""


def _hex(value: int, digits: int) -> str:
    return f"0x{value:0{digits}X}"


def _bits(value: int, names: dict[int, str]) -> str:
    on = [name for bit, name in names.items() if value & bit]
    return ", ".join(on) if on else "none set"


def registers_view(system: System, hw: HardwareRef) -> RegistersView:
    if hw.kind == "8237" and hw.channel is not None:
        return _dma8237(system, hw.channel)
    if hw.kind == "hda" and hw.index is not None:
        return _hda(system, hw.index)
    if hw.kind == "ac97" and hw.box is not None:
        return _ac97(system, hw.box)
    if hw.kind == "clock":
        return RegistersView("This device has no DMA engine: the miniport moves the data and keeps the time itself")
    return RegistersView("No DMA engine is in use yet")


def _dma8237(system: System, number: int) -> RegistersView:
    dma = system.machine.dma
    ch = dma.channel(number)
    chip = dma.chip_of(number)
    bit = 1 << (number & 3)
    unit = "word" if ch.word else "byte"
    mode = ch.mode_byte
    window = ch.window_base()
    rows = [
        RegisterRow(f"8237 DMA{chip.index}, channel {number} ({8 * ch.unit_bytes}-bit)", "", "", group=True),
        RegisterRow(
            "Base address",
            _hex(ch.base_address, 4),
            f"{unit} address reloaded at terminal count (auto-init); physical "
            f"{_hex(ch.physical_address(ch.base_address), 6)}",
            ch.base_address,
        ),
        RegisterRow(
            "Current address",
            _hex(ch.current_address, 4),
            f"next {unit} the channel moves; physical {_hex(ch.physical_address(), 6)}",
            ch.current_address,
        ),
        RegisterRow(
            "Base count",
            _hex(ch.base_count, 4),
            f"{ch.base_count + 1} {unit}s per cycle ({(ch.base_count + 1) * ch.unit_bytes} bytes); "
            "the register holds length - 1",
            ch.base_count,
        ),
        RegisterRow(
            "Current count",
            _hex(ch.current_count, 4),
            f"{(ch.current_count + 1) & 0xFFFF} {unit}s left before terminal count "
            f"({((ch.current_count + 1) & 0xFFFF) * ch.unit_bytes} bytes)",
            ch.current_count,
        ),
        RegisterRow(
            "Page",
            _hex(ch.page, 2),
            f"physical address bits 16-23{' (bit 0 ignored on 16-bit channels)' if ch.word else ''}: "
            f"the {'128' if ch.word else '64'} KiB window at {_hex(window, 6)}",
            ch.page,
        ),
        RegisterRow(
            "Physical address",
            _hex(ch.physical_address(), 6),
            f"page window {_hex(window, 6)} + current address"
            f"{' × 2' if ch.word else ''}: where the next transfer happens",
            ch.physical_address(),
        ),
        RegisterRow("Mode", _hex(ch.mode, 2), mode.describe(), ch.mode),
        RegisterRow(
            "Mask",
            "1" if ch.masked else "0",
            "masked: the channel ignores DREQ" if ch.masked else "unmasked: the channel answers DREQ",
            int(ch.masked),
        ),
        RegisterRow(
            "Terminal count (status)",
            "1" if chip.status_tc & bit else "0",
            "set when the channel reached terminal count since the status register was last read "
            f"(reached {ch.terminal_counts} times so far)",
            int(bool(chip.status_tc & bit)),
        ),
        RegisterRow(
            "Request (status)",
            "1" if (ch.dreq or ch.software_request) else "0",
            "a device holds DREQ (or a software request is set)"
            if (ch.dreq or ch.software_request)
            else "no request pending",
            int(ch.dreq or ch.software_request),
        ),
        RegisterRow(f"DMA{chip.index} controller", "", "", group=True),
        RegisterRow(
            "Command",
            _hex(chip.command, 2),
            "controller disabled (bit 2)" if chip.disabled else "controller enabled",
            chip.command,
        ),
        RegisterRow(
            "Byte flip-flop",
            "high" if chip.flip_flop_high else "low",
            "the next 8-bit access to an address/count register goes to the "
            f"{'high' if chip.flip_flop_high else 'low'} byte",
        ),
    ]
    sb16 = system.machine.sb16
    t = sb16.transfer
    if t is not None and t.channel == number:
        rows += [
            RegisterRow("Sound Blaster 16 DSP", "", "", group=True),
            RegisterRow(
                "Transfer",
                _hex(t.command, 2),
                f"{t.direction.value}, {16 if t.bits16 else 8}-bit {'stereo' if t.stereo else 'mono'}, "
                f"{'auto-init' if t.auto_init else 'single-cycle'}{', paused' if t.paused else ''}",
                t.command,
            ),
            RegisterRow("Sample rate", f"{t.rate} Hz", "the DSP's output/input rate"),
            RegisterRow(
                "Block length",
                _hex(t.block_units, 4),
                f"{t.block_units} units per block: an interrupt at the end of each ({t.left} left in this one)",
                t.block_units,
            ),
        ]
    return RegistersView(f"8237 DMA channel {number}", rows)


_HDA_CTL = {0x01: "SRST", 0x02: "RUN", 0x04: "IOCE", 0x08: "FEIE", 0x10: "DEIE"}
_HDA_STS = {0x04: "BCIS", 0x08: "FIFOE", 0x10: "DESE", 0x20: "FIFORDY"}


def _hda(system: System, index: int) -> RegistersView:
    from model.hardware.hda import BDL_ENTRY_BYTES

    hda = system.machine.hda
    s = hda.streams[index]
    sts = s.sts_value
    rows = [
        RegisterRow(f"HD Audio stream descriptor {index} ({s.name})", "", "", group=True),
        RegisterRow(
            "SDnCTL",
            _hex(s.ctl, 6),
            f"{_bits(s.ctl, _HDA_CTL)}; stream tag {s.stream_tag}",
            s.ctl,
        ),
        RegisterRow("SDnSTS", _hex(sts, 2), _bits(sts, _HDA_STS), sts),
        RegisterRow("SDnLPIB", _hex(s.lpib, 8), f"link position in buffer: byte {s.lpib} of {s.cbl}", s.lpib),
        RegisterRow("SDnCBL", _hex(s.cbl, 8), f"cyclic buffer length: {s.cbl} bytes", s.cbl),
        RegisterRow("SDnLVI", _hex(s.lvi, 2), f"last valid BDL entry: {s.lvi} ({s.lvi + 1} entries)", s.lvi),
        RegisterRow("SDnFMT", _hex(s.fmt, 4), s.format.describe() if s.format.valid else "reserved format", s.fmt),
        RegisterRow("SDnBDPL/U", _hex(s.bdl_address, 8), "physical address of the buffer descriptor list"),
        RegisterRow("Current entry", str(s.entry_index), f"{s.entry_pos} of {s.entry_length} bytes done"),
        RegisterRow("HD Audio controller", "", "", group=True),
        RegisterRow("INTCTL", _hex(hda.intctl, 8), "GIE, CIE and one enable bit per stream", hda.intctl),
        RegisterRow("INTSTS", _hex(hda.intsts, 8), "GIS, CIS and one status bit per stream", hda.intsts),
    ]
    if s.error:
        rows.append(RegisterRow("Error", "!", s.error))
    bdl: list[BdlRow] = []
    memory = system.machine.memory
    base = s.bdl_address
    count = s.lvi + 1
    if base and base + count * BDL_ENTRY_BYTES <= memory.size:
        bdl = _mark(_hda_bdl(memory.read(base, count * BDL_ENTRY_BYTES).tobytes()), s.entry_index, s.lvi)
    return RegistersView(f"HD Audio stream {index}", rows, bdl, "Buffer descriptor list (16-byte entries)")


def _mark(rows: tuple[BdlRow, ...], current: int, lvi: int) -> list[BdlRow]:
    """The rows with the current entry and the last valid one marked (every other row is the cached object)."""
    out = list(rows)
    for i in {current, lvi}:
        if 0 <= i < len(out):
            out[i] = replace(out[i], current=i == current, last_valid=i == lvi)
    return out


@lru_cache(maxsize=8)
def _hda_bdl(raw: bytes) -> tuple[BdlRow, ...]:
    """The BDL's rows, unmarked; cached on its bytes, as it rarely changes while the engine walks it."""
    words = np.frombuffer(raw, dtype="<u4").reshape(-1, 4)
    return tuple(
        BdlRow(
            i,
            int(words[i, 0]) | (int(words[i, 1]) << 32),
            int(words[i, 2]),
            "IOC" if words[i, 3] & 1 else "",
            current=False,
            last_valid=False,
        )
        for i in range(len(words))
    )


_AC97_SR = {0x01: "DCH", 0x02: "CELV", 0x04: "LVBCI", 0x08: "BCIS", 0x10: "FIFOE"}
_AC97_CR = {0x01: "RPBM", 0x02: "RR", 0x04: "LVBIE", 0x08: "FEIE", 0x10: "IOCE"}


def _ac97(system: System, name: str) -> RegistersView:
    from model.hardware.ac97 import BD_BUP, BD_ENTRY_BYTES, BD_IOC, N_ENTRIES

    ac97 = system.machine.ac97
    box = ac97.box(name)
    rows = [
        RegisterRow(f"AC'97 bus master box {name}", "", "", group=True),
        RegisterRow("BDBAR", _hex(box.bdbar, 8), "physical address of the buffer descriptor list", box.bdbar),
        RegisterRow("CIV", _hex(box.civ, 2), f"current index value: entry {box.civ} is being processed", box.civ),
        RegisterRow("LVI", _hex(box.lvi, 2), f"last valid index: the engine halts after entry {box.lvi}", box.lvi),
        RegisterRow("SR", _hex(box.sr, 4), _bits(box.sr, _AC97_SR), box.sr),
        RegisterRow("PICB", _hex(box.picb, 4), f"{box.picb} samples left in the current entry", box.picb),
        RegisterRow("PIV", _hex(box.piv, 2), f"prefetched index value: entry {box.piv} comes next", box.piv),
        RegisterRow("CR", _hex(box.cr, 2), _bits(box.cr, _AC97_CR), box.cr),
        RegisterRow("AC'97 controller", "", "", group=True),
        RegisterRow("GLOB_CNT", _hex(ac97.glob_cnt, 8), "global control", ac97.glob_cnt),
        RegisterRow("GLOB_STA", _hex(ac97.glob_sta, 8), "global status", ac97.glob_sta),
    ]
    if box.error:
        rows.append(RegisterRow("Error", "!", box.error))
    bdl: list[BdlRow] = []
    memory = system.machine.memory
    if box.bdbar and box.bdbar + N_ENTRIES * BD_ENTRY_BYTES <= memory.size:
        words = memory.read(box.bdbar, N_ENTRIES * BD_ENTRY_BYTES).view("<u4").reshape(N_ENTRIES, 2)
        for i in range(N_ENTRIES):
            control = int(words[i, 1])
            flags = [n for bit, n in ((BD_IOC, "IOC"), (BD_BUP, "BUP")) if control & bit]
            bdl.append(
                BdlRow(
                    i,
                    int(words[i, 0]),
                    (control & 0xFFFF) * 2,
                    ", ".join(flags),
                    current=i == box.civ,
                    last_valid=i == box.lvi,
                )
            )
    return RegistersView(f"AC'97 {name}", rows, bdl, "Buffer descriptor list (32 entries of 8 bytes)")
