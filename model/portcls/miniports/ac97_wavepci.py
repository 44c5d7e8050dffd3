"""An AC'97 WavePci miniport, as the WDK 7.1 ac97 sample drives the ICH bus master.

* Init: take the codec out of cold reset and wait for it to be ready, connect the ISR,
  create the master channel with the sample's arguments (TRUE, TRUE, FALSE, FALSE,
  Width32Bits, MaximumDmaSpeed, 0x1FFFE, 0) and keep its adapter. No miniport-wide
  service group (Init outputs NULL); each stream makes its own with PcNewServiceGroup.
* NewStream: a buffer descriptor list of 32 entries (allocated, with the sample's spare
  copy, by the adapter's AllocateCommonBuffer), the box reset, the format programmed
  (VRA in NAM 0x2A, then the rate register, read back to check). The DmaChannel output
  is the miniport's master channel, not AddRef'd; the port never uses it.
* Mappings: GetMapping until 31 entries are in use or the port says STATUS_NOT_FOUND,
  moving LVI with each one; IOC when the mapping ends a packet or about every 10 ms of
  data; BUP set. Odd addresses are skipped (length 0), a mapping is clamped to 0x1FFFE
  bytes and cut to a multiple of the channel count, all as the sample does. Finished
  entries (CIV moved past them; the last one only once CELV says the engine halted on it)
  are released in order. RUN, Service and MappingAvailable release then refill.
* DMA engine: off, on, reset, or "needs start" (the sample refuses to start a freshly
  reset engine with fewer than 2 entries). PAUSE/ACQUIRE/STOP clear RPBM; STOP also
  zeroes the position counters and leaves the mappings for the port to revoke.
* GetPosition (PASSIVE_LEVEL, stream-relative, fact 24): bytes of released mappings +
  bytes of played-but-unreleased entries + the played part of the current entry
  (its length - 2 x PICB), reading CIV until it is stable, as the sample computes it.
* RevokeMappings: pause, reset the box, rotate the list so the entry CIV was on sits at
  index 0, drop the entries whose tags lie in FirstTag..LastTag, reprogram LVI and resume.
* ISR: read GLOB_STA, then each interrupting box's SR, write it back (write-1-clear) and
  Notify that stream's service group.

Differences from the sample, each deliberate:

* Pins are numbered as dmaviz's Topology numbers them: 0 = PCM out (render), 1 = PCM in,
  2 = mic in. The sample uses 0, 2, 4, with bridge pins in between.
* A tag number is used only when GetMapping succeeds (the sample burns one on every
  attempt), so the tags this stream ever held are exactly 0 .. counter-1, in acquisition
  order. RevokeMappings can then tell a tag it never had (STATUS_UNSUCCESSFUL, 0 revoked,
  as the sample answers a tag it cannot find) from one it already released, which lies in
  the range but is not counted (fact 35). The tags are checked before the engine is
  touched; the sample resets the engine first and, on this error path, resumes it
  without rearranging the list, so it restarts at entry 0.
* The sample revokes a lone remaining entry whatever its tag; here only tags in the
  range are revoked.
* The ISR acknowledges a box even when no stream is open on it (the sample leaves the
  status set, which on an edge-triggered line would lose every later interrupt).
* ``stream_service_group = False`` (a scenario knob) makes NewStream output a NULL group,
  so the port falls back to its own 20 ms timer (fact 36) and the ISR notifies nobody.
* ``device_xruns()`` is a model-only hook (not a PortCls method): the stretches where the
  stream's box starved or overflowed, for the port's glitch reports.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.hardware.machine import MachineConfig
from model.kernel.types import DMA_SPEED, DMA_WIDTH, KSSTATE, NTSTATUS, POOL_TYPE
from model.objects import ComObject, Out
from model.portcls.port_wavecyclic import KS_ORDER, format_from_table, format_table
from model.portcls.resources import Resources
from model.topology import DeviceKind, register_device
from model.trace import StateRecord
from model.wave_format import WaveFormat

if TYPE_CHECKING:
    from model.system import System

MAX_BDL_ENTRIES = 32
BDL_MASK = MAX_BDL_ENTRIES - 1
BD_ENTRY_BYTES = 8
MAX_MAPPING_BYTES = 0x1FFFE  # one entry's length field counts 16-bit samples, up to 0xFFFF

# Bus-master (NABM) registers: box bases and offsets inside a box.
BOX_BASES = {"PI": 0x00, "PO": 0x10, "MC": 0x20}
X_BDBAR, X_CIV, X_LVI, X_SR, X_PICB, X_PIV, X_CR = 0x00, 0x04, 0x05, 0x06, 0x08, 0x0A, 0x0B
GLOB_CNT, GLOB_STA = 0x2C, 0x30
GLOB_CNT_COLD = 1 << 1  # 1 = AC_RESET# deasserted
GLOB_CNT_PCM4 = 1 << 20
GLOB_STA_PIINT, GLOB_STA_POINT, GLOB_STA_MINT = 1 << 5, 1 << 6, 1 << 7
GLOB_STA_PCR = 1 << 8  # primary codec ready
SR_CELV = 0x02
CR_RPBM, CR_RR, CR_LVBIE, CR_IOCE = 0x01, 0x02, 0x04, 0x10
BUP_SET = 0x4000  # policy word of a BDL entry (dword 1, bits 31:16)
IOC_ENABLE = 0x8000

# Codec (NAM) registers.
AC97REG_EXT_AUDIO_ID = 0x28
AC97REG_EXT_AUDIO_CTRL = 0x2A
AC97REG_FRONT_SAMPLERATE = 0x2C
AC97REG_RECORD_SAMPLERATE = 0x32
AC97REG_MIC_SAMPLERATE = 0x34
EXT_VRA = 0x0001

# The sample's DMA engine states (ON | RESET = "needs start").
DMA_ENGINE_OFF, DMA_ENGINE_ON, DMA_ENGINE_RESET, DMA_ENGINE_NEED_START = 0, 1, 2, 3
_ENGINE_NAMES = {0: "off", 1: "on", 2: "reset", 3: "needs start"}

# KSALLOCATOR_FRAMING values (ks.h / wdm.h).
FILE_LONG_ALIGNMENT = 3
KSALLOCATOR_REQUIREMENTF_SYSTEM_MEMORY = 0x00000002
KSALLOCATOR_REQUIREMENTF_PREFERENCES_ONLY = 0x80000000

_100NS_UNITS_PER_SECOND = 10_000_000

# Pin -> (box, capture, channels), in dmaviz's pin numbering (see the module docstring).
PIN_WAVEOUT, PIN_WAVEIN, PIN_MICIN = 0, 1, 2
_PINS: dict[int, tuple[str, bool, int]] = {
    PIN_WAVEOUT: ("PO", False, 2),
    PIN_WAVEIN: ("PI", True, 2),
    PIN_MICIN: ("MC", True, 1),
}
_RATE_REGISTERS = {"PO": AC97REG_FRONT_SAMPLERATE, "PI": AC97REG_RECORD_SAMPLERATE, "MC": AC97REG_MIC_SAMPLERATE}


class MiniportWavePciAc97(ComObject):
    """IMiniportWavePci for the ICH AC'97 controller (the sample's CMiniportWaveICH)."""

    interfaces: ClassVar[tuple[str, ...]] = ("IMiniportWavePci",)
    kind: ClassVar[str] = "AC'97 WavePci miniport"

    def __init__(self, system: System, base_id: str = "miniport") -> None:
        super().__init__(system, base_id)
        self.port: Any = None
        self.nam_base = 0
        self.nabm_base = 0
        self.irq = 0
        self.vra_supported = False
        self.dma_channel: Any = None
        self.adapter: Any = None
        self.streams: dict[str, MiniportWavePciStreamAc97] = {}  # box -> open stream
        self.created: list[MiniportWavePciStreamAc97] = []
        self.interrupts = 0
        self.stream_service_group = True  # False: NewStream outputs a NULL group (scenario knob)

    # --- register access (the sample's AdapterCommon) -----------------------------------------
    def bm_read8(self, reg: int) -> int:
        return self.system.machine.io_read(self.nabm_base + reg)

    def bm_read16(self, reg: int) -> int:
        return self.system.machine.io_read16(self.nabm_base + reg)

    def bm_read32(self, reg: int) -> int:
        return self.system.machine.io_read32(self.nabm_base + reg)

    def bm_write8(self, reg: int, value: int) -> None:
        self.system.machine.io_write(self.nabm_base + reg, value)

    def bm_write16(self, reg: int, value: int) -> None:
        self.system.machine.io_write16(self.nabm_base + reg, value)

    def bm_write32(self, reg: int, value: int) -> None:
        self.system.machine.io_write32(self.nabm_base + reg, value)

    def codec_read(self, reg: int) -> int:
        return self.system.machine.io_read16(self.nam_base + reg)

    def codec_write(self, reg: int, value: int) -> None:
        self.system.machine.io_write16(self.nam_base + reg, value)

    def program_sample_rate(self, reg: int, rate: int) -> NTSTATUS:
        """Program a codec rate register and read it back (the sample's ProgramSampleRate)."""
        if reg == AC97REG_MIC_SAMPLERATE:
            # The codec offers no variable-rate mic (VRM): the mic ADC runs at 48 kHz.
            return NTSTATUS.STATUS_SUCCESS if rate == 48_000 else NTSTATUS.STATUS_NOT_SUPPORTED
        if rate > 48_000:
            return NTSTATUS.STATUS_NOT_SUPPORTED
        ext = self.codec_read(AC97REG_EXT_AUDIO_CTRL)
        if not ext & EXT_VRA:
            if rate == 48_000:
                return NTSTATUS.STATUS_SUCCESS  # without VRA the converters run at 48 kHz already
            if not self.vra_supported:
                return NTSTATUS.STATUS_NOT_SUPPORTED
            self.codec_write(AC97REG_EXT_AUDIO_CTRL, ext | EXT_VRA)
        old = self.codec_read(reg)
        self.codec_write(reg, rate)
        if self.codec_read(reg) != rate:
            self.codec_write(reg, old)  # the codec cannot do it: put the old rate back
            return NTSTATUS.STATUS_NOT_SUPPORTED
        return NTSTATUS.STATUS_SUCCESS

    # --- IMiniportWavePci ----------------------------------------------------------------------
    def Init(self, UnknownAdapter: Any, ResourceList: Any, Port: Any) -> Out:
        system = self.system
        none = {"ServiceGroup": None}
        if ResourceList is None or Port is None:
            system.violation("null-object", "IMiniportWavePci::Init needs a resource list and the port")
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        if not callable(getattr(Port, "implements", None)) or not Port.implements("IPortWavePci"):
            system.violation("wrong-interface", "IMiniportWavePci::Init: Port is not an IPortWavePci")
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        resources = getattr(ResourceList, "resources", None)
        if not isinstance(resources, Resources):
            system.violation("wrong-interface", "IMiniportWavePci::Init: ResourceList is not a resource list")
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        if len(resources.io_ports) < 2 or not resources.interrupts:
            return Out(NTSTATUS.STATUS_DEVICE_CONFIGURATION_ERROR, none)
        self.port = Port
        system.call(Port, "AddRef")  # kept until the miniport is destroyed
        self.nam_base = resources.io_ports[0][0]
        self.nabm_base = resources.io_ports[1][0]
        self.irq = resources.interrupts[0]
        # The adapter driver's part: release AC_RESET# and wait for the primary codec.
        cnt = self.bm_read32(GLOB_CNT)
        if not cnt & GLOB_CNT_COLD:
            self.bm_write32(GLOB_CNT, cnt | GLOB_CNT_COLD)
        if not self.bm_read32(GLOB_STA) & GLOB_STA_PCR:
            return Out(NTSTATUS.STATUS_DEVICE_NOT_READY, none)
        self.vra_supported = bool(self.codec_read(AC97REG_EXT_AUDIO_ID) & EXT_VRA)
        system.kernel.connect_interrupt(self.irq, self.object_id, self._isr)
        result = system.call(
            Port,
            "NewMasterDmaChannel",
            {
                "OuterUnknown": None,
                "PoolType": POOL_TYPE.NonPagedPool,
                "ResourceList": None,
                "ScatterGather": True,
                "Dma32BitAddresses": True,
                "Dma64BitAddresses": False,
                "IgnoreCount": False,
                "DmaWidth": DMA_WIDTH.Width32Bits,
                "DmaSpeed": DMA_SPEED.MaximumDmaSpeed,
                "MaximumLength": MAX_MAPPING_BYTES,
                "DmaPort": 0,
            },
        )
        if result.status != NTSTATUS.STATUS_SUCCESS or result.out.get("DmaChannel") is None:
            return Out(result.ntstatus if result.status else NTSTATUS.STATUS_UNSUCCESSFUL, none)
        self.dma_channel = result.out["DmaChannel"]
        self.adapter = system.call(self.dma_channel, "GetAdapterObject").value
        return Out(NTSTATUS.STATUS_SUCCESS, none)  # no miniport-wide service group

    def NewStream(
        self,
        OuterUnknown: Any,
        PoolType: POOL_TYPE,
        PortStream: Any,
        Pin: int,
        Capture: bool,
        DataFormat: Any,
    ) -> Out:
        system = self.system
        none = {"Stream": None, "DmaChannel": None, "ServiceGroup": None}
        if Pin not in _PINS:
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        box, capture, _channels = _PINS[Pin]
        if Capture != capture:
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        if box in self.streams:
            return Out(NTSTATUS.STATUS_UNSUCCESSFUL, none)  # the pin is already in use
        if PortStream is None:
            system.violation("null-object", "NewStream without a port stream: the miniport could not get mappings")
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        if not callable(getattr(PortStream, "implements", None)) or not PortStream.implements("IPortWavePciStream"):
            system.violation("wrong-interface", "NewStream: PortStream is not an IPortWavePciStream")
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        fmt = self.test_data_format(DataFormat, Pin)
        if fmt is None:
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        if PoolType == POOL_TYPE.PagedPool:
            system.violation("non-paged-pool", "NewStream with PagedPool: the stream is used at DISPATCH_LEVEL")
        stream = MiniportWavePciStreamAc97(self, PortStream, Pin, box, Capture, fmt)
        self.created.append(stream)
        status = stream.init()
        if status != NTSTATUS.STATUS_SUCCESS:
            stream.teardown()
            return Out(status, none)
        self.streams[box] = stream
        # The DmaChannel output is not AddRef'd (the port never uses or releases it, fact 37).
        return Out(
            NTSTATUS.STATUS_SUCCESS,
            {"Stream": stream, "DmaChannel": self.dma_channel, "ServiceGroup": stream.service_group},
        )

    def Service(self) -> None:
        """Miniport-wide service: the sample has nothing to do here (it has no miniport group)."""

    def test_data_format(self, table: Any, pin: int) -> WaveFormat | None:
        """16-bit PCM with the pin's channel count (the sample's TestDataFormat)."""
        try:
            fmt = format_from_table(table)
        except (ValueError, TypeError, AttributeError):
            return None
        if fmt.bits_per_sample != 16 or fmt.channels != _PINS[pin][2]:
            return None
        return fmt

    # --- interrupt ---------------------------------------------------------------------------------
    def _isr(self) -> None:
        system = self.system
        self.interrupts += 1
        with system.acting_as(self.object_id):
            status = self.bm_read32(GLOB_STA)
            if not status or status == 0xFFFFFFFF:
                return  # not ours (a shared line)
            for box, bit in (("PO", GLOB_STA_POINT), ("PI", GLOB_STA_PIINT), ("MC", GLOB_STA_MINT)):
                if not status & bit:
                    continue
                sr = self.bm_read16(BOX_BASES[box] + X_SR)
                self.bm_write16(BOX_BASES[box] + X_SR, sr)  # write-1-clear what was set
                stream = self.streams.get(box)
                if stream is not None and self.port is not None and stream.service_group is not None:
                    system.call(self.port, "Notify", {"ServiceGroup": stream.service_group})

    def describe(self) -> dict[str, Any]:
        return {
            "NAM base": f"0x{self.nam_base:X}",
            "NABM base": f"0x{self.nabm_base:X}",
            "IRQ": self.irq,
            "interrupts": self.interrupts,
            "streams": {box: s.object_id for box, s in self.streams.items()},
            "stream service groups": self.stream_service_group,
            "refcount": self.refcount,
        }

    def children(self) -> list[Any]:
        return [*self.streams.values(), *([self.dma_channel] if self.dma_channel is not None else [])]


class MiniportWavePciStreamAc97(ComObject):
    """IMiniportWavePciStream on one AC'97 box (the sample's CMiniportWaveICHStream)."""

    interfaces: ClassVar[tuple[str, ...]] = ("IMiniportWavePciStream",)
    kind: ClassVar[str] = "AC'97 WavePci stream"

    def __init__(
        self,
        miniport: MiniportWavePciAc97,
        port_stream: Any,
        pin: int,
        box: str,
        capture: bool,
        fmt: WaveFormat,
    ) -> None:
        super().__init__(miniport.system, "stream")
        self.miniport = miniport
        self.port_stream = port_stream
        self.pin = pin
        self.box = box
        self.base = BOX_BASES[box]
        self.capture = capture
        self.format = fmt
        self.state = KSSTATE.KSSTATE_STOP
        self.service_group: Any = None
        self.bdl_va = 0
        self.bdl_physical = 0
        self.bdl_length = 2 * MAX_BDL_ENTRIES * BD_ENTRY_BYTES  # the sample allocates a spare copy too
        # The BDL ring: what each entry holds, and head (oldest), tail (next free), count.
        self.slots: list[dict[str, int] | None] = [None] * MAX_BDL_ENTRIES
        self.head = 0
        self.tail = 0
        self.count = 0
        self.tag_counter = 0
        self.engine = DMA_ENGINE_OFF
        self.total_mapped = 0
        self.total_released = 0
        self.xrun_base = 0

    # --- setup ---------------------------------------------------------------------------------
    def init(self) -> NTSTATUS:
        """The sample's stream Init: service group, BDL, DMA reset, format."""
        system = self.system
        system.call(self.port_stream, "AddRef")  # the stream keeps the port stream
        if self.miniport.stream_service_group:
            result = system.call(system.objects["portcls"], "PcNewServiceGroup", {"OuterUnknown": None})
            if result.status != NTSTATUS.STATUS_SUCCESS:
                return result.ntstatus
            self.service_group = result.out["OutServiceGroup"]
            self.service_group.add_reference(f"{self.object_id}.NewStream")  # AddRef'd for the port
        adapter = self.miniport.adapter
        if adapter is None:
            return NTSTATUS.STATUS_INSUFFICIENT_RESOURCES
        result = system.call(adapter, "AllocateCommonBuffer", {"Length": self.bdl_length, "CacheEnabled": False})
        if not result.value:
            return NTSTATUS.STATUS_INSUFFICIENT_RESOURCES
        self.bdl_va, self.bdl_physical = int(result.value), int(result.out.get("LogicalAddress", 0))
        self.reset_dma()
        self.total_mapped = self.total_released = 0
        status = system.call(self, "SetFormat", {"DataFormat": format_table(self.format)}).ntstatus
        if status != NTSTATUS.STATUS_SUCCESS:
            return status
        self.xrun_base = len(self._hardware_box().xruns)
        return NTSTATUS.STATUS_SUCCESS

    def teardown(self) -> None:
        """Undo a failed init (the sample's destructor)."""
        system = self.system
        self.miniport.bm_write8(self.base + X_CR, 0)
        if self.bdl_va and self.miniport.adapter is not None:
            system.call(
                self.miniport.adapter,
                "FreeCommonBuffer",
                {
                    "Length": self.bdl_length,
                    "LogicalAddress": self.bdl_physical,
                    "VirtualAddress": self.bdl_va,
                    "CacheEnabled": False,
                },
            )
            self.bdl_va = self.bdl_physical = 0
        if self.service_group is not None:
            system.call(self.service_group, "Release")
            system.call(self.service_group, "Release")
            self.service_group = None
        system.call(self.port_stream, "Release")

    def _hardware_box(self) -> Any:
        return self.system.machine.ac97.box(self.box)

    # --- DMA engine --------------------------------------------------------------------------------
    def reset_dma(self) -> None:
        """RPBM off, RR, interrupts on completion only, BDBAR (the sample's ResetDMA)."""
        mp = self.miniport
        cr = mp.bm_read8(self.base + X_CR) & ~CR_RPBM
        mp.bm_write8(self.base + X_CR, cr)
        mp.bm_write8(self.base + X_CR, cr | CR_RR)
        for _ in range(11):  # RR clears itself; the sample polls it with 1 µs stalls
            if not mp.bm_read8(self.base + X_CR) & CR_RR:
                break
        mp.bm_write8(self.base + X_CR, CR_IOCE | CR_LVBIE)
        mp.bm_write32(self.base + X_BDBAR, self.bdl_physical)
        self._set_engine(DMA_ENGINE_RESET)

    def pause_dma(self) -> None:
        if not self.engine & DMA_ENGINE_ON:
            return
        mp = self.miniport
        mp.bm_write8(self.base + X_CR, mp.bm_read8(self.base + X_CR) & ~CR_RPBM)
        self._set_engine(self.engine & DMA_ENGINE_RESET)  # needs-start -> reset, on -> off

    def resume_dma(self) -> None:
        if self.engine & DMA_ENGINE_RESET and self.count < 2:
            # A freshly reset engine is started only with at least two entries queued.
            self._set_engine(DMA_ENGINE_NEED_START)
            return
        mp = self.miniport
        mp.bm_write8(self.base + X_CR, mp.bm_read8(self.base + X_CR) | CR_RPBM)
        self._set_engine(DMA_ENGINE_ON)

    def _set_engine(self, state: int) -> None:
        if state != self.engine:
            self.system.sim.emit(
                StateRecord(
                    object=self.object_id, what="DMA engine", old=_ENGINE_NAMES[self.engine], new=_ENGINE_NAMES[state]
                )
            )
        self.engine = state

    def _write_entry(self, slot: int, entry: dict[str, int]) -> None:
        """Write BDL entry ``slot``: buffer address, then length in samples and policy bits."""
        raw = struct.pack("<IHH", entry["physical"] & 0xFFFFFFFF, (entry["length"] >> 1) & 0xFFFF, entry["policy"])
        self.system.kernel.address_space.write(self.bdl_va + BD_ENTRY_BYTES * slot, np.frombuffer(raw, np.uint8))

    # --- mappings ----------------------------------------------------------------------------------
    def get_new_mappings(self) -> None:
        """Take mappings until 31 entries are in use or the port has none (the sample's GetNewMappings)."""
        system = self.system
        mp = self.miniport
        fmt = self.format
        bytes_since_ioc = 0
        inserted = 0
        while self.count < MAX_BDL_ENTRIES - 1:
            tag = self.tag_counter
            result = system.call(self.port_stream, "GetMapping", {"Tag": tag})
            if result.status != NTSTATUS.STATUS_SUCCESS:
                break
            self.tag_counter += 1
            out = result.out
            physical = int(out.get("PhysicalAddress", 0))
            length = int(out.get("ByteCount", 0))
            flags = int(out.get("Flags", 0))
            if length > MAX_MAPPING_BYTES:
                length = MAX_MAPPING_BYTES  # the entry's length field cannot hold more
            if physical & 1:
                length = 0  # the bus master needs word-aligned buffers: the entry is skipped
            length -= length % fmt.channels  # the sample's frame check (channels, not bytes)
            policy = BUP_SET
            bytes_since_ioc += length
            # An interrupt where the port says a packet ends, or about every 10 ms of data.
            if flags or bytes_since_ioc > fmt.sample_rate * fmt.channels * 2 // 100:
                policy |= IOC_ENABLE
                bytes_since_ioc = 0
            slot = self.tail
            entry = {
                "tag": tag,
                "physical": physical,
                "va": int(out.get("VirtualAddress", 0)),
                "length": length,
                "policy": policy,
            }
            self.slots[slot] = entry
            self._write_entry(slot, entry)
            self.tail = (self.tail + 1) & BDL_MASK
            self.count += 1
            self.total_mapped += length
            inserted += 1
            mp.bm_write8(self.base + X_LVI, slot)  # at once, so the hardware never lags the list
        if inserted and self.engine == DMA_ENGINE_NEED_START:
            self.resume_dma()

    def release_used_mappings(self) -> None:
        """Release, oldest first, the entries the engine has finished (the sample's ReleaseUsedMappings)."""
        mp = self.miniport
        while self.count:
            civ = mp.bm_read8(self.base + X_CIV)
            if civ == (self.head - 1) & BDL_MASK:
                break  # everything up to the current entry is released already
            # CIV must lie inside the list.
            if civ < self.head:
                if civ + MAX_BDL_ENTRIES >= self.head + self.count:
                    break
            elif civ >= self.head + self.count:
                break
            if civ == self.head:
                if civ != (self.tail - 1) & BDL_MASK:
                    break  # still playing the oldest entry
                # The last entry: finished only once the engine halted on it (CELV).
                if not mp.bm_read16(self.base + X_SR) & SR_CELV:
                    break
            entry = self.slots[self.head]
            assert entry is not None
            self.total_released += entry["length"]
            self.count -= 1
            self.head = (self.head + 1) & BDL_MASK
            # Our state is consistent before we call out, as the sample drops its lock here.
            self.system.call(self.port_stream, "ReleaseMapping", {"Tag": entry["tag"]})

    # --- IMiniportWavePciStream ------------------------------------------------------------------------
    def SetFormat(self, DataFormat: Any) -> NTSTATUS:
        if self.engine & DMA_ENGINE_ON:
            return NTSTATUS.STATUS_UNSUCCESSFUL  # not while the engine runs
        fmt = self.miniport.test_data_format(DataFormat, self.pin)
        if fmt is None:
            return NTSTATUS.STATUS_INVALID_PARAMETER
        mp = self.miniport
        if self.box == "PO":
            cnt = mp.bm_read32(GLOB_CNT)
            mp.bm_write32(GLOB_CNT, (cnt & 0x3F) | (((fmt.channels >> 1) - 1) * GLOB_CNT_PCM4))
        status = mp.program_sample_rate(_RATE_REGISTERS[self.box], fmt.sample_rate)
        if status == NTSTATUS.STATUS_SUCCESS:
            self.format = fmt
        return status

    def SetState(self, State: KSSTATE) -> NTSTATUS:
        old = self.state
        if abs(KS_ORDER.index(State) - KS_ORDER.index(old)) > 1:
            self.system.violation("state-sequence", f"SetState from {old.name} straight to {State.name}")
        if State == KSSTATE.KSSTATE_STOP:
            # Pause only: the port revokes whatever mappings are left.
            self.pause_dma()
            self.release_used_mappings()
            self.total_mapped = self.total_released = 0
        elif State in (KSSTATE.KSSTATE_ACQUIRE, KSSTATE.KSSTATE_PAUSE):
            self.pause_dma()
            self.release_used_mappings()
        elif not self.engine & DMA_ENGINE_ON:
            self.release_used_mappings()
            self.get_new_mappings()
            self.resume_dma()
        self.state = State
        self.system.sim.emit(StateRecord(object=self.object_id, what="KSSTATE", old=old, new=State))
        return NTSTATUS.STATUS_SUCCESS

    def GetPosition(self) -> Out:
        """Released bytes + played-but-unreleased entries + the played part of the current entry."""
        mp = self.miniport
        civ = picb = 0
        if self.count:
            while True:  # read CIV and PICB until CIV is the same before and after
                civ = mp.bm_read8(self.base + X_CIV)
                picb = mp.bm_read16(self.base + X_PICB)
                if mp.bm_read8(self.base + X_CIV) == civ:
                    break
        return Out(NTSTATUS.STATUS_SUCCESS, {"Position": self._position(civ, picb)})

    def probe_position(self) -> int:
        """What GetPosition would return now, read from the engine without register accesses (no trace)."""
        box = self._hardware_box()
        return self._position(box.civ, box.picb) if self.count else self.total_released

    def _position(self, civ: int, picb: int) -> int:
        position = self.total_released
        # PICB = 0 at CIV 0 with nothing released: the engine has not started yet.
        if self.count and (picb or civ or self.total_released):
            current = self.slots[civ]
            position += (current["length"] if current is not None else 0) - 2 * picb
            if civ != (self.head - 1) & BDL_MASK:
                i = self.head
                while i != civ:
                    entry = self.slots[i]
                    position += entry["length"] if entry is not None else 0
                    i = (i + 1) & BDL_MASK
        return position

    def NormalizePhysicalPosition(self, PhysicalPosition: int) -> Out:
        sample_size = self.format.channels * 2
        value = (_100NS_UNITS_PER_SECOND // sample_size * PhysicalPosition) // self.format.sample_rate
        return Out(NTSTATUS.STATUS_SUCCESS, {"PhysicalPosition": value})

    def GetAllocatorFraming(self) -> Out:
        sample_size = self.format.channels * 2
        framing = {
            "Frames": 8,
            "FrameSize": sample_size * (self.format.sample_rate // 100),  # 10 ms
            "FileAlignment": FILE_LONG_ALIGNMENT,
            "PoolType": POOL_TYPE.NonPagedPool,
            "RequirementsFlags": KSALLOCATOR_REQUIREMENTF_SYSTEM_MEMORY | KSALLOCATOR_REQUIREMENTF_PREFERENCES_ONLY,
        }
        return Out(NTSTATUS.STATUS_SUCCESS, {"AllocatorFraming": framing})

    def RevokeMappings(self, FirstTag: int, LastTag: int) -> Out:
        """Drop the entries tagged FirstTag..LastTag; count only those still held (fact 35)."""
        if not (0 <= FirstTag < self.tag_counter and 0 <= LastTag < self.tag_counter) or FirstTag > LastTag:
            return Out(NTSTATUS.STATUS_UNSUCCESSFUL, {"MappingsRevoked": 0})  # a tag we never had
        mp = self.miniport
        was_on = bool(self.engine & DMA_ENGINE_ON)
        # Stop the engine so it cannot fetch an entry we are removing, then reset it.
        self.pause_dma()
        civ = mp.bm_read8(self.base + X_CIV)
        self.reset_dma()
        entries = [self.slots[(self.head + i) & BDL_MASK] for i in range(self.count)]
        current = (civ - self.head) & BDL_MASK
        if civ == (self.head - 1) & BDL_MASK and self.count != MAX_BDL_ENTRIES - 1:
            current = 0  # the engine stopped past the released ones: the head is current
        keep: list[dict[str, int]] = []
        before = 0  # kept entries that lay before the current one (played, not yet released)
        for i, entry in enumerate(entries):
            assert entry is not None
            if FirstTag <= entry["tag"] <= LastTag:
                continue
            keep.append(entry)
            if i < current:
                before += 1
        revoked = len(entries) - len(keep)
        # After the reset the engine starts at entry 0: put the current entry (or the first
        # kept one after it) there, the played ones just before it.
        self.slots = [None] * MAX_BDL_ENTRIES
        self.head = (-before) & BDL_MASK
        self.count = len(keep)
        self.tail = (self.head + self.count) & BDL_MASK
        for i, entry in enumerate(keep):
            slot = (self.head + i) & BDL_MASK
            self.slots[slot] = entry
            self._write_entry(slot, entry)
        if self.tail:
            mp.bm_write8(self.base + X_LVI, (self.tail - 1) & BDL_MASK)
        if was_on and self.count and self.tail:
            self.resume_dma()
        return Out(NTSTATUS.STATUS_SUCCESS, {"MappingsRevoked": revoked})

    def MappingAvailable(self) -> None:
        self.release_used_mappings()
        self.get_new_mappings()

    def Service(self) -> None:
        self.release_used_mappings()
        self.get_new_mappings()

    # --- model-only helpers ------------------------------------------------------------------------------
    def device_xruns(self) -> list[Any]:
        """The box's starved (render) or overflowed (capture) stretches since this stream was made."""
        return list(self._hardware_box().xruns[self.xrun_base :])

    def oldest_tag(self) -> int:
        entry = self.slots[self.head] if self.count else None
        return entry["tag"] if entry is not None else 0

    def newest_tag(self) -> int:
        entry = self.slots[(self.tail - 1) & BDL_MASK] if self.count else None
        return entry["tag"] if entry is not None else 0

    def held_tags(self) -> list[int]:
        """Tags of the entries in the list, oldest first."""
        out = []
        for i in range(self.count):
            entry = self.slots[(self.head + i) & BDL_MASK]
            if entry is not None:
                out.append(entry["tag"])
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "KSSTATE": self.state.name,
            "box": self.box,
            "format": self.format.describe(),
            "direction": "capture" if self.capture else "render",
            "DMA engine": _ENGINE_NAMES[self.engine],
            "BDL head/tail/entries": f"{self.head}/{self.tail}/{self.count}",
            "tags held": self.held_tags(),
            "bytes mapped": self.total_mapped,
            "bytes released": self.total_released,
            "refcount": self.refcount,
        }

    def children(self) -> list[Any]:
        return [self.service_group] if self.service_group is not None else []


def _ac97_resources(config: MachineConfig) -> Resources:
    return Resources(
        io_ports=[(config.ac97_nam_base, 0x80), (config.ac97_nabm_base, 0x40)],
        interrupts=[config.ac97_irq],
    )


register_device(
    DeviceKind(
        "ac97",
        "AC'97 controller (PCI bus master, scatter/gather)",
        "wavepci",
        MiniportWavePciAc97,
        _ac97_resources,
    )
)
