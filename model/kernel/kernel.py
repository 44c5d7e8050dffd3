"""The parts of the Windows kernel the audio DMA path runs on.

Interrupt service routines (IoConnectInterrupt), DPCs (KeInsertQueueDpc) with a settable
latency and latency spikes, timers (KeSetTimerEx) that queue DPCs, raised-IRQL sections,
spin locks, and the kernel's virtual address space. Everything runs as simulator events;
the ``current`` context says who is running now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from model.kernel.contexts import USER_CONTEXTS, ContextKind, ExecutionContext, Pushed
from model.kernel.types import Irql
from model.kernel.virtual_memory import KernelAddressSpace
from model.trace import DpcRecord

if TYPE_CHECKING:
    from model.hardware.machine import Machine
    from model.simulator import Event

Routine = Callable[[], None]


@dataclass
class LatencySpike:
    """Extra DPC latency between two times (a fault a scenario can inject)."""

    start_ns: int
    end_ns: int
    extra_ns: int


@dataclass
class KernelTimer:
    name: str
    routine: Routine
    period_ns: int
    event: Event | None = None


@dataclass
class Kernel:
    machine: Machine
    dpc_latency_ns: int = 20_000
    spikes: list[LatencySpike] = field(default_factory=list)
    address_space: KernelAddressSpace = field(init=False)
    contexts: dict[str, ExecutionContext] = field(default_factory=dict)
    stack: list[ExecutionContext] = field(default_factory=list)
    queued_dpcs: dict[str, Event] = field(default_factory=dict)
    timers: dict[str, KernelTimer] = field(default_factory=dict)
    isr_routines: dict[int, tuple[str, Callable[[], None]]] = field(default_factory=dict)
    dpc_count: int = 0
    isr_count: int = 0

    def __post_init__(self) -> None:
        self.address_space = KernelAddressSpace(self.machine.memory)
        memory = self.machine.memory
        # Real-mode memory and the BIOS below 1 MiB, then the kernel, HAL and boot drivers.
        memory.reserve(0, 0x100000, "BIOS and real-mode memory")
        memory.reserve(0x100000, 0x200000, "kernel image and boot drivers")
        for name, (kind, irql, cpu) in USER_CONTEXTS.items():
            self.contexts[name] = ExecutionContext(name, kind, irql, cpu)

    @property
    def now_ns(self) -> int:
        return self.machine.sim.now_ns

    # --- who is running -----------------------------------------------------------------
    @property
    def current(self) -> ExecutionContext:
        return self.stack[-1] if self.stack else self.contexts["passive"]

    @property
    def irql(self) -> Irql:
        return self.current.irql

    def context(
        self,
        name: str,
        kind: ContextKind = ContextKind.DPC,
        irql: Irql = Irql.DISPATCH_LEVEL,
        processor: int = 0,
    ) -> ExecutionContext:
        ctx = self.contexts.get(name)
        if ctx is None:
            ctx = self.contexts[name] = ExecutionContext(name, kind, irql, processor)
        return ctx

    def running(self, ctx: ExecutionContext, *, fresh: bool = False) -> Pushed[ExecutionContext]:
        """``with kernel.running(ctx):`` runs as ``ctx``; ``fresh`` starts its CPU-time cursor now."""
        now = self.machine.sim.now_ns
        if fresh or ctx.busy_until_ns < now:
            ctx.busy_until_ns = now
        return Pushed(self.stack, ctx)

    @contextmanager
    def raised_irql(self, irql: Irql) -> Iterator[None]:
        """KeRaiseIrql/KeLowerIrql around a block (never lowers)."""
        ctx = self.current
        old = ctx.irql
        ctx.irql = max(old, irql)
        try:
            yield
        finally:
            ctx.irql = old

    @contextmanager
    def spin_lock(self, name: str) -> Iterator[None]:
        """KeAcquireSpinLock: DISPATCH_LEVEL and the lock held for the block."""
        ctx = self.current
        ctx.locks.append(name)
        try:
            with self.raised_irql(Irql.DISPATCH_LEVEL):
                yield
        finally:
            ctx.locks.remove(name)

    # --- interrupts ------------------------------------------------------------------------
    def connect_interrupt(self, irq: int, name: str, routine: Callable[[], None]) -> None:
        """IoConnectInterrupt: ``routine`` runs at DIRQL on CPU 0 when ``irq`` fires."""
        self.isr_routines[irq] = (name, routine)
        self.machine.connect_interrupt(irq, self._interrupt)

    def disconnect_interrupt(self, irq: int) -> None:
        self.isr_routines.pop(irq, None)
        self.machine.connect_interrupt(irq, None)

    def _interrupt(self, irq: int) -> None:
        found = self.isr_routines.get(irq)
        if found is None:
            return
        name, routine = found
        self.isr_count += 1
        ctx = self.context(f"isr:{name}", ContextKind.ISR, Irql.DIRQL, 0)
        with self.running(ctx, fresh=True):
            routine()

    # --- DPCs --------------------------------------------------------------------------------
    def latency_at(self, t_ns: int) -> int:
        if not self.spikes:
            return self.dpc_latency_ns
        extra = sum(s.extra_ns for s in self.spikes if s.start_ns <= t_ns < s.end_ns)
        return self.dpc_latency_ns + extra

    def queue_dpc(self, name: str, routine: Routine, processor: int = 0) -> bool:
        """KeInsertQueueDpc: FALSE if this DPC is already queued."""
        if name in self.queued_dpcs:
            return False
        event = self.machine.sim.schedule_in(
            self.latency_at(self.now_ns),
            self._run_dpc,
            name,
            routine,
            processor,
            name=f"DPC {name}",
            source=name,
        )
        self.queued_dpcs[name] = event
        self.machine.sim.record(DpcRecord, name, "queued", processor)
        return True

    def _run_dpc(self, name: str, routine: Routine, processor: int) -> None:
        self.queued_dpcs.pop(name, None)
        self.dpc_count += 1
        self.machine.sim.record(DpcRecord, name, "run", processor)
        ctx = self.context(f"dpc:{name}", ContextKind.DPC, Irql.DISPATCH_LEVEL, processor)
        with self.running(ctx, fresh=True):
            routine()

    # --- timers --------------------------------------------------------------------------------
    def set_timer(self, name: str, due_ns: int, period_ns: int, routine: Routine) -> None:
        """KeSetTimerEx with a DPC: first expiry after ``due_ns``, then every ``period_ns`` (0 = once)."""
        self.cancel_timer(name)
        timer = KernelTimer(name, routine, period_ns)
        self.timers[name] = timer
        timer.event = self.machine.sim.schedule_in(due_ns, self._timer_expired, name, name=f"timer {name}", source=name)

    def cancel_timer(self, name: str) -> bool:
        timer = self.timers.pop(name, None)
        if timer is None:
            return False
        self.machine.sim.cancel(timer.event)
        return True

    def _timer_expired(self, name: str) -> None:
        timer = self.timers.get(name)
        if timer is None:
            return
        if timer.period_ns > 0:
            timer.event = self.machine.sim.schedule_in(
                timer.period_ns, self._timer_expired, name, name=f"timer {name}", source=name
            )
        else:
            del self.timers[name]
        self.queue_dpc(name, timer.routine)
