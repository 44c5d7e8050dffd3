"""Run to Time and Run to Event: small dialogs that start a run with a temporary breakpoint.

Both remember what was typed last. A time already passed is a jump back, not a run. A run
to goes as fast as possible unless asked to keep the chosen speed; Break stops it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from gui.debugger.editor import BreakpointEditor
from gui.debugger.logic import RECORD_KINDS
from model.session.breakpoints import BreakKind, Breakpoint
from model.system import System
from model.units import DurationError, format_ns, parse_duration


def _fast_box(parent: QWidget) -> QCheckBox:
    box = QCheckBox("As fast as &possible", parent)
    box.setChecked(True)
    box.setToolTip("Get there at full speed, whatever the speed chosen in the toolbar; unchecked: at that speed.")
    return box


def _buttons(dialog: QDialog, run_text: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, dialog)
    run = buttons.addButton(run_text, QDialogButtonBox.ButtonRole.AcceptRole)
    run.setToolTip("Start the run (Enter). Break (Pause) stops it on the way.")
    run.setDefault(True)
    cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
    cancel.setToolTip("Close without running (Esc).")
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class RunToTimeDialog(QDialog):
    """A simulated time (or a duration from now) to run to."""

    def __init__(self, now_ns: Callable[[], int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run to Time")
        self._now = now_ns
        self.target_ns: int | None = None
        self.time_edit = QLineEdit(self)
        self.time_edit.setPlaceholderText("e.g. 12.5ms, 2s, 300us")
        self.time_edit.setToolTip("Simulated time with its unit (ns, us, ms, s).")
        self.relative = QCheckBox("From &now (run for this long)", self)
        self.relative.setToolTip("Count the time from the present instead of from the start of the session.")
        self.fast = _fast_box(self)
        self.now_label = QLabel(self)
        self.now_label.setProperty("role", "hint")
        self.error = QLabel(self)
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        time_label = QLabel("&Time", self)
        time_label.setBuddy(self.time_edit)
        form.addRow(time_label, self.time_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.relative)
        layout.addWidget(self.fast)
        layout.addWidget(self.now_label)
        layout.addWidget(_buttons(self, "&Run"))
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("x") * 48)
        self.time_edit.textChanged.connect(lambda _t: self.error.hide())

    def showEvent(self, event: object) -> None:
        now = self._now()
        self.now_label.setText(f"Now: {format_ns(now)}. A time already passed goes back to it.")
        self.time_edit.setFocus()
        self.time_edit.selectAll()
        super().showEvent(event)  # type: ignore[arg-type]

    def target(self) -> int | str:
        """The time to run to, or what is wrong with the text."""
        text = self.time_edit.text().strip()
        if not text:
            return "type a time with its unit, such as 12.5ms"
        try:
            t = parse_duration(text)
        except DurationError as exc:
            return str(exc)
        return self._now() + t if self.relative.isChecked() else t

    def accept(self) -> None:
        target = self.target()
        if isinstance(target, str):
            self.error.setText(target)
            self.error.show()
            self.adjustSize()  # room for the message: it may take two lines
            return
        self.target_ns = target
        super().accept()


class RunToEventDialog(QDialog):
    """The next record of a kind (a call of an object's method, a terminal count, a glitch...) to run to."""

    def __init__(self, system: Callable[[], System | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run to Event")
        self.target: Breakpoint | None = None
        self.editor = BreakpointEditor(system, (*RECORD_KINDS, BreakKind.POSITION), self)
        self.fast = _fast_box(self)
        note = QLabel("Runs until the next event that matches, then stops there, as a breakpoint would.", self)
        note.setWordWrap(True)
        note.setProperty("role", "hint")
        layout = QVBoxLayout(self)
        layout.addWidget(self.editor)
        layout.addWidget(self.fast)
        layout.addWidget(note)
        layout.addWidget(_buttons(self, "&Run"))
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("x") * 60)

    def showEvent(self, event: object) -> None:
        self.editor.refresh_choices()
        self.editor.kind_box.setFocus()
        super().showEvent(event)  # type: ignore[arg-type]

    def accept(self) -> None:
        target = self.editor.breakpoint()
        if target is None:
            self.adjustSize()  # room for the message under the form
            return
        self.target = target
        super().accept()
