"""Call any interface method of any object: pick the object, the method, fill the generated form, Call."""

from __future__ import annotations

import html

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gui.icons import icon
from gui.method_form import MethodForm
from gui.panels.base import Panel
from gui.session_controller import Frame, SessionController
from gui.theme import Theme
from gui.view_models.method_call import ResultView, contexts, default_context, result_view
from model.interfaces.types import Method
from model.system import CallResult


class MethodsPanel(Panel):
    key = "methods"
    title = "Methods"
    tooltip = "Call any method of any object's interfaces, with any arguments and in any context."

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.result: ResultView | None = None
        self.last_call: CallResult | None = None
        self._objects: tuple[str, ...] = ()
        self._step = (-1, -1)

        self.object_box = QComboBox(self)
        self.object_box.setToolTip("The object to call (its id, then its aliases).")
        self.method_box = QComboBox(self)
        self.method_box.setToolTip("Every method of every interface the object implements.")
        self.method_box.setMaxVisibleItems(30)
        self.signature = QLabel(self)
        self.signature.setWordWrap(True)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.description.setOpenExternalLinks(True)
        self.form = MethodForm(lambda: self.controller.session.system, self)
        self.context_box = QComboBox(self)
        for choice in contexts():
            self.context_box.addItem(choice.label, choice.name)
        self.context_box.setToolTip(
            "Who makes the call, at which IRQL. The default is what the method allows; pick another to see "
            "the contract checker object."
        )
        self.irql_note = QLabel(self)
        self.irql_note.setWordWrap(True)
        self.irql_note.setProperty("role", "hint")
        self.call_button = QPushButton("Call", self)
        self.call_button.setToolTip("Make the call now (Ctrl+Enter). It is recorded, so it replays.")
        self.call_button.clicked.connect(self.call)
        self.output = QTextBrowser(self)
        self.output.setOpenExternalLinks(True)
        self.output.setToolTip("The call's result: status or value, out-parameters and any contract violation.")
        self.output.setMinimumHeight(60)

        picker = QFormLayout()
        picker.addRow("&Object", self.object_box)
        picker.addRow("&Method", self.method_box)
        context_row = QHBoxLayout()
        context_row.addWidget(self.context_box, 1)
        context_row.addWidget(self.call_button)
        form_box = QWidget()
        form_layout = QVBoxLayout(form_box)
        form_layout.setContentsMargins(0, 0, 0, 0)
        form_layout.addWidget(self.signature)
        form_layout.addWidget(self.description)
        form_layout.addWidget(self.form)
        form_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidget(form_box)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(picker)
        layout.addWidget(scroll, 4)
        context_label = QLabel("Calling &context", self)
        context_label.setBuddy(self.context_box)
        layout.addWidget(context_label)
        layout.addLayout(context_row)
        layout.addWidget(self.irql_note)
        layout.addWidget(self.output, 2)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(self.call)

        self.object_box.currentIndexChanged.connect(self._object_changed)
        self.method_box.currentIndexChanged.connect(self._method_changed)
        self.context_box.currentIndexChanged.connect(self._context_changed)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.call_button.setIcon(icon("call", theme.text))
        if self.result is not None:
            self._show_result(self.result)

    def session_replaced(self) -> None:
        self._objects = ()
        self._step = (-1, -1)
        self.result = None
        self.output.clear()

    # --- choosing ------------------------------------------------------------------------------------------
    def refresh(self, frame: Frame) -> None:
        self._sync_objects()
        step = (frame.step_index, frame.present)
        if step != self._step:
            self._step = step
            self.form.refresh_defaults()

    def _sync_objects(self) -> None:
        """Offer every object that has methods (objects come and go: NewStream, Release)."""
        system = self.controller.session.system
        ids = tuple(sorted(obj_id for obj_id, obj in system.objects.items() if obj.method_table()))
        if ids != self._objects:
            self._objects = ids
            current = self.object_box.currentData()
            self.object_box.blockSignals(True)
            self.object_box.clear()
            for obj_id in ids:
                names = system.names_of(system.objects[obj_id])
                label = names[0] + (f" ({', '.join(names[1:])})" if len(names) > 1 else "")
                self.object_box.addItem(f"{label} — {system.objects[obj_id].kind}", obj_id)
            self.object_box.blockSignals(False)
            index = (
                self.object_box.findData(current) if current else self.object_box.findData(system.aliases.get("dma"))
            )
            self.object_box.setCurrentIndex(max(0, index))
            self._object_changed()

    def select(self, object_id: str, method: str | None = None) -> bool:
        """Show ``object_id`` (an id or alias) and optionally one of its methods."""
        self._sync_objects()
        system = self.controller.session.system
        obj = system.get(object_id)
        if obj is None:
            return False
        index = self.object_box.findData(obj.object_id)
        if index < 0:
            return False
        self.object_box.setCurrentIndex(index)
        if method is not None:
            m = self.method_box.findData(method)
            if m < 0:
                return False
            self.method_box.setCurrentIndex(m)
        return True

    def _object_changed(self) -> None:
        obj_id = self.object_box.currentData()
        self.method_box.blockSignals(True)
        self.method_box.clear()
        if obj_id:
            obj = self.controller.session.system.get(obj_id)
            table = obj.method_table() if obj is not None else {}
            by_interface: dict[str, list[Method]] = {}
            for method in table.values():
                by_interface.setdefault(method.interface, []).append(method)
            for interface, methods in by_interface.items():
                if self.method_box.count():
                    self.method_box.insertSeparator(self.method_box.count())
                for method in methods:
                    self.method_box.addItem(f"{interface}::{method.name}", method.name)
        self.method_box.blockSignals(False)
        self.method_box.setCurrentIndex(0)
        self._method_changed()

    @property
    def method(self) -> Method | None:
        obj_id = self.object_box.currentData()
        name = self.method_box.currentData()
        if not obj_id or not name:
            return None
        obj = self.controller.session.system.get(obj_id)
        return obj.method_table().get(name) if obj is not None else None

    def _method_changed(self) -> None:
        method = self.method
        obj_id = self.object_box.currentData() or ""
        self.form.set_method(obj_id, method)
        if method is None:
            self.signature.setText("")
            self.description.setText("")
            return
        params = ", ".join(f"{'<i>out</i> ' if p.direction == 'out' else ''}{p.type} {p.name}" for p in method.params)
        self.signature.setText(f"<b>{html.escape(method.returns)} {method.interface}::{method.name}</b>({params})")
        self.description.setText(
            f"{html.escape(method.description)}<br>IRQL: {html.escape(method.irql.describe())} · "
            f'<a href="{html.escape(method.page)}">Microsoft Learn page</a>'
        )
        self.description.setToolTip(method.page)
        index = self.context_box.findData(default_context(method))
        self.context_box.setCurrentIndex(max(0, index))
        self._context_changed()

    def _context_changed(self) -> None:
        method = self.method
        if method is None:
            self.irql_note.setText("")
            return
        from model.kernel.contexts import USER_CONTEXTS

        name = self.context_box.currentData()
        irql = USER_CONTEXTS[name][1]
        if method.irql.allows(irql):
            self.irql_note.setText(f"{name} runs at {irql.name}: allowed ({method.irql.describe()}).")
            self.irql_note.setProperty("role", "hint")
        else:
            self.irql_note.setText(
                f"{name} runs at {irql.name}, but {method.name} must be called at {method.irql.describe()}: "
                "the call will be made, and the contract checker will report it."
            )
            self.irql_note.setProperty("role", "error")
        self.irql_note.style().unpolish(self.irql_note)
        self.irql_note.style().polish(self.irql_note)

    # --- calling ----------------------------------------------------------------------------------------------
    def call(self) -> CallResult | None:
        method = self.method
        obj_id = self.object_box.currentData()
        if method is None or not obj_id:
            return None
        args = self.form.arguments()
        context = self.context_box.currentData()
        system = self.controller.session.system
        obj = system.get(obj_id)
        # Call by the stable alias where there is one (dma, stream, sg): a saved session then reads
        # the same for every device kind, as scenario files do.
        names = system.names_of(obj) if obj is not None else [obj_id]
        target = names[1] if len(names) > 1 else names[0]
        result = self.controller.call(target, method.name, args, context)
        self.last_call = result
        self.result = result_view(result)
        self._show_result(self.result)
        return result

    def _show_result(self, view: ResultView) -> None:
        theme = self.theme
        color = theme.error if (view.violations or not view.executed) else theme.port
        parts = [f'<p><b style="color:{color}">{html.escape(view.headline)}</b>']
        if view.seq is not None:
            parts.append(
                f"<br><span style='color:{theme.muted}'>trace record #{view.seq} · {html.escape(view.context)} · "
                f"{html.escape(view.irql)}</span>"
            )
        parts.append("</p>")
        if view.out:
            parts.append("<p>" + "<br>".join(f"{html.escape(k)} = <b>{html.escape(v)}</b>" for k, v in view.out))
            parts.append("</p>")
        for rule, message, windows in view.violations:
            parts.append(
                f"<p><b style='color:{theme.error}'>Contract violation: {html.escape(rule)}</b><br>"
                f"{html.escape(message)}<br><i>On Windows:</i> {html.escape(windows)}</p>"
            )
        self.output.setHtml("".join(parts))
