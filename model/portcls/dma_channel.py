"""PortCls' DMA channel objects: IDmaChannel (master) and IDmaChannelSlave (system DMA).

Behaviour follows Microsoft's documentation first (portcls-contract.md §1.1-1.3), the WDK
samples where it is silent, ReactOS only after both; every choice made where all three
are silent is listed in docs/contract.md. Like PortCls' own implementation the channel
takes no lock: the contract checker reports overlapping use from two contexts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from model.hardware.memory import PAGE_SIZE
from model.kernel.dma_adapter import DEVICE_DESCRIPTION, DmaAdapter
from model.kernel.types import IO_ALLOCATION_ACTION, NTSTATUS, Irql, address_and_size_to_span_pages
from model.kernel.virtual_memory import Mdl, PageFault
from model.objects import ComObject
from model.trace import MemoryRecord, StateRecord

if TYPE_CHECKING:
    from model.system import System


def constraint_boundary(constraint: int) -> int:
    """The power-of-two block a PhysicalAddressConstraint confines the buffer to.

    Only the bits set in the constraint may differ between the first and last byte, so the
    buffer must stay inside an aligned block of 2^k bytes, k = the number of low set bits
    (0xFFFF -> 64 KiB). Higher set bits cannot widen that block.
    """
    k = 0
    while constraint >> k & 1:
        k += 1
    return 1 << k


class DmaChannel(ComObject):
    """IDmaChannel: one common buffer and the sizes port and miniport share."""

    interfaces: ClassVar[tuple[str, ...]] = ("IDmaChannel",)
    race_checked: ClassVar[bool] = True
    kind: ClassVar[str] = "DMA channel"

    def __init__(
        self,
        system: System,
        adapter: DmaAdapter,
        description: DEVICE_DESCRIPTION,
        device: Any,
        base_id: str = "dma",
    ) -> None:
        super().__init__(system, base_id)
        self.adapter = adapter
        self.description = description
        self.device = device
        self.buffer_va = 0
        self.buffer_physical = 0
        self.allocated = 0
        self.buffer_size = 0
        self.mdl: Mdl | None = None
        self.transfer_count = 0
        # Whether a device is using the buffer now: the slave channel knows (Start/Stop);
        # a bus-master miniport sets it around RUN, so FreeBuffer can warn in both cases.
        self.started = False
        self.bytes_copied_in = 0
        self.bytes_copied_out = 0

    # --- IDmaChannel -------------------------------------------------------------------------
    def AllocateBuffer(self, BufferSize: int, PhysicalAddressConstraint: int | None) -> NTSTATUS:
        system = self.system
        if self.buffer_va:
            system.violation(
                "allocate-twice", "AllocateBuffer on a channel that already has a buffer; FreeBuffer first"
            )
            return NTSTATUS.STATUS_UNSUCCESSFUL
        if BufferSize == 0:
            return NTSTATUS.STATUS_INVALID_PARAMETER
        boundary = self.adapter.boundary
        if PhysicalAddressConstraint is not None:
            wanted = constraint_boundary(PhysicalAddressConstraint)
            boundary = wanted if not boundary else min(boundary, wanted)
        label = f"{self.object_id} common buffer"
        if boundary == self.adapter.boundary:
            result = system.call(self.adapter, "AllocateCommonBuffer", {"Length": BufferSize, "CacheEnabled": False})
            va, physical = result.value or 0, result.out.get("LogicalAddress", 0)
        else:
            got = self.adapter.allocate_common(BufferSize, boundary=boundary, label=label)
            va, physical = got if got is not None else (0, 0)
        if not va:
            return NTSTATUS.STATUS_UNSUCCESSFUL  # what ReactOS returns; Microsoft names no status
        self.buffer_va, self.buffer_physical = va, physical
        self.allocated = self.buffer_size = BufferSize
        self.mdl = system.kernel.address_space.mdl_for(f"{self.object_id}.mdl", va, BufferSize)
        return NTSTATUS.STATUS_SUCCESS

    def FreeBuffer(self) -> None:
        if not self.buffer_va:
            return  # a no-op, as in ReactOS and the msvad sample
        if self.started:
            self.system.violation(
                "free-while-running", "FreeBuffer while the DMA transfer on it is still running; Stop first"
            )
        va = self.buffer_va
        if va in self.adapter.common_buffers:
            entry = self.adapter.common_buffers[va]
            self.system.call(
                self.adapter,
                "FreeCommonBuffer",
                {
                    "Length": entry.length,
                    "LogicalAddress": entry.logical,
                    "VirtualAddress": va,
                    "CacheEnabled": entry.cache_enabled,
                },
            )
        self.buffer_va = self.buffer_physical = 0
        self.allocated = 0
        self.mdl = None
        # BufferSize keeps its old value, as in ReactOS.

    def TransferCount(self) -> int:
        return self.transfer_count

    def MaximumBufferSize(self) -> int:
        """MaximumLength rounded up to whole pages, capped at what the device can address."""
        rounded = -(-self.description.MaximumLength // PAGE_SIZE) * PAGE_SIZE
        return min(rounded, self.device_limit())

    def device_limit(self) -> int:
        return 0xFFFFFFFF

    def AllocatedBufferSize(self) -> int:
        return self.allocated

    def BufferSize(self) -> int:
        return self.buffer_size

    def SetBufferSize(self, BufferSize: int) -> None:
        if BufferSize == 0 or BufferSize > self.allocated:
            self.system.violation(
                "buffer-size",
                f"SetBufferSize({BufferSize:#x}) but AllocatedBufferSize is {self.allocated:#x}; "
                "the value is stored anyway, as the channel never acts on it",
            )
        old = self.buffer_size
        self.buffer_size = BufferSize
        if old != BufferSize:
            self.system.sim.emit(StateRecord(object=self.object_id, what="BufferSize", old=old, new=BufferSize))

    def SystemAddress(self) -> int:
        return self.buffer_va

    def PhysicalAddress(self) -> int:
        return self.buffer_physical

    def GetAdapterObject(self) -> DmaAdapter:
        return self.adapter

    def CopyTo(self, Destination: int, Source: int, ByteCount: int) -> None:
        self._copy(Destination, Source, ByteCount, into_buffer=True)

    def CopyFrom(self, Destination: int, Source: int, ByteCount: int) -> None:
        self._copy(Destination, Source, ByteCount, into_buffer=False)

    def _copy(self, destination: int, source: int, count: int, *, into_buffer: bool) -> None:
        system = self.system
        space = system.kernel.address_space
        name = "CopyTo" if into_buffer else "CopyFrom"
        if count == 0:
            return
        if not self.buffer_va:
            system.violation("no-buffer", f"{name} on a channel with no common buffer")
        lo, hi = self.buffer_va, self.buffer_va + self.allocated
        inside = destination if into_buffer else source
        outside_parts: list[tuple[int, int]] = []
        if self.buffer_va and not (lo <= inside and inside + count <= hi):
            if inside < lo:
                outside_parts.append((inside, min(lo, inside + count)))
            if inside + count > hi:
                outside_parts.append((max(hi, inside), inside + count))
            which = "Destination" if into_buffer else "Source"
            ranges = self._describe_ranges(outside_parts)
            effect = ("overwrites " if into_buffer else "reads ") + ranges
            system.violation(
                "copy-outside-buffer",
                f"{name}({which}={inside:#x}, ByteCount={count:#x}) reaches outside the common buffer "
                f"{lo:#x}..{hi:#x}: {effect}",
            )
        try:
            data = space.read(source, count)
        except PageFault as fault:
            system.violation("page-fault", f"{name} reads from {fault.va:#x}, where nothing is mapped")
            return
        try:
            space.write(destination, data)
        except PageFault as fault:
            system.violation(
                "page-fault",
                f"{name} writes to {fault.va:#x}, where nothing is mapped "
                f"(after {getattr(fault, 'bytes_done', 0):#x} bytes)",
            )
        if into_buffer:
            self.bytes_copied_in += count
            for start, end in outside_parts:
                self._mark_damage(start, end)
        else:
            self.bytes_copied_out += count

    def _describe_ranges(self, parts: list[tuple[int, int]]) -> str:
        space = self.system.kernel.address_space
        out = []
        for start, end in parts:
            mapping = space.find(start)
            owner = f"'{mapping.label}'" if mapping is not None else "unmapped addresses"
            out.append(f"{end - start:#x} bytes at {start:#x} ({owner})")
        return "; ".join(out)

    def _mark_damage(self, start: int, end: int) -> None:
        system = self.system
        space = system.kernel.address_space
        va = start
        while va < end:
            n = min(PAGE_SIZE - (va & (PAGE_SIZE - 1)), end - va)
            mapping = space.find(va)
            if mapping is not None:
                physical = space.to_physical(va)
                system.machine.memory.mark_damaged(physical, n)
                system.sim.emit(
                    MemoryRecord(action="damage", address=physical, length=n, owner="", label=mapping.label)
                )
            va += n

    # --- for views and defaults ------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        return {
            "AllocatedBufferSize": self.allocated,
            "BufferSize": self.buffer_size,
            "MaximumBufferSize": self.MaximumBufferSize(),
            "SystemAddress": self.buffer_va,
            "PhysicalAddress": self.buffer_physical,
            "refcount": self.refcount,
        }

    def children(self) -> list[Any]:
        return [self.adapter]

    def destroy(self) -> None:
        self.FreeBuffer()


class SlaveDmaChannel(DmaChannel):
    """IDmaChannelSlave: the channel's buffer driven by the system (8237) DMA controller."""

    interfaces: ClassVar[tuple[str, ...]] = ("IDmaChannelSlave",)
    kind: ClassVar[str] = "slave DMA channel"

    def __init__(
        self,
        system: System,
        adapter: DmaAdapter,
        description: DEVICE_DESCRIPTION,
        device: Any,
        base_id: str = "dma",
    ) -> None:
        super().__init__(system, adapter, description, device, base_id)
        self.started = False
        self.map_size = 0
        self.write_to_device = True
        self.map_register_base = 0

    def device_limit(self) -> int:
        """The 8237's window: 64 KiB on an 8-bit channel, 128 KiB on a 16-bit one."""
        return 0x20000 if self.adapter.width16 else 0x10000

    # --- IDmaChannelSlave ------------------------------------------------------------------------
    def Start(self, MapSize: int, WriteToDevice: bool) -> NTSTATUS:
        system = self.system
        if self.started:
            return NTSTATUS.STATUS_UNSUCCESSFUL
        if not self.buffer_va:
            system.violation("no-buffer", "Start before AllocateBuffer")
            return NTSTATUS.STATUS_UNSUCCESSFUL
        if MapSize == 0 or MapSize > self.allocated:
            system.violation(
                "map-size",
                f"Start(MapSize={MapSize:#x}) but only {self.allocated:#x} bytes are allocated; "
                "the transfer is refused",
            )
            return NTSTATUS.STATUS_INVALID_PARAMETER
        self.map_size = MapSize
        self.transfer_count = MapSize
        self.write_to_device = WriteToDevice
        registers = address_and_size_to_span_pages(self.buffer_va, MapSize)
        with system.kernel.raised_irql(Irql.DISPATCH_LEVEL):
            result = system.call(
                self.adapter,
                "AllocateAdapterChannel",
                {
                    "DeviceObject": self.device,
                    "NumberOfMapRegisters": registers,
                    "ExecutionRoutine": self,
                    "Context": 0,
                },
            )
        if result.status != NTSTATUS.STATUS_SUCCESS:
            self.transfer_count = 0
            return result.ntstatus
        if not self.started:
            return NTSTATUS.STATUS_UNSUCCESSFUL
        system.sim.emit(StateRecord(object=self.object_id, what="DMA", old="stopped", new="started"))
        return NTSTATUS.STATUS_SUCCESS

    def AdapterControl(self, DeviceObject: Any, Irp: Any, MapRegisterBase: int, Context: int) -> IO_ALLOCATION_ACTION:
        """The channel's execution routine: map the whole transfer once and keep the channel."""
        self.map_register_base = MapRegisterBase
        result = self.system.call(
            self.adapter,
            "MapTransfer",
            {
                "Mdl": self.mdl,
                "MapRegisterBase": MapRegisterBase,
                "CurrentVa": self.buffer_va,
                "Length": self.map_size,
                "WriteToDevice": self.write_to_device,
            },
        )
        self.started = result.out.get("Length") == self.map_size
        return IO_ALLOCATION_ACTION.KeepObject

    def Stop(self) -> NTSTATUS:
        if not self.started:
            return NTSTATUS.STATUS_SUCCESS  # as ReactOS: nothing to stop
        system = self.system
        system.call(
            self.adapter,
            "FlushAdapterBuffers",
            {
                "Mdl": self.mdl,
                "MapRegisterBase": self.map_register_base,
                "CurrentVa": self.buffer_va,
                "Length": self.map_size,
                "WriteToDevice": self.write_to_device,
            },
        )
        with system.kernel.raised_irql(Irql.DISPATCH_LEVEL):
            system.call(self.adapter, "FreeAdapterChannel")
        self.started = False
        system.sim.emit(StateRecord(object=self.object_id, what="DMA", old="started", new="stopped"))
        return NTSTATUS.STATUS_SUCCESS

    def ReadCounter(self) -> int:
        """The HAL's counter; 0 before the first Start. After Stop the masked channel keeps its count."""
        if not self.transfer_count:
            return 0
        return self.system.call(self.adapter, "ReadDmaCounter").value or 0

    def WaitForTC(self, Timeout: int) -> NTSTATUS:
        system = self.system
        timeout_ns = (Timeout - Timeout % 10) * 1000  # microseconds, rounded down to 10 µs
        if not self.started or self.ReadCounter() == 0:
            return NTSTATUS.STATUS_SUCCESS
        if self.adapter.description.AutoInitialize:
            system.violation(
                "wait-for-tc",
                "WaitForTC while an auto-initialize transfer runs: the counter reloads instead of reaching 0",
            )
            self._waited(timeout_ns)
            return NTSTATUS.STATUS_UNSUCCESSFUL
        when = system.machine.predict_terminal_count(self.adapter.channel or 0)
        if when is None or when - system.now_ns > timeout_ns:
            self._waited(timeout_ns)
            return NTSTATUS.STATUS_UNSUCCESSFUL  # ReactOS's status for a timeout
        self._waited(when - system.now_ns)
        return NTSTATUS.STATUS_SUCCESS

    def _waited(self, ns: int) -> None:
        """The busy-wait's length shows as the call's duration (the clock does not move inside a call)."""
        record = self.system._current_record
        if record is not None:
            record.duration_ns += ns

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update({"TransferCount": self.transfer_count, "started": self.started, "channel": self.adapter.channel})
        return d

    def destroy(self) -> None:
        if self.started:
            self.Stop()
        super().destroy()
