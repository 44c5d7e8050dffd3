"""The functions portcls.sys exports that the DMA path uses (object id ``portcls``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from model.kernel.dma_adapter import DEVICE_DESCRIPTION
from model.kernel.types import NTSTATUS, POOL_TYPE
from model.objects import ModelObject, Out
from model.portcls.resources import make_channel
from model.portcls.service_group import ServiceGroup

if TYPE_CHECKING:
    from model.system import System


class PortClsFunctions(ModelObject):
    interfaces: ClassVar[tuple[str, ...]] = ("PortCls",)
    kind: ClassVar[str] = "portcls.sys"

    def __init__(self, system: System) -> None:
        super().__init__(system, "portcls")

    def PcNewDmaChannel(self, OuterUnknown: Any, PoolType: POOL_TYPE, DeviceDescription: Any, DeviceObject: Any) -> Out:
        system = self.system
        if PoolType == POOL_TYPE.PagedPool:
            system.violation("non-paged-pool", "PcNewDmaChannel with PagedPool: the channel is used at DISPATCH_LEVEL")
        if isinstance(DeviceDescription, dict):
            try:
                DeviceDescription = DEVICE_DESCRIPTION.from_table(DeviceDescription)
            except (KeyError, ValueError, TypeError) as exc:
                system.violation("bad-argument", f"DeviceDescription: {exc}")
                return Out(NTSTATUS.STATUS_INVALID_PARAMETER, {"OutDmaChannel": None})
        if DeviceDescription is None:
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, {"OutDmaChannel": None})
        status, channel = make_channel(system, DeviceDescription, DeviceObject)
        return Out(status, {"OutDmaChannel": channel})

    def PcNewServiceGroup(self, OuterUnknown: Any) -> Out:
        return Out(NTSTATUS.STATUS_SUCCESS, {"OutServiceGroup": ServiceGroup(self.system)})
