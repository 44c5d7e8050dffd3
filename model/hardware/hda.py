"""An Intel HD Audio controller (ICH6 style, 4 input + 4 output streams) and its DMA engines.

Each stream descriptor walks its buffer descriptor list (BDL) in memory: 16-byte entries
of (u64 address, u32 length in bytes, u32 flags with IOC in bit 0), entries 0..LVI, then
back to 0. Progress is computed from time at the stream's frame rate, never ticked: a
running stream has a UnitClock and ``sync`` moves every whole frame that is due with
numpy slices. LPIB counts bytes from 0 and wraps to 0 on reaching CBL (hardware.md §3.2,
fact 41; Intel behaviour, not QEMU's reset at BDL wrap).

Choices where hardware.md is silent:

* There is no FIFO: a byte leaves memory at the moment the codec consumes it (output),
  or enters memory when the codec delivers it (input). So FIFOE never occurs.
* A descriptor is read from memory when the engine reaches it (at RUN for the current
  entry, at the end of the previous entry otherwise), so a BDL edited ahead of the engine
  takes effect. A descriptor or buffer not wholly inside physical memory is a descriptor
  error: DESE is set, RUN is cleared and the stream stops (fatal stream error, ICH6).
* A BDL whose entries 0..LVI are all zero-length is also a descriptor error (the engine
  would spin without moving a byte).
* SDnFMT: rate = base (48000/44100) x mult / div, exactly (the clock counts div-ths of a
  frame); containers are 1, 2, 4, 4, 4 bytes for 8/16/20/24/32 bits. Reserved MULT or
  BITS codes leave the stream stalled (no data, no error bit).
* SIS bit n of INTSTS is set while stream n has BCIS & IOCE, FIFOE & FEIE or DESE & DEIE
  (whatever SIE says); GIS is the OR of SIS and CIS; the IRQ line is GIE and (SIS & SIE or
  CIS & CIE). CIS is STATESTS & WAKEEN. No codec, CORB or RIRB engine is modelled: their
  registers are plain storage, and the immediate command interface answers 0 at once.
* GCTL.CRST is 0 at power-on, as on hardware: until the driver sets it, every other
  register reads its reset value and ignores writes. Leaving reset sets STATESTS bit 0
  (a codec on SDI0).
* Clearing RUN pauses a stream where it is; setting it again resumes. SRST returns the
  stream to entry 0, LPIB 0.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from model.hardware.audio_io import AudioSink, AudioSource
from model.hardware.unit_clock import ClockGroup, UnitClock
from model.hardware.wake_up import WakeUp
from model.trace import IocRecord, StateRecord
from model.wave_format import WaveFormat

if TYPE_CHECKING:
    from model.hardware.interrupts import InterruptController
    from model.hardware.memory import PhysicalMemory
    from model.simulator import Simulator

N_INPUT = 4
N_OUTPUT = 4
N_STREAMS = N_INPUT + N_OUTPUT
GCAP_VALUE = (N_OUTPUT << 12) | (N_INPUT << 8) | 0x01  # 0x4401: OSS 4, ISS 4, BSS 0, 64-bit OK
SD_BASE = 0x80
SD_STRIDE = 0x20
LPIB_ALIAS = 0x2000
BDL_ENTRY_BYTES = 16

# SDnCTL bits
CTL_SRST = 0x01
CTL_RUN = 0x02
CTL_IOCE = 0x04
CTL_FEIE = 0x08
CTL_DEIE = 0x10
_CTL_WRITABLE = 0x1F | 0xFF0000  # bits 4:0, stripe, TP, DIR, stream tag

# SDnSTS bits
STS_BCIS = 0x04
STS_FIFOE = 0x08
STS_DESE = 0x10
STS_FIFORDY = 0x20
_STS_W1C = STS_BCIS | STS_FIFOE | STS_DESE

# INTCTL / INTSTS
INT_GIE = 1 << 31
INT_CIE = 1 << 30
INT_GIS = 1 << 31
INT_CIS = 1 << 30
_SIE_MASK = (1 << N_STREAMS) - 1

_FMT_BITS = {0: 8, 1: 16, 2: 20, 3: 24, 4: 32}
_CONTAINER_BYTES = {8: 1, 16: 2, 20: 4, 24: 4, 32: 4}

# Global registers: offset -> (size, name).
_GLOBALS: dict[int, tuple[int, str]] = {
    0x00: (2, "GCAP"),
    0x02: (1, "VMIN"),
    0x03: (1, "VMAJ"),
    0x04: (2, "OUTPAY"),
    0x06: (2, "INPAY"),
    0x08: (4, "GCTL"),
    0x0C: (2, "WAKEEN"),
    0x0E: (2, "STATESTS"),
    0x10: (2, "GSTS"),
    0x20: (4, "INTCTL"),
    0x24: (4, "INTSTS"),
    0x30: (4, "WALCLK"),
    0x38: (4, "SSYNC"),
    0x40: (4, "CORBLBASE"),
    0x44: (4, "CORBUBASE"),
    0x48: (2, "CORBWP"),
    0x4A: (2, "CORBRP"),
    0x4C: (1, "CORBCTL"),
    0x4D: (1, "CORBSTS"),
    0x4E: (1, "CORBSIZE"),
    0x50: (4, "RIRBLBASE"),
    0x54: (4, "RIRBUBASE"),
    0x58: (2, "RIRBWP"),
    0x5A: (2, "RINTCNT"),
    0x5C: (1, "RIRBCTL"),
    0x5D: (1, "RIRBSTS"),
    0x5E: (1, "RIRBSIZE"),
    0x60: (4, "ICOI"),
    0x64: (4, "ICII"),
    0x68: (2, "ICIS"),
    0x70: (4, "DPLBASE"),
    0x74: (4, "DPUBASE"),
}
# Global registers that are plain storage, with their writable bits.
_STORAGE_MASKS: dict[str, int] = {
    "WAKEEN": 0x7FFF,
    "SSYNC": _SIE_MASK,
    "CORBLBASE": 0xFFFFFF80,
    "CORBUBASE": 0xFFFFFFFF,
    "CORBWP": 0x00FF,
    "CORBRP": 0x80FF,
    "CORBCTL": 0x03,
    "CORBSIZE": 0x03,
    "RIRBLBASE": 0xFFFFFF80,
    "RIRBUBASE": 0xFFFFFFFF,
    "RINTCNT": 0x00FF,
    "RIRBCTL": 0x07,
    "RIRBSIZE": 0x03,
    "ICOI": 0xFFFFFFFF,
    "DPUBASE": 0xFFFFFFFF,
}
_RESET_VALUES: dict[str, int] = {
    "CORBSIZE": 0x42,  # 256 entries supported, 256 selected
    "RIRBSIZE": 0x42,
}
_W1C_GLOBALS: dict[str, int] = {"STATESTS": 0x7FFF, "GSTS": 0x02, "CORBSTS": 0x01, "RIRBSTS": 0x05}

# Stream descriptor registers: offset inside the descriptor -> (size, name).
_SD_REGS: dict[int, tuple[int, str]] = {
    0x00: (3, "CTL"),
    0x03: (1, "STS"),
    0x04: (4, "LPIB"),
    0x08: (4, "CBL"),
    0x0C: (2, "LVI"),
    0x0E: (2, "FIFOW"),
    0x10: (2, "FIFOS"),
    0x12: (2, "FMT"),
    0x18: (4, "BDPL"),
    0x1C: (4, "BDPU"),
}


class RegKind(enum.Enum):
    GLOBAL = "global"
    STREAM = "stream"
    ALIAS = "alias"


@dataclass(frozen=True, slots=True)
class RegSpec:
    """One register: where it starts, its width in bytes, and whose it is."""

    start: int
    size: int
    name: str
    kind: RegKind
    stream: int = -1


def _build_layout() -> dict[int, RegSpec]:
    """Byte offset -> the register that byte belongs to."""
    layout: dict[int, RegSpec] = {}
    specs = [RegSpec(off, size, name, RegKind.GLOBAL) for off, (size, name) in _GLOBALS.items()]
    for n in range(N_STREAMS):
        base = SD_BASE + SD_STRIDE * n
        specs += [RegSpec(base + off, size, name, RegKind.STREAM, n) for off, (size, name) in _SD_REGS.items()]
        specs.append(RegSpec(LPIB_ALIAS + base + 0x04, 4, "LPIB", RegKind.ALIAS, n))
    for spec in specs:
        for b in range(spec.start, spec.start + spec.size):
            layout[b] = spec
    return layout


def stream_name(index: int) -> str:
    """'in0'..'in3' for descriptors 0-3, 'out0'..'out3' for 4-7."""
    return f"in{index}" if index < N_INPUT else f"out{index - N_INPUT}"


@dataclass(frozen=True, slots=True)
class StreamFormat:
    """A decoded SDnFMT value."""

    raw: int

    @property
    def base(self) -> int:
        return 44_100 if self.raw & 0x4000 else 48_000

    @property
    def mult(self) -> int:
        return ((self.raw >> 11) & 7) + 1

    @property
    def div(self) -> int:
        return ((self.raw >> 8) & 7) + 1

    @property
    def bits(self) -> int | None:
        return _FMT_BITS.get((self.raw >> 4) & 7)

    @property
    def channels(self) -> int:
        return (self.raw & 0xF) + 1

    @property
    def valid(self) -> bool:
        return self.mult <= 4 and self.bits is not None

    @property
    def container_bytes(self) -> int:
        return _CONTAINER_BYTES.get(self.bits or 16, 2)

    @property
    def frame_bytes(self) -> int:
        return self.container_bytes * self.channels

    @property
    def clock_rate(self) -> int:
        """Clock units per second; one frame is ``div`` units, so the rate stays an integer."""
        return self.base * self.mult

    @property
    def sample_rate(self) -> float:
        return self.base * self.mult / self.div

    @property
    def bytes_per_second(self) -> float:
        return self.sample_rate * self.frame_bytes

    def wave_format(self) -> WaveFormat:
        """The nearest format the model's signals can produce (8/16-bit, mono/stereo, <= 48 kHz)."""
        rate = max(5_000, min(48_000, round(self.sample_rate)))
        bits = 8 if self.bits == 8 else 16
        return WaveFormat(rate, bits, 1 if self.channels == 1 else 2)

    def describe(self) -> str:
        if not self.valid:
            return f"reserved format 0x{self.raw:04X}"
        rate = self.sample_rate
        rate_text = f"{rate:g}" if rate == int(rate) else f"{rate:.2f}"
        return f"{rate_text} Hz {self.bits}-bit {self.channels}ch"


@dataclass
class HdaStream:
    """One stream descriptor: its registers and the state of its DMA engine."""

    index: int  # global stream index 0-7 (also its INTCTL/INTSTS bit)
    name: str
    output: bool
    ctl: int = 0
    sts: int = 0
    lpib: int = 0
    cbl: int = 0
    lvi: int = 0
    fifow: int = 0x0004
    fifos: int = 0
    fmt: int = 0
    bdpl: int = 0
    bdpu: int = 0
    # engine
    entry_index: int = 0  # the BDL entry being moved
    entry_loaded: bool = False
    entry_address: int = 0
    entry_length: int = 0
    entry_ioc: bool = False
    entry_pos: int = 0  # bytes of the current entry done
    bytes_done: int = 0  # bytes moved since the last stream reset
    entries_done: int = 0
    origin_bytes: int = 0  # bytes_done when the clock was last (re)started
    clock: UnitClock = field(default_factory=UnitClock)
    error: str | None = None
    dp_written: int | None = None  # LPIB last written to the position buffer
    sink: AudioSink | None = None
    source: AudioSource | None = None

    @property
    def run(self) -> bool:
        return bool(self.ctl & CTL_RUN)

    @property
    def in_reset(self) -> bool:
        return bool(self.ctl & CTL_SRST)

    @property
    def format(self) -> StreamFormat:
        return StreamFormat(self.fmt)

    @property
    def stream_tag(self) -> int:
        return (self.ctl >> 20) & 0xF

    @property
    def bdl_address(self) -> int:
        return (self.bdpu << 32) | (self.bdpl & 0xFFFFFF80)

    @property
    def interrupt_pending(self) -> bool:
        """This stream is requesting service (its SIS bit)."""
        s, c = self.sts, self.ctl
        return bool(
            (s & STS_BCIS and c & CTL_IOCE) or (s & STS_FIFOE and c & CTL_FEIE) or (s & STS_DESE and c & CTL_DEIE)
        )

    @property
    def sts_value(self) -> int:
        # FIFORDY: output FIFO holds data / input engine has a descriptor, i.e. while it runs.
        return self.sts | (STS_FIFORDY if self.run and self.entry_loaded else 0)

    @property
    def stalled(self) -> str | None:
        """Why a stream with RUN set moves no data, or None."""
        if not self.run:
            return None
        if not self.format.valid:
            return f"reserved SDnFMT 0x{self.fmt:04X}"
        return None

    def due_bytes(self, now_ns: int) -> int:
        """Total bytes that should have moved by ``now_ns`` (whole frames only)."""
        f = self.format
        return self.origin_bytes + (self.clock.due(now_ns) // f.div) * f.frame_bytes

    def time_of_bytes(self, total: int) -> int:
        """Earliest time at which ``total`` bytes will have moved (clock must be running)."""
        f = self.format
        frames = -(-(total - self.origin_bytes) // f.frame_bytes)
        return self.clock.time_of(frames * f.div)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "index": self.index,
            "CTL": self.ctl,
            "STS": self.sts_value,
            "LPIB": self.lpib,
            "CBL": self.cbl,
            "LVI": self.lvi,
            "FIFOW": self.fifow,
            "FIFOS": self.fifos,
            "FMT": self.fmt,
            "BDPL": self.bdpl,
            "BDPU": self.bdpu,
            "format": self.format.describe(),
            "stream_tag": self.stream_tag,
            "run": self.run,
            "reset": self.in_reset,
            "entry": self.entry_index,
            "entry_pos": self.entry_pos,
            "entry_length": self.entry_length if self.entry_loaded else None,
            "bytes_done": self.bytes_done,
            "error": self.error,
            "stalled": self.stalled,
        }


class HdaController:
    """The controller. MMIO registers at offsets 0x0000-0x3FFF of its BAR."""

    MMIO_SIZE: ClassVar[int] = 0x4000
    _LAYOUT: ClassVar[dict[int, RegSpec]] = _build_layout()

    def __init__(
        self, sim: Simulator, memory: PhysicalMemory, interrupts: InterruptController, *, irq: int = 11
    ) -> None:
        self.sim, self.memory, self.interrupts = sim, memory, interrupts
        self.irq = irq
        self.name = "HDA"
        self.gctl = 0
        self.regs: dict[str, int] = {}  # plain-storage and W1C global registers
        self.intctl = 0
        self.dplbase = 0
        self.icii = 0
        self.icis = 0
        self.streams: list[HdaStream] = []
        self.clocks = ClockGroup()
        for n in range(N_STREAMS):
            output = n >= N_INPUT
            s = HdaStream(n, stream_name(n), output)
            s.clock.group = self.clocks
            if output:
                s.sink = AudioSink(f"HDA {s.name} output")
            else:
                s.source = AudioSource()
            self.streams.append(s)
        self._line_high = False
        self._wake = WakeUp(sim, self.name, self._schedule)
        self._reset_controller()

    # --- handy accessors ----------------------------------------------------------------------
    @property
    def sink(self) -> AudioSink:
        """Output stream 0's sink (what the main output played)."""
        sink = self.streams[N_INPUT].sink
        assert sink is not None
        return sink

    @property
    def source(self) -> AudioSource:
        """Input stream 0's source (what the main input records)."""
        source = self.streams[0].source
        assert source is not None
        return source

    def stream_descriptor(self, n: int) -> HdaStream:
        """Stream descriptor ``n`` (0-3 input, 4-7 output)."""
        return self.streams[n]

    def output_stream(self, n: int) -> HdaStream:
        return self.streams[N_INPUT + n]

    def input_stream(self, n: int) -> HdaStream:
        return self.streams[n]

    @staticmethod
    def sd_offset(n: int) -> int:
        """MMIO offset of stream descriptor ``n``."""
        return SD_BASE + SD_STRIDE * n

    @property
    def in_reset(self) -> bool:
        return not self.gctl & 1

    # --- reset --------------------------------------------------------------------------------
    def _reset_controller(self) -> None:
        """Everything but GCTL to its power-on value (CRST 0, or the power-on state)."""
        self.regs = {name: _RESET_VALUES.get(name, 0) for name in (*_STORAGE_MASKS, *_W1C_GLOBALS)}
        self.intctl = 0
        self.dplbase = 0
        self.icii = 0
        self.icis = 0
        for s in self.streams:
            self._reset_stream(s)
        self._update_irq()
        self._schedule()

    def _reset_stream(self, s: HdaStream) -> None:
        was_running = s.run
        s.ctl = 0
        s.sts = 0
        s.lpib = s.cbl = s.lvi = s.fmt = s.bdpl = s.bdpu = 0
        s.fifow = 0x0004
        s.fifos = 0x00BF if s.output else 0x0077  # ICH6 defaults
        s.entry_index = s.entry_pos = s.bytes_done = s.origin_bytes = s.entries_done = 0
        s.entry_loaded = False
        s.entry_address = s.entry_length = 0
        s.entry_ioc = False
        s.error = None
        s.clock.stop(self.sim.now_ns, 0)
        if was_running:
            self._state(s, "run", True, False)

    # --- MMIO ---------------------------------------------------------------------------------
    def mmio_name(self, offset: int) -> str:
        spec = self._LAYOUT.get(offset)
        if spec is None:
            return f"HDA +0x{offset:X}"
        if spec.kind == RegKind.GLOBAL:
            name = spec.name
        else:
            name = f"{stream_name(spec.stream)} {spec.name}"
            if spec.kind == RegKind.ALIAS:
                name += " (alias)"
        return name if offset == spec.start else f"{name}+{offset - spec.start}"

    def mmio_read(self, offset: int, size: int) -> int:
        """Read 1, 2 or 4 bytes; each byte comes from the register that holds it."""
        self.sync(self.sim.now_ns)
        value = 0
        cache: dict[int, int] = {}
        for i in range(size):
            spec = self._LAYOUT.get(offset + i)
            if spec is None:
                continue
            if spec.start not in cache:
                cache[spec.start] = self._read_reg(spec)
            value |= ((cache[spec.start] >> (8 * (offset + i - spec.start))) & 0xFF) << (8 * i)
        return value

    def mmio_write(self, offset: int, value: int, size: int) -> None:
        """Write 1, 2 or 4 bytes; each register touched sees only its own bytes (a mask)."""
        self.sync(self.sim.now_ns)
        touched: dict[int, list[Any]] = {}
        for i in range(size):
            spec = self._LAYOUT.get(offset + i)
            if spec is None:
                continue
            shift = 8 * (offset + i - spec.start)
            entry = touched.setdefault(spec.start, [spec, 0, 0])
            entry[1] |= ((value >> (8 * i)) & 0xFF) << shift
            entry[2] |= 0xFF << shift
        for spec, data, mask in touched.values():
            self._write_reg(spec, data, mask)
        self._update_irq()
        self._update_position_buffer()
        self._schedule()

    def _read_reg(self, spec: RegSpec) -> int:
        if spec.kind != RegKind.GLOBAL:
            return self._read_stream_reg(self.streams[spec.stream], spec.name)
        name = spec.name
        if name == "GCAP":
            return GCAP_VALUE
        if name == "VMIN":
            return 0x00
        if name == "VMAJ":
            return 0x01
        if name == "OUTPAY":
            return 0x003C
        if name == "INPAY":
            return 0x001D
        if name == "GCTL":
            return self.gctl
        if name == "INTCTL":
            return self.intctl
        if name == "INTSTS":
            return self.intsts
        if name == "WALCLK":
            return self.wall_clock
        if name == "DPLBASE":
            return self.dplbase
        if name == "ICII":
            return self.icii
        if name == "ICIS":
            return self.icis
        return self.regs.get(name, 0)

    def _read_stream_reg(self, s: HdaStream, name: str) -> int:
        return {
            "CTL": s.ctl,
            "STS": s.sts_value,
            "LPIB": s.lpib,
            "CBL": s.cbl,
            "LVI": s.lvi,
            "FIFOW": s.fifow,
            "FIFOS": s.fifos,
            "FMT": s.fmt,
            "BDPL": s.bdpl,
            "BDPU": s.bdpu,
        }[name]

    def _write_reg(self, spec: RegSpec, data: int, mask: int) -> None:
        name = spec.name
        if spec.kind == RegKind.GLOBAL and name == "GCTL":
            self._write_gctl((self.gctl & ~mask) | (data & mask))
            return
        if self.in_reset:
            return  # in controller reset only CRST can be written
        if spec.kind == RegKind.ALIAS:
            return  # LPIB alias is read-only
        if spec.kind == RegKind.STREAM:
            self._write_stream_reg(self.streams[spec.stream], name, data, mask)
            return
        if name == "INTCTL":
            self.intctl = ((self.intctl & ~mask) | (data & mask)) & (INT_GIE | INT_CIE | _SIE_MASK)
        elif name == "DPLBASE":
            old = self.dplbase
            self.dplbase = ((old & ~mask) | (data & mask)) & 0xFFFFFF81
            if self.dplbase != old:
                for s in self.streams:
                    s.dp_written = None  # (re)write every position at the new place
        elif name == "ICIS":
            self._write_icis(data, mask)
        elif name in _W1C_GLOBALS:
            self.regs[name] &= ~(data & mask & _W1C_GLOBALS[name])
        elif name in _STORAGE_MASKS:
            keep = _STORAGE_MASKS[name]
            self.regs[name] = ((self.regs[name] & ~mask) | (data & mask)) & keep
        # GCAP, VMIN, VMAJ, OUTPAY, INPAY, INTSTS, WALCLK, ICII: read-only.

    def _write_gctl(self, value: int) -> None:
        value &= 0x0103  # CRST, FCNTRL, UNSOL
        was_reset = self.in_reset
        self.gctl = value
        if not was_reset and self.in_reset:
            self._reset_controller()
            self.sim.emit(StateRecord(object=self.name, what="controller reset", old=False, new=True))
        elif was_reset and not self.in_reset:
            # The link comes up and the codec on SDI0 signals its presence.
            self.regs["STATESTS"] |= 0x0001
            self.sim.emit(StateRecord(object=self.name, what="controller reset", old=True, new=False))

    def _write_icis(self, data: int, mask: int) -> None:
        bits = data & mask
        if bits & 0x02:
            self.icis &= ~0x02  # IRV is write-1-to-clear
        if bits & 0x01:
            # No codec is modelled: the command completes at once with a zero response.
            self.icii = 0
            self.icis |= 0x02

    def _write_stream_reg(self, s: HdaStream, name: str, data: int, mask: int) -> None:
        def merged(old: int) -> int:
            return (old & ~mask) | (data & mask)

        if name == "CTL":
            self._write_ctl(s, merged(s.ctl) & _CTL_WRITABLE)
        elif name == "STS":
            s.sts &= ~(data & mask & _STS_W1C)
        elif s.in_reset:
            return  # a stream in reset ignores everything but SDnCTL
        elif name == "CBL":
            s.cbl = merged(s.cbl) & 0xFFFFFFFF
        elif name == "LVI":
            s.lvi = merged(s.lvi) & 0xFF
        elif name == "FIFOW":
            s.fifow = merged(s.fifow) & 0x7
        elif name == "FIFOS" and s.output:
            s.fifos = merged(s.fifos) & 0xFFFF
        elif name == "FMT":
            old = s.fmt
            s.fmt = merged(s.fmt) & 0xFF7F
            if s.fmt != old and s.run:
                self._restart_clock(s)  # a format change while running (undefined): new rate from now
        elif name == "BDPL":
            s.bdpl = merged(s.bdpl) & 0xFFFFFF80
        elif name == "BDPU":
            s.bdpu = merged(s.bdpu) & 0xFFFFFFFF
        # LPIB is read-only.

    def _write_ctl(self, s: HdaStream, value: int) -> None:
        old = s.ctl
        if value & CTL_SRST:
            if not old & CTL_SRST:
                self._reset_stream(s)
                self._state(s, "stream reset", False, True)
            s.ctl = CTL_SRST  # in reset, RUN cannot be set and the other bits stay 0
            return
        if old & CTL_SRST:
            self._state(s, "stream reset", True, False)
        s.ctl = value
        if value & CTL_RUN and not old & CTL_RUN:
            self._start(s)
        elif old & CTL_RUN and not value & CTL_RUN:
            s.clock.stop(self.sim.now_ns, s.clock.due(self.sim.now_ns))
            self._state(s, "run", True, False)

    # --- engine -------------------------------------------------------------------------------
    def _start(self, s: HdaStream) -> None:
        s.error = None
        self._state(s, "run", False, True)
        if not s.entry_loaded and not self._load_entry(s):
            return
        self._restart_clock(s)
        if s.entry_pos >= s.entry_length:
            self._advance(s, s.bytes_done)  # a zero-length first entry completes at once

    def _restart_clock(self, s: HdaStream) -> None:
        f = s.format
        s.origin_bytes = s.bytes_done
        if s.run and f.valid:
            s.clock.start(self.sim.now_ns, 0, f.clock_rate)
        else:
            s.clock.stop(self.sim.now_ns, 0)

    def _load_entry(self, s: HdaStream) -> bool:
        """Read BDL entry ``s.entry_index`` from memory. False (and the stream halted) on error."""
        at = s.bdl_address + BDL_ENTRY_BYTES * s.entry_index
        if not self._inside(at, BDL_ENTRY_BYTES):
            self._dma_error(s, f"BDL entry {s.entry_index} at 0x{at:X} is outside memory")
            return False
        raw = self.memory.read(at, BDL_ENTRY_BYTES).tobytes()
        address = int.from_bytes(raw[0:8], "little")
        length = int.from_bytes(raw[8:12], "little")
        flags = int.from_bytes(raw[12:16], "little")
        if not self._inside(address, length):
            self._dma_error(s, f"BDL entry {s.entry_index} buffer 0x{address:X}+0x{length:X} is outside memory")
            return False
        s.entry_loaded = True
        s.entry_address, s.entry_length, s.entry_ioc = address, length, bool(flags & 1)
        s.entry_pos = 0
        return True

    def _inside(self, address: int, length: int) -> bool:
        return address >= 0 and address + length <= self.memory.size

    def _dma_error(self, s: HdaStream, reason: str) -> None:
        """Descriptor error: DESE, RUN cleared, the stream stops (ICH6 SDSTS bit 4)."""
        s.sts |= STS_DESE
        s.error = reason
        s.entry_loaded = False
        s.ctl &= ~CTL_RUN
        s.clock.stop(self.sim.now_ns, 0)
        self.sim.emit(StateRecord(object=f"{self.name} {s.name}", what="descriptor error", old=None, new=reason))
        self._state(s, "run", True, False)
        self._update_irq(new_condition=True)

    def sync(self, now_ns: int) -> None:
        """Move every whole frame that is due by ``now_ns`` on every running stream."""
        moved = False
        for s in self.streams:
            if s.clock.running:
                target = s.due_bytes(now_ns)
                if target > s.bytes_done:
                    self._advance(s, target)
                    moved = True
        if moved:
            self._update_position_buffer()
            self._schedule()

    def _advance(self, s: HdaStream, target: int) -> None:
        """Move bytes up to ``target`` through as many BDL entries as that takes."""
        empty_run = 0  # consecutive zero-length entries, to catch a BDL with no bytes in it
        while s.run and s.entry_loaded:
            left = s.entry_length - s.entry_pos
            n = min(left, target - s.bytes_done)
            if n > 0:
                self._move(s, n)
                left -= n
            if left > 0:
                return
            empty_run = empty_run + 1 if s.entry_length == 0 else 0
            self._entry_done(s)
            if empty_run > s.lvi:
                self._dma_error(s, "every BDL entry from 0 to LVI has length 0")
                return
            if not self._load_entry(s):
                return

    def _move(self, s: HdaStream, n: int) -> None:
        address = s.entry_address + s.entry_pos
        now = self.sim.now_ns
        if s.output:
            assert s.sink is not None
            s.sink.append(self.memory.read(address, n), now)
        else:
            assert s.source is not None
            self.memory.write(address, s.source.take(s.format.wave_format(), n))
        s.entry_pos += n
        s.bytes_done += n
        s.lpib = (s.lpib + n) % s.cbl if s.cbl else (s.lpib + n) & 0xFFFFFFFF

    def _entry_done(self, s: HdaStream) -> None:
        """The last byte of the current entry has moved: IOC, then on to the next entry."""
        s.entries_done += 1
        if s.entry_ioc:
            s.sts |= STS_BCIS
            self.sim.record(IocRecord, self.name, s.name, s.entry_index, s.entry_index == s.lvi)
            if s.ctl & CTL_IOCE:
                self._update_irq(new_condition=True)
        s.entry_index = 0 if s.entry_index >= s.lvi else s.entry_index + 1
        s.entry_loaded = False

    def _schedule(self) -> None:
        """Keep exactly one wake-up, at the earliest end of a running stream's current entry."""
        target, name = -1, ""
        for s in self.streams:
            if s.clock.running and s.run and s.entry_loaded:
                t = s.time_of_bytes(s.bytes_done + s.entry_length - s.entry_pos)
                if target < 0 or t < target:
                    target = max(t, self.sim.now_ns)
                    name = f"HDA {s.name} BDL entry {s.entry_index} end"
        self._wake.set(target, name)

    # --- interrupts and position buffer -------------------------------------------------------
    @property
    def intsts(self) -> int:
        sis = sum(1 << s.index for s in self.streams if s.interrupt_pending)
        value = sis
        if self.regs["STATESTS"] & self.regs["WAKEEN"]:
            value |= INT_CIS
        if value:
            value |= INT_GIS
        return value

    @property
    def wall_clock(self) -> int:
        """WALCLK: a 24 MHz counter (the link's bit clock), from virtual time."""
        return (self.sim.now_ns * 24 // 1000) & 0xFFFFFFFF

    def _line_level(self) -> bool:
        if not self.intctl & INT_GIE:
            return False
        sts = self.intsts
        return bool((sts & self.intctl & _SIE_MASK) or (sts & INT_CIS and self.intctl & INT_CIE))

    def _update_irq(self, *, new_condition: bool = False) -> None:
        """Raise the line on a new enabled condition, lower it when nothing enabled is pending."""
        level = self._line_level()
        if level and (new_condition or not self._line_high):
            self._line_high = True
            self.interrupts.raise_line(self.irq, self.name)
        elif not level and self._line_high:
            self._line_high = False
            self.interrupts.lower_line(self.irq, self.name)

    def _update_position_buffer(self) -> None:
        """DMA position buffer: each stream's LPIB at DPLBASE + 8 x stream index, when it changed."""
        if not self.dplbase & 1:
            return
        base = (self.regs["DPUBASE"] << 32) | (self.dplbase & 0xFFFFFF80)
        for s in self.streams:
            if s.dp_written != s.lpib:
                at = base + 8 * s.index
                if self._inside(at, 4):
                    self.memory.write_u32(at, s.lpib)
                s.dp_written = s.lpib

    def _state(self, s: HdaStream, what: str, old: Any, new: Any) -> None:
        self.sim.emit(StateRecord(object=f"{self.name} {s.name}", what=what, old=old, new=new))

    # --- inspection ---------------------------------------------------------------------------
    def register_map(self) -> list[tuple[int, int, str]]:
        """(offset, size, name) of every register, in address order (for a register panel)."""
        seen: dict[int, RegSpec] = {}
        for spec in self._LAYOUT.values():
            seen.setdefault(spec.start, spec)
        return [(off, spec.size, self.mmio_name(off)) for off, spec in sorted(seen.items())]

    def describe(self) -> dict[str, Any]:
        return {
            "GCAP": GCAP_VALUE,
            "GCTL": self.gctl,
            "WAKEEN": self.regs["WAKEEN"],
            "STATESTS": self.regs["STATESTS"],
            "INTCTL": self.intctl,
            "INTSTS": self.intsts,
            "WALCLK": self.wall_clock,
            "DPLBASE": self.dplbase,
            "DPUBASE": self.regs["DPUBASE"],
            "irq": self.irq,
            "line_high": self._line_high,
            "streams": [s.describe() for s in self.streams],
        }
