"""Interrupt lines (ISA style, edge-triggered) and their service routines.

A device raises its line; after the machine's ISR latency the connected service routine
runs as its own event. The device lowers the line when the driver acknowledges it. A
second raise while the line is still high is not a new edge, so it is not delivered
again (as on the 8259 and in DOSBox).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from model.trace import InterruptRecord

if TYPE_CHECKING:
    from model.simulator import Simulator

InterruptHandler = Callable[[int], None]


@dataclass
class InterruptLine:
    irq: int
    device: str = ""
    high: bool = False
    raised: int = 0
    acknowledged: int = 0
    delivered: int = 0
    handler: InterruptHandler | None = None


@dataclass
class InterruptController:
    """Sixteen lines, a latency from edge to service routine, and the record of each."""

    sim: Simulator
    isr_latency_ns: int = 2_000
    lines: list[InterruptLine] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.lines:
            self.lines = [InterruptLine(irq) for irq in range(16)]

    def connect(self, irq: int, handler: InterruptHandler | None, device: str = "") -> None:
        """Attach the service routine for ``irq`` (a bound method, so snapshots can pickle it)."""
        line = self.lines[irq]
        line.handler = handler
        if device:
            line.device = device

    def raise_line(self, irq: int, device: str) -> None:
        line = self.lines[irq]
        line.device = device
        line.raised += 1
        self.sim.record(InterruptRecord, device, irq, "raise")
        if line.high:
            return  # not a new edge
        line.high = True
        if line.handler is not None:
            sim = self.sim
            sim.schedule_at(sim.now_ns + self.isr_latency_ns, self._deliver, irq, name=f"ISR IRQ {irq}", source=device)

    def lower_line(self, irq: int, device: str) -> None:
        line = self.lines[irq]
        if not line.high:
            return
        line.high = False
        line.acknowledged += 1
        self.sim.record(InterruptRecord, device, irq, "ack")

    def _deliver(self, irq: int) -> None:
        line = self.lines[irq]
        if line.handler is None:
            return
        line.delivered += 1
        self.sim.record(InterruptRecord, line.device, irq, "isr")
        line.handler(irq)
