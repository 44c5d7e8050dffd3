"""An HD Audio style WaveCyclic miniport using a master channel; its BDL walks the common buffer, position from LPIB.

* Init: take the controller out of reset (GCTL.CRST), read GCAP for the number of input
  and output stream descriptors, acknowledge STATESTS (the codec's presence) and connect
  the interrupt. Nothing is allocated yet.
* NewStream: claim a free descriptor (an input one for capture, an output one for
  render), create a master channel with IPortWaveCyclic::NewMasterDmaChannel, allocate its
  cyclic buffer (halving the request on failure while it is more than PAGE_SIZE/2, as
  sb16 does), allocate the buffer descriptor list with the channel's adapter object's
  AllocateCommonBuffer (as ac97 allocates its BDL), create the stream's own service group
  with PcNewServiceGroup, reset the descriptor and program SDnFMT (SetFormat).
* SetNotificationFreq(Interval): FrameSize = BlockAlign x rate x Interval / 1000 and a BDL
  whose entries cut the cyclic buffer into Interval-ms pieces, each with IOC set.
* RUN: program BDPL/BDPU/CBL/LVI/FMT (CBL = the channel's BufferSize(), LVI = entries - 1),
  enable the stream's bit and GIE in INTCTL, then set IOCE and RUN. RUN->PAUSE (ACQUIRE
  counts as PAUSE) clears RUN: the engine stops where it is, LPIB is kept. ->STOP resets
  the stream (SRST): LPIB 0, so the position is 0 (portcls-contract.md fact 25).
* GetPosition = SDnLPIB, buffer-relative, below CBL (fact 23).
* ISR: read INTSTS; for each of this miniport's streams with its bit set, acknowledge BCIS
  in SDnSTS, then IPortWaveCyclic::Notify the stream's service group.

Choices where the references are silent (reasons in the comments):

* One master channel per stream, made in NewStream: an IDmaChannel holds one common
  buffer (contract §1.1) and every stream needs its own, so a channel made in Init
  before the stream count is known would sit idle. MaximumLength is 0x10000: HD Audio
  lengths are 32-bit, so the hardware sets no limit; 64 KiB (341 ms at 48 kHz 16-bit
  stereo, the fastest format the model has) is far above the port's 40 ms write-ahead.
* The buffer asked for is 19200 bytes: 100 ms at 48 kHz 16-bit stereo, a whole number of
  10 ms pieces for every 48 kHz format, so each BDL entry is exactly one notification
  interval and IOCs come every 10.000 ms. At other rates the last entry is shorter.
* At most 256 entries (LVI is 8 bits; the list fills one page): with a very short
  interval the pieces grow so the buffer still fits. At least 2 entries (LVI >= 1,
  hardware.md §3.2): a buffer of one piece is cut in two halves.
* CBL is the channel's BufferSize(), read when the stream goes to RUN, clamped to
  AllocatedBufferSize (a larger value was already reported by the channel as a
  buffer-size violation; the device must not be sent past the buffer) and rounded down to
  whole frames (the hardware needs whole samples).
* Going to RUN from PAUSE resumes where the engine stopped, unless the buffer size,
  interval or format changed while paused: the BDL cannot be rewritten under a loaded
  entry, so the stream is reset and restarts at offset 0.
* Stream tags are 1 + the descriptor's index within its input or output group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.hardware.machine import MachineConfig
from model.kernel.types import DMA_SPEED, DMA_WIDTH, KSSTATE, NTSTATUS, PAGE_SIZE
from model.objects import ComObject, ModelObject, Out
from model.portcls.miniports.common import fill_silence
from model.portcls.port_wavecyclic import KS_ORDER, format_from_table
from model.portcls.resources import ResourceList as ResourceListObject
from model.portcls.resources import Resources
from model.topology import DeviceKind, register_device
from model.trace import StateRecord
from model.wave_format import WaveFormat

if TYPE_CHECKING:
    from model.hardware.audio_io import AudioSink, AudioSource
    from model.system import System

MAXIMUM_LENGTH = 0x10000
BUFFER_BYTES = 19_200  # 100 ms at 48 kHz 16-bit stereo
BDL_ENTRIES_MAX = 256
BDL_ENTRY_BYTES = 16
BDL_BYTES = BDL_ENTRIES_MAX * BDL_ENTRY_BYTES  # one page

# Controller registers (offsets in the MMIO BAR), as a driver's header would name them.
GCAP, GCTL, STATESTS, INTCTL, INTSTS = 0x00, 0x08, 0x0E, 0x20, 0x24
GCTL_CRST = 0x01
INTCTL_GIE = 1 << 31
SD_BASE, SD_STRIDE = 0x80, 0x20
SD_CTL, SD_CTL_TAG, SD_STS, SD_LPIB, SD_CBL, SD_LVI, SD_FMT, SD_BDPL, SD_BDPU = (
    0x00,
    0x02,
    0x03,
    0x04,
    0x08,
    0x0C,
    0x12,
    0x18,
    0x1C,
)
CTL_SRST, CTL_RUN, CTL_IOCE = 0x01, 0x02, 0x04
STS_BCIS = 0x04
BDL_IOC = 0x1

_FMT_BASES = ((48_000, 0x0000), (44_100, 0x4000))
_FMT_BITS = {8: 0, 16: 1}


def sd_format(fmt: WaveFormat) -> int | None:
    """The SDnFMT value for ``fmt`` (base x mult / div), or None if the controller cannot clock it."""
    bits = _FMT_BITS.get(fmt.bits_per_sample)
    if bits is None:
        return None
    for mult in range(1, 5):
        for div in range(1, 9):
            for base, base_bit in _FMT_BASES:
                if base * mult == fmt.sample_rate * div:
                    return base_bit | (mult - 1) << 11 | (div - 1) << 8 | bits << 4 | (fmt.channels - 1)
    return None


class MiniportWaveCyclicHDA(ComObject):
    interfaces: ClassVar[tuple[str, ...]] = ("IMiniportWaveCyclic",)
    kind: ClassVar[str] = "HD Audio WaveCyclic miniport"

    def __init__(self, system: System, base_id: str = "miniport") -> None:
        super().__init__(system, base_id)
        self.port: Any = None
        self.bar = 0
        self.irq = 11
        self.n_input = 0
        self.n_output = 0
        self.in_use: dict[int, MiniportWaveCyclicStreamHDA] = {}  # descriptor -> stream
        self.streams: list[MiniportWaveCyclicStreamHDA] = []
        self.interrupts = 0
        self.notifications = 0

    # --- register access (traced: every access goes through the machine) -----------------------
    def read(self, offset: int, size: int = 4) -> int:
        return self.system.machine.mmio_read(self.bar + offset, size)

    def write(self, offset: int, value: int, size: int = 4) -> None:
        self.system.machine.mmio_write(self.bar + offset, value, size)

    # --- IMiniportWaveCyclic ------------------------------------------------------------------------
    def Init(self, UnknownAdapter: Any, ResourceList: Any, Port: Any) -> NTSTATUS:
        system = self.system
        if ResourceList is None or Port is None:
            system.violation("null-object", "IMiniportWaveCyclic::Init needs a resource list and the port")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        if not isinstance(ResourceList, ResourceListObject) or not (
            isinstance(Port, ModelObject) and Port.implements("IPortWaveCyclic")
        ):
            system.violation("wrong-interface", "Init needs an IResourceList and an IPortWaveCyclic")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        resources = ResourceList.resources
        if not resources.memory or not resources.interrupts:
            return NTSTATUS.STATUS_DEVICE_CONFIGURATION_ERROR
        self.bar = resources.memory[0][0]
        self.irq = resources.interrupts[0]
        # Leave controller reset; every other register ignores writes until CRST reads 1.
        self.write(GCTL, GCTL_CRST)
        if not self.read(GCTL) & GCTL_CRST:
            return NTSTATUS.STATUS_DEVICE_NOT_READY
        gcap = self.read(GCAP, 2)
        self.n_input, self.n_output = (gcap >> 8) & 0xF, (gcap >> 12) & 0xF
        codecs = self.read(STATESTS, 2)
        if not codecs:
            return NTSTATUS.STATUS_DEVICE_NOT_READY  # no codec answered on the link
        self.write(STATESTS, codecs, 2)  # write 1 to clear
        self.port = Port
        system.kernel.connect_interrupt(self.irq, self.object_id, self._isr)
        return NTSTATUS.STATUS_SUCCESS

    def NewStream(self, OuterUnknown: Any, PoolType: Any, Pin: int, Capture: bool, DataFormat: Any) -> Out:
        system = self.system
        none = {"Stream": None, "DmaChannel": None, "ServiceGroup": None}
        try:
            fmt = format_from_table(DataFormat)
        except (ValueError, TypeError, AttributeError):
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        if sd_format(fmt) is None:
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        descriptor = self._free_descriptor(Capture)
        if descriptor is None:
            return Out(NTSTATUS.STATUS_INVALID_DEVICE_REQUEST, none)  # every descriptor of that kind is busy
        result = system.call(
            self.port,
            "NewMasterDmaChannel",
            {
                "OuterUnknown": None,
                "ResourceList": None,
                "MaximumLength": MAXIMUM_LENGTH,
                "Dma32BitAddresses": True,
                "Dma64BitAddresses": False,  # keeps every address below 4 GiB: BDPU and the upper dwords are 0
                "DmaWidth": DMA_WIDTH.Width32Bits,  # unused by the port
                "DmaSpeed": DMA_SPEED.MaximumDmaSpeed,  # unused by the port
            },
        )
        if result.status != NTSTATUS.STATUS_SUCCESS:
            return Out(result.ntstatus, none)
        channel = result.out["DmaChannel"]
        length = BUFFER_BYTES
        while True:
            status = system.call(
                channel, "AllocateBuffer", {"BufferSize": length, "PhysicalAddressConstraint": None}
            ).status
            length >>= 1
            if status == NTSTATUS.STATUS_SUCCESS or length <= PAGE_SIZE // 2:
                break
        if status != NTSTATUS.STATUS_SUCCESS:
            system.call(channel, "Release")
            return Out(NTSTATUS.STATUS_INSUFFICIENT_RESOURCES, none)
        adapter = system.call(channel, "GetAdapterObject").value
        bdl = system.call(adapter, "AllocateCommonBuffer", {"Length": BDL_BYTES, "CacheEnabled": False})
        bdl_va, bdl_physical = int(bdl.value or 0), int(bdl.out.get("LogicalAddress", 0))
        if not bdl_va:
            system.call(channel, "Release")
            return Out(NTSTATUS.STATUS_INSUFFICIENT_RESOURCES, none)
        group = system.call(system.objects["portcls"], "PcNewServiceGroup", {"OuterUnknown": None})
        if group.status != NTSTATUS.STATUS_SUCCESS:
            system.call(
                adapter,
                "FreeCommonBuffer",
                {"Length": BDL_BYTES, "LogicalAddress": bdl_physical, "VirtualAddress": bdl_va, "CacheEnabled": False},
            )
            system.call(channel, "Release")
            return Out(group.ntstatus, none)
        stream = MiniportWaveCyclicStreamHDA(
            self, descriptor, channel, adapter, (bdl_va, bdl_physical), group.out["OutServiceGroup"], Capture, fmt
        )
        self.in_use[descriptor] = stream
        self.streams.append(stream)
        stream.reset_descriptor()
        status = system.call(stream, "SetFormat", {"DataFormat": DataFormat}).status
        if status != NTSTATUS.STATUS_SUCCESS:
            system.call(stream, "Release")
            return Out(status, none)
        # The out-parameters are AddRef'd for the port.
        channel.add_reference(f"{self.object_id}.NewStream")
        stream.service_group.add_reference(f"{self.object_id}.NewStream")
        return Out(
            NTSTATUS.STATUS_SUCCESS,
            {"Stream": stream, "DmaChannel": channel, "ServiceGroup": stream.service_group},
        )

    def _free_descriptor(self, capture: bool) -> int | None:
        """The lowest free input (capture) or output (render) stream descriptor."""
        first, count = (0, self.n_input) if capture else (self.n_input, self.n_output)
        for n in range(first, first + count):
            if n not in self.in_use:
                return n
        return None

    # --- interrupt ----------------------------------------------------------------------------------
    def _isr(self) -> None:
        system = self.system
        self.interrupts += 1
        with system.acting_as(self.object_id):
            status = self.read(INTSTS)
            for stream in list(self.in_use.values()):
                if status & (1 << stream.descriptor):
                    # Clear the source first, then tell the port (Notify's documented order).
                    self.write(stream.sd + SD_STS, STS_BCIS, 1)
                    if self.port is not None:
                        self.notifications += 1
                        system.call(self.port, "Notify", {"ServiceGroup": stream.service_group})

    def release_descriptor(self, stream: MiniportWaveCyclicStreamHDA) -> None:
        if self.in_use.get(stream.descriptor) is stream:
            del self.in_use[stream.descriptor]

    def describe(self) -> dict[str, Any]:
        return {
            "BAR": f"0x{self.bar:X}",
            "IRQ": self.irq,
            "descriptors": f"{self.n_input} in, {self.n_output} out",
            "in use": {n: s.object_id for n, s in sorted(self.in_use.items())},
            "interrupts": self.interrupts,
            "notifications": self.notifications,
            "refcount": self.refcount,
        }

    def children(self) -> list[Any]:
        return list(self.streams)


class MiniportWaveCyclicStreamHDA(ComObject):
    interfaces: ClassVar[tuple[str, ...]] = ("IMiniportWaveCyclicStream",)
    kind: ClassVar[str] = "HD Audio stream"

    def __init__(
        self,
        miniport: MiniportWaveCyclicHDA,
        descriptor: int,
        channel: Any,
        adapter: Any,
        bdl: tuple[int, int],
        service_group: Any,
        capture: bool,
        fmt: WaveFormat,
    ) -> None:
        super().__init__(miniport.system, "stream")
        self.miniport = miniport
        self.descriptor = descriptor
        self.sd = SD_BASE + SD_STRIDE * descriptor
        group_index = descriptor if capture else descriptor - miniport.n_input
        self.tag = group_index + 1
        self.dma = channel
        self.adapter = adapter
        self.bdl_va, self.bdl_physical = bdl
        self.service_group = service_group
        self.capture = capture
        self.format = fmt
        self.fmt_code = sd_format(fmt) or 0
        self.state = KSSTATE.KSSTATE_STOP
        self.interval_ms = 10
        self.programmed: tuple[int, int, tuple[int, ...]] | None = None  # (FMT, CBL, entry lengths) in the hardware

    # --- IMiniportWaveCyclicStream -----------------------------------------------------------------
    def SetFormat(self, DataFormat: Any) -> NTSTATUS:
        if self.state == KSSTATE.KSSTATE_RUN:
            return NTSTATUS.STATUS_INVALID_DEVICE_REQUEST
        try:
            fmt = format_from_table(DataFormat)
        except (ValueError, TypeError, AttributeError):
            return NTSTATUS.STATUS_INVALID_PARAMETER
        code = sd_format(fmt)
        if code is None:
            return NTSTATUS.STATUS_INVALID_PARAMETER  # a rate no base x mult / div gives
        self.format, self.fmt_code = fmt, code
        self.miniport.write(self.sd + SD_FMT, code, 2)
        return NTSTATUS.STATUS_SUCCESS

    def SetNotificationFreq(self, Interval: int) -> Out:
        self.interval_ms = Interval
        frame_size = self.format.block_align * self.format.sample_rate * Interval // 1000
        layout = self._layout()
        if self.programmed is None and layout is not None:
            self._write_bdl(layout[2])  # nothing is loaded from the list yet: build it now
        interval = Interval
        if layout is not None:
            # The port ignores the answer; give the interval the pieces really make (longer when
            # 256 entries cannot hold the buffer, shorter when one piece would be the whole buffer).
            interval = max(1, round(self.format.duration_of(layout[2][0]) / 1_000_000))
        return Out(interval, {"FrameSize": frame_size})

    def SetState(self, State: KSSTATE) -> NTSTATUS:
        system = self.system
        old = self.state
        if abs(KS_ORDER.index(State) - KS_ORDER.index(old)) > 1:
            system.violation("state-sequence", f"SetState from {old.name} straight to {State.name}")
        new = KSSTATE.KSSTATE_PAUSE if State == KSSTATE.KSSTATE_ACQUIRE else State
        current = KSSTATE.KSSTATE_PAUSE if old == KSSTATE.KSSTATE_ACQUIRE else old
        if new != current:
            if current == KSSTATE.KSSTATE_RUN:
                self.miniport.write(self.sd + SD_CTL, CTL_IOCE, 1)  # RUN cleared: the engine halts, LPIB kept
                self.dma.started = False
            if new == KSSTATE.KSSTATE_STOP:
                self._stop()
            elif new == KSSTATE.KSSTATE_RUN:
                status = self._run()
                if status != NTSTATUS.STATUS_SUCCESS:
                    return status
                self.dma.started = True  # the controller now reads the buffer (FreeBuffer would be unsafe)
        self.state = State
        system.sim.emit(StateRecord(object=self.object_id, what="KSSTATE", old=old, new=State))
        return NTSTATUS.STATUS_SUCCESS

    def _run(self) -> NTSTATUS:
        mp = self.miniport
        layout = self._layout()
        if layout is None:
            return NTSTATUS.STATUS_INVALID_DEVICE_REQUEST  # a buffer too small for two entries
        if self.programmed != layout:
            if self.programmed is not None:
                self.reset_descriptor()  # the list cannot change under a loaded entry
            fmt_code, cbl, lengths = layout
            self._write_bdl(lengths)
            sd = self.sd
            mp.write(sd + SD_BDPL, self.bdl_physical & 0xFFFFFFFF)
            mp.write(sd + SD_BDPU, self.bdl_physical >> 32)
            mp.write(sd + SD_CBL, cbl)
            mp.write(sd + SD_LVI, len(lengths) - 1, 2)
            mp.write(sd + SD_FMT, fmt_code, 2)
            mp.write(sd + SD_CTL_TAG, self.tag << 4, 1)
            self.programmed = layout
        mp.write(INTCTL, mp.read(INTCTL) | INTCTL_GIE | (1 << self.descriptor))
        mp.write(self.sd + SD_CTL, CTL_IOCE | CTL_RUN, 1)
        return NTSTATUS.STATUS_SUCCESS

    def _stop(self) -> None:
        mp = self.miniport
        mp.write(INTCTL, mp.read(INTCTL) & ~(1 << self.descriptor))
        self.reset_descriptor()

    def reset_descriptor(self) -> None:
        """Stream reset: SRST set and read back, then cleared and read back. LPIB and the BDL walk go to 0."""
        mp = self.miniport
        ctl = self.sd + SD_CTL
        mp.write(ctl, CTL_SRST, 1)
        mp.read(ctl, 1)
        mp.write(ctl, 0, 1)
        mp.read(ctl, 1)
        self.programmed = None
        mp.write(self.sd + SD_FMT, self.fmt_code, 2)  # the reset cleared it; keep SetFormat's value in place

    def _layout(self) -> tuple[int, int, tuple[int, ...]] | None:
        """(SDnFMT, CBL, BDL entry lengths) for the channel's current BufferSize and the interval."""
        system = self.system
        fmt = self.format
        align = fmt.block_align
        size = int(system.call(self.dma, "BufferSize").value or 0)
        allocated = int(system.call(self.dma, "AllocatedBufferSize").value or 0)
        cbl = min(size, allocated)
        cbl -= cbl % align
        if cbl < 2 * align:
            return None
        piece = max(align, fmt.block_align * fmt.sample_rate * self.interval_ms // 1000)
        piece -= piece % align
        most = -(-cbl // BDL_ENTRIES_MAX)
        if piece < most:
            piece = most + (-most) % align  # keep within 256 entries
        if piece >= cbl:
            piece = (cbl // 2) - (cbl // 2) % align  # LVI must be at least 1
        lengths = [piece] * (cbl // piece)
        if cbl % piece:
            lengths.append(cbl % piece)
        return self.fmt_code, cbl, tuple(lengths)

    def _write_bdl(self, lengths: tuple[int, ...]) -> None:
        """The entries, through the list's kernel address: (address, length, IOC) cutting the buffer in order."""
        base = int(self.system.call(self.dma, "PhysicalAddress").value or 0)
        raw = np.zeros((len(lengths), 4), dtype="<u4")
        offset = 0
        for i, length in enumerate(lengths):
            address = base + offset
            raw[i] = (address & 0xFFFFFFFF, address >> 32, length, BDL_IOC)
            offset += length
        self.system.kernel.address_space.write(self.bdl_va, raw.view(np.uint8).reshape(-1))

    def GetPosition(self) -> Out:
        return Out(NTSTATUS.STATUS_SUCCESS, {"Position": self.miniport.read(self.sd + SD_LPIB)})

    def NormalizePhysicalPosition(self, PhysicalPosition: int) -> Out:
        fmt = self.format
        value = (10_000_000 // fmt.block_align * PhysicalPosition) // fmt.sample_rate
        return Out(NTSTATUS.STATUS_SUCCESS, {"PhysicalPosition": value})

    def Silence(self, Buffer: int, ByteCount: int) -> None:
        fill_silence(self.system, Buffer, ByteCount, self.format.silence_byte)

    # --- helpers for views, defaults and tests ------------------------------------------------------
    def buffer_address(self) -> int:
        return self.dma.buffer_va

    def probe_position(self) -> int:
        """What GetPosition would return, read from the descriptor's LPIB without a traced register read."""
        return self.system.machine.hda.stream_descriptor(self.descriptor).lpib

    @property
    def sink(self) -> AudioSink | None:
        """What the codec played from this stream's descriptor (render)."""
        return self.system.machine.hda.stream_descriptor(self.descriptor).sink

    @property
    def source(self) -> AudioSource | None:
        """What the codec records into this stream's descriptor (capture)."""
        return self.system.machine.hda.stream_descriptor(self.descriptor).source

    def describe(self) -> dict[str, Any]:
        lengths = self.programmed[2] if self.programmed else ()
        return {
            "KSSTATE": self.state.name,
            "format": self.format.describe(),
            "direction": "capture" if self.capture else "render",
            "descriptor": self.descriptor,
            "stream tag": self.tag,
            "SDnFMT": f"0x{self.fmt_code:04X}",
            "BDL": f"0x{self.bdl_physical:X}",
            "BDL entries": len(lengths),
            "interval (ms)": self.interval_ms,
            "refcount": self.refcount,
        }

    def children(self) -> list[Any]:
        return [self.dma, self.service_group]

    def destroy(self) -> None:
        system = self.system
        mp = self.miniport
        if self.state != KSSTATE.KSSTATE_STOP:
            self._stop()
        mp.release_descriptor(self)
        if self.bdl_va in getattr(self.adapter, "common_buffers", {}):
            system.call(
                self.adapter,
                "FreeCommonBuffer",
                {
                    "Length": BDL_BYTES,
                    "LogicalAddress": self.bdl_physical,
                    "VirtualAddress": self.bdl_va,
                    "CacheEnabled": False,
                },
            )
        for obj in (self.dma, self.service_group):
            if obj is not None and obj.alive:
                system.call(obj, "Release")


def _hda_resources(config: MachineConfig) -> Resources:
    return Resources(memory=[(config.hda_mmio_base, 0x4000)], interrupts=[config.hda_irq])


register_device(
    DeviceKind("hda", "HD Audio controller (PCI bus master)", "wavecyclic", MiniportWaveCyclicHDA, _hda_resources)
)
