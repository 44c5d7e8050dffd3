"""The one QObject that owns the Session: step and run go through it, and it paces the repaints.

* Step and run share one path: every command ends in ``_model_changed``, which samples the
  transfer counter and marks the views dirty. Run is steps with the repaint held back to
  the frame: each frame tick runs the session up to the time the chosen speed asks for,
  in short chunks (so the counter gets samples between events), under a per-frame
  deadline, then repaints once.
* Repaints are coalesced: model notifications only mark the views dirty; ``frame`` is
  emitted at most 60 times per second, always with a trailing one so the final state is
  shown. Nothing is painted per simulated event.
* The GUI thread never blocks for more than a frame: a run chunk stops at the deadline
  and the next tick carries on. When the machine cannot keep up with the speed asked
  for, simulated time falls behind instead of the window freezing.
* Breakpoints stop a chunked run exactly where an unchunked run stops: ``Session.run``
  checks time breakpoints up to each chunk's end and measures position crossings from the
  last event, so chunking changes nothing.
* Run to time / Run to event is Go with a *temporary* breakpoint: it is in the session's
  list while the run lasts, never shown in the Breakpoints panel, never saved.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from gui.debugger.logic import default_violation_breakpoint, stop_text
from gui.view_models.counter import CounterHistory, MarkerHistory
from gui.view_models.stream import NO_HARDWARE, HardwareRef, counter_value, locate_hardware, pick_pin
from model.session.breakpoints import BreakKind, Breakpoint
from model.session.session import RunResult, Session, StopReason
from model.system import CallResult
from model.units import MS, S

FRAME_INTERVAL_S = 1 / 60
FRAME_MS = 16
SIM_BUDGET_S = 0.008  # of each 16.7 ms frame, for the simulation; the rest is for painting
# 1-2-5 steps from a thousandth of real time to a thousand times it, then "as fast as possible" (None).
SLOW_SPEEDS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5)
FAST_SPEEDS = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
SPEEDS: tuple[float | None, ...] = (*SLOW_SPEEDS, *FAST_SPEEDS, None)


def speed_label(speed: float | None) -> str:
    if speed is None:
        return "as fast as possible"
    return f"{speed:g}×"


@dataclass(frozen=True)
class Frame:
    """What the panels are told at each repaint."""

    generation: int  # bumps when a new session is loaded
    epoch: int  # bumps when time went backwards (jump, restart, new session): caches must be dropped
    step_index: int
    now_ns: int
    present: int  # records up to the present (len of the live trace)
    running: bool


class SessionController(QObject):
    frame = Signal(object)  # Frame, at most 60 per second
    running_changed = Signal(bool)
    session_replaced = Signal()
    stopped = Signal(str)  # why a run stopped by itself (breakpoint, end of schedule)
    call_made = Signal(object, object)  # (CallResult, method name) after an interactive call
    breakpoints_changed = Signal()  # added, removed, enabled or disabled (hit counts change with the frames)
    breakpoint_hit = Signal(object)  # BreakHit: a breakpoint or a run-to target stopped a run or a step
    forked = Signal(int)  # a call made in the past started a new history at this step

    def __init__(self, session: Session | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session: Session | None = None
        self.generation = 0
        self.epoch = 0
        self.pin_id: str | None = None
        self.hardware: HardwareRef = NO_HARDWARE
        self.counter = CounterHistory()
        self.markers = MarkerHistory()
        self.speed: float | None = 1.0
        self.behind = False  # the last frames could not keep up with the speed
        self.last_result: RunResult | None = None
        self._running = False
        self._dirty = False
        self._in_command = False
        self._last_paint = 0.0
        self._last_tick = 0.0
        self._target_ns = 0.0
        self.temporary: Breakpoint | None = None  # the target of Run to time / Run to event
        self.run_fast = False  # this run goes as fast as possible whatever the speed (run to)
        self.hit_marks: list[tuple[int, int]] = []  # (t_ns, step) where breakpoints stopped, for the timeline
        self._frame_timer = QTimer(self)
        self._frame_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._frame_timer.setInterval(FRAME_MS)
        self._frame_timer.timeout.connect(self._tick)
        self._repaint_timer = QTimer(self)
        self._repaint_timer.setSingleShot(True)
        self._repaint_timer.timeout.connect(self._paint)
        if session is not None:
            self.set_session(session)

    # --- the session ------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("no session loaded")
        return self._session

    @property
    def has_session(self) -> bool:
        return self._session is not None

    def set_session(self, session: Session) -> None:
        """Show ``session`` from now on (a scenario was opened or reloaded)."""
        self.pause()
        if self._session is not None:
            self._session.unsubscribe(self._on_session_event)
        self._session = session
        default = default_violation_breakpoint(session.breakpoints)
        if default is not None:
            session.breakpoints.append(default)  # break on violation is on by default
        session.subscribe(self._on_session_event)
        self.generation += 1
        self.pin_id = None
        self.hit_marks = []
        self._new_epoch()
        self.session_replaced.emit()
        self._request_paint()

    def pin(self) -> Any | None:
        """The stream the window follows (looked up again every time: a restore replaces every object)."""
        if self._session is None:
            return None
        return pick_pin(self._session.system, self.pin_id)

    def set_pin(self, pin_id: str) -> None:
        self.pin_id = pin_id
        self._new_epoch()
        self._request_paint()

    def _new_epoch(self) -> None:
        """Time went backwards or the objects changed: drop histories that describe another present."""
        self.epoch += 1
        self.markers.reset()
        self._locate()
        if self._session is not None:
            self.counter.truncate_after(self._session.now_ns)
            if self._session.now_ns == 0:
                self.counter.clear()
        self._sample()

    def _follow_hardware(self) -> None:
        """Until the stream's DMA engine is programmed (the stream reaches RUN) there is nothing to follow."""
        if self.hardware.kind == "none":
            self._locate()
        else:
            self._set_window()

    def _locate(self) -> None:
        if self._session is None:
            self.hardware = NO_HARDWARE
            return
        system = self._session.system
        self.hardware = locate_hardware(system, pick_pin(system, self.pin_id))
        self._set_window()

    def _set_window(self) -> None:
        """The counter shows about three laps of the buffer (clamped to 30 ms .. 4 s: more is unreadable anyway)."""
        pin = self.pin()
        fmt = getattr(pin, "format", None)
        size = int(getattr(pin, "buffer_size", 0) or getattr(getattr(pin, "dma", None), "buffer_size", 0) or 0)
        window = 100 * MS
        if fmt is not None and size:
            window = 3 * size * S // max(1, fmt.bytes_per_second)
        self.markers.window_ns = max(30 * MS, min(4 * S, window))

    @property
    def window_ns(self) -> int:
        return self.markers.window_ns

    def _sample(self, *, force: bool = True) -> None:
        """Read the transfer counter (side-effect free) into the history.

        While running, readings closer together than 1/2000 of the window are skipped, so the
        ring (4096 samples) always spans the window, even at the slowest speed.
        """
        if self._session is None:
            return
        if self.hardware.kind == "none":
            self._locate()  # the stream's engine is programmed when it first runs
            if self.hardware.kind == "none":
                return
        system = self._session.system
        last = self.counter.last_time
        if not force and last is not None and 0 <= system.now_ns - last < self.window_ns / 2000:
            return
        pin = self.pin() if self.hardware.kind == "clock" else None
        self.counter.append(float(system.now_ns), float(counter_value(system, self.hardware, pin)))

    # --- notifications -------------------------------------------------------------------------
    def _on_session_event(self, kind: str) -> None:
        if kind in ("jump", "restart"):
            self._new_epoch()
        elif kind in ("call", "fork"):
            self._locate()  # a call may have created or destroyed objects
        if kind == "fork" and self._session is not None:
            step = self._session.step_index
            self.hit_marks = [m for m in self.hit_marks if m[1] <= step]
            self.forked.emit(step)
        elif kind == "breakpoints":
            self.breakpoints_changed.emit()
        self._dirty = True
        if not self._in_command:
            self._request_paint()

    def _model_changed(self) -> None:
        """Every command ends here: one path for step, run, jump and call."""
        self._follow_hardware()
        self._sample()
        self._dirty = True
        self._request_paint()

    def _request_paint(self) -> None:
        """Paint soon, but never more often than 60 times per second (the trailing paint is this timer)."""
        self._dirty = True
        if self._running or self._repaint_timer.isActive():
            return  # the frame tick paints, or a paint is already due
        wait = self._last_paint + FRAME_INTERVAL_S - time.perf_counter()
        self._repaint_timer.start(max(0, int(wait * 1000)))

    def _paint(self) -> None:
        if not self._dirty or self._session is None:
            return
        self._dirty = False
        self._last_paint = time.perf_counter()
        session = self._session
        self.markers.update(session.system.trace.records, session.now_ns)
        self.frame.emit(
            Frame(
                self.generation,
                self.epoch,
                session.step_index,
                session.now_ns,
                len(session.system.trace.records),
                self._running,
            )
        )

    def repaint_now(self) -> None:
        """Emit the pending frame at once (tests, exports)."""
        self._repaint_timer.stop()
        self._dirty = True
        self._paint()

    # --- commands -----------------------------------------------------------------------------------
    def _command(self, action: Any) -> Any:
        self._in_command = True
        try:
            result = action()
        finally:
            self._in_command = False
        self._model_changed()
        return result

    def step(self) -> RunResult:
        self.pause()
        result = self._command(self._step)
        self.last_result = result
        if result.reason == StopReason.BREAKPOINT:
            self._report_stop(result)
        return result

    def _step(self) -> RunResult:
        return self.session.step()

    def step_into(self) -> RunResult:
        self.pause()
        result = self._command(self.session.step_into)
        self.last_result = result
        if result.reason == StopReason.BREAKPOINT:  # the event it finished matched one
            self._report_stop(result)
        return result

    def step_out(self) -> RunResult:
        self.pause()
        result = self._command(self.session.step_out)
        self.last_result = result
        if result.reason == StopReason.BREAKPOINT:
            self._report_stop(result)
        return result

    def step_back(self, n: int = 1) -> None:
        self.pause()
        self._command(lambda: self.session.step_back(n))

    def goto_step(self, step: int) -> None:
        self.pause()
        self._command(lambda: self.session.goto_step(step))

    def goto_record(self, seq: int) -> None:
        self.pause()
        self._command(lambda: self.session.goto_record(seq))

    def goto_time(self, t_ns: int) -> None:
        """Jump to simulated time ``t_ns`` of the recorded history (timeline click); breakpoints do not stop it."""
        self.pause()
        self._command(lambda: self._goto_time(max(0, t_ns)))

    def _goto_time(self, t_ns: int) -> None:
        session = self.session
        records, starts = session.records(), session.step_starts()
        end = len(records)
        # The steps whose first record is at or before t_ns (steps start in time order), as Session.goto_time.
        step = bisect.bisect_right(starts, t_ns, key=lambda s: records[s].t_ns if s < end else t_ns + 1)
        session.goto_step(step, moment=False)
        if session.now_ns < t_ns and session.frozen is None:
            with self._breakpoints_off():
                session.run(until_ns=t_ns)  # between two events: only the clock moves

    def restart(self) -> None:
        self.pause()
        self._command(self.session.restart)

    def run_for(self, duration_ns: int) -> RunResult:
        """Run ``duration_ns`` of simulated time at once (tests, benchmarks, scripted moments).

        Breakpoints do not stop it: it goes to a moment, as ``--at`` and pictures ask.
        """
        self.pause()
        session = self.session

        def run() -> RunResult:
            with self._breakpoints_off():
                return self._run_chunks(session.now_ns + duration_ns, None)

        result = self._command(run)
        self.last_result = result
        return result

    @contextmanager
    def _breakpoints_off(self) -> Iterator[None]:
        session = self.session
        saved, session.breakpoints = session.breakpoints, []
        try:
            yield
        finally:
            session.breakpoints = saved

    def call(self, target: str, method: str, args: dict[str, Any], context: str | None) -> CallResult:
        """An interactive call: recorded by the session so replay and 'save as scenario' repeat it."""
        self.pause()
        result = self._command(lambda: self.session.call(target, method, args, context))
        self.call_made.emit(result, method)
        return result

    # --- running ---------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    def set_speed(self, speed: float | None) -> None:
        self.speed = speed
        self._target_ns = float(self.session.now_ns) if self._session is not None else 0.0

    def run(self) -> None:
        if self._running or self._session is None:
            return
        if self.session.next_event() is None:
            self._clear_temporary()
            self.stopped.emit("nothing left to run")
            return
        self._running = True
        self.behind = False
        self._last_tick = time.perf_counter()
        self._target_ns = float(self.session.now_ns)
        self._repaint_timer.stop()
        self._frame_timer.start()
        self.running_changed.emit(True)

    def pause(self) -> None:
        self._clear_temporary()  # Break, or any other command, ends a Run to
        if not self._running:
            return
        self._running = False
        self._frame_timer.stop()
        self.running_changed.emit(False)
        self._request_paint()

    def toggle_run(self) -> None:
        if self._running:
            self.pause()
        else:
            self.run()

    def _tick(self) -> None:
        """One frame of running: advance the model within the budget, then paint once."""
        if not self._running or self._session is None:
            return
        start = time.perf_counter()
        elapsed = min(start - self._last_tick, 0.1)  # after a stall, do not try to catch up seconds
        self._last_tick = start
        target: int | None = None
        speed = None if self.run_fast else self.speed
        if speed is not None:
            self._target_ns += elapsed * S * speed
            target = int(self._target_ns)
        deadline = start + SIM_BUDGET_S
        self._in_command = True
        try:
            result = self._run_chunks(target, deadline)
        finally:
            self._in_command = False
        self.last_result = result
        self._follow_hardware()
        if result.reason == StopReason.DEADLINE or (target is not None and self._session.now_ns < target):
            self.behind = speed is not None
            self._target_ns = float(self._session.now_ns)
        else:
            self.behind = False
        self._dirty = True
        if result.reason in (StopReason.BREAKPOINT, StopReason.END, StopReason.FROZEN):
            self._report_stop(result)  # before pause(): it tells a run-to target from a breakpoint
            self.pause()
        self._paint()

    def _report_stop(self, result: RunResult) -> None:
        """Say why a run (or a step) stopped; a breakpoint stop is marked for the timeline and the log."""
        hit = result.hit
        if result.reason == StopReason.BREAKPOINT and hit is not None:
            session = self.session
            temporary = hit.breakpoint is self.temporary
            if not temporary:
                self.hit_marks.append((session.now_ns, session.step_index))
            index = next((i for i, bp in enumerate(self.user_breakpoints()) if bp is hit.breakpoint), None)
            self.stopped.emit(stop_text(hit.breakpoint, hit.record, index, temporary))
            self.breakpoint_hit.emit(hit)
            return
        self.stopped.emit(_stop_text(result))

    # --- breakpoints ----------------------------------------------------------------------------------
    def user_breakpoints(self) -> list[Breakpoint]:
        """The session's breakpoints, without a run-to target: what the panel lists and a saved file holds."""
        if self._session is None:
            return []
        return [bp for bp in self._session.breakpoints if bp is not self.temporary]

    def add_breakpoint(self, bp: Breakpoint) -> Breakpoint:
        return self.session.add_breakpoint(bp)

    def remove_breakpoint(self, bp: Breakpoint) -> None:
        self.session.remove_breakpoint(bp)

    def set_breakpoint_enabled(self, bp: Breakpoint, enabled: bool) -> None:
        if bp.enabled != enabled:
            bp.enabled = enabled
            self.breakpoints_changed.emit()

    def clear_breakpoints(self) -> None:
        for bp in self.user_breakpoints():
            self.session.remove_breakpoint(bp)

    # --- run to ----------------------------------------------------------------------------------------
    def run_to(self, target: Breakpoint, *, fast: bool = True) -> None:
        """Go until ``target`` matches (a temporary breakpoint); ``fast``: as fast as possible."""
        self.pause()
        self.temporary = target
        self.session.breakpoints.append(target)
        self.run_fast = fast
        self.run()

    def run_to_time(self, t_ns: int, *, fast: bool = True) -> None:
        """Run forward to ``t_ns``; a moment already passed is a jump back instead."""
        if t_ns <= self.session.now_ns:
            self.goto_time(t_ns)
            return
        self.run_to(Breakpoint(BreakKind.TIME, time_ns=t_ns), fast=fast)

    def _clear_temporary(self) -> None:
        self.run_fast = False
        if self.temporary is not None:
            target, self.temporary = self.temporary, None
            if self._session is not None and target in self._session.breakpoints:
                self._session.breakpoints.remove(target)

    def _run_chunks(self, target_ns: int | None, deadline: float | None) -> RunResult:
        """Run to ``target_ns`` (None: until the deadline) in chunks, sampling the counter after each."""
        session = self._session
        assert session is not None
        interval = max(1, self.window_ns // 600)
        stop = (lambda: time.perf_counter() > deadline) if deadline is not None else None
        total = 0
        while True:
            now = session.now_ns
            if target_ns is not None and now >= target_ns:
                return RunResult(StopReason.TIME, total)
            chunk_end = now + interval if target_ns is None else min(target_ns, now + interval)
            result = session.run(until_ns=chunk_end, deadline=stop)
            total += result.steps
            self._sample(force=False)
            if result.reason not in (StopReason.TIME, StopReason.STEP):
                if result.reason == StopReason.END and target_ns is not None and session.now_ns < target_ns:
                    continue  # nothing scheduled yet, but time still passes (a silent machine)
                return RunResult(result.reason, total, result.hit)
            if stop is not None and stop():
                return RunResult(StopReason.DEADLINE, total)

    def shutdown(self) -> None:
        """Stop both timers and let go of the session (the window is closing)."""
        self._running = False
        self._frame_timer.stop()
        self._repaint_timer.stop()
        if self._session is not None:
            self._session.unsubscribe(self._on_session_event)


def _stop_text(result: RunResult) -> str:
    if result.reason == StopReason.BREAKPOINT and result.hit is not None:
        return f"stopped at breakpoint: {result.hit.breakpoint.describe()}"
    if result.reason == StopReason.END:
        return "stopped: nothing left to run"
    if result.reason == StopReason.FROZEN:
        return "stopped inside an event"
    return f"stopped: {result.reason.value}"
