"""A form that makes a breakpoint of any kind: the Breakpoints panel's "new breakpoint" and Run to Event use it.

Only the fields of the chosen kind are shown. What cannot become a breakpoint (a time that
is not a duration, an offset that is not a number, a condition without a parameter) is
said in red under the form, and ``breakpoint()`` returns None.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.debugger.logic import KIND_LABELS, context_names, parse_offset, parse_value, rule_names, show_value
from gui.view_models.stream import find_pins
from model.interfaces.declarations import INTERFACES
from model.kernel.types import NTSTATUS
from model.session.breakpoints import OPERATORS, BreakKind, Breakpoint, Condition
from model.system import System
from model.units import DurationError, format_ns, parse_duration

ANY = ""  # the first item of the optional drop-downs: no restriction

# Which rows of the form each kind uses.
ROWS: dict[BreakKind, tuple[str, ...]] = {
    BreakKind.CALL: ("object", "method", "conditions", "status", "context"),
    BreakKind.TERMINAL_COUNT: ("channel",),
    BreakKind.POSITION: ("stream", "offset"),
    BreakKind.GLITCH: ("stream",),
    BreakKind.VIOLATION: ("rule",),
    BreakKind.TIME: ("time",),
}

HINTS: dict[BreakKind, str] = {
    BreakKind.CALL: "Stops after the event that makes the call. Leave a field empty for any.",
    BreakKind.TERMINAL_COUNT: "The 8237 channel's count ran out (the buffer wrapped or the transfer ended).",
    BreakKind.BLOCK_END: "The SB16 finished a block and raises its IRQ.",
    BreakKind.IOC: "An HD Audio or AC'97 bus master finished a buffer descriptor marked IOC.",
    BreakKind.INTERRUPT: "Any interrupt raised, acknowledged or serviced.",
    BreakKind.DPC: "Any DPC queued or run.",
    BreakKind.POSITION: "The stream's position in its buffer moves across this byte offset.",
    BreakKind.GLITCH: "An underrun or overrun the listener would hear.",
    BreakKind.VIOLATION: "The contract checker reports a broken rule.",
    BreakKind.TIME: "Simulated time reaches this moment.",
}


def _combo(items: Sequence[str], tip: str, *, editable: bool = True, any_text: str = "any") -> QComboBox:
    combo = QComboBox()
    combo.setEditable(editable)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItem(ANY)
    combo.addItems(list(items))
    combo.setToolTip(tip)
    if editable:
        combo.lineEdit().setPlaceholderText(any_text)
    return combo


class ConditionRow(QWidget):
    """``param op value`` on a call's argument, its status or its value, with a button to remove it."""

    removed = Signal(object)

    def __init__(self, params: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = _combo(params, "The argument the condition reads (or status, value).", any_text="parameter")
        self.op = QComboBox(self)
        self.op.addItems(list(OPERATORS))
        self.op.setToolTip("How the argument compares with the value.")
        self.value = QLineEdit(self)
        self.value.setPlaceholderText("value: 0x1000, TRUE, KSSTATE_RUN…")
        self.value.setToolTip("A number (decimal or 0x hex), TRUE or FALSE, or a name (an NTSTATUS, a KS state).")
        self.remove = QPushButton("✕", self)
        self.remove.setToolTip("Remove this condition.")
        self.remove.setMaximumWidth(self.remove.fontMetrics().horizontalAdvance("✕") + 20)
        self.remove.clicked.connect(lambda: self.removed.emit(self))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.param, 3)
        row.addWidget(self.op, 1)
        row.addWidget(self.value, 3)
        row.addWidget(self.remove)

    def set_params(self, params: Sequence[str]) -> None:
        text = self.param.currentText()
        self.param.clear()
        self.param.addItem(ANY)
        self.param.addItems(list(params))
        self.param.setEditText(text)

    def condition(self) -> Condition | str:
        """The condition, or what is wrong with it."""
        param = self.param.currentText().strip()
        value = self.value.text().strip()
        if not param:
            return "a condition needs a parameter (or remove it)"
        if not value:
            return f"the condition on {param} needs a value"
        return Condition(param, self.op.currentText(), parse_value(value))


class BreakpointEditor(QWidget):
    """Kind, then the fields of that kind; ``breakpoint()`` makes the Breakpoint (or says what is wrong)."""

    changed = Signal()

    def __init__(
        self,
        system: Callable[[], System | None],
        kinds: Sequence[BreakKind] = tuple(BreakKind),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._system = system
        self.kind_box = QComboBox(self)
        for kind in kinds:
            self.kind_box.addItem(KIND_LABELS[kind], kind.value)
        self.kind_box.setToolTip("What to stop at.")
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.hint.setProperty("role", "hint")

        self.object_box = _combo([], "The object called (an id or alias); empty: any object.")
        self.method_box = _combo([], "The method; empty: any method.")
        self.status_box = _combo(list(NTSTATUS.__members__), "Only calls that return this status; empty: any.")
        self.context_box = _combo(
            [], "Only calls made from this context (passive, dispatch, isr:miniport, dpc:sg…); empty: any."
        )
        self.conditions: list[ConditionRow] = []
        self.conditions_box = QWidget(self)
        self.conditions_layout = QVBoxLayout(self.conditions_box)
        self.conditions_layout.setContentsMargins(0, 0, 0, 0)
        self.conditions_layout.setSpacing(2)
        self.add_condition_button = QPushButton("Add condition", self)
        self.add_condition_button.setToolTip("Stop only when an argument (or the status, or the value) compares so.")
        self.add_condition_button.clicked.connect(lambda: self.add_condition())
        self.conditions_layout.addWidget(self.add_condition_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.channel_box = _combo([str(n) for n in range(8)], "Only this 8237 channel; empty: any.", editable=False)
        self.channel_box.setItemText(0, "any")
        self.stream_box = _combo([], "The stream (a pin id); empty: the first stream.", any_text="the first stream")
        self.offset_edit = QLineEdit(self)
        self.offset_edit.setPlaceholderText("byte offset, e.g. 0x2000")
        self.offset_edit.setToolTip("The byte offset in the stream's cyclic buffer (decimal or 0x hex).")
        self.rule_box = _combo(rule_names(), "Only this rule; empty: any violation.", any_text="any rule")
        self.time_edit = QLineEdit(self)
        self.time_edit.setPlaceholderText("e.g. 12.5ms, 2s, 300us")
        self.time_edit.setToolTip("A simulated time with its unit: ns, us, ms or s.")
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setProperty("role", "error")
        self.error.hide()

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._rows: dict[str, int] = {}
        for name, label, widget in (
            ("kind", "&Kind", self.kind_box),
            ("object", "&Object", self.object_box),
            ("method", "&Method", self.method_box),
            ("conditions", "Con&ditions", self.conditions_box),
            ("status", "Returns", self.status_box),
            ("context", "Called from", self.context_box),
            ("channel", "Channel", self.channel_box),
            ("stream", "Stream", self.stream_box),
            ("offset", "O&ffset", self.offset_edit),
            ("rule", "R&ule", self.rule_box),
            ("time", "&Time", self.time_edit),
        ):
            buddy = QLabel(label, self)
            buddy.setBuddy(widget)
            buddy.setToolTip(widget.toolTip())
            self._rows[name] = self.form.rowCount()
            self.form.addRow(buddy, widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        layout.addWidget(self.hint)
        layout.addWidget(self.error)

        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        self.object_box.currentTextChanged.connect(self._object_changed)
        self.method_box.currentTextChanged.connect(self._method_changed)
        for edit in (self.offset_edit, self.time_edit):
            edit.textChanged.connect(self._edited)
        self._kind_changed()

    # --- choices ------------------------------------------------------------------------------------------
    @property
    def kind(self) -> BreakKind:
        return BreakKind(self.kind_box.currentData())

    def set_kind(self, kind: BreakKind) -> None:
        self.kind_box.setCurrentIndex(max(0, self.kind_box.findData(kind.value)))

    def refresh_choices(self) -> None:
        """Offer what the session has now: its objects, streams and contexts (they come and go)."""
        system = self._system()
        if system is None:
            return
        objects: list[str] = sorted(system.aliases)
        objects += sorted(o for o, obj in system.objects.items() if obj.method_table())
        _refill(self.object_box, objects)
        _refill(self.stream_box, [pin.object_id for pin in find_pins(system)])
        _refill(self.context_box, context_names(system))
        self._object_changed()

    def _kind_changed(self) -> None:
        kind = self.kind
        shown = set(ROWS.get(kind, ())) | {"kind"}
        for name, row in self._rows.items():
            self.form.setRowVisible(row, name in shown)
        self.hint.setText(HINTS.get(kind, ""))
        self._edited()

    def _object_changed(self) -> None:
        """The methods offered are the object's (every declared method when no object is chosen)."""
        system = self._system()
        name = self.object_box.currentText().strip()
        obj = system.get(name) if system is not None and name else None
        if obj is not None:
            methods = list(obj.method_table())
        else:
            methods = sorted({m.name for interface in INTERFACES.values() for m in interface.methods})
        _refill(self.method_box, methods)
        self._method_changed()

    def _method_changed(self) -> None:
        for row in self.conditions:
            row.set_params(self._params())
        self._edited()

    def _params(self) -> list[str]:
        """What a condition can read: the method's parameters (in and out), then status and value."""
        method = self.method_box.currentText().strip()
        names: list[str] = []
        for interface in INTERFACES.values():
            for declared in interface.methods:
                if declared.name == method:
                    names += [p.name for p in declared.params if p.name not in names]
        return [*names, "status", "value"]

    def add_condition(self, condition: Condition | None = None) -> ConditionRow:
        row = ConditionRow(self._params(), self.conditions_box)
        row.removed.connect(self._remove_condition)
        row.param.currentTextChanged.connect(self._edited)
        row.value.textChanged.connect(self._edited)
        if condition is not None:
            row.param.setEditText(condition.param)
            row.op.setCurrentText(condition.op)
            row.value.setText(show_value(condition.value))
        self.conditions.append(row)
        self.conditions_layout.insertWidget(len(self.conditions) - 1, row)
        row.param.setFocus()
        self._edited()
        return row

    def _remove_condition(self, row: ConditionRow) -> None:
        self.conditions.remove(row)
        self.conditions_layout.removeWidget(row)
        row.deleteLater()
        self._edited()

    def _edited(self) -> None:
        self.error.hide()
        self.changed.emit()

    # --- the result ----------------------------------------------------------------------------------------
    def breakpoint(self) -> Breakpoint | None:
        """The breakpoint the form describes; None (and the reason shown in red) if it describes none."""
        result = self._make()
        if isinstance(result, str):
            self.error.setText(result)
            self.error.show()
            return None
        self.error.hide()
        return result

    def problem(self) -> str | None:
        result = self._make()
        return result if isinstance(result, str) else None

    def _make(self) -> Breakpoint | str:
        kind = self.kind
        bp = Breakpoint(kind)
        if kind == BreakKind.CALL:
            bp.object = self.object_box.currentText().strip() or None
            bp.method = self.method_box.currentText().strip() or None
            bp.status = self.status_box.currentText().strip() or None
            bp.context = self.context_box.currentText().strip() or None
            if bp.status and bp.status not in NTSTATUS.__members__:
                return f"{bp.status} is not an NTSTATUS dmaviz knows"
            methods = declared_method_names()
            if bp.method and bp.method not in methods:
                return f"no interface declares a method {bp.method!r}{_close(bp.method, methods)}"
            # A condition on a name the calls never carry would silently never stop.
            readable = self._params() if bp.method else [*declared_param_names(), "status", "value"]
            for row in self.conditions:
                condition = row.condition()
                if isinstance(condition, str):
                    return condition
                if condition.param not in readable:
                    owner = bp.method or "no method"
                    return f"{owner} has no parameter {condition.param!r}{_close(condition.param, readable)}"
                bp.conditions.append(condition)
        elif kind == BreakKind.TERMINAL_COUNT:
            bp.channel = self.channel_box.currentIndex() - 1 if self.channel_box.currentIndex() > 0 else None
        elif kind in (BreakKind.POSITION, BreakKind.GLITCH):
            bp.object = self.stream_box.currentText().strip() or None
            if kind == BreakKind.POSITION:
                text = self.offset_edit.text().strip()
                if not text:
                    return "give the byte offset the position must cross (0x2000, 8192)"
                try:
                    bp.offset = parse_offset(text)
                except ValueError:
                    return f"{text!r} is not a byte offset (a number such as 8192 or 0x2000)"
        elif kind == BreakKind.VIOLATION:
            bp.rule = self.rule_box.currentText().strip() or None
            if bp.rule and bp.rule not in rule_names():
                return f"there is no rule {bp.rule!r}"
        elif kind == BreakKind.TIME:
            text = self.time_edit.text().strip()
            if not text:
                return "give the time, with its unit (12.5ms)"
            try:
                bp.time_ns = parse_duration(text)
            except DurationError as exc:
                return str(exc)
        return bp

    def set_breakpoint(self, bp: Breakpoint) -> None:
        """Show ``bp`` in the form (to make a similar one)."""
        self.set_kind(bp.kind)
        self.object_box.setEditText(bp.object or "")
        self.stream_box.setEditText(bp.object or "")
        self.method_box.setEditText(bp.method or "")
        self.status_box.setEditText(bp.status or "")
        self.context_box.setEditText(bp.context or "")
        self.rule_box.setEditText(bp.rule or "")
        self.channel_box.setCurrentIndex(0 if bp.channel is None else bp.channel + 1)
        self.offset_edit.setText("" if bp.offset is None else f"0x{bp.offset:X}")
        self.time_edit.setText("" if bp.time_ns is None else format_ns(bp.time_ns).replace(" ", ""))
        for row in list(self.conditions):
            self._remove_condition(row)
        for condition in bp.conditions:
            self.add_condition(condition)


def declared_method_names() -> list[str]:
    return sorted({m.name for interface in INTERFACES.values() for m in interface.methods})


def declared_param_names() -> list[str]:
    return sorted({p.name for interface in INTERFACES.values() for m in interface.methods for p in m.params})


def _close(name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def _refill(combo: QComboBox, items: Sequence[str]) -> None:
    """Replace the offered items, keeping what is typed."""
    wanted = [ANY, *items]
    if [combo.itemText(i) for i in range(combo.count())] == wanted:
        return
    text = combo.currentText()
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(wanted)
    combo.setEditText(text)
    combo.blockSignals(False)
