"""The HAL's DMA adapter objects (DMA_ADAPTER / DMA_OPERATIONS) and IoGetDmaAdapter.

Microsoft documents what these routines promise; the HAL source is not public, so where
the documents are silent this follows ReactOS's HAL (hardware.md §4), except its known
defect: for 16-bit channels the address register gets (physical >> 1) & 0xFFFF, which the
hardware needs, not ((physical & 0xFFFF) >> 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from model.hardware.memory import ISA_LIMIT, PAGE_SIZE, Allocation, PageOwner
from model.kernel.types import (
    DMA_SPEED,
    DMA_WIDTH,
    INTERFACE_TYPE,
    IO_ALLOCATION_ACTION,
    NTSTATUS,
    bytes_to_pages,
)
from model.kernel.virtual_memory import Mdl
from model.objects import ModelObject, Out
from model.trace import MemoryRecord

if TYPE_CHECKING:
    from model.system import System

SLAVE_MAP_REGISTER_CAP = 16  # ReactOS HAL, hardware.md §4.1
MASTER_MAP_REGISTER_CAP = 64  # ReactOS's global map-register pool


@dataclass
class DEVICE_DESCRIPTION:
    """The DMA requirements a driver hands to IoGetDmaAdapter (zeroed, then filled in)."""

    Version: int = 0
    Master: bool = False
    ScatterGather: bool = False
    DemandMode: bool = False
    AutoInitialize: bool = False
    Dma32BitAddresses: bool = False
    IgnoreCount: bool = False
    Reserved1: bool = False
    Dma64BitAddresses: bool = False
    BusNumber: int = 0
    DmaChannel: int = 0
    InterfaceType: INTERFACE_TYPE = INTERFACE_TYPE.Isa
    DmaWidth: DMA_WIDTH = DMA_WIDTH.Width8Bits
    DmaSpeed: DMA_SPEED = DMA_SPEED.Compatible
    MaximumLength: int = 0
    DmaPort: int = 0

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> DEVICE_DESCRIPTION:
        """From a scenario/GUI table: enum fields by WDK name, unknown fields refused."""
        names = {f.name for f in fields(cls)}
        unknown = set(table) - names
        if unknown:
            raise ValueError(f"DEVICE_DESCRIPTION has no field {sorted(unknown)[0]!r}")
        converted: dict[str, Any] = {}
        for key, value in table.items():
            enum_type = {"InterfaceType": INTERFACE_TYPE, "DmaWidth": DMA_WIDTH, "DmaSpeed": DMA_SPEED}.get(key)
            if enum_type is not None and isinstance(value, str):
                value = enum_type[value]
            converted[key] = value
        return cls(**converted)

    def to_table(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def pci_bus_master_table(maximum_length: int) -> dict[str, Any]:
    """The table form of a 32-bit scatter/gather PCI bus master's DEVICE_DESCRIPTION."""
    return {
        "Version": 1,
        "Master": True,
        "ScatterGather": True,
        "Dma32BitAddresses": True,
        "InterfaceType": INTERFACE_TYPE.PCIBus.name,
        "DmaWidth": DMA_WIDTH.Width32Bits.name,
        "MaximumLength": maximum_length,
    }


class CommonBuffer(NamedTuple):
    """A common buffer an adapter allocated: what FreeCommonBuffer must be given back."""

    allocation: Allocation
    length: int  # bytes asked for
    cache_enabled: bool

    @property
    def logical(self) -> int:
        """The device-side (logical) address: the physical base, as no IOMMU is modelled."""
        return self.allocation.base


@dataclass
class ScatterGatherList:
    """SCATTER_GATHER_LIST: (physical address, length) elements."""

    name: str
    elements: list[tuple[int, int]] = field(default_factory=list)

    def to_json_value(self) -> str:
        return self.name


class DmaAdapter(ModelObject):
    """One DMA adapter object: a system DMA channel (slave) or a bus master."""

    interfaces: ClassVar[tuple[str, ...]] = ("DMA_OPERATIONS",)
    kind: ClassVar[str] = "DMA adapter"

    def __init__(self, system: System, description: DEVICE_DESCRIPTION, map_registers: int) -> None:
        super().__init__(system, f"adapter_ch{description.DmaChannel}" if not description.Master else "adapter_bm")
        self.description = description
        self.version = 1  # DMA_ADAPTER.Version: always 1, whatever the description's version
        self.map_registers = map_registers
        self.slave = not description.Master
        self.channel = description.DmaChannel if self.slave else None
        self.width16 = self.slave and self.channel is not None and self.channel >= 4
        if self.slave or not (description.Dma32BitAddresses or description.Dma64BitAddresses):
            self.highest_address = ISA_LIMIT - 1
        else:
            self.highest_address = 0xFFFFFFFF
        self.boundary = 0x10000 if self.slave else 0  # ReactOS: 64 KiB for every slave adapter
        self.channel_holder: str | None = None
        self.queued: tuple[Any, Any, Any, int] | None = None  # (device, routine, context, map registers)
        self.map_registers_in_use = 0
        self.next_map_register_base = 0x8F000000
        self.common_buffers: dict[int, CommonBuffer] = {}  # by kernel virtual address
        self.sg_lists: dict[str, ScatterGatherList] = {}
        self.sg_built = 0  # names stay unique after lists are put back
        self.transfers = 0
        self.bounce_buffer: Allocation | None = None
        self.bounced: tuple[int, int, bool] | None = None  # (va, length, to device) of a bounced transfer

    # --- helpers ---------------------------------------------------------------------------
    @property
    def machine(self) -> Any:
        return self.system.machine

    def describe(self) -> dict[str, Any]:
        d = self.description
        return {
            "type": "slave (system DMA)" if self.slave else "bus master",
            "DmaChannel": self.channel,
            "DmaWidth": d.DmaWidth.name,
            "MaximumLength": d.MaximumLength,
            "map registers": self.map_registers,
            "highest address": self.highest_address,
            "channel held by": self.channel_holder,
            "common buffers": len(self.common_buffers),
        }

    def _slave_ports(self) -> tuple[int, int, int, int, int, int]:
        """(address, count, single mask, mode, clear flip-flop, page) ports of the channel."""
        ch = self.channel or 0
        if ch < 4:
            return 2 * ch, 2 * ch + 1, 0x0A, 0x0B, 0x0C, _PAGE_PORTS[ch]
        r = ch & 3
        return 0xC0 + 4 * r, 0xC2 + 4 * r, 0xD4, 0xD6, 0xD8, _PAGE_PORTS[ch]

    # --- DMA_OPERATIONS -----------------------------------------------------------------------
    def PutDmaAdapter(self) -> None:
        if self.channel_holder is not None:
            self.system.violation("adapter-channel", "PutDmaAdapter while the adapter channel is still allocated")
        if self.common_buffers:
            buffers = ", ".join(f"{va:#x}" for va in self.common_buffers)
            self.system.violation(
                "adapter-in-use",
                f"PutDmaAdapter while common buffers it allocated are still in use (at {buffers}): "
                "they can never be freed now",
            )
        if self.bounce_buffer is not None:
            # A fresh adapter for the channel would take new ones: without this the pages leak.
            self.system.machine.memory.free(self.bounce_buffer)
            self.bounce_buffer = None
        self.alive = False

    def AllocateCommonBuffer(self, Length: int, CacheEnabled: bool) -> Out:
        """Contiguous memory below the adapter's limit; at least one page, whatever Length is."""
        result = self.allocate_common(
            Length, boundary=self.boundary, label=f"{self.object_id} common buffer", cache_enabled=CacheEnabled
        )
        if result is None:
            return Out(0, {"LogicalAddress": 0})
        va, logical = result
        return Out(va, {"LogicalAddress": logical})

    def allocate_common(
        self, length: int, *, boundary: int, label: str, cache_enabled: bool = False
    ) -> tuple[int, int] | None:
        """The memory-manager half of AllocateCommonBuffer (also used for PhysicalAddressConstraint)."""
        if length <= 0:
            return None
        system = self.system
        memory = system.machine.memory
        allocation = memory.allocate_contiguous(
            max(length, PAGE_SIZE),
            highest_address=self.highest_address,
            boundary=boundary,
            owner=PageOwner.COMMON_BUFFER,
            label=label,
        )
        if allocation is None:
            system.sim.emit(
                MemoryRecord(action="allocate-failed", address=0, length=length, owner="COMMON_BUFFER", label=label)
            )
            return None
        mapping = system.kernel.address_space.map(allocation, label)
        self.common_buffers[mapping.va] = CommonBuffer(allocation, length, cache_enabled)
        system.sim.emit(
            MemoryRecord(action="allocate", address=allocation.base, length=length, owner="COMMON_BUFFER", label=label)
        )
        return mapping.va, allocation.base

    def FreeCommonBuffer(self, Length: int, LogicalAddress: int, VirtualAddress: int, CacheEnabled: bool) -> None:
        entry = self.common_buffers.get(VirtualAddress)
        if entry is None or (entry.length, entry.logical, entry.cache_enabled) != (
            Length,
            LogicalAddress,
            CacheEnabled,
        ):
            self.system.violation(
                "common-buffer-mismatch",
                f"FreeCommonBuffer(Length={Length:#x}, LogicalAddress={LogicalAddress:#x}, "
                f"VirtualAddress={VirtualAddress:#x}, CacheEnabled={CacheEnabled}) does not match "
                "any buffer this adapter allocated",
            )
            return
        self.free_common(VirtualAddress)

    def free_common(self, va: int) -> None:
        allocation, length, _ = self.common_buffers.pop(va)
        system = self.system
        system.kernel.address_space.unmap(va)
        system.machine.memory.free(allocation)
        system.sim.emit(
            MemoryRecord(
                action="free",
                address=allocation.base,
                length=length,
                owner="COMMON_BUFFER",
                label=allocation.label,
            )
        )

    def AllocateAdapterChannel(
        self, DeviceObject: Any, NumberOfMapRegisters: int, ExecutionRoutine: Any, Context: int
    ) -> NTSTATUS:
        if NumberOfMapRegisters > self.map_registers:
            return NTSTATUS.STATUS_INSUFFICIENT_RESOURCES  # and the routine is never called
        if ExecutionRoutine is None or not hasattr(ExecutionRoutine, "AdapterControl"):
            self.system.violation("null-object", "ExecutionRoutine does not name an adapter-control routine")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        if self.channel_holder is not None:
            if self.queued is not None:
                self.system.violation("adapter-channel", "a second AllocateAdapterChannel while one is already queued")
                return NTSTATUS.STATUS_SUCCESS
            self.queued = (DeviceObject, ExecutionRoutine, Context, NumberOfMapRegisters)
            return NTSTATUS.STATUS_SUCCESS
        self._grant(DeviceObject, ExecutionRoutine, Context, NumberOfMapRegisters)
        return NTSTATUS.STATUS_SUCCESS

    def _grant(self, device: Any, routine: Any, context: int, map_registers: int) -> None:
        self.channel_holder = getattr(routine, "object_id", "driver")
        self.map_registers_in_use = map_registers
        base = self.next_map_register_base
        self.next_map_register_base += 0x1000
        action = routine.AdapterControl(device, None, base, context)
        if action == IO_ALLOCATION_ACTION.DeallocateObject:
            self.channel_holder = None
            self.map_registers_in_use = 0
        elif action == IO_ALLOCATION_ACTION.DeallocateObjectKeepRegisters:
            self.channel_holder = None

    def FreeAdapterChannel(self) -> None:
        if self.channel_holder is None:
            self.system.violation("adapter-channel", "FreeAdapterChannel without an allocated adapter channel")
            return
        self.channel_holder = None
        self.map_registers_in_use = 0
        if self.queued is not None:
            device, routine, context, map_registers = self.queued
            self.queued = None
            self._grant(device, routine, context, map_registers)

    def FreeMapRegisters(self, MapRegisterBase: int, NumberOfMapRegisters: int) -> None:
        if NumberOfMapRegisters > self.map_registers_in_use:
            self.system.violation(
                "map-registers",
                f"FreeMapRegisters of {NumberOfMapRegisters} but {self.map_registers_in_use} are held",
            )
        self.map_registers_in_use = max(0, self.map_registers_in_use - NumberOfMapRegisters)

    def MapTransfer(
        self, Mdl: Mdl | None, MapRegisterBase: int, CurrentVa: int, Length: int, WriteToDevice: bool
    ) -> Out:
        if Mdl is None:
            self.system.violation("null-object", "MapTransfer without an MDL")
            return Out(0, {"Length": Length})
        start = Mdl.va & ~(PAGE_SIZE - 1)
        if not start <= CurrentVa < Mdl.va + Mdl.byte_count or Length <= 0:
            self.system.violation(
                "map-registers",
                f"CurrentVa {CurrentVa:#x} + Length {Length:#x} lies outside the MDL's buffer",
            )
            return Out(0, {"Length": 0})
        length = min(Length, Mdl.va + Mdl.byte_count - CurrentVa)
        length = Mdl.contiguous_run(CurrentVa, length)
        physical = Mdl.physical_address(CurrentVa)
        if self.slave:
            # Cut at the first 64 KiB boundary, as a non-EISA HAL must (hardware.md §4.3).
            length = min(length, 0x10000 - (physical & 0xFFFF))
            if physical + length > ISA_LIMIT:
                bounce = self._bounce(Mdl, CurrentVa, length, WriteToDevice)
                if bounce is None:
                    return Out(0, {"Length": 0})
                physical = bounce
            self._program_8237(physical, length, WriteToDevice)
        self.transfers += 1
        return Out(physical, {"Length": length})

    def _program_8237(self, physical: int, length: int, write_to_device: bool) -> None:
        """IoMapTransfer's controller programming, in ReactOS's order (hardware.md fact 23)."""
        io_write = self.machine.io_write
        addr_port, count_port, mask_port, mode_port, ff_port, page_port = self._slave_ports()
        ch = (self.channel or 0) & 3
        mode = ch | (0x10 if self.description.AutoInitialize else 0) | (0x00 if self.description.DemandMode else 0x40)
        mode |= 0x08 if write_to_device else 0x04  # the 8237's "read" moves memory to the device
        if self.width16:
            offset, count = (physical >> 1) & 0xFFFF, (length >> 1) - 1
        else:
            offset, count = physical & 0xFFFF, length - 1
        io_write(ff_port, 0)
        io_write(mode_port, mode)
        io_write(addr_port, offset & 0xFF)
        io_write(addr_port, (offset >> 8) & 0xFF)
        io_write(page_port, (physical >> 16) & 0xFF)
        io_write(count_port, count & 0xFF)
        io_write(count_port, (count >> 8) & 0xFF)
        io_write(mask_port, ch)  # unmask

    def FlushAdapterBuffers(
        self, Mdl: Mdl | None, MapRegisterBase: int, CurrentVa: int, Length: int, WriteToDevice: bool
    ) -> bool:
        if self.slave:
            _, _, mask_port, *_ = self._slave_ports()
            self.machine.io_write(mask_port, ((self.channel or 0) & 3) | 4)  # mask the channel
            self._copy_back()
        return True

    def _bounce(self, mdl: Mdl, va: int, length: int, write_to_device: bool) -> int | None:
        """Map-register buffers below 16 MiB stand in for memory the channel cannot reach.

        Data going to the device is copied in now, once (so an auto-initialize transfer keeps
        playing this copy, whatever is written to the real buffer later: why such transfers
        need a common buffer); data from the device is copied back by FlushAdapterBuffers.
        """
        memory = self.system.machine.memory
        if self.bounce_buffer is None:
            self.bounce_buffer = memory.allocate_contiguous(
                self.map_registers * PAGE_SIZE,
                highest_address=ISA_LIMIT - 1,
                boundary=0x10000,
                owner=PageOwner.MAP_REGISTER_BUFFER,
                label=f"{self.object_id} map-register buffers",
            )
        if self.bounce_buffer is None or length > self.bounce_buffer.length:
            self.system.violation("map-registers", f"no map-register buffers below 16 MiB for {length:#x} bytes")
            return None
        start = self.bounce_buffer.base
        if write_to_device:
            memory.write(start, self.system.kernel.address_space.read(va, length))
        self.bounced = (va, length, write_to_device)
        self.system.sim.emit(
            MemoryRecord(action="bounce", address=start, length=length, owner="MAP_REGISTER_BUFFER", label=mdl.name)
        )
        return start

    def _copy_back(self) -> None:
        if self.bounced is None or self.bounce_buffer is None:
            return
        va, length, write_to_device = self.bounced
        self.bounced = None
        if not write_to_device:
            done = length if self.description.IgnoreCount else length - self.ReadDmaCounter()
            data = self.system.machine.memory.read(self.bounce_buffer.base, max(0, done))
            self.system.kernel.address_space.write(va, data)

    def GetDmaAlignment(self) -> int:
        return 1

    def ReadDmaCounter(self) -> int:
        """Bytes left, as ReactOS's HalReadDmaCounter reads them (hardware.md §1.10)."""
        if not self.slave:
            self.system.violation("bad-argument", "ReadDmaCounter is for system (slave) DMA adapters only")
            return 0
        io_read, io_write = self.machine.io_read, self.machine.io_write
        _, count_port, _, _, ff_port, _ = self._slave_ports()
        previous_high = -1
        while True:
            io_write(ff_port, 0)
            low = io_read(count_port)
            high = io_read(count_port)
            if high == previous_high:
                break
            previous_high = high
        count = (high << 8) | low
        remaining = (count + 1) & 0xFFFF
        return remaining * 2 if self.width16 else remaining

    def GetScatterGatherList(
        self,
        DeviceObject: Any,
        Mdl: Mdl | None,
        CurrentVa: int,
        Length: int,
        ExecutionRoutine: Any,
        Context: int,
        WriteToDevice: bool,
    ) -> NTSTATUS:
        if Mdl is None or ExecutionRoutine is None:
            self.system.violation("null-object", "GetScatterGatherList needs an MDL and an execution routine")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        # Checked up front: an address before the MDL would index its page list from the end
        # and yield another page's address instead of failing.
        if Length <= 0 or CurrentVa < Mdl.va or CurrentVa + Length > Mdl.va + Mdl.byte_count:
            self.system.violation(
                "map-registers",
                f"the scatter/gather range CurrentVa {CurrentVa:#x} + Length {Length:#x} runs outside the MDL",
            )
            return NTSTATUS.STATUS_INVALID_PARAMETER
        elements: list[tuple[int, int]] = []
        va, left = CurrentVa, Length
        while left > 0:
            run = Mdl.contiguous_run(va, left)
            elements.append((Mdl.physical_address(va), run))
            va += run
            left -= run
        self.sg_built += 1
        name = f"{self.object_id}.sg{self.sg_built}"
        sg = ScatterGatherList(name, elements)
        self.sg_lists[name] = sg
        routine = getattr(ExecutionRoutine, "AdapterListControl", None)
        if routine is not None:
            routine(DeviceObject, None, sg, Context)
        return NTSTATUS.STATUS_SUCCESS

    def PutScatterGatherList(self, ScatterGather: Any, WriteToDevice: bool) -> None:
        name = getattr(ScatterGather, "name", None)
        if name not in self.sg_lists:
            self.system.violation("adapter-channel", "PutScatterGatherList of a list this adapter did not build")
            return
        del self.sg_lists[name]


_PAGE_PORTS = {0: 0x87, 1: 0x83, 2: 0x81, 3: 0x82, 5: 0x8B, 6: 0x89, 7: 0x8A}


class IoManager(ModelObject):
    """The I/O manager's IoGetDmaAdapter (object id ``io``)."""

    interfaces: ClassVar[tuple[str, ...]] = ("Kernel",)
    kind: ClassVar[str] = "I/O manager"
    eisa: ClassVar[bool] = False  # the modelled machine is an ISA PC/AT

    def __init__(self, system: System) -> None:
        super().__init__(system, "io")
        self.slave_adapters: dict[int, DmaAdapter] = {}

    def IoGetDmaAdapter(self, PhysicalDeviceObject: Any, DeviceDescription: Any) -> Out:
        desc = DeviceDescription
        if isinstance(desc, dict):
            try:
                desc = DEVICE_DESCRIPTION.from_table(desc)
            except (KeyError, ValueError, TypeError) as exc:
                self.system.violation("bad-argument", f"DeviceDescription: {exc}")
                return Out(None, {"NumberOfMapRegisters": 0})
        adapter = self.get_adapter(desc)
        if adapter is None:
            return Out(None, {"NumberOfMapRegisters": 0})
        return Out(adapter, {"NumberOfMapRegisters": adapter.map_registers})

    def get_adapter(self, desc: DEVICE_DESCRIPTION) -> DmaAdapter | None:
        """NULL for what the HAL refuses (hardware.md §4.1, portcls-contract.md §5.2)."""
        if desc.Version > 2:
            return None  # DEVICE_DESCRIPTION_VERSION3 needs Windows 8; this is the XP-era HAL
        pages = bytes_to_pages(desc.MaximumLength & 0x7FFFFFFF) + 1
        if not desc.Master:
            ch = desc.DmaChannel
            if not 0 <= ch <= 7 or ch == 4:
                return None  # channel 4 is the cascade
            wide = desc.DmaWidth == DMA_WIDTH.Width16Bits
            if not self.eisa and (ch >= 4) != wide:
                return None  # controller 1 must be 8-bit, controller 2 16-bit
            registers = 1 if desc.ScatterGather else min(pages, SLAVE_MAP_REGISTER_CAP)
            existing = self.slave_adapters.get(ch)
            if existing is not None and existing.alive:
                # ReactOS keeps one adapter per system DMA channel and reuses it.
                existing.description = desc
                existing.map_registers = registers
                return existing
            adapter = DmaAdapter(self.system, desc, registers)
            self.slave_adapters[ch] = adapter
            return adapter
        return DmaAdapter(self.system, desc, min(pages, MASTER_MAP_REGISTER_CAP))
