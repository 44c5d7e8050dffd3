"""A miniport whose stream implements IDmaChannel itself, timer-driven like the WDK msvad sample.

The documents say a miniport may "implement their own DMA channel object" (contract
§1.1): this device has no system DMA channel and no bus master, so the stream object
answers IDmaChannel too and NewStream returns it as both Stream and DmaChannel. The port
works unchanged because it only calls six IDmaChannel methods (AllocatedBufferSize,
BufferSize, CopyFrom, CopyTo, SetBufferSize, SystemAddress; contract fact 18).

* NewStream: one render and one capture stream at a time (the device has one output and
  one input); the stream allocates its buffer, msvad's DMA_BUFFER_SIZE (0x16000), and
  gets its own service group from PcNewServiceGroup.
* RUN: a periodic kernel timer (KeSetTimerEx) with period = the notification interval;
  its DPC brings the device up to date and calls IPortWaveCyclic::Notify.
* Position from time: bytes = format.bytes_for(time since RUN) added to what had moved
  before, wrapping at the buffer size. RUN->PAUSE (ACQUIRE counts as PAUSE) freezes it,
  ->STOP resets it to 0, ->RUN resumes (fact 25); it never reaches the buffer size (fact 23).
* What the device plays must be observable without hardware: whenever the device is
  brought up to date (each timer tick, GetPosition, CopyTo/CopyFrom, a state change) the
  bytes played since the last time are copied out of the buffer into ``sink`` in order,
  across the wrap; for capture, bytes of ``source`` are written into the buffer. Doing it
  at GetPosition too matters: the port copies up to the position it was just given, so
  every byte before that position must already be in the buffer (capture) or in the sink
  (render) before the port reuses its place.

The IDmaChannel half follows msvad's basedma.cpp, except where the Microsoft contract
says otherwise:

* The buffer is plain non-paged memory: contiguous pages, mapped into the kernel's
  address space, owned COMMON_BUFFER in the memory map, because that is the role it
  plays (the cyclic buffer the port copies into); its label says it is pool memory with
  no DMA behind it. A PhysicalAddressConstraint is honoured (msvad ignores it).
  Allocation failure returns STATUS_INSUFFICIENT_RESOURCES, as msvad does.
* AllocatedBufferSize and BufferSize are kept apart (facts 4 and 5); msvad keeps one
  variable for both. SetBufferSize of 0 or of more than AllocatedBufferSize is refused,
  the old value kept, and recorded as a buffer-size violation (msvad logs "Tried to
  enlarge dma buffer size"). After FreeBuffer both read 0, as msvad's single variable does.
* TransferCount returns BufferSize() (msvad); MaximumBufferSize returns DMA_BUFFER_SIZE
  (msvad's miniport maximum); GetAdapterObject returns NULL (there is no adapter);
  PhysicalAddress returns the buffer's real physical address (msvad returns the virtual
  address cast to a PHYSICAL_ADDRESS, which no one can use).
* CopyTo/CopyFrom copy (msvad's CopyTo writes to its save-data file instead, and its
  CopyFrom does nothing). A copy reaching outside the buffer is a copy-outside-buffer
  violation and still happens, as memcpy would.
* The object is not race-checked: the timer DPC and the service-group DPC both run at
  DISPATCH_LEVEL on the same processor, and nothing else touches the buffer.
* A buffer-size change, interval change or format change takes effect at the next RUN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from model.hardware.audio_io import AudioSink, AudioSource
from model.hardware.machine import MachineConfig
from model.hardware.memory import PageOwner
from model.kernel.types import KSSTATE, NTSTATUS
from model.kernel.virtual_memory import PageFault
from model.objects import ComObject, ModelObject, Out
from model.portcls.dma_channel import constraint_boundary
from model.portcls.miniports.common import fill_silence
from model.portcls.port_wavecyclic import KS_ORDER, format_from_table
from model.portcls.resources import Resources
from model.topology import DeviceKind, register_device
from model.trace import MemoryRecord, StateRecord
from model.units import MS
from model.wave_format import WaveFormat

if TYPE_CHECKING:
    from model.hardware.memory import Allocation
    from model.system import System

DMA_BUFFER_SIZE = 0x16000  # msvad common.h


class MiniportWaveCyclicVirtual(ComObject):
    interfaces: ClassVar[tuple[str, ...]] = ("IMiniportWaveCyclic",)
    kind: ClassVar[str] = "virtual WaveCyclic miniport"

    def __init__(self, system: System, base_id: str = "miniport") -> None:
        super().__init__(system, base_id)
        self.port: Any = None
        self.max_buffer_size = DMA_BUFFER_SIZE
        self.streams: list[MiniportWaveCyclicStreamVirtual] = []
        self.in_use: dict[bool, MiniportWaveCyclicStreamVirtual] = {}  # Capture -> stream
        self.sink = AudioSink("virtual device output")  # what the device played
        self.source = AudioSource()  # what the device records

    # --- IMiniportWaveCyclic ------------------------------------------------------------------------
    def Init(self, UnknownAdapter: Any, ResourceList: Any, Port: Any) -> NTSTATUS:
        if Port is None:
            self.system.violation("null-object", "IMiniportWaveCyclic::Init needs the port")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        if not (isinstance(Port, ModelObject) and Port.implements("IPortWaveCyclic")):
            self.system.violation("wrong-interface", f"{Port.object_id} passed as Port is not an IPortWaveCyclic")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        self.port = Port  # no resources: there is no hardware to find
        return NTSTATUS.STATUS_SUCCESS

    def NewStream(self, OuterUnknown: Any, PoolType: Any, Pin: int, Capture: bool, DataFormat: Any) -> Out:
        system = self.system
        none = {"Stream": None, "DmaChannel": None, "ServiceGroup": None}
        try:
            fmt = format_from_table(DataFormat)
        except (ValueError, TypeError, AttributeError):
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, none)
        if Capture in self.in_use:
            return Out(NTSTATUS.STATUS_INVALID_DEVICE_REQUEST, none)  # one output, one input
        stream = MiniportWaveCyclicStreamVirtual(self, Capture, fmt)
        status = system.call(
            stream, "AllocateBuffer", {"BufferSize": self.max_buffer_size, "PhysicalAddressConstraint": None}
        ).status
        if status != NTSTATUS.STATUS_SUCCESS:
            system.call(stream, "Release")
            return Out(NTSTATUS.STATUS_INSUFFICIENT_RESOURCES, none)
        group = system.call(system.objects["portcls"], "PcNewServiceGroup", {"OuterUnknown": None})
        if group.status != NTSTATUS.STATUS_SUCCESS:
            system.call(stream, "Release")
            return Out(group.ntstatus, none)
        stream.service_group = group.out["OutServiceGroup"]
        self.in_use[Capture] = stream
        self.streams.append(stream)
        status = system.call(stream, "SetFormat", {"DataFormat": DataFormat}).status
        if status != NTSTATUS.STATUS_SUCCESS:
            system.call(stream, "Release")
            return Out(status, none)
        # The same object goes out twice; each out-parameter carries its own reference.
        stream.add_reference(f"{self.object_id}.NewStream")
        stream.service_group.add_reference(f"{self.object_id}.NewStream")
        return Out(
            NTSTATUS.STATUS_SUCCESS,
            {"Stream": stream, "DmaChannel": stream, "ServiceGroup": stream.service_group},
        )

    def release_stream(self, stream: MiniportWaveCyclicStreamVirtual) -> None:
        if self.in_use.get(stream.capture) is stream:
            del self.in_use[stream.capture]

    def describe(self) -> dict[str, Any]:
        return {
            "streams": {("capture" if c else "render"): s.object_id for c, s in self.in_use.items()},
            "played bytes": self.sink.length,
            "recorded bytes": self.source.position,
            "refcount": self.refcount,
        }

    def children(self) -> list[Any]:
        return list(self.streams)


class MiniportWaveCyclicStreamVirtual(ComObject):
    """One stream, and the IDmaChannel the port copies through (the same object)."""

    interfaces: ClassVar[tuple[str, ...]] = ("IMiniportWaveCyclicStream", "IDmaChannel")
    kind: ClassVar[str] = "virtual stream (own IDmaChannel)"

    def __init__(self, miniport: MiniportWaveCyclicVirtual, capture: bool, fmt: WaveFormat) -> None:
        super().__init__(miniport.system, "stream")
        self.miniport = miniport
        self.capture = capture
        self.format = fmt
        self.state = KSSTATE.KSSTATE_STOP
        self.service_group: Any = None
        self.interval_ms = 10
        self.timer_name = f"{self.object_id}.timer"
        # IDmaChannel
        self.allocation: Allocation | None = None
        self.buffer_va = 0
        self.buffer_physical = 0
        self.allocated = 0
        self.buffer_size = 0
        # the device
        self.cycle = 0  # buffer size the device wraps at (read at RUN)
        self.offset = 0  # buffer offset of the next byte the device plays or records
        self.moved = 0  # bytes played or recorded since the last STOP
        self.run_base = 0  # ``moved`` when the stream last went to RUN
        self.run_start_ns = 0
        self.running = False
        self.ticks = 0

    # --- the device ------------------------------------------------------------------------------------
    def _due(self) -> int:
        """Bytes that should have moved since the last STOP, by now."""
        if not self.running:
            return self.moved
        return self.run_base + self.format.bytes_for(self.system.now_ns - self.run_start_ns)

    def probe_position(self) -> int:
        """What GetPosition would return now, without moving any data."""
        if not self.cycle:
            return self.offset
        ahead = max(0, self._due() - self.moved) if self.state == KSSTATE.KSSTATE_RUN else 0
        return (self.offset + ahead) % self.cycle

    def _catch_up(self) -> None:
        """Play (render) or record (capture) every byte due by now, in order, across the wrap."""
        target = self._due()
        n = target - self.moved
        if n <= 0 or not self.cycle:
            return
        system = self.system
        space = system.kernel.address_space
        mp = self.miniport
        fmt = self.format
        while n > 0:
            chunk = min(n, self.cycle - self.offset)
            va = self.buffer_va + self.offset
            try:
                if self.capture:
                    space.write(va, mp.source.take(fmt, chunk))
                else:
                    mp.sink.append(space.read(va, chunk), system.now_ns)
            except PageFault as fault:
                system.violation("page-fault", f"the virtual device touches {fault.va:#x}, where nothing is mapped")
                break
            self.offset = (self.offset + chunk) % self.cycle
            n -= chunk
        self.moved = target

    def _on_timer(self) -> None:
        """The timer's DPC: bring the device up to date, then tell the port (msvad's TimerNotify)."""
        system = self.system
        self.ticks += 1
        self._catch_up()
        port = self.miniport.port
        if port is not None and self.service_group is not None:
            with system.acting_as(self.object_id):
                system.call(port, "Notify", {"ServiceGroup": self.service_group})

    # --- IMiniportWaveCyclicStream -----------------------------------------------------------------
    def SetFormat(self, DataFormat: Any) -> NTSTATUS:
        if self.state == KSSTATE.KSSTATE_RUN:
            return NTSTATUS.STATUS_INVALID_DEVICE_REQUEST
        try:
            self.format = format_from_table(DataFormat)
        except (ValueError, TypeError, AttributeError):
            return NTSTATUS.STATUS_INVALID_PARAMETER
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
        if new != current:
            if current == KSSTATE.KSSTATE_RUN:
                self._catch_up()  # everything due up to now is played: the position freezes here
                self.running = False
                system.kernel.cancel_timer(self.timer_name)
            if new == KSSTATE.KSSTATE_STOP:
                self.moved = self.offset = 0
            elif new == KSSTATE.KSSTATE_RUN:
                size = min(self.buffer_size, self.allocated)
                self.cycle = size - size % self.format.block_align
                if not self.cycle:
                    return NTSTATUS.STATUS_INVALID_DEVICE_REQUEST  # no buffer to play from
                self.offset %= self.cycle
                self.run_base = self.moved
                self.run_start_ns = system.now_ns
                self.running = True
                period = self.interval_ms * MS
                system.kernel.set_timer(self.timer_name, period, period, self._on_timer)
        self.state = State
        system.sim.emit(StateRecord(object=self.object_id, what="KSSTATE", old=old, new=State))
        return NTSTATUS.STATUS_SUCCESS

    def GetPosition(self) -> Out:
        self._catch_up()
        return Out(NTSTATUS.STATUS_SUCCESS, {"Position": self.offset})

    def NormalizePhysicalPosition(self, PhysicalPosition: int) -> Out:
        fmt = self.format
        value = (10_000_000 // fmt.block_align * PhysicalPosition) // fmt.sample_rate
        return Out(NTSTATUS.STATUS_SUCCESS, {"PhysicalPosition": value})

    def Silence(self, Buffer: int, ByteCount: int) -> None:
        fill_silence(self.system, Buffer, ByteCount, self.format.silence_byte)

    # --- IDmaChannel ------------------------------------------------------------------------------------
    def AllocateBuffer(self, BufferSize: int, PhysicalAddressConstraint: int | None) -> NTSTATUS:
        system = self.system
        if self.buffer_va:
            system.violation(
                "allocate-twice", "AllocateBuffer on a channel that already has a buffer; FreeBuffer first"
            )
            return NTSTATUS.STATUS_UNSUCCESSFUL
        if BufferSize == 0:
            return NTSTATUS.STATUS_INVALID_PARAMETER
        boundary = constraint_boundary(PhysicalAddressConstraint) if PhysicalAddressConstraint is not None else 0
        label = f"{self.object_id} buffer (non-paged pool, no DMA)"
        allocation = system.machine.memory.allocate_contiguous(
            BufferSize, boundary=boundary, owner=PageOwner.COMMON_BUFFER, label=label
        )
        if allocation is None:
            system.sim.emit(
                MemoryRecord(action="allocate-failed", address=0, length=BufferSize, owner="COMMON_BUFFER", label=label)
            )
            return NTSTATUS.STATUS_INSUFFICIENT_RESOURCES  # msvad's status when the pool is empty
        mapping = system.kernel.address_space.map(allocation, label)
        self.allocation = allocation
        self.buffer_va, self.buffer_physical = mapping.va, allocation.base
        self.allocated = self.buffer_size = BufferSize
        system.sim.emit(
            MemoryRecord(
                action="allocate", address=allocation.base, length=BufferSize, owner="COMMON_BUFFER", label=label
            )
        )
        return NTSTATUS.STATUS_SUCCESS

    def FreeBuffer(self) -> None:
        system = self.system
        if self.allocation is None:
            return  # a no-op, as in msvad
        if self.running:
            system.violation(
                "free-while-running", "FreeBuffer while the stream runs: the timer DPC keeps using the buffer"
            )
            self._catch_up()
            self.cycle = 0  # the device has nothing left to play from
        allocation = self.allocation
        system.kernel.address_space.unmap(self.buffer_va)
        system.machine.memory.free(allocation)
        system.sim.emit(
            MemoryRecord(
                action="free",
                address=allocation.base,
                length=self.allocated,
                owner="COMMON_BUFFER",
                label=allocation.label,
            )
        )
        self.allocation = None
        self.buffer_va = self.buffer_physical = 0
        self.allocated = self.buffer_size = 0

    def TransferCount(self) -> int:
        return self.buffer_size

    def MaximumBufferSize(self) -> int:
        return self.miniport.max_buffer_size

    def AllocatedBufferSize(self) -> int:
        return self.allocated

    def BufferSize(self) -> int:
        return self.buffer_size

    def SetBufferSize(self, BufferSize: int) -> None:
        if BufferSize == 0 or BufferSize > self.allocated:
            self.system.violation(
                "buffer-size",
                f"SetBufferSize({BufferSize:#x}) but AllocatedBufferSize is {self.allocated:#x}; "
                f"refused, BufferSize stays {self.buffer_size:#x} (msvad: 'Tried to enlarge dma buffer size')",
            )
            return
        old = self.buffer_size
        self.buffer_size = BufferSize
        if old != BufferSize:
            self.system.sim.emit(StateRecord(object=self.object_id, what="BufferSize", old=old, new=BufferSize))

    def SystemAddress(self) -> int:
        return self.buffer_va

    def PhysicalAddress(self) -> int:
        return self.buffer_physical

    def GetAdapterObject(self) -> None:
        return None  # no DMA hardware, so no adapter object (msvad)

    def CopyTo(self, Destination: int, Source: int, ByteCount: int) -> None:
        self._copy(Destination, Source, ByteCount, into_buffer=True)

    def CopyFrom(self, Destination: int, Source: int, ByteCount: int) -> None:
        self._copy(Destination, Source, ByteCount, into_buffer=False)

    def _copy(self, destination: int, source: int, count: int, *, into_buffer: bool) -> None:
        system = self.system
        name = "CopyTo" if into_buffer else "CopyFrom"
        if count == 0:
            return
        if not self.buffer_va:
            system.violation("no-buffer", f"{name} on a channel with no buffer")
        self._catch_up()  # what the device played before now must reach the sink before it is overwritten
        inside = destination if into_buffer else source
        lo, hi = self.buffer_va, self.buffer_va + self.allocated
        if self.buffer_va and not (lo <= inside and inside + count <= hi):
            which = "Destination" if into_buffer else "Source"
            system.violation(
                "copy-outside-buffer",
                f"{name}({which}={inside:#x}, ByteCount={count:#x}) reaches outside the buffer {lo:#x}..{hi:#x}",
            )
        space = system.kernel.address_space
        try:
            data = space.read(source, count)
        except PageFault as fault:
            system.violation("page-fault", f"{name} reads from {fault.va:#x}, where nothing is mapped")
            return
        try:
            space.write(destination, data)
        except PageFault as fault:
            system.violation("page-fault", f"{name} writes to {fault.va:#x}, where nothing is mapped")

    # --- views, defaults, teardown --------------------------------------------------------------------
    def buffer_address(self) -> int:
        return self.buffer_va

    def describe(self) -> dict[str, Any]:
        return {
            "KSSTATE": self.state.name,
            "format": self.format.describe(),
            "direction": "capture" if self.capture else "render",
            "AllocatedBufferSize": self.allocated,
            "BufferSize": self.buffer_size,
            "SystemAddress": self.buffer_va,
            "PhysicalAddress": self.buffer_physical,
            "position": self.offset,
            "bytes moved": self.moved,
            "interval (ms)": self.interval_ms,
            "timer ticks": self.ticks,
            "refcount": self.refcount,
        }

    def children(self) -> list[Any]:
        return [self.service_group] if self.service_group is not None else []

    def destroy(self) -> None:
        system = self.system
        if self.running:
            self._catch_up()
            self.running = False
        system.kernel.cancel_timer(self.timer_name)
        self.FreeBuffer()
        self.miniport.release_stream(self)
        if self.service_group is not None and self.service_group.alive:
            system.call(self.service_group, "Release")


def _virtual_resources(config: MachineConfig) -> Resources:
    return Resources()  # a virtual device has no I/O ports, interrupts, DMA channels or memory ranges


register_device(
    DeviceKind(
        "virtual",
        "Virtual device (miniport's own IDmaChannel, msvad style)",
        "wavecyclic",
        MiniportWaveCyclicVirtual,
        _virtual_resources,
    )
)
