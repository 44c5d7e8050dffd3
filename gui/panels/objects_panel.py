"""The object tree with ids, aliases, kinds and state; choosing an object opens it in the Methods panel."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from gui.panels.base import Panel
from gui.panels.picture_text import fit_tree
from gui.session_controller import Frame, SessionController
from gui.theme import Theme
from gui.view_models.objects import ObjectNode, object_tree
from model.session.session import Session

RUNNING_INTERVAL_S = 0.1


def _shape(nodes: list[ObjectNode]) -> tuple[object, ...]:
    return tuple((n.label, n.kind, _shape(n.children)) for n in nodes)


def _called(session: Session) -> frozenset[str]:
    """The objects whose methods the last step called."""
    first, end = session.last_step_records()
    records = session.system.trace.records
    return frozenset(str(r.object) for r in records[first:end] if r.kind == "call")  # type: ignore[attr-defined]


class ObjectsPanel(Panel):
    key = "objects"
    title = "Objects"
    tooltip = "Every model object, from the adapter driver down to the DMA controller's channel."

    object_chosen = Signal(str)  # object id (double click or Enter)

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.nodes: list[ObjectNode] = []
        self._shape: tuple[object, ...] = ()
        self._step: tuple[object, ...] = ()
        self._called: frozenset[str] = frozenset()  # objects the last step called (highlighted when paused)
        self._last = 0.0
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Object", "Kind", "State"])
        self.tree.setToolTip(
            "Double-click an object (or press Enter) to call its methods in the Methods panel. "
            "Highlighted: the objects the event that just ran called."
        )
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.tree.itemActivated.connect(self._activated)
        hint = QLabel("Double-click or Enter: call this object's methods.", self)
        hint.setProperty("role", "hint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree, 1)
        layout.addWidget(hint)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._shape = ()

    def session_replaced(self) -> None:
        self._shape = ()

    def export_clutter(self) -> list[QWidget]:
        """Besides the buttons: the usage hint under the tree."""
        hints = [w for w in self.findChildren(QLabel) if w.property("role") == "hint"]
        return [*super().export_clutter(), *hints]

    def set_export_mode(self, on: bool) -> None:
        if on == self.export_mode:
            return
        super().set_export_mode(on)
        if on:
            self._unfit = fit_tree(self.tree)  # long states wrap instead of ending in "…"
        else:
            self._unfit()

    def refresh(self, frame: Frame) -> None:
        session = self.controller.session
        key = (frame.step_index, frame.present, frame.epoch, frame.running, session.last_step_records())
        if key == self._step and self._shape:
            return  # object state only changes when the model does
        now = time.perf_counter()
        if frame.running and self._shape and now - self._last < RUNNING_INTERVAL_S:
            return  # reference counts and states, read by a person: 10 times a second is plenty while running
        self._last = now
        self._step = key
        self._called = frozenset() if frame.running else _called(session)
        nodes = object_tree(session.system)
        self.nodes = nodes
        shape = _shape(nodes)
        if shape != self._shape:
            self._shape = shape
            self.tree.clear()
            for node in nodes:
                self.tree.addTopLevelItem(self._item(node))
            self.tree.expandAll()
        else:
            for i, node in enumerate(nodes):
                self._update(self.tree.topLevelItem(i), node)

    def _item(self, node: ObjectNode) -> QTreeWidgetItem:
        item = QTreeWidgetItem()
        self._update(item, node)
        for child in node.children:
            item.addChild(self._item(child))
        return item

    def _update(self, item: QTreeWidgetItem, node: ObjectNode) -> None:
        texts = (node.label, node.kind, node.state)
        for col, text in enumerate(texts):
            if item.text(col) != text:
                item.setText(col, text)
        tip = "\n".join([f"{node.label} — {node.kind}", *[f"{k}: {v}" for k, v in node.details.items()]])
        for col in range(3):
            if item.toolTip(col) != tip:
                item.setToolTip(col, tip)
        brush = QBrush(QColor(self.theme.muted)) if not node.alive or not node.object_id else QBrush()
        item.setForeground(0, brush)
        current = QBrush(QColor(self.theme.current_row)) if node.object_id in self._called else QBrush()
        for col in range(3):
            item.setBackground(col, current)
        item.setData(0, Qt.ItemDataRole.UserRole, node.object_id)
        for i, child in enumerate(node.children):
            if i < item.childCount():
                self._update(item.child(i), child)

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        object_id = item.data(0, Qt.ItemDataRole.UserRole)
        if object_id:
            self.object_chosen.emit(str(object_id))
