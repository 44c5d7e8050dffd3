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
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from gui.view_models.counter import CounterHistory, MarkerHistory
from gui.view_models.stream import NO_HARDWARE, HardwareRef, counter_value, locate_hardware, pick_pin
from model.session.session import RunResult, Session, StopReason
from model.system import CallResult
from model.units import MS, S

FRAME_INTERVAL_S = 1 / 60
FRAME_MS = 16
SIM_BUDGET_S = 0.008  # of each 16.7 ms frame, for the simulation; the rest is for painting
SPEEDS: tuple[float | None, ...] = (0.001, 0.01, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0, 1000.0, None)


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
        session.subscribe(self._on_session_event)
        self.generation += 1
        self.pin_id = None
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
        result = self._command(self.session.step)
        self.last_result = result
        return result

    def step_into(self) -> RunResult:
        self.pause()
        result = self._command(self.session.step_into)
        self.last_result = result
        return result

    def step_out(self) -> RunResult:
        self.pause()
        result = self._command(self.session.step_out)
        self.last_result = result
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

    def restart(self) -> None:
        self.pause()
        self._command(self.session.restart)

    def run_for(self, duration_ns: int) -> RunResult:
        """Run ``duration_ns`` of simulated time at once (tests, benchmarks, scripted moments)."""
        self.pause()
        session = self.session
        result = self._command(lambda: self._run_chunks(session.now_ns + duration_ns, None))
        self.last_result = result
        return result

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
        if self.speed is not None:
            self._target_ns += elapsed * S * self.speed
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
            self.behind = self.speed is not None
            self._target_ns = float(self._session.now_ns)
        else:
            self.behind = False
        self._dirty = True
        if result.reason in (StopReason.BREAKPOINT, StopReason.END, StopReason.FROZEN):
            self.pause()
            self.stopped.emit(_stop_text(result))
        self._paint()

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
