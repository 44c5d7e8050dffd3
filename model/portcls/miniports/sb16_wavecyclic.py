"""A Sound Blaster 16 WaveCyclic miniport using slave DMA, as the WDK 7.1 sb16 sample works.

* Init: reset the DSP, select IRQ and DMA channels in mixer 0x80/0x81, create a slave
  channel for the 8-bit (DmaIndex 0) and the 16-bit (DmaIndex 1) DMA resource with
  MaximumLength 0x4000, and allocate each buffer, halving the size on failure while it is
  more than PAGE_SIZE/2 (contract facts 46-48). One service group serves every stream.
* RUN: speaker, start command (0xB6/0xC6 render, 0xBE/0xCE capture),
  Start(BufferSize(), !Capture), mode byte, block length. RUN->PAUSE (ACQUIRE counts as
  PAUSE): exit auto-init, pause, speaker off, Stop(). STOP: nothing.
* GetPosition = TransferCount - ReadCounter when ReadCounter is not 0, else 0.
* ISR: acknowledge the DSP (read base+0xF, then base+0xE) and Notify the port.

One deliberate difference: the sample writes the block length as frames - 1. dmaviz's
SB16 counts 0xBx/0xCx lengths in samples, as DOSBox and 86Box do (hardware.md §2.8), so
this miniport writes frames x channels - 1 to keep the 10 ms notification the port asks
for. With the sample's value a stereo stream would interrupt every 5 ms here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from model.hardware.machine import MachineConfig
from model.kernel.types import DMA_SPEED, KSSTATE, NTSTATUS, PAGE_SIZE
from model.objects import ComObject, Out
from model.portcls.miniports.common import fill_silence
from model.portcls.port_wavecyclic import KS_ORDER, format_from_table
from model.portcls.resources import Resources
from model.topology import DeviceKind, register_device
from model.trace import StateRecord
from model.wave_format import WaveFormat

if TYPE_CHECKING:
    from model.system import System

MAXLEN_DMA_BUFFER = 0x4000

DSP_CMD_SPKRON = 0xD1
DSP_CMD_SPKROFF = 0xD3
DSP_CMD_STARTDAC8, DSP_CMD_STARTDAC16 = 0xC6, 0xB6
DSP_CMD_STARTADC8, DSP_CMD_STARTADC16 = 0xCE, 0xBE
DSP_CMD_HALTAUTODMA, DSP_CMD_HALTAUTODMA16 = 0xDA, 0xD9
DSP_CMD_PAUSEDMA, DSP_CMD_PAUSEDMA16 = 0xD0, 0xD5
DSP_CMD_SETDACRATE, DSP_CMD_SETADCRATE = 0x41, 0x42

_IRQ_SELECT = {2: 0x01, 9: 0x01, 5: 0x02, 7: 0x04, 10: 0x08}
_DMA_SELECT = {0: 0x01, 1: 0x02, 3: 0x08, 5: 0x20, 6: 0x40, 7: 0x80}


def _rate_supported(fmt: WaveFormat) -> bool:
    """The sample's data range ends at 44100 Hz; dmaviz also lets 48000 through."""
    return fmt.sample_rate <= 44100 or fmt.sample_rate == 48000


class MiniportWaveCyclicSB16(ComObject):
    interfaces: ClassVar[tuple[str, ...]] = ("IMiniportWaveCyclic",)
    kind: ClassVar[str] = "SB16 WaveCyclic miniport"
    max_buffer: ClassVar[int] = MAXLEN_DMA_BUFFER  # the sample's constant; a benchmark may change it

    def __init__(self, system: System, base_id: str = "miniport") -> None:
        super().__init__(system, base_id)
        self.port: Any = None
        self.base = 0x220
        self.irq = 5
        self.dma_channels: dict[int, Any] = {}  # DmaIndex -> slave channel
        self.in_use: dict[int, Any] = {}  # DmaIndex -> stream using it
        self.service_group: Any = None
        self.sample_rate = 0
        self.streams: list[MiniportWaveCyclicStreamSB16] = []
        self.interrupts = 0

    # --- DSP access (the sample's AdapterCommon) -------------------------------------------------
    def write_dsp(self, value: int) -> None:
        machine = self.system.machine
        machine.io_read(self.base + 0xC)  # poll write-buffer status, as WriteController does
        machine.io_write(self.base + 0xC, value)

    def _reset_dsp(self) -> bool:
        machine = self.system.machine
        machine.io_write(self.base + 0x6, 1)
        machine.io_write(self.base + 0x6, 0)
        return bool(machine.io_read(self.base + 0xE) & 0x80) and machine.io_read(self.base + 0xA) == 0xAA

    # --- IMiniportWaveCyclic ------------------------------------------------------------------------
    def Init(self, UnknownAdapter: Any, ResourceList: Any, Port: Any) -> NTSTATUS:
        system = self.system
        if ResourceList is None or Port is None:
            system.violation("null-object", "IMiniportWaveCyclic::Init needs a resource list and the port")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        resources = ResourceList.resources
        if not resources.io_ports or not resources.interrupts or len(resources.dma_channels) < 2:
            return NTSTATUS.STATUS_DEVICE_CONFIGURATION_ERROR
        self.port = Port
        self.base = resources.io_ports[0][0]
        self.irq = resources.interrupts[0]
        if not self._reset_dsp():
            return NTSTATUS.STATUS_DEVICE_NOT_READY
        machine = system.machine
        machine.io_write(self.base + 0x4, 0x80)
        machine.io_write(self.base + 0x5, _IRQ_SELECT.get(self.irq, 0x02))
        dma_bits = sum(_DMA_SELECT.get(ch, 0) for ch in resources.dma_channels)
        machine.io_write(self.base + 0x4, 0x81)
        machine.io_write(self.base + 0x5, dma_bits)
        for index in (0, 1):
            status = self._make_channel(index, ResourceList)
            if status != NTSTATUS.STATUS_SUCCESS:
                return status
        result = system.call(system.objects["portcls"], "PcNewServiceGroup", {"OuterUnknown": None})
        if result.status != NTSTATUS.STATUS_SUCCESS:
            return result.ntstatus
        self.service_group = result.out["OutServiceGroup"]
        system.kernel.connect_interrupt(self.irq, self.object_id, self._isr)
        return NTSTATUS.STATUS_SUCCESS

    def _make_channel(self, index: int, resources: Any) -> NTSTATUS:
        system = self.system
        result = system.call(
            self.port,
            "NewSlaveDmaChannel",
            {
                "OuterUnknown": None,
                "ResourceList": resources,
                "DmaIndex": index,
                "MaximumLength": self.max_buffer,
                "DemandMode": False,
                "DmaSpeed": DMA_SPEED.Compatible,
            },
        )
        if result.status != NTSTATUS.STATUS_SUCCESS:
            return result.ntstatus
        channel = result.out["DmaChannel"]
        # Halve the request while it fails and is still more than half a page (the sample's loop).
        length = self.max_buffer
        while True:
            status = system.call(
                channel, "AllocateBuffer", {"BufferSize": length, "PhysicalAddressConstraint": None}
            ).status
            length >>= 1
            if status == NTSTATUS.STATUS_SUCCESS or length <= PAGE_SIZE // 2:
                break
        if status != NTSTATUS.STATUS_SUCCESS:
            return NTSTATUS.STATUS_INSUFFICIENT_RESOURCES
        self.dma_channels[index] = channel
        return NTSTATUS.STATUS_SUCCESS

    def NewStream(self, OuterUnknown: Any, PoolType: Any, Pin: int, Capture: bool, DataFormat: Any) -> Out:
        system = self.system
        none = {"Stream": None, "DmaChannel": None, "ServiceGroup": None}
        try:
            fmt = format_from_table(DataFormat)
        except (ValueError, TypeError):
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        if not _rate_supported(fmt):
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        index = 1 if fmt.bits_per_sample == 16 else 0
        if index in self.in_use or index not in self.dma_channels:
            return Out(NTSTATUS.STATUS_INVALID_DEVICE_REQUEST, none)  # that DMA resource is busy
        if any(s.capture == Capture for s in self.in_use.values()):
            return Out(NTSTATUS.STATUS_INVALID_DEVICE_REQUEST, none)
        channel = self.dma_channels[index]
        stream = MiniportWaveCyclicStreamSB16(self, channel, Capture, fmt, index)
        self.in_use[index] = stream
        self.streams.append(stream)
        status = system.call(stream, "SetFormat", {"DataFormat": DataFormat}).status
        if status != NTSTATUS.STATUS_SUCCESS:
            return Out(status, none)
        # The out-parameters are AddRef'd for the port.
        channel.add_reference(f"{self.object_id}.NewStream")
        self.service_group.add_reference(f"{self.object_id}.NewStream")
        return Out(
            NTSTATUS.STATUS_SUCCESS,
            {"Stream": stream, "DmaChannel": channel, "ServiceGroup": self.service_group},
        )

    # --- interrupt --------------------------------------------------------------------------------------
    def _isr(self) -> None:
        system = self.system
        machine = system.machine
        self.interrupts += 1
        with system.acting_as(self.object_id):
            machine.io_read(self.base + 0xF)  # acknowledge a 16-bit interrupt
            machine.io_read(self.base + 0xE)  # and an 8-bit one
            if self.port is not None and self.service_group is not None:
                system.call(self.port, "Notify", {"ServiceGroup": self.service_group})

    def describe(self) -> dict[str, Any]:
        return {
            "DSP base": f"0x{self.base:X}",
            "IRQ": self.irq,
            "interrupts": self.interrupts,
            "channels": {i: c.object_id for i, c in self.dma_channels.items()},
            "refcount": self.refcount,
        }

    def children(self) -> list[Any]:
        return [*self.streams, *[c for i, c in sorted(self.dma_channels.items())], self.service_group]


class MiniportWaveCyclicStreamSB16(ComObject):
    interfaces: ClassVar[tuple[str, ...]] = ("IMiniportWaveCyclicStream",)
    kind: ClassVar[str] = "SB16 stream"

    def __init__(
        self, miniport: MiniportWaveCyclicSB16, channel: Any, capture: bool, fmt: WaveFormat, dma_index: int
    ) -> None:
        super().__init__(miniport.system, "stream")
        self.miniport = miniport
        self.dma = channel
        self.capture = capture
        self.format = fmt
        self.dma_index = dma_index
        self.state = KSSTATE.KSSTATE_STOP
        self.interval_ms = 10

    # --- IMiniportWaveCyclicStream -----------------------------------------------------------------
    def SetFormat(self, DataFormat: Any) -> NTSTATUS:
        if self.state == KSSTATE.KSSTATE_RUN:
            return NTSTATUS.STATUS_INVALID_DEVICE_REQUEST
        try:
            fmt = format_from_table(DataFormat)
        except (ValueError, TypeError):
            return NTSTATUS.STATUS_INVALID_PARAMETER
        if not _rate_supported(fmt):
            return NTSTATUS.STATUS_INVALID_PARAMETER
        if (fmt.bits_per_sample == 16) != (self.dma_index == 1):
            return NTSTATUS.STATUS_INVALID_PARAMETER  # the stream's DMA channel fixes the sample size
        self.format = fmt
        self.miniport.sample_rate = fmt.sample_rate
        self.miniport.write_dsp(DSP_CMD_SETADCRATE if self.capture else DSP_CMD_SETDACRATE)
        self.miniport.write_dsp((fmt.sample_rate >> 8) & 0xFF)
        self.miniport.write_dsp(fmt.sample_rate & 0xFF)
        return NTSTATUS.STATUS_SUCCESS

    def SetNotificationFreq(self, Interval: int) -> Out:
        self.interval_ms = Interval
        frame_size = self.format.block_align * self.format.sample_rate * Interval // 1000
        return Out(Interval, {"FrameSize": frame_size})

    def SetState(self, State: KSSTATE) -> NTSTATUS:
        system = self.system
        old = self.state
        if abs(KS_ORDER.index(State) - KS_ORDER.index(old)) > 1:
            system.violation("state-sequence", f"SetState from {old.name} straight to {State.name}")
        new = KSSTATE.KSSTATE_PAUSE if State == KSSTATE.KSSTATE_ACQUIRE else State
        current = KSSTATE.KSSTATE_PAUSE if old == KSSTATE.KSSTATE_ACQUIRE else old
        mp = self.miniport
        sixteen = self.format.bits_per_sample == 16
        if new != current:
            if new == KSSTATE.KSSTATE_PAUSE and current == KSSTATE.KSSTATE_RUN:
                mp.write_dsp(DSP_CMD_HALTAUTODMA16 if sixteen else DSP_CMD_HALTAUTODMA)
                mp.write_dsp(DSP_CMD_PAUSEDMA16 if sixteen else DSP_CMD_PAUSEDMA)
                mp.write_dsp(DSP_CMD_SPKROFF)
                system.call(self.dma, "Stop")
            elif new == KSSTATE.KSSTATE_RUN:
                self._run()
        self.state = State
        system.sim.emit(StateRecord(object=self.object_id, what="KSSTATE", old=old, new=State))
        return NTSTATUS.STATUS_SUCCESS

    def _run(self) -> None:
        system = self.system
        mp = self.miniport
        fmt = self.format
        sixteen = fmt.bits_per_sample == 16
        if self.capture:
            mp.write_dsp(DSP_CMD_SPKROFF)
            mp.write_dsp(DSP_CMD_STARTADC16 if sixteen else DSP_CMD_STARTADC8)
        else:
            mp.write_dsp(DSP_CMD_SPKRON)
            mp.write_dsp(DSP_CMD_STARTDAC16 if sixteen else DSP_CMD_STARTDAC8)
        mode = (0x10 if sixteen else 0x00) | (0x20 if fmt.channels == 2 else 0x00)
        buffer_size = system.call(self.dma, "BufferSize").value or 0
        system.call(self.dma, "Start", {"MapSize": buffer_size, "WriteToDevice": not self.capture})
        mp.write_dsp(mode)
        buffer_frames = buffer_size // fmt.block_align
        frames = min(fmt.sample_rate * self.interval_ms // 1000, buffer_frames)
        length = frames * fmt.channels - 1  # samples, see the module docstring
        mp.write_dsp(length & 0xFF)
        mp.write_dsp((length >> 8) & 0xFF)

    def GetPosition(self) -> Out:
        system = self.system
        transfer_count = system.call(self.dma, "TransferCount").value or 0
        position = 0
        if transfer_count:
            position = system.call(self.dma, "ReadCounter").value or 0
            if position != 0:
                position = transfer_count - position
        return Out(NTSTATUS.STATUS_SUCCESS, {"Position": position})

    def NormalizePhysicalPosition(self, PhysicalPosition: int) -> Out:
        fmt = self.format
        shift = (1 if fmt.channels == 2 else 0) + (1 if fmt.bits_per_sample == 16 else 0)
        value = (10_000_000 // (1 << shift) * PhysicalPosition) // fmt.sample_rate
        return Out(NTSTATUS.STATUS_SUCCESS, {"PhysicalPosition": value})

    def Silence(self, Buffer: int, ByteCount: int) -> None:
        fill_silence(self.system, Buffer, ByteCount, self.format.silence_byte)

    def buffer_address(self) -> int:
        return self.dma.buffer_va

    def probe_position(self) -> int:
        """What GetPosition would return, read from the 8237's registers without touching ports."""
        dma = self.dma
        if not dma.transfer_count:
            return 0
        channel = self.system.machine.dma.channel(dma.adapter.channel or 0)
        remaining = ((channel.current_count + 1) & 0xFFFF) * channel.unit_bytes
        return dma.transfer_count - remaining if remaining else 0

    def describe(self) -> dict[str, Any]:
        return {
            "KSSTATE": self.state.name,
            "format": self.format.describe(),
            "direction": "capture" if self.capture else "render",
            "refcount": self.refcount,
        }

    def children(self) -> list[Any]:
        return [self.dma]


def _sb16_resources(config: MachineConfig) -> Resources:
    return Resources(
        io_ports=[(config.sb16_base, 16)],
        interrupts=[config.sb16_irq],
        dma_channels=[config.sb16_dma8, config.sb16_dma16],
    )


register_device(
    DeviceKind("sb16", "Sound Blaster 16 (ISA, slave DMA)", "wavecyclic", MiniportWaveCyclicSB16, _sb16_resources)
)
