"""Faults a user or a scenario injects into a running system, as calls on the ``faults`` object.

Being interface calls (dmaviz's own FaultInjection interface), they are traced, checked,
recorded by a session like any other call, and written into a saved scenario as actions,
so a session with injected faults replays exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from model.hardware.memory import PAGE_SIZE
from model.kernel.kernel import LatencySpike
from model.kernel.types import NTSTATUS
from model.objects import ModelObject
from model.trace import MemoryRecord
from model.units import MS, US

if TYPE_CHECKING:
    from model.system import System


class FaultInjector(ModelObject):
    interfaces: ClassVar[tuple[str, ...]] = ("FaultInjection",)
    kind: ClassVar[str] = "fault injector"

    def __init__(self, system: System) -> None:
        super().__init__(system, "faults")
        self.injected = 0

    def StarveClient(self, Client: Any, Milliseconds: int) -> NTSTATUS:
        if Client is None:
            self.system.violation("null-object", "StarveClient needs a client")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        now = self.system.now_ns
        Client.starve(now, now + Milliseconds * MS)
        self.injected += 1
        return NTSTATUS.STATUS_SUCCESS

    def DelayDpcs(self, Milliseconds: int, ExtraMicroseconds: int) -> NTSTATUS:
        now = self.system.now_ns
        self.system.kernel.spikes.append(LatencySpike(now, now + Milliseconds * MS, ExtraMicroseconds * US))
        self.injected += 1
        return NTSTATUS.STATUS_SUCCESS

    def TakeMemory(self, Percent: int, Seed: int, LargestFreeRunPages: int) -> NTSTATUS:
        memory = self.system.machine.memory
        taken = memory.fragment(Percent / 100, Seed, max_free_run_pages=LargestFreeRunPages or None)
        self.system.sim.emit(
            MemoryRecord(
                action="pressure",
                address=0,
                length=taken * PAGE_SIZE,
                owner="SYSTEM",
                label=f"fault: {taken} pages taken at random (seed {Seed})",
            )
        )
        self.injected += 1
        return NTSTATUS.STATUS_SUCCESS

    def describe(self) -> dict[str, Any]:
        return {"faults injected": self.injected}
