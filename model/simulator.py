"""Virtual time and the deterministic event queue.

One clock, in integer nanoseconds. Events are ordered by (time, insertion number), so
ties run in the order they were scheduled. ``step()`` runs exactly one event. Devices
that move data continuously register a *sync hook*: before any event runs, and before
anything outside the model looks at the machine, every hook is called with the current
time so the device can bring its transfers up to date (rate x elapsed, never byte by
byte). Events and hooks are bound methods of model objects, so the whole queue can be
pickled with the model for snapshots.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from model.trace import EventRecord, Record, Trace

if TYPE_CHECKING:
    from model.hardware.unit_clock import ClockGroup


@dataclass(slots=True, eq=False)
class Event:
    """One scheduled happening. ``fn(*args)`` runs when the clock reaches ``time_ns``."""

    time_ns: int
    order: int
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    name: str
    source: str
    cancelled: bool = False

    def describe(self) -> str:
        return f"{self.name} ({self.source})"


class SimulationError(RuntimeError):
    """A misuse of the simulator itself (scheduling in the past, for example)."""


@dataclass
class Simulator:
    """The virtual clock, the event queue and the trace."""

    now_ns: int = 0
    steps: int = 0
    trace: Trace = field(default_factory=Trace)
    record_events: bool = False  # an EventRecord per step (the trace's step_starts always mark steps)
    _queue: list[tuple[int, int, Event]] = field(default_factory=list, repr=False)
    _order: int = 0
    _synced_at: int = -1  # devices are up to date at this time
    _sync_hooks: list[tuple[Callable[[int], None], ClockGroup | None]] = field(default_factory=list, repr=False)
    # Model objects that react to records (a scenario's "after the 3rd terminal count" actions).
    # Unlike trace subscribers they are part of the model, so snapshots carry them.
    watchers: list[Callable[[Record], None]] = field(default_factory=list, repr=False)

    # --- scheduling ---------------------------------------------------------------
    def schedule_at(self, time_ns: int, fn: Callable[..., Any], *args: Any, name: str, source: str) -> Event:
        if time_ns < self.now_ns:
            raise SimulationError(f"cannot schedule {name!r} at {time_ns} ns, before now ({self.now_ns} ns)")
        event = Event(int(time_ns), self._order, fn, args, name, source)
        self._order += 1
        heapq.heappush(self._queue, (event.time_ns, event.order, event))
        return event

    def schedule_in(self, delay_ns: int, fn: Callable[..., Any], *args: Any, name: str, source: str) -> Event:
        return self.schedule_at(self.now_ns + int(delay_ns), fn, *args, name=name, source=source)

    @staticmethod
    def cancel(event: Event | None) -> None:
        if event is not None:
            event.cancelled = True

    def peek(self) -> Event | None:
        """The event that will run next, or None when the queue is empty."""
        queue = self._queue
        while queue and queue[0][2].cancelled:
            heapq.heappop(queue)
        return queue[0][2] if queue else None

    def pending(self) -> list[Event]:
        """Every live event in the order it will run (for display; not cheap)."""
        return [e for _, _, e in sorted(self._queue) if not e.cancelled]

    # --- running ------------------------------------------------------------------
    def add_sync_hook(self, hook: Callable[[int], None], clocks: ClockGroup | None = None) -> None:
        """Call ``hook(now)`` before each event; only while one of ``clocks`` runs, if given."""
        self._sync_hooks.append((hook, clocks))

    def sync(self) -> None:
        """Bring every continuously running device up to the current time.

        Repeating it at the same time is a no-op (units due depend only on time, and a
        device that changes its own flow at this time syncs itself), so it is skipped.
        """
        now = self.now_ns
        if now == self._synced_at:
            return
        self._synced_at = now
        for hook, clocks in self._sync_hooks:
            if clocks is None or clocks.running:
                hook(now)

    def step(self) -> Event | None:
        """Run exactly one event. Returns it, or None when nothing is scheduled."""
        event = self.peek()
        if event is None:
            return None
        heapq.heappop(self._queue)
        self._run(event)
        return event

    def _run(self, event: Event) -> None:
        """Run ``event``, just taken off the queue."""
        now = self.now_ns = event.time_ns
        # The step begins before the devices catch up to its time: what they do at
        # event.time_ns (terminal count, block end, IRQ) belongs to this step, not the last.
        self.trace.mark_step()
        if self.record_events:
            self.emit(EventRecord(step=self.steps, name=event.name, source=event.source))
        self._synced_at = now
        for hook, clocks in self._sync_hooks:
            if clocks is None or clocks.running:
                hook(now)
        self.steps += 1
        event.fn(*event.args)

    def run_until(self, time_ns: int) -> int:
        """Run every event up to and including ``time_ns``; the clock ends at ``time_ns``.

        Returns the number of events run.
        """
        if time_ns < self.now_ns:
            raise SimulationError(f"cannot run back to {time_ns} ns from {self.now_ns} ns")
        count = 0
        queue = self._queue
        pop = heapq.heappop
        run = self._run
        while queue:
            head = queue[0]
            event = head[2]
            if event.cancelled:
                pop(queue)
                continue
            if head[0] > time_ns:
                break
            pop(queue)
            run(event)
            count += 1
        self.now_ns = time_ns
        self.sync()
        return count

    def run_for(self, duration_ns: int) -> int:
        return self.run_until(self.now_ns + int(duration_ns))

    def advance_to(self, time_ns: int) -> None:
        """Move the clock to ``time_ns`` without running events (it must not pass the next one)."""
        event = self.peek()
        if time_ns < self.now_ns or (event is not None and time_ns > event.time_ns):
            raise SimulationError(f"cannot move the clock to {time_ns} ns without running events")
        self.now_ns = time_ns
        self.sync()

    def digest_state(self) -> dict[str, Any]:
        """The state a digest compares: live events in run order, without caches.

        Cancelled events are dropped lazily (whoever peeks first), which changes the heap's
        layout but not what will happen, so two equal states must hash equal regardless.
        """
        state = {k: v for k, v in self.__dict__.items() if k not in ("_queue", "_synced_at")}
        state["_queue"] = [e for _, _, e in sorted(self._queue) if not e.cancelled]
        return state

    # --- trace --------------------------------------------------------------------
    def emit(self, record: Record) -> Record:
        record.t_ns = self.now_ns
        self.trace.append(record)
        if self.watchers:
            for watcher in self.watchers:
                watcher(record)
        return record

    def record(self, kind: type[Record], *values: Any) -> None:
        """Emit a ``kind`` record given by its field values in declaration order, now.

        The cheap form for records the hardware writes many times a second: the trace keeps
        it compact until someone reads it, unless a watcher or subscriber needs it at once.
        """
        entry = (kind.code, self.now_ns, *values)
        if self.watchers or self.trace.observed:
            self.emit(kind.from_compact(-1, entry))
        else:
            self.trace.add(entry)
