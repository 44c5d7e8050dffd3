"""What every panel has: a key (dock and export name), a title, refresh per frame, theme, export mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from PySide6.QtCore import QItemSelection, QItemSelectionModel
from PySide6.QtWidgets import QAbstractItemView, QPushButton, QWidget

from gui.session_controller import Frame, SessionController
from gui.theme import LIGHT, Theme


class Panel(QWidget):
    key: ClassVar[str] = ""  # stable name: dock object name, QSettings, `dmaviz shot --view`
    title: ClassVar[str] = ""
    tooltip: ClassVar[str] = ""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.theme: Theme = LIGHT
        self.export_mode = False
        self.setObjectName(f"{self.key}_panel")

    def refresh(self, frame: Frame) -> None:
        """Bring the panel up to date with the model; redraw only what changed since the last frame."""

    def session_replaced(self) -> None:
        """A new session: forget everything cached about the old one."""

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme

    def set_export_mode(self, on: bool) -> None:
        """Hide what is only there to be used while a picture is taken: hover lines and text (the panels' own
        overrides), controls (``export_clutter``) and selections; put everything back afterwards."""
        if on == self.export_mode:
            return
        self.export_mode = on
        if on:
            self._export_hidden = [w for w in self.export_clutter() if w.isVisibleTo(self)]
            for widget in self._export_hidden:
                widget.hide()
            self._export_selections = [_clear_selection(view) for view in self.findChildren(QAbstractItemView)]
            if self.layout() is not None:
                self.layout().activate()  # lay out without the hidden controls now: the picture is drawn next
            return
        for widget in getattr(self, "_export_hidden", []):
            widget.show()
        for restore in getattr(self, "_export_selections", []):
            restore()
        self._export_hidden, self._export_selections = [], []

    def export_clutter(self) -> list[QWidget]:
        """The controls a picture leaves out: push buttons, which are for clicking and say nothing about the
        moment shown. A panel adds its own (filter bars, usage hints)."""
        return list(self.findChildren(QPushButton))


def _clear_selection(view: QAbstractItemView) -> Callable[[], None]:
    """Clear ``view``'s selection without telling anyone (it is put back after the picture); how to put it back."""
    model = view.selectionModel()
    if model is None or not model.hasSelection():
        return lambda: None
    selection = QItemSelection(model.selection())
    blocked = model.blockSignals(True)
    model.clearSelection()
    model.blockSignals(blocked)

    def restore() -> None:
        if view.selectionModel() is not model:
            return  # the view got another model meanwhile: nothing of the old selection applies
        blocked = model.blockSignals(True)
        model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        model.blockSignals(blocked)
        view.viewport().update()

    return restore
