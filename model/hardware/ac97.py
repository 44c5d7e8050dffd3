"""An Intel ICH AC'97 controller (native audio bus master, NABMBAR) with its codec (NAMBAR).

Three bus-master boxes, PCM In (PI), PCM Out (PO) and Mic In (MC), each walk a 32-entry
buffer descriptor list: 8-byte entries of (u32 address, u32 with the length in 16-bit
samples in bits 15:0, BUP in bit 30 and IOC in bit 31). Progress is computed from time:
a running box has a UnitClock counting samples (one unit = one 16-bit sample) and
``sync`` moves every sample that is due with numpy slices (hardware.md §3.1, facts 37-40).

Choices where hardware.md is silent:

* There is no FIFO: a sample is fetched from memory when the codec consumes it, so PICB
  counts down at the sample rate. A descriptor is read when the engine reaches it (at
  start, and at the end of the previous entry), so drivers may fill entries ahead of CIV
  and move LVI, as the WDK sample does.
* Clearing RPBM pauses the box where it is (DCH reads 1 while paused); setting it again
  resumes mid-entry. Only when no entry is current (after reset, after a halt at LVI)
  does setting RPBM run the start sequence CIV = PIV, PIV + 1, fetch (fact 37).
* Halted at LVI with RPBM still 1, the codec keeps asking for samples. One sample period
  after the halt the first request fails: FIFOE is set (underrun on PO, overrun on PI and
  MC, as the ICH datasheet describes FIFOE) and a stretch opens in ``underruns`` (PO) or
  ``overruns`` (PI, MC). PO fills with the last valid sample when the last entry had
  BUP = 0 and with zeros when BUP = 1 (Intel's meaning, not QEMU's). The sink receives
  only bytes fetched from memory. The stretch closes when LVI is written (restart at
  PIV), RPBM is cleared, or RR is written. FIFOE is set once per stretch, so a driver
  that clears it is not interrupted again for the same stretch.
* A descriptor or a buffer not wholly inside physical memory is a DMA error: FIFOE is
  set, RPBM is cleared, DCH is set and the box stops.
* PO plays 2, 4 or 6 channels as GLOB_CNT bits 21:20 say (00, 01, 10); PI is stereo and
  MC mono. Rates: PO uses NAM 0x2C and PI NAM 0x32 when VRA (0x2A bit 0) is enabled,
  48000 Hz otherwise; MC always 48000 Hz (VRM is not offered). Rate writes are ignored
  while VRA is off and clamped to 8000..48000 when the high byte completes the write, so
  a driver can probe a rate by writing it and reading it back.
* A NAM register takes each byte as it is written; checks that need the whole value
  (rate clamping) run when the high byte arrives (x86 OUT of a word writes low then high).
* CAS reads 0 and becomes 1 on the read; any NAM access clears it (the semaphore).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from model.hardware.audio_io import AudioSink, AudioSource
from model.hardware.unit_clock import ClockGroup, UnitClock
from model.hardware.wake_up import WakeUp
from model.trace import IocRecord, StateRecord
from model.wave_format import WaveFormat

if TYPE_CHECKING:
    from model.hardware.interrupts import InterruptController
    from model.hardware.memory import PhysicalMemory
    from model.simulator import Simulator

N_ENTRIES = 32
BD_ENTRY_BYTES = 8
SAMPLE_BYTES = 2

# SR (status) bits
SR_DCH = 0x01
SR_CELV = 0x02
SR_LVBCI = 0x04
SR_BCIS = 0x08
SR_FIFOE = 0x10
_SR_W1C = SR_LVBCI | SR_BCIS | SR_FIFOE

# CR (control) bits
CR_RPBM = 0x01
CR_RR = 0x02
CR_LVBIE = 0x04
CR_FEIE = 0x08
CR_IOCE = 0x10
_CR_ENABLES = CR_LVBIE | CR_FEIE | CR_IOCE

# BDL entry flags (dword 1)
BD_IOC = 1 << 31
BD_BUP = 1 << 30

# Global registers (NABM offsets)
GLOB_CNT = 0x2C
GLOB_STA = 0x30
CAS = 0x34
STA_PIINT = 1 << 5
STA_POINT = 1 << 6
STA_MINT = 1 << 7
STA_PCR = 1 << 8  # primary codec ready
STA_4CH = 1 << 20  # PCM 4 channels capable
STA_6CH = 1 << 21  # PCM 6 channels capable
CNT_COLD_RESET = 1 << 1  # AC_RESET#: 0 holds the codec in reset
CNT_WARM_RESET = 1 << 2
_CNT_WRITABLE = 0x0030007F & ~CNT_WARM_RESET

BOXES: dict[str, int] = {"PI": 0x00, "PO": 0x10, "MC": 0x20}
_BOX_INT_BITS = {"PI": STA_PIINT, "PO": STA_POINT, "MC": STA_MINT}

# Box registers: offset in the box -> (size, name)
_BOX_REGS: dict[int, tuple[int, str]] = {
    0x0: (4, "BDBAR"),
    0x4: (1, "CIV"),
    0x5: (1, "LVI"),
    0x6: (2, "SR"),
    0x8: (2, "PICB"),
    0xA: (1, "PIV"),
    0xB: (1, "CR"),
}
_GLOBAL_REGS: dict[int, tuple[int, str]] = {
    GLOB_CNT: (4, "GLOB_CNT"),
    GLOB_STA: (4, "GLOB_STA"),
    CAS: (1, "CAS"),
}

# Codec (NAM) registers: index -> (reset value, name)
_NAM_REGS: dict[int, tuple[int, str]] = {
    0x00: (0x0000, "Reset"),
    0x02: (0x8000, "Master Volume"),
    0x04: (0x8000, "Aux Out Volume"),
    0x06: (0x8000, "Mono Volume"),
    0x0A: (0x0000, "PC Beep Volume"),
    0x0C: (0x8008, "Phone Volume"),
    0x0E: (0x8008, "Mic Volume"),
    0x10: (0x8808, "Line In Volume"),
    0x12: (0x8808, "CD Volume"),
    0x14: (0x8808, "Video Volume"),
    0x16: (0x8808, "Aux In Volume"),
    0x18: (0x8808, "PCM Out Volume"),
    0x1A: (0x0000, "Record Select"),
    0x1C: (0x8000, "Record Gain"),
    0x1E: (0x8000, "Record Gain Mic"),
    0x20: (0x0000, "General Purpose"),
    0x22: (0x0000, "3D Control"),
    0x24: (0x0000, "Audio Int & Paging"),
    0x26: (0x000F, "Powerdown Ctrl/Stat"),
    0x28: (0x0001, "Extended Audio ID"),
    0x2A: (0x0000, "Extended Audio Stat/Ctrl"),
    0x2C: (0xBB80, "PCM Front DAC Rate"),
    0x2E: (0xBB80, "PCM Surround DAC Rate"),
    0x30: (0xBB80, "PCM LFE DAC Rate"),
    0x32: (0xBB80, "PCM L/R ADC Rate"),
    0x34: (0xBB80, "Mic ADC Rate"),
    0x7C: (0x8384, "Vendor ID1"),
    0x7E: (0x7600, "Vendor ID2"),
}
NAM_RESET = 0x00
NAM_POWERDOWN = 0x26
NAM_EXT_ID = 0x28
NAM_EXT_CTRL = 0x2A
NAM_FRONT_RATE = 0x2C
NAM_ADC_RATE = 0x32
NAM_MIC_RATE = 0x34
_VRA_RATES = (0x2C, 0x2E, 0x30, 0x32)
_NAM_READ_ONLY = (NAM_RESET, NAM_EXT_ID, NAM_MIC_RATE, 0x7C, 0x7E)
EXT_VRA = 0x0001
MIN_RATE = 8_000
MAX_RATE = 48_000


@dataclass
class XrunStretch:
    """A stretch where the codec wanted samples the halted box could not give (or take)."""

    kind: str  # "underrun" (PO) or "overrun" (PI, MC)
    start_ns: int  # when the first sample was missed
    end_ns: int | None = None  # None while still going on
    samples: int = 0  # 16-bit samples missed (so far)
    bup: bool = False  # BUP of the last entry (PO: True sends zeros, False repeats the last sample)
    fill: bytes = b""  # PO: the frame the codec repeats during the stretch (zeros when BUP = 1)

    def to_json_value(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "samples": self.samples,
            "bup": self.bup,
            "fill": self.fill.hex(),
        }


@dataclass
class Ac97Box:
    """One bus-master box: registers and the state of its DMA engine."""

    name: str  # "PI", "PO", "MC"
    offset: int  # in NABM space
    output: bool
    bdbar: int = 0
    civ: int = 0
    lvi: int = 0
    sr: int = SR_DCH
    piv: int = 0
    cr: int = 0
    # engine
    loaded: bool = False  # an entry is current (fetched and not finished)
    entry_address: int = 0
    entry_samples: int = 0
    entry_flags: int = 0
    entry_done: int = 0  # samples of the current entry fetched (or written)
    units_done: int = 0  # samples the codec has taken (or given) since the clock started, incl. xruns
    samples_moved: int = 0  # samples actually moved to or from memory, ever
    halted_at_units: int | None = None  # units_done when the box halted at LVI with RPBM still 1
    last_bup: bool = False
    last_frame: bytes = b""
    clock: UnitClock = field(default_factory=UnitClock)
    error: str | None = None
    underruns: list[XrunStretch] = field(default_factory=list)
    overruns: list[XrunStretch] = field(default_factory=list)
    sink: AudioSink | None = None
    source: AudioSource | None = None

    @property
    def picb(self) -> int:
        """Samples left in the current entry."""
        return self.entry_samples - self.entry_done if self.loaded else 0

    @property
    def running(self) -> bool:
        return bool(self.cr & CR_RPBM)

    @property
    def halted(self) -> bool:
        return bool(self.sr & SR_DCH)

    @property
    def interrupt_pending(self) -> bool:
        s, c = self.sr, self.cr
        return bool((s & SR_BCIS and c & CR_IOCE) or (s & SR_LVBCI and c & CR_LVBIE) or (s & SR_FIFOE and c & CR_FEIE))

    @property
    def xruns(self) -> list[XrunStretch]:
        return self.underruns if self.output else self.overruns

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "BDBAR": self.bdbar,
            "CIV": self.civ,
            "LVI": self.lvi,
            "SR": self.sr,
            "PICB": self.picb,
            "PIV": self.piv,
            "CR": self.cr,
            "entry_address": self.entry_address if self.loaded else None,
            "entry_samples": self.entry_samples if self.loaded else None,
            "entry_ioc": bool(self.entry_flags & BD_IOC) if self.loaded else None,
            "entry_bup": bool(self.entry_flags & BD_BUP) if self.loaded else None,
            "samples_moved": self.samples_moved,
            "error": self.error,
            "underruns": [x.to_json_value() for x in self.underruns],
            "overruns": [x.to_json_value() for x in self.overruns],
        }


class Ac97Controller:
    """The ICH AC'97 function: NAM ports (codec registers) and NABM ports (bus master)."""

    def __init__(
        self,
        sim: Simulator,
        memory: PhysicalMemory,
        interrupts: InterruptController,
        *,
        nam_base: int = 0xD000,
        nabm_base: int = 0xD100,
        irq: int = 10,
    ) -> None:
        self.sim, self.memory, self.interrupts = sim, memory, interrupts
        self.nam_base, self.nabm_base, self.irq = nam_base, nabm_base, irq
        self.name = "AC97"
        self.glob_cnt = 0
        self.cas = 0
        self.nam: dict[int, int] = {}
        self.boxes: dict[str, Ac97Box] = {}
        self.clocks = ClockGroup()
        for name, off in BOXES.items():
            box = Ac97Box(name, off, output=name == "PO")
            box.clock.group = self.clocks
            if box.output:
                box.sink = AudioSink("AC97 PCM out")
            else:
                box.source = AudioSource()
            self.boxes[name] = box
        self._line_high = False
        self._wake = WakeUp(sim, self.name, self._schedule)
        self._reset_codec()

    # --- handy accessors ----------------------------------------------------------------------
    def box(self, name: str) -> Ac97Box:
        """The box called ``name``: "PI", "PO" or "MC"."""
        return self.boxes[name]

    @property
    def sink(self) -> AudioSink:
        """PCM Out's sink (what the codec played from memory)."""
        sink = self.boxes["PO"].sink
        assert sink is not None
        return sink

    @property
    def source(self) -> AudioSource:
        """PCM In's source (what the codec records)."""
        source = self.boxes["PI"].source
        assert source is not None
        return source

    @property
    def mic_source(self) -> AudioSource:
        source = self.boxes["MC"].source
        assert source is not None
        return source

    def ports(self) -> list[int]:
        return [*range(self.nam_base, self.nam_base + 0x80), *range(self.nabm_base, self.nabm_base + 0x40)]

    # --- configuration derived from registers -------------------------------------------------
    @property
    def vra(self) -> bool:
        return bool(self.nam[NAM_EXT_CTRL] & EXT_VRA)

    def channels(self, box: Ac97Box) -> int:
        if box.name == "MC":
            return 1
        if box.name == "PI":
            return 2
        return {0: 2, 1: 4, 2: 6}.get((self.glob_cnt >> 20) & 3, 2)

    def sample_rate(self, box: Ac97Box) -> int:
        if box.name == "MC":
            return self.nam[NAM_MIC_RATE]
        if not self.vra:
            return MAX_RATE
        # Clamped again: between the two byte writes of a word the register may hold anything.
        value = self.nam[NAM_FRONT_RATE if box.name == "PO" else NAM_ADC_RATE]
        return max(MIN_RATE, min(MAX_RATE, value))

    def wave_format(self, box: Ac97Box) -> WaveFormat:
        """The box's format as the model's signals know it (PO multichannel shows as stereo)."""
        return WaveFormat(self.sample_rate(box), 16, min(2, self.channels(box)))

    # --- port names ---------------------------------------------------------------------------
    def port_name(self, port: int) -> str:
        if self.nam_base <= port < self.nam_base + 0x80:
            off = port - self.nam_base
            reg = off & ~1
            name = _NAM_REGS.get(reg, (0, f"0x{reg:02X}"))[1]
            return f"NAM {name}" + (" (high)" if off & 1 else "")
        off = port - self.nabm_base
        if off >= 0x2C:
            name = self._reg_name(_GLOBAL_REGS, off, "")
            return f"NABM {name}" if name.startswith("+") else name
        box_name = next((n for n, b in BOXES.items() if b <= off < b + 0x10), None)
        if box_name is None:
            return f"NABM +0x{off:02X}"
        return self._reg_name(_BOX_REGS, off - BOXES[box_name], f"{box_name}_")

    @staticmethod
    def _reg_name(regs: dict[int, tuple[int, str]], off: int, prefix: str) -> str:
        for start, (size, name) in regs.items():
            if start <= off < start + size:
                return f"{prefix}{name}" + (f"+{off - start}" if off != start else "")
        return f"{prefix.rstrip('_')} +0x{off:02X}".lstrip()

    # --- port access --------------------------------------------------------------------------
    def io_read(self, port: int) -> int:
        self.sync(self.sim.now_ns)
        if self.nam_base <= port < self.nam_base + 0x80:
            self.cas = 0
            off = port - self.nam_base
            return (self.nam.get(off & ~1, 0) >> (8 * (off & 1))) & 0xFF
        off = port - self.nabm_base
        if off == CAS:
            value, self.cas = self.cas, 1
            return value
        for start, (size, _name) in _GLOBAL_REGS.items():
            if start <= off < start + size:
                return (self._global_value(start) >> (8 * (off - start))) & 0xFF
        box = self._box_at(off)
        if box is None:
            return 0
        rel = off - box.offset
        for start, (size, name) in _BOX_REGS.items():
            if start <= rel < start + size:
                return (self._box_value(box, name) >> (8 * (rel - start))) & 0xFF
        return 0

    def io_write(self, port: int, value: int) -> None:
        self.sync(self.sim.now_ns)
        value &= 0xFF
        if self.nam_base <= port < self.nam_base + 0x80:
            self.cas = 0
            self._nam_write_byte(port - self.nam_base, value)
        else:
            off = port - self.nabm_base
            if off == CAS:
                self.cas = value & 1
            elif GLOB_CNT <= off < GLOB_CNT + 4:
                self._write_glob_cnt(off - GLOB_CNT, value)
            elif off < 0x2C:
                box = self._box_at(off)
                if box is not None:
                    self._box_write_byte(box, off - box.offset, value)
            # GLOB_STA: its RW1C bits (GSCI, resume) never get set here, so writes change nothing.
        self._update_irq()
        self._schedule()

    def _box_at(self, off: int) -> Ac97Box | None:
        for box in self.boxes.values():
            if box.offset <= off < box.offset + 0x10:
                return box
        return None

    def _global_value(self, start: int) -> int:
        if start == GLOB_CNT:
            return self.glob_cnt
        if start == GLOB_STA:
            return self.glob_sta
        return self.cas

    @property
    def glob_sta(self) -> int:
        value = STA_PCR | STA_4CH | STA_6CH
        for name, box in self.boxes.items():
            if box.interrupt_pending:
                value |= _BOX_INT_BITS[name]
        return value

    @staticmethod
    def _box_value(box: Ac97Box, name: str) -> int:
        return {
            "BDBAR": box.bdbar,
            "CIV": box.civ,
            "LVI": box.lvi,
            "SR": box.sr,
            "PICB": box.picb,
            "PIV": box.piv,
            "CR": box.cr,
        }[name]

    def _write_glob_cnt(self, byte: int, value: int) -> None:
        old = self.glob_cnt
        shift = 8 * byte
        new = ((old & ~(0xFF << shift)) | (value << shift)) & _CNT_WRITABLE
        self.glob_cnt = new
        if old & CNT_COLD_RESET and not new & CNT_COLD_RESET:
            self._reset_codec()  # AC_RESET# asserted: the codec's registers go back to defaults
        if (old ^ new) & (3 << 20):
            self._rate_changed(self.boxes["PO"])

    def _box_write_byte(self, box: Ac97Box, rel: int, value: int) -> None:
        if rel < 4:  # BDBAR, one byte at a time; bits 2:0 read 0
            shift = 8 * rel
            box.bdbar = ((box.bdbar & ~(0xFF << shift)) | (value << shift)) & 0xFFFFFFF8
        elif rel == 0x5:
            self._write_lvi(box, value & 0x1F)
        elif rel == 0x6:
            box.sr &= ~(value & _SR_W1C)  # DCH and CELV are read-only
        elif rel == 0xB:
            self._write_cr(box, value)
        # CIV, SR high byte, PICB, PIV: read-only.

    def _write_lvi(self, box: Ac97Box, value: int) -> None:
        box.lvi = value
        if box.running and box.halted and box.error is None:
            # Halted at the last valid entry while RPBM is still 1: a new LVI restarts at PIV.
            self._close_xrun(box)
            box.sr &= ~(SR_DCH | SR_CELV)
            box.halted_at_units = None
            self._state(box, "halted", True, False)
            self._next_entry(box)

    def _write_cr(self, box: Ac97Box, value: int) -> None:
        if value & CR_RR:
            self._reset_box(box)  # self-clearing; keeps the interrupt enables
            return
        old = box.cr
        box.cr = value & (CR_RPBM | _CR_ENABLES)
        if value & CR_RPBM and not old & CR_RPBM:
            self._start(box)
        elif old & CR_RPBM and not value & CR_RPBM:
            self._pause(box)

    # --- codec registers ----------------------------------------------------------------------
    def _reset_codec(self) -> None:
        self.nam = {reg: reset for reg, (reset, _name) in _NAM_REGS.items()}
        for box in self.boxes.values():
            self._rate_changed(box)

    def _nam_write_byte(self, off: int, value: int) -> None:
        reg, high = off & ~1, bool(off & 1)
        if reg == NAM_RESET:
            self._reset_codec()  # any write resets the codec's registers
            return
        if reg not in _NAM_REGS or reg in _NAM_READ_ONLY:
            return
        if reg in _VRA_RATES and not self.vra:
            return  # rates are fixed at 48 kHz while VRA is off
        shift = 8 if high else 0
        old = self.nam[reg]
        new = (old & ~(0xFF << shift)) | (value << shift)
        if reg == NAM_POWERDOWN:
            new = (new & 0xFF00) | 0x000F  # low nibble: ADC, DAC, analog, reference ready
        elif reg == NAM_EXT_CTRL:
            new &= EXT_VRA
        elif reg in _VRA_RATES and high:
            new = max(MIN_RATE, min(MAX_RATE, new))  # what the codec accepted; read back to probe
        self.nam[reg] = new
        if reg == NAM_EXT_CTRL and old & EXT_VRA and not new & EXT_VRA:
            for rate_reg in _VRA_RATES:
                self.nam[rate_reg] = MAX_RATE
        if reg in _VRA_RATES or reg == NAM_EXT_CTRL:
            for box in self.boxes.values():
                self._rate_changed(box)

    def _rate_changed(self, box: Ac97Box) -> None:
        """The box's sample rate or channel count may have changed: restart its clock from now."""
        now = self.sim.now_ns
        rate = self.sample_rate(box) * self.channels(box)
        if box.clock.running and box.clock.rate != rate:
            box.clock.start(now, box.clock.due(now), rate)

    # --- engine -------------------------------------------------------------------------------
    def _reset_box(self, box: Ac97Box) -> None:
        """RR: every bus-master register of the box back to reset, except the interrupt enables."""
        self._close_xrun(box)
        was_running = box.running
        box.bdbar = box.civ = box.lvi = box.piv = 0
        box.sr = SR_DCH
        box.cr &= _CR_ENABLES
        box.loaded = False
        box.entry_address = box.entry_samples = box.entry_flags = box.entry_done = 0
        box.halted_at_units = None
        box.error = None
        box.clock.stop(self.sim.now_ns, 0)
        box.units_done = 0
        if was_running:
            self._state(box, "run", True, False)
        self._state(box, "reset registers", None, True)

    def _start(self, box: Ac97Box) -> None:
        now = self.sim.now_ns
        box.error = None
        box.clock.start(now, box.units_done, self.sample_rate(box) * self.channels(box))
        box.sr &= ~SR_DCH
        self._state(box, "run", False, True)
        if not box.loaded:
            box.sr &= ~SR_CELV
            self._next_entry(box)

    def _pause(self, box: Ac97Box) -> None:
        now = self.sim.now_ns
        self._close_xrun(box)
        box.halted_at_units = None
        box.clock.stop(now, box.units_done)
        box.sr |= SR_DCH
        self._state(box, "run", True, False)

    def _next_entry(self, box: Ac97Box) -> None:
        """CIV = PIV, PIV + 1, fetch entry CIV; finish zero-length entries at once."""
        for _ in range(N_ENTRIES + 1):  # each pass advances CIV; LVI is reached within 32
            box.civ = box.piv
            box.piv = (box.piv + 1) % N_ENTRIES
            if not self._fetch(box):
                box.piv = box.civ  # so that a retry (RPBM again) fetches the same entry
                return
            if box.entry_samples:
                return
            if self._entry_done(box):
                return

    def _fetch(self, box: Ac97Box) -> bool:
        at = box.bdbar + BD_ENTRY_BYTES * box.civ
        if not self._inside(at, BD_ENTRY_BYTES):
            self._dma_error(box, f"BDL entry {box.civ} at 0x{at:X} is outside memory")
            return False
        raw = self.memory.read(at, BD_ENTRY_BYTES).tobytes()
        address = int.from_bytes(raw[0:4], "little") & ~1
        flags = int.from_bytes(raw[4:8], "little")
        samples = flags & 0xFFFF
        if not self._inside(address, samples * SAMPLE_BYTES):
            self._dma_error(
                box,
                f"BDL entry {box.civ} buffer 0x{address:X}+0x{samples * SAMPLE_BYTES:X} is outside memory",
            )
            return False
        box.loaded = True
        box.entry_address, box.entry_samples, box.entry_flags = address, samples, flags
        box.entry_done = 0
        return True

    def _inside(self, address: int, length: int) -> bool:
        return address >= 0 and address + length <= self.memory.size

    def _dma_error(self, box: Ac97Box, reason: str) -> None:
        box.error = reason
        box.loaded = False
        box.sr |= SR_FIFOE | SR_DCH
        box.cr &= ~CR_RPBM
        box.clock.stop(self.sim.now_ns, box.units_done)
        self.sim.emit(StateRecord(object=f"{self.name} {box.name}", what="DMA error", old=None, new=reason))
        self._state(box, "run", True, False)
        self._update_irq(new_condition=True)

    def _entry_done(self, box: Ac97Box) -> bool:
        """PICB reached 0. Returns True when the box halted (CIV was LVI)."""
        ioc = bool(box.entry_flags & BD_IOC)
        last = box.civ == box.lvi
        box.last_bup = bool(box.entry_flags & BD_BUP)
        box.loaded = False
        box.entry_done = box.entry_samples
        if ioc:
            box.sr |= SR_BCIS
            self.sim.record(IocRecord, self.name, box.name, box.civ, last)
        if last:
            box.sr |= SR_DCH | SR_CELV | SR_LVBCI
            box.halted_at_units = box.units_done
            self._state(box, "halted", False, True)
        if (ioc and box.cr & CR_IOCE) or (last and box.cr & CR_LVBIE):
            self._update_irq(new_condition=True)
        return last

    def sync(self, now_ns: int) -> None:
        """Move every sample that is due by ``now_ns`` on every running box."""
        moved = False
        for box in self.boxes.values():
            if box.clock.running:
                due = box.clock.due(now_ns)
                if due > box.units_done:
                    self._advance(box, due)
                    moved = True
        if moved:
            self._schedule()

    def _advance(self, box: Ac97Box, due: int) -> None:
        while box.units_done < due and box.running:
            if box.halted:
                self._xrun(box, due)
                return
            if not box.loaded:
                return  # stopped by a DMA error
            n = min(due - box.units_done, box.entry_samples - box.entry_done)
            self._move(box, n)
            if box.entry_done == box.entry_samples and not self._entry_done(box):
                self._next_entry(box)

    def _move(self, box: Ac97Box, n: int) -> None:
        address = box.entry_address + SAMPLE_BYTES * box.entry_done
        nbytes = SAMPLE_BYTES * n
        if box.output:
            assert box.sink is not None
            data = self.memory.read(address, nbytes)
            box.sink.append(data, self.sim.now_ns)
            frame = SAMPLE_BYTES * self.channels(box)
            box.last_frame = (box.last_frame + data[-frame:].tobytes())[-frame:]
        else:
            assert box.source is not None
            self.memory.write(address, box.source.take(self.wave_format(box), nbytes))
        box.entry_done += n
        box.units_done += n
        box.samples_moved += n

    def _xrun(self, box: Ac97Box, due: int) -> None:
        """Halted at LVI while RPBM is 1: the codec's requests go unanswered."""
        start_units = box.halted_at_units if box.halted_at_units is not None else box.units_done
        missed = due - box.units_done
        box.units_done = due
        if not box.output:
            assert box.source is not None
            box.source.position += SAMPLE_BYTES * missed  # the incoming samples are lost
        stretches = box.xruns
        if not stretches or stretches[-1].end_ns is not None:
            fill = bytes(len(box.last_frame)) if box.last_bup or not box.output else box.last_frame
            stretches.append(
                XrunStretch(
                    kind="underrun" if box.output else "overrun",
                    start_ns=box.clock.time_of(start_units + 1),
                    bup=box.last_bup,
                    fill=fill,
                )
            )
            box.sr |= SR_FIFOE
            self._state(box, "underrun" if box.output else "overrun", False, True)
            if box.cr & CR_FEIE:
                self._update_irq(new_condition=True)
        stretches[-1].samples += missed

    def _close_xrun(self, box: Ac97Box) -> None:
        stretches = box.xruns
        if stretches and stretches[-1].end_ns is None:
            stretches[-1].end_ns = self.sim.now_ns
            self._state(box, "underrun" if box.output else "overrun", True, False)

    def _schedule(self) -> None:
        """Keep exactly one wake-up: the earliest entry end, or the first sample a halted box misses."""
        target, name = -1, ""
        for box in self.boxes.values():
            if not (box.clock.running and box.running):
                continue
            if box.halted:
                open_xrun = bool(box.xruns) and box.xruns[-1].end_ns is None
                if open_xrun or box.halted_at_units is None:
                    continue
                t = box.clock.time_of(box.halted_at_units + 1)
                label = f"AC97 {box.name} {'underrun' if box.output else 'overrun'}"
            elif box.loaded:
                t = box.clock.time_of(box.units_done + box.entry_samples - box.entry_done)
                label = f"AC97 {box.name} BDL entry {box.civ} end"
            else:
                continue
            t = max(t, self.sim.now_ns)
            if target < 0 or t < target:
                target, name = t, label
        self._wake.set(target, name)

    # --- interrupts ---------------------------------------------------------------------------
    def _update_irq(self, *, new_condition: bool = False) -> None:
        """Raise the line on a new enabled condition, lower it when no enabled status is left."""
        level = any(box.interrupt_pending for box in self.boxes.values())
        if level and (new_condition or not self._line_high):
            self._line_high = True
            self.interrupts.raise_line(self.irq, self.name)
        elif not level and self._line_high:
            self._line_high = False
            self.interrupts.lower_line(self.irq, self.name)

    def _state(self, box: Ac97Box, what: str, old: Any, new: Any) -> None:
        self.sim.emit(StateRecord(object=f"{self.name} {box.name}", what=what, old=old, new=new))

    # --- inspection ---------------------------------------------------------------------------
    def nam_registers(self) -> list[tuple[int, str, int]]:
        """(index, name, value) of every codec register (for a register panel)."""
        return [(reg, name, self.nam[reg]) for reg, (_reset, name) in _NAM_REGS.items()]

    def describe(self) -> dict[str, Any]:
        return {
            "GLOB_CNT": self.glob_cnt,
            "GLOB_STA": self.glob_sta,
            "CAS": self.cas,
            "irq": self.irq,
            "line_high": self._line_high,
            "boxes": {name: box.describe() for name, box in self.boxes.items()},
            "nam": {f"0x{reg:02X}": value for reg, value in self.nam.items()},
            "rates": {name: self.sample_rate(box) for name, box in self.boxes.items()},
        }
