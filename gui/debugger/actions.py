"""The window's debugger commands: F9, Run to Time, Run to Event, faster and slower, and what a stop shows.

Kept out of main_window.py so the window only places these actions in its menu and
toolbar. F9 acts on what the user last pointed at: the method chosen in the Methods panel
or the selected row of the event log, whichever of the two had the keyboard focus last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

from gui.debugger.breakpoints_panel import BreakpointsPanel
from gui.debugger.logic import breakpoint_for_method, breakpoint_for_record, describe, find_same
from gui.debugger.run_to import RunToEventDialog, RunToTimeDialog
from gui.icons import icon
from gui.panels.event_log_panel import EventLogPanel
from gui.panels.methods_panel import MethodsPanel
from gui.session_controller import SPEEDS
from gui.theme import Theme
from model.session.breakpoints import Breakpoint
from model.session.session import BreakHit

if TYPE_CHECKING:
    from gui.main_window import MainWindow


def shortcut_text(action: QAction) -> str:
    """Every shortcut of ``action``, as the platform writes them."""
    return ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())


def tip_with_keys(action: QAction, tip: str, keys: str | None = None) -> None:
    """The tooltip ``tip (keys)``; ``keys`` defaults to every shortcut of the action."""
    keys = shortcut_text(action) if keys is None else keys
    action.setToolTip(f"{tip} ({keys})" if keys else tip)
    action.setStatusTip(tip)


class Debugger(QObject):
    """Actions and reactions of the debugger, for one main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.last_target = "methods"  # which panel F9 uses when neither has the focus
        self.time_dialog: RunToTimeDialog | None = None
        self.event_dialog: RunToEventDialog | None = None

        self.act_toggle = self._action(
            "Toggle &Breakpoint",
            self.toggle_breakpoint,
            ["F9"],
            "Add or remove a breakpoint on the method chosen in the Methods panel, or on events like the "
            "selected event-log row",
        )
        self.act_run_to_time = self._action(
            "Run to &Time…", self.run_to_time_dialog, ["Ctrl+G"], "Run until simulated time reaches a moment"
        )
        self.act_run_to_event = self._action(
            "Run to &Event…",
            self.run_to_event_dialog,
            ["Ctrl+F10"],
            "Run until the next event of a kind, object or method",
        )
        self.act_faster = self._action("&Faster", lambda: self.change_speed(+1), ["Ctrl+]"], "Run faster")
        self.act_slower = self._action("Slo&wer", lambda: self.change_speed(-1), ["Ctrl+["], "Run slower")
        self.act_show_breakpoints = self._action(
            "Show Breakpoint&s", self.show_breakpoints, ["Ctrl+Alt+B"], "Show the Breakpoints panel"
        )
        self.actions = (self.act_toggle, self.act_run_to_time, self.act_run_to_event)

        self.controller.breakpoint_hit.connect(self._on_hit)
        self.controller.forked.connect(self._on_fork)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)

    def _action(self, text: str, slot: object, keys: list[str], tip: str) -> QAction:
        action = QAction(text, self.window)
        action.setShortcuts([QKeySequence(k) for k in keys])
        tip_with_keys(action, tip)
        action.triggered.connect(lambda _checked=False: slot())  # type: ignore[operator]
        self.window.addAction(action)  # shortcuts work whichever panel has the focus
        return action

    def apply_theme(self, theme: Theme) -> None:
        self.act_toggle.setIcon(icon("breakpoint", theme.error))
        self.act_run_to_time.setIcon(icon("run_to_time", theme.text))
        self.act_run_to_event.setIcon(icon("run_to_event", theme.text))

    # --- panels -------------------------------------------------------------------------------------------------
    @property
    def log(self) -> EventLogPanel:
        panel = self.window.panels["log"]
        assert isinstance(panel, EventLogPanel)
        return panel

    @property
    def methods(self) -> MethodsPanel:
        panel = self.window.panels["methods"]
        assert isinstance(panel, MethodsPanel)
        return panel

    @property
    def breakpoints_panel(self) -> BreakpointsPanel:
        panel = self.window.panels["breakpoints"]
        assert isinstance(panel, BreakpointsPanel)
        return panel

    def show_breakpoints(self) -> None:
        dock = self.window.docks["breakpoints"]
        dock.show()
        dock.raise_()
        self.breakpoints_panel.tree.setFocus()

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        for key in ("log", "methods"):
            panel = self.window.panels.get(key)
            if new is not None and panel is not None and (new is panel or panel.isAncestorOf(new)):
                self.last_target = key

    # --- F9 -------------------------------------------------------------------------------------------------------
    def target_breakpoint(self) -> Breakpoint | str:
        """What F9 would toggle now, or why there is nothing to toggle."""
        session = self.controller.session
        if self.last_target == "log":
            seq = self.log.selected_record()
            if seq is None:
                return "select an event-log row (or choose a method in the Methods panel) first"
            record = session.records()[seq]
            bp = breakpoint_for_record(session.system, record)
            return bp if bp is not None else f"no kind of breakpoint stops at a {record.kind} record"
        obj_id = self.methods.object_box.currentData()
        method = self.methods.method_box.currentData()
        if not obj_id or not method:
            return "choose a method in the Methods panel (or an event-log row) first"
        return breakpoint_for_method(session.system, str(obj_id), str(method))

    def toggle_breakpoint(self) -> Breakpoint | None:
        """F9: remove the breakpoint on the target if there is one, else add it. Returns the one added."""
        if not self.controller.has_session:
            return None
        target = self.target_breakpoint()
        if isinstance(target, str):
            self.window.flash(f"F9: {target}")
            return None
        existing = find_same(self.controller.user_breakpoints(), target)
        if existing is not None:
            self.controller.remove_breakpoint(existing)
            self.window.flash(f"breakpoint removed: {describe(existing)}")
            return None
        self.controller.add_breakpoint(target)
        self.window.flash(f"breakpoint added: {describe(target)}")
        return target

    # --- run to ---------------------------------------------------------------------------------------------------
    def run_to_time_dialog(self) -> RunToTimeDialog | None:
        if not self.controller.has_session:
            return None
        if self.time_dialog is None:
            self.time_dialog = RunToTimeDialog(lambda: self.controller.session.now_ns, self.window)
            self.time_dialog.accepted.connect(self._run_to_time)
        self.time_dialog.open()
        return self.time_dialog

    def _run_to_time(self) -> None:
        dialog = self.time_dialog
        if dialog is not None and dialog.target_ns is not None:
            self.controller.run_to_time(dialog.target_ns, fast=dialog.fast.isChecked())

    def run_to_event_dialog(self) -> RunToEventDialog | None:
        if not self.controller.has_session:
            return None
        if self.event_dialog is None:
            self.event_dialog = RunToEventDialog(
                lambda: self.controller.session.system if self.controller.has_session else None, self.window
            )
            self.event_dialog.accepted.connect(self._run_to_event)
        self.event_dialog.open()
        return self.event_dialog

    def _run_to_event(self) -> None:
        dialog = self.event_dialog
        if dialog is not None and dialog.target is not None:
            self.controller.run_to(dialog.target, fast=dialog.fast.isChecked())

    # --- speed ------------------------------------------------------------------------------------------------------
    def change_speed(self, direction: int) -> None:
        """One step along SPEEDS ("as fast as possible" is the last)."""
        box = self.window.speed_box
        box.setCurrentIndex(max(0, min(len(SPEEDS) - 1, box.currentIndex() + direction)))

    # --- reactions ----------------------------------------------------------------------------------------------------
    def _on_hit(self, hit: BreakHit) -> None:
        """A breakpoint stopped the run: select its record in the log (the status bar already says which)."""
        if hit.record is not None:
            self.log.select_record(hit.record.seq)
        else:
            self.log.select_record(None)  # a time or position breakpoint: the last record of the present
        if hit.breakpoint is not self.controller.temporary:
            self.breakpoints_panel.select(hit.breakpoint)

    def _on_fork(self, step: int) -> None:
        self.window.flash(f"new history from step {step:,}: a call in the past dropped the recorded future")
