"""A debugging session over a deterministic model: step, run, step into, step back, breakpoints.

One execution path: ``run`` is ``step`` repeated, with the same checks. Going back in time
restores the nearest earlier snapshot (taken every ``snapshot_every`` steps) and replays
forward; replay is exact because the model is deterministic, so history has no depth
limit. Calls the user makes while paused are *injections*: they are recorded with the
step and time at which they were made and re-applied whenever replay passes that point.
A call made in the past forks a new history: everything recorded after that point is
dropped.

Step Into freezes the model in the middle of an event, just before its next interface
call: a trace observer raises ``StopHere`` when the call record appears. Leaving that
point (any further step, or a call) restores the snapshot taken at the event's start and
replays, so a frozen, half-finished event never continues by itself. That snapshot already
holds the calls recorded at its step, so they are not applied again.

A moment is a step *and* a time: Break, Run to time and a timeline click leave the clock
between two events, where the DMA has moved on since the last one. The session remembers,
per step, the time at which the user last stood there, and going back to that step returns
to that time, so "forward N, back N" is exact from any moment.
"""

from __future__ import annotations

import bisect
import enum
import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from model import snapshot
from model.session.breakpoints import BreakKind, Breakpoint
from model.simulator import Event
from model.system import CallResult, StopHere, System
from model.trace import CallRecord, Record


class World(Protocol):
    """What a session runs: anything that holds a System (a Topology, a scenario world)."""

    system: System


class StopReason(enum.StrEnum):
    STEP = "step"  # the requested steps ran
    TIME = "time"  # the requested time was reached
    BREAKPOINT = "breakpoint"
    END = "end"  # nothing left to run
    DEADLINE = "deadline"  # the caller's budget ran out (the GUI's frame time)
    FROZEN = "frozen"  # stopped inside an event (Step Into)


@dataclass
class Injection:
    """A call made interactively, to be replayed at the same point."""

    step: int
    t_ns: int
    object: str
    method: str
    args: dict[str, Any]
    context: str | None = None

    def to_action(self) -> dict[str, Any]:
        action: dict[str, Any] = {
            "at_step": self.step,
            "at": f"{self.t_ns}ns",
            "object": self.object,
            "method": self.method,
        }
        if self.args:
            action["args"] = self.args
        if self.context:
            action["context"] = self.context
        return action


@dataclass
class Frozen:
    """The model is stopped inside an event, just before call number ``call_index`` of that event."""

    step: int  # the event being run is step number ``step`` (0-based)
    boundary: snapshot.Snapshot  # state before the event started
    call_index: int
    record: CallRecord


@dataclass
class BreakHit:
    breakpoint: Breakpoint
    record: Record | None


@dataclass
class RunResult:
    reason: StopReason
    steps: int = 0
    hit: BreakHit | None = None


Listener = Callable[[str], None]
_FREEZE_AFTER_BUILDING = 50_000  # record objects built by one read


@dataclass
class Session:
    """Drives one world; everything a debugger front end needs."""

    factory: Callable[[], Any]
    snapshot_every: int = 128
    # Move what exists into the collector's permanent generation after each periodic snapshot,
    # so a full collection never walks a million trace records (140 ms at five minutes).
    manage_gc: bool = True
    world: Any = None
    breakpoints: list[Breakpoint] = field(default_factory=list)
    injections: dict[int, list[Injection]] = field(default_factory=dict)
    forked: bool = False
    frozen: Frozen | None = None
    last_hit: BreakHit | None = None
    _snapshots: dict[int, snapshot.Snapshot] = field(default_factory=dict)
    _snapshot_steps: list[int] = field(default_factory=list)
    _furthest: int = 0
    _listeners: list[Listener] = field(default_factory=list)
    _last_step_records: tuple[int, int] = (0, 0)
    _moments: dict[int, int] = field(default_factory=dict)  # step -> where the clock was left at that step
    _natural_ns: int = 0  # the clock right after the last step and its recorded calls
    _anchor: dict[str, int] | None = None  # stream positions after the last event (position breakpoints)

    def __post_init__(self) -> None:
        if self.world is None:
            self.world = self.factory()
        self._take_snapshot()
        self._natural_ns = self.now_ns

    # --- observation ---------------------------------------------------------------------------
    @property
    def system(self) -> System:
        return self.world.system

    @property
    def step_index(self) -> int:
        """Steps (events) completed so far; inside an event (Step Into) that event is not complete."""
        return self.frozen.step if self.frozen is not None else self.system.sim.steps

    @property
    def now_ns(self) -> int:
        return self.system.now_ns

    @property
    def furthest_step(self) -> int:
        return max(self._furthest, self.step_index)

    @property
    def at_frontier(self) -> bool:
        return self.frozen is None and self.step_index >= self._furthest

    def next_event(self) -> Event | None:
        return self.system.sim.peek()

    def describe_next(self) -> str:
        if self.frozen is not None:
            r = self.frozen.record
            return f"inside step {self.frozen.step}: next call {r.object}.{r.method}"
        event = self.next_event()
        if event is None:
            return "nothing scheduled"
        from model.units import format_ns

        return f"{event.name} ({event.source}) at {format_ns(event.time_ns)}"

    def subscribe(self, listener: Listener) -> None:
        """``listener(kind)`` after every change: 'step', 'jump', 'call', 'restart', 'fork'."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, kind: str) -> None:
        if self.frozen is None:
            self._moments[self.step_index] = self.now_ns
        for listener in list(self._listeners):
            listener(kind)

    def records(self) -> Sequence[Record]:
        """Every record of the recorded history (which runs past the present after a jump back)."""
        trace = self.system.trace
        before = trace.entries_built
        history = trace.history()
        if self.manage_gc and trace.entries_built - before > _FREEZE_AFTER_BUILDING:
            # The first read after a long run builds its records all at once: like the records
            # a run makes, they go to the permanent generation, or the young collections that
            # follow walk them all (50 ms pauses in a jump).
            gc.collect(1)
            gc.freeze()
        return history

    def step_starts(self) -> Sequence[int]:
        return self.system.trace.history_steps()

    def last_step_records(self) -> tuple[int, int]:
        """(first, end) record indices the most recent step produced (for highlighting)."""
        return self._last_step_records

    # --- snapshots ---------------------------------------------------------------------------------
    def _take_snapshot(self) -> None:
        step = self.step_index
        if step in self._snapshots:
            return
        self._snapshots[step] = snapshot.take(self.world)
        bisect.insort(self._snapshot_steps, step)
        if self.manage_gc:
            # Collect the young generations first (cheap), then freeze everything: a full
            # collection would walk every object the program ever made (tens of ms at start-up).
            # Cyclic garbage that reached the old generation stays frozen: a small, bounded leak.
            gc.collect(1)
            gc.freeze()

    def _remember_history(self, snap: snapshot.Snapshot | None = None) -> None:
        """Before going back: the trace keeps what lies ahead by itself (see Trace)."""
        self._furthest = max(self._furthest, self.step_index)

    def _restore(self, snap: snapshot.Snapshot) -> None:
        snapshot.restore(self.world, snap)
        self._anchor = None

    # --- stepping ------------------------------------------------------------------------------------
    def _apply_injections(self, step: int) -> None:
        sim = self.system.sim
        for inj in self.injections.get(step, ()):
            if sim.now_ns < inj.t_ns:
                sim.advance_to(inj.t_ns)
            self.system.call(inj.object, inj.method, dict(inj.args), context=inj.context, caller="user")
        self._natural_ns = sim.now_ns  # where replay leaves the clock at this step

    def _raw_step(self) -> bool:
        """Run one event and the injections recorded at the step after it."""
        if self.system.step() is None:
            return False
        step = self.step_index
        if step % self.snapshot_every == 0:
            self._take_snapshot()
        self._apply_injections(step)
        return True

    def _unfreeze(self) -> None:
        """Leave a Step Into point: back to the start of that event."""
        if self.frozen is None:
            return
        frozen, self.frozen = self.frozen, None
        self._remember_history(frozen.boundary)
        self._restore(frozen.boundary)  # taken after the calls recorded at this step: none is made twice

    def step(self) -> RunResult:
        """F10: run to the end of the next event (or finish the event we are inside)."""
        return self.run(max_steps=1)

    def step_into(self) -> RunResult:
        """F11: stop before the next interface call inside the current or next event."""
        passed = -1  # records up to this one were shown while stopped inside the event
        if self.frozen is not None:
            step, index, boundary = self.frozen.step, self.frozen.call_index + 1, self.frozen.boundary
            passed = self.frozen.record.seq
            self.frozen = None
            self._remember_history(boundary)
            self._restore(boundary)
        else:
            step, index, boundary = self.step_index, 0, snapshot.take(self.world)
        if self.next_event() is None:
            return RunResult(StopReason.END)
        first, before = len(self.system.trace), self._anchor or self._positions()
        record = self._run_event_until_call(index)
        if record is None:
            return self._finish_step(first, before, passed)
        self.frozen = Frozen(step, boundary, index, record)
        self._notify("step")
        return RunResult(StopReason.FROZEN)

    def step_out(self) -> RunResult:
        """Shift+F11: finish the call we are stopped before, stopping at the next call of its caller."""
        if self.frozen is None:
            return self.step()
        depth = self.frozen.record.depth
        step, boundary, start_index = self.frozen.step, self.frozen.boundary, self.frozen.call_index + 1
        passed = self.frozen.record.seq
        self.frozen = None
        self._remember_history(boundary)
        self._restore(boundary)
        first, before = len(self.system.trace), self._positions()
        # From a call at depth 0 (the event's own routine made it) nothing inside the event is a caller: max_depth -1.
        record = self._run_event_until_call(start_index, max_depth=depth - 1)
        if record is None:
            return self._finish_step(first, before, passed)
        self.frozen = Frozen(step, boundary, record_index(record, self.system, step), record)
        self._notify("step")
        return RunResult(StopReason.FROZEN)

    def _run_event_until_call(self, index: int, max_depth: int | None = None) -> CallRecord | None:
        """Run the next event, stopping at its ``index``-th call (or the first at depth <= max_depth after it)."""
        trace = self.system.trace
        seen = 0
        found: list[CallRecord] = []

        def watch(record: Record) -> None:
            nonlocal seen
            if not isinstance(record, CallRecord):
                return
            hit = seen >= index and (max_depth is None or record.depth <= max_depth)
            seen += 1
            if hit:
                found.append(record)
                raise StopHere

        trace.subscribe(watch)
        try:
            self.system.step()
        except StopHere:
            return found[0]
        finally:
            trace.unsubscribe(watch)
        return None

    def _finish_step(self, first: int, before: dict[str, int], passed: int) -> RunResult:
        """The event run by Step Into or Step Out has ended: as after any step, then check breakpoints."""
        step = self.step_index
        if step % self.snapshot_every == 0:
            self._take_snapshot()
        self._apply_injections(step)
        self._last_step_records = (first, len(self.system.trace))
        self.last_hit = self._check_breakpoints(first, before, passed)
        self._after_change("step")
        if self.last_hit is not None:
            return RunResult(StopReason.BREAKPOINT, 1, self.last_hit)
        return RunResult(StopReason.STEP, 1)

    def run(
        self, *, until_ns: int | None = None, max_steps: int | None = None, deadline: Callable[[], bool] | None = None
    ) -> RunResult:
        """Step until a limit, a breakpoint, the end of the schedule, or ``deadline()`` says stop.

        Running to a time in several calls stops exactly where one call would: a time
        breakpoint is checked up to ``until_ns`` as well as up to the next event, and a
        position crossing is measured from the positions at the last event, not from where
        a previous call left the clock. A time already passed runs nothing. From inside an
        event (Step Into), the event is finished first, and what was already shown of it
        (the calls stepped over, the position it moved) does not stop it again.
        """
        passed = self.frozen.record.seq if self.frozen is not None else -1
        self._unfreeze()
        sim = self.system.sim
        start_ns = sim.now_ns
        upcoming = sim.peek()
        # Events still due at the start time: a time breakpoint there is still ahead of this run.
        start_pending = upcoming is not None and upcoming.time_ns == start_ns
        done = 0
        reason = StopReason.STEP
        self.last_hit = None
        if until_ns is not None and until_ns < sim.now_ns:
            return RunResult(StopReason.TIME, 0)
        while True:
            # A time breakpoint first: a run cut short by steps or a deadline right after the
            # events at its time must still stop there, not skip it on the next call.
            event = sim.peek()
            time_bp = self._time_breakpoint(
                start_ns, start_pending, event.time_ns if event is not None else None, until_ns
            )
            if time_bp is not None and time_bp.time_ns is not None:
                sim.advance_to(time_bp.time_ns)
                self.last_hit = BreakHit(time_bp, None)
                time_bp.hits += 1
                reason = StopReason.BREAKPOINT
                break
            if max_steps is not None and done >= max_steps:
                reason = StopReason.STEP
                break
            if done and deadline is not None and deadline():
                reason = StopReason.DEADLINE
                break
            if event is None:
                reason = StopReason.END
                break
            if until_ns is not None and event.time_ns > until_ns:
                reason = StopReason.TIME
                break
            first = len(self.system.trace)
            before = self._anchor or self._positions()
            self._raw_step()
            done += 1
            self._last_step_records = (first, len(self.system.trace))
            hit = self._check_breakpoints(first, before, passed if done == 1 else -1)
            if hit is not None:
                self.last_hit = hit
                reason = StopReason.BREAKPOINT
                break
        # A call recorded later in the last step's moment (replayed with it) may have taken the
        # clock past until_ns already: the run then ends at that call, the step's recorded state.
        if reason == StopReason.TIME and until_ns is not None and self.frozen is None and until_ns > sim.now_ns:
            event = sim.peek()
            if event is None or event.time_ns > until_ns:
                sim.advance_to(until_ns)
        if reason == StopReason.END and until_ns is not None and until_ns > sim.now_ns:
            sim.advance_to(until_ns)
        self._after_change("step")
        return RunResult(reason, done, self.last_hit)

    def _after_change(self, kind: str) -> None:
        self._furthest = max(self._furthest, self.step_index) if self.at_frontier else self._furthest
        self._notify(kind)

    # --- breakpoints --------------------------------------------------------------------------------
    def add_breakpoint(self, bp: Breakpoint) -> Breakpoint:
        self.breakpoints.append(bp)
        self._notify("breakpoints")
        return bp

    def remove_breakpoint(self, bp: Breakpoint) -> None:
        if bp in self.breakpoints:
            self.breakpoints.remove(bp)
            self._notify("breakpoints")

    def _time_breakpoint(
        self, start_ns: int, start_pending: bool, next_event_ns: int | None, until_ns: int | None
    ) -> Breakpoint | None:
        """A time breakpoint to stop at before the next event, if one falls there.

        It stops where ``run(until_ns=T)`` stops: after every event scheduled at T has run
        (so a saved session and ``dmaviz run --until T`` agree), and never beyond
        ``until_ns``. A breakpoint at the time the run starts from stops only if events are
        still due then (a previous run was cut short between them); otherwise the user is
        already standing on it.
        """
        now = self.system.sim.now_ns
        for bp in self.breakpoints:
            t = bp.time_ns
            if not bp.enabled or bp.kind != BreakKind.TIME or t is None or t < now:
                continue
            if t == start_ns and not start_pending:
                continue
            if (next_event_ns is None or t < next_event_ns) and (until_ns is None or t <= until_ns):
                return bp
        return None

    def _positions(self) -> dict[str, int]:
        if not any(bp.enabled and bp.kind == BreakKind.POSITION for bp in self.breakpoints):
            return {}
        from model.probes import stream_positions

        return stream_positions(self.system)

    def _check_breakpoints(self, first: int, before: dict[str, int], passed: int = -1) -> BreakHit | None:
        """The first breakpoint the step that made records ``first``.. matches (records up to ``passed`` excepted)."""
        active = [bp for bp in self.breakpoints if bp.enabled]
        after: dict[str, int] = {}
        if before:
            from model.probes import stream_positions

            after = stream_positions(self.system)
        self._anchor = after or None  # the next step measures from this event, however the clock moves meanwhile
        if not active:
            return None
        names = self.system.aliases
        for record in self.system.trace.since(max(first, passed + 1)):
            for bp in active:
                if bp.kind not in (BreakKind.TIME, BreakKind.POSITION) and bp.matches(record, names):
                    bp.hits += 1
                    return BreakHit(bp, record)
        for bp in active:
            # The DMA moves when an event starts, before its first call: a resumed event already showed that.
            if bp.kind != BreakKind.POSITION or bp.offset is None or passed >= 0:
                continue
            key = names.get(bp.object or "pin", bp.object or "pin")
            if key in before and key in after and crossed(before[key], after[key], bp.offset):
                bp.hits += 1
                return BreakHit(bp, None)
        return None

    # --- going back and forth -----------------------------------------------------------------------
    def goto_step(self, target: int, *, moment: bool = True) -> None:
        """Put every part of the model in the state it had after ``target`` steps.

        With ``moment``, at the time the user last stood at that step (which may lie after
        its last event); without, at the end of that step's event and recorded calls.
        """
        target = max(0, target)
        base = self._snapshot_steps[max(0, bisect.bisect_right(self._snapshot_steps, target) - 1)]
        here = self.step_index
        nearer = target > here or (target == here and (moment or self.now_ns == self._natural_ns))
        if self.frozen is None and nearer and base <= here:
            self._replay_to(target)  # nothing closer to start from than where we are
        else:
            self._remember_history(self._snapshots[base])
            self._unfreeze_silently()
            self._restore(self._snapshots[base])
            self._apply_injections(base)
            self._replay_to(target)
        if moment and self.frozen is None and self.step_index == target:
            self._return_to_moment(target)
        self._notify("jump")

    def _return_to_moment(self, step: int) -> None:
        sim = self.system.sim
        t = self._moments.get(step)
        event = sim.peek()
        if t is not None and t > sim.now_ns and (event is None or t <= event.time_ns):
            sim.advance_to(t)

    def _unfreeze_silently(self) -> None:
        self.frozen = None

    def _replay_to(self, target: int) -> None:
        while self.step_index < target:
            first = len(self.system.trace)
            if not self._raw_step():
                break
            self._last_step_records = (first, len(self.system.trace))

    def step_back(self, n: int = 1) -> None:
        """Reverse ``n`` steps (from inside an event, back to its start counts as one)."""
        if self.frozen is not None:
            step = self.frozen.step
            self._unfreeze()
            self.goto_step(max(0, step - (n - 1)))
            return
        self.goto_step(self.step_index - n)

    def goto_record(self, seq: int) -> None:
        """Jump to the end of the step that produced record ``seq`` (clicking a log row)."""
        starts = self.step_starts()
        step = bisect.bisect_right(starts, seq)
        self.goto_step(step, moment=False)

    def goto_time(self, t_ns: int) -> None:
        """The state at time ``t_ns``: every event up to it has run."""
        if t_ns < self.now_ns or self.frozen is not None:
            records = self.records()
            starts = self.step_starts()
            end = len(records)
            # Steps start in time order: the number of steps whose first record is at or before t_ns.
            step = bisect.bisect_right(starts, t_ns, key=lambda s: records[s].t_ns if s < end else t_ns + 1)
            self.goto_step(step, moment=False)
        self.run(until_ns=max(t_ns, self.now_ns))

    def restart(self) -> None:
        """Ctrl+Shift+F5: back to the very beginning (injections and breakpoints are kept)."""
        self.frozen = None
        self._remember_history(self._snapshots[0])
        self._restore(self._snapshots[0])
        self._apply_injections(0)
        self._notify("restart")

    # --- interactive calls -------------------------------------------------------------------------------
    def call(
        self, target: str, method: str, args: dict[str, Any] | None = None, context: str | None = None
    ) -> CallResult:
        """A call made by the user now; recorded so replay and 'save as scenario' repeat it."""
        self._unfreeze()
        step = self.step_index
        if step < self._furthest:
            self._fork(step)
        self._anchor = None
        injection = Injection(step, self.now_ns, target, method, dict(args or {}), context)
        self.injections.setdefault(step, []).append(injection)
        first = len(self.system.trace)
        result = self.system.call(target, method, dict(args or {}), context=context, caller="user")
        self._last_step_records = (first, len(self.system.trace))
        self._notify("call")
        return result

    def _fork(self, step: int) -> None:
        """Drop everything recorded after ``step``: a new history starts here."""
        self.forked = True
        for key in [k for k in self._snapshot_steps if k > step]:
            del self._snapshots[key]
        self._snapshot_steps = [k for k in self._snapshot_steps if k <= step]
        for key in [k for k in self.injections if k > step]:
            del self.injections[key]
        for key in [k for k in self._moments if k > step]:
            del self._moments[key]
        self._furthest = step
        self.system.trace.forget_future()
        self._notify("fork")

    def recorded_actions(self) -> list[dict[str, Any]]:
        """The interactive calls as scenario actions, in order."""
        return [inj.to_action() for step in sorted(self.injections) for inj in self.injections[step]]


def crossed(before: int, after: int, offset: int) -> bool:
    """Did a cyclic position move from ``before`` to ``after`` across ``offset`` (wrapping allowed)?"""
    if after >= before:
        return before < offset <= after
    return offset > before or offset <= after


def record_index(record: CallRecord, system: System, step: int) -> int:
    """The index of ``record`` among the call records of step ``step``."""
    starts = system.trace.step_starts
    first = starts[step] if step < len(starts) else len(system.trace)
    return sum(1 for r in system.trace.since(first)[: record.seq - first] if isinstance(r, CallRecord))
