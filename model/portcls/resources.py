"""The adapter driver's device object and resource list, and how PortCls makes DMA channels from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from model.kernel.dma_adapter import DEVICE_DESCRIPTION, DmaAdapter
from model.kernel.types import DMA_SPEED, DMA_WIDTH, INTERFACE_TYPE, NTSTATUS
from model.objects import ModelObject

if TYPE_CHECKING:
    from model.portcls.dma_channel import DmaChannel
    from model.system import System


class DeviceObject(ModelObject):
    """The adapter's functional device object (and, for IoGetDmaAdapter, its PDO)."""

    kind: ClassVar[str] = "device object"

    def __init__(self, system: System, name: str, base_id: str = "device") -> None:
        super().__init__(system, base_id)
        self.name = name

    def describe(self) -> dict[str, Any]:
        return {"device": self.name}


@dataclass
class Resources:
    io_ports: list[tuple[int, int]] = field(default_factory=list)  # (base, length)
    interrupts: list[int] = field(default_factory=list)
    dma_channels: list[int] = field(default_factory=list)
    memory: list[tuple[int, int]] = field(default_factory=list)


class ResourceList(ModelObject):
    """IResourceList: what IRP_MN_START_DEVICE gave the device."""

    kind: ClassVar[str] = "resource list"

    def __init__(self, system: System, resources: Resources, base_id: str = "resources") -> None:
        super().__init__(system, base_id)
        self.resources = resources

    def dma_channel(self, index: int) -> int | None:
        channels = self.resources.dma_channels
        return channels[index] if 0 <= index < len(channels) else None

    def describe(self) -> dict[str, Any]:
        r = self.resources
        return {
            "I/O ports": ", ".join(f"0x{b:X}-0x{b + n - 1:X}" for b, n in r.io_ports),
            "IRQ": ", ".join(str(i) for i in r.interrupts),
            "DMA": ", ".join(str(d) for d in r.dma_channels),
            "memory": ", ".join(f"0x{b:X}+0x{n:X}" for b, n in r.memory),
        }


def make_channel(
    system: System, description: DEVICE_DESCRIPTION, device: Any, base_id: str | None = None
) -> tuple[NTSTATUS, DmaChannel | None]:
    """What the ports' NewXxxDmaChannel and PcNewDmaChannel share: adapter, then channel object."""
    from model.portcls.dma_channel import DmaChannel, SlaveDmaChannel

    io = system.objects.get("io")
    if io is None:
        return NTSTATUS.STATUS_DEVICE_CONFIGURATION_ERROR, None
    result = system.call(io, "IoGetDmaAdapter", {"PhysicalDeviceObject": device, "DeviceDescription": description})
    adapter = result.value
    if not isinstance(adapter, DmaAdapter):
        return NTSTATUS.STATUS_DEVICE_CONFIGURATION_ERROR, None  # as ReactOS's PcNewDmaChannel
    cls = DmaChannel if description.Master else SlaveDmaChannel
    if base_id is None:
        base_id = "dma" if description.Master else f"dma{8 if description.DmaChannel < 4 else 16}"
    return NTSTATUS.STATUS_SUCCESS, cls(system, adapter, description, device, base_id)


def slave_description(channel: int, maximum_length: int, demand_mode: bool, speed: DMA_SPEED) -> DEVICE_DESCRIPTION:
    """NewSlaveDmaChannel's description: auto-initialize, the width the channel's controller moves."""
    return DEVICE_DESCRIPTION(
        Version=1,
        Master=False,
        DemandMode=demand_mode,
        AutoInitialize=True,
        DmaChannel=channel,
        InterfaceType=INTERFACE_TYPE.Isa,
        DmaWidth=DMA_WIDTH.Width16Bits if channel >= 4 else DMA_WIDTH.Width8Bits,
        DmaSpeed=speed,
        MaximumLength=maximum_length,
    )


def master_description(
    maximum_length: int,
    dma32: bool,
    dma64: bool,
    *,
    scatter_gather: bool | None = None,
    ignore_count: bool = False,
) -> DEVICE_DESCRIPTION:
    """A bus master's description (WaveCyclic passes ScatterGather = Dma32 or Dma64, as ReactOS does)."""
    return DEVICE_DESCRIPTION(
        Version=1,
        Master=True,
        ScatterGather=(dma32 or dma64) if scatter_gather is None else scatter_gather,
        Dma32BitAddresses=dma32,
        Dma64BitAddresses=dma64,
        IgnoreCount=ignore_count,
        InterfaceType=INTERFACE_TYPE.PCIBus,
        DmaWidth=DMA_WIDTH.Width32Bits,
        MaximumLength=maximum_length,
    )
