"""IServiceGroup: a list of service sinks run together from one DPC.

ISR -> IPortXxx::Notify(group) -> group.RequestService() queues the group's DPC -> after the
kernel's DPC latency the DPC calls RequestService on every member (portcls-contract.md §1.9).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from model.kernel.types import NTSTATUS
from model.objects import ComObject, ModelObject

if TYPE_CHECKING:
    from model.system import System


class ServiceGroup(ComObject):
    interfaces: ClassVar[tuple[str, ...]] = ("IServiceGroup",)
    kind: ClassVar[str] = "service group"

    def __init__(self, system: System, base_id: str = "sg") -> None:
        super().__init__(system, base_id)
        self.members: list[ModelObject] = []
        self.delayed_supported = False
        self.requests = 0
        self.services = 0

    def RequestService(self) -> None:
        """Queue the DPC (a second request before it runs is merged into the first)."""
        self.requests += 1
        self.system.kernel.queue_dpc(self.object_id, self._dpc)

    def _dpc(self) -> None:
        self.services += 1
        system = self.system
        with system.acting_as(self.object_id):
            for member in list(self.members):
                system.call(member, "RequestService")

    def AddMember(self, pServiceSink: Any) -> NTSTATUS:
        if pServiceSink is None:
            self.system.violation("null-object", "AddMember(NULL)")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        if pServiceSink not in self.members:
            if isinstance(pServiceSink, ComObject) and not pServiceSink.add_reference(f"{self.object_id}.AddMember"):
                return NTSTATUS.STATUS_INVALID_PARAMETER  # a destroyed sink is never serviced
            self.members.append(pServiceSink)
        return NTSTATUS.STATUS_SUCCESS

    def RemoveMember(self, pServiceSink: Any) -> None:
        if pServiceSink in self.members:
            self.members.remove(pServiceSink)
            if hasattr(pServiceSink, "refcount"):
                self.system.call(pServiceSink, "Release")

    def SupportDelayedService(self) -> None:
        self.delayed_supported = True

    def RequestDelayedService(self, ullDelay: int) -> None:
        if not self.delayed_supported:
            self.system.violation("bad-argument", "RequestDelayedService before SupportDelayedService")
            return
        # 100-ns units; negative is relative to now, positive is an absolute system time.
        delay_ns = -ullDelay * 100 if ullDelay < 0 else max(0, ullDelay * 100 - self.system.now_ns)
        self.system.kernel.set_timer(f"{self.object_id}.delayed", delay_ns, 0, self._dpc)

    def CancelDelayedService(self) -> None:
        self.system.kernel.cancel_timer(f"{self.object_id}.delayed")

    def describe(self) -> dict[str, Any]:
        return {
            "members": [m.object_id for m in self.members],
            "requests": self.requests,
            "DPCs run": self.services,
            "refcount": self.refcount,
        }
