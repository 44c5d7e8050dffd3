"""A form for one interface method, generated from its declaration: one field per input parameter.

An empty field means "the declared default" (computed from the target object at call time
for defaults such as SystemAddress()), so the placeholder shows what will be passed. Each
field is checked as it is edited with the model's own conversion (``System.convert_arg``);
a problem is shown in red right under the field. The Call stays possible: a call the
contract forbids is worth making, and the model's refusal is part of what dmaviz teaches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from gui.view_models.method_call import NULL, check, choices, default_text, param_hint, parse_input, show_value
from model.interfaces.types import Method, Param
from model.objects import ModelObject
from model.system import System


@dataclass
class Field:
    """One parameter's editor and the line under it."""

    param: Param
    editor: QLineEdit | QComboBox
    message: QLabel
    hint: str

    def text(self) -> str:
        if isinstance(self.editor, QComboBox):
            return self.editor.currentText().strip()
        return self.editor.text().strip()

    def set_text(self, text: str) -> None:
        if isinstance(self.editor, QComboBox):
            self.editor.setEditText(text)
        else:
            self.editor.setText(text)

    @property
    def error(self) -> str | None:
        return self.message.text() if self.message.property("role") == "error" else None


class MethodForm(QWidget):
    """Fields for the input parameters of one method on one object; ``arguments()`` gives what to pass."""

    validity_changed = Signal(bool)

    def __init__(self, system: Callable[[], System], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._system = system
        self.object_id = ""
        self.method: Method | None = None
        self.fields: dict[str, Field] = {}
        self._layout = QFormLayout()
        self._layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.outputs = QLabel(self)
        self.outputs.setWordWrap(True)
        self.outputs.setProperty("role", "hint")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self._layout)
        outer.addWidget(self.outputs)

    @property
    def target(self) -> ModelObject | None:
        return self._system().get(self.object_id) if self.object_id else None

    def set_method(self, object_id: str, method: Method | None) -> None:
        """Build the fields for ``method`` called on ``object_id``."""
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self.fields.clear()
        self.object_id = object_id
        self.method = method
        if method is None:
            self.outputs.setText("")
            return
        system = self._system()
        target = self.target
        for param in method.inputs:
            editor = self._editor(system, target, param)
            message = QLabel(self)
            message.setWordWrap(True)
            hint = param_hint(system, target, param)
            field = Field(param, editor, message, hint)
            self.fields[param.name] = field
            box = QWidget(self)
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(1)
            column.addWidget(editor)
            column.addWidget(message)
            label = QLabel(f"{param.name}", self)
            label.setBuddy(editor)
            tip = f"{param.name} ({param.type}, {param.direction}): {param.description}\n{hint}"
            label.setToolTip(tip)
            editor.setToolTip(tip)
            self._layout.addRow(label, box)
            self._validate(field)
        if not method.inputs:
            self._layout.addRow(QLabel("This method takes no input parameters.", self))
        outs = [f"{p.name} ({p.type}): {p.description}" for p in method.outputs]
        self.outputs.setText(("Out: " + "; ".join(outs)) if outs else "")
        self.outputs.setVisible(bool(outs))

    def _editor(self, system: System, target: ModelObject | None, param: Param) -> QLineEdit | QComboBox:
        default = default_text(system, target, param)
        offered = choices(system, param)
        if offered:
            # Editable, so any value can be typed (and checked inline); the list offers the valid ones.
            combo = QComboBox(self)
            combo.setEditable(True)
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            combo.addItems(["", *(c for c in offered if c != "")])
            combo.setCurrentIndex(0)
            line = combo.lineEdit()
            line.setPlaceholderText(f"default: {default}" if default else NULL)
            line.textChanged.connect(lambda _t, n=param.name: self._validate(self.fields[n]))
            return combo
        edit = QLineEdit(self)
        edit.setPlaceholderText(f"default: {default}" if default else "")
        edit.textChanged.connect(lambda _t, n=param.name: self._validate(self.fields[n]))
        return edit

    def _validate(self, field: Field) -> None:
        text = field.text()
        problem = None if not text else check(self._system(), field.param, parse_input(field.param, text))
        was_ok = self.valid
        if problem:
            field.message.setText(problem)
            field.message.setProperty("role", "error")
        else:
            field.message.setText(field.hint)
            field.message.setProperty("role", "hint")
        field.message.style().unpolish(field.message)
        field.message.style().polish(field.message)
        if self.valid != was_ok:
            self.validity_changed.emit(self.valid)

    @property
    def valid(self) -> bool:
        return all(f.error is None for f in self.fields.values())

    def errors(self) -> dict[str, str]:
        return {name: f.error for name, f in self.fields.items() if f.error is not None}

    def set_value(self, name: str, text: str) -> None:
        """Type ``text`` into a field (keyboard users, tests, scripted demos)."""
        self.fields[name].set_text(text)
        self._validate(self.fields[name])

    def refresh_defaults(self) -> None:
        """The target changed: recompute the defaults shown (SystemAddress() and the like)."""
        system = self._system()
        target = self.target
        for field in self.fields.values():
            default = default_text(system, target, field.param)
            field.hint = param_hint(system, target, field.param)
            editor = field.editor
            if isinstance(editor, QLineEdit):
                editor.setPlaceholderText(f"default: {default}" if default else "")
            else:
                editor.lineEdit().setPlaceholderText(f"default: {default}" if default else NULL)
            if field.error is None:
                field.message.setText(field.hint)

    def arguments(self) -> dict[str, Any]:
        """What to pass: every field that was filled in (the model fills the defaults of the rest)."""
        out: dict[str, Any] = {}
        for name, field in self.fields.items():
            text = field.text()
            if text:
                out[name] = parse_input(field.param, text)
        return out

    def describe_arguments(self) -> str:
        return ", ".join(f"{k}={show_value(v)}" for k, v in self.arguments().items())
