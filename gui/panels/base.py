"""What every panel has: a key (dock and export name), a title, refresh per frame, theme, export mode."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtWidgets import QWidget

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
        """Hide interactive overlays (hover lines, hover text) while a picture is taken."""
        self.export_mode = on
