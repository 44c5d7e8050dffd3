"""Positions and sizes as numbers with bars."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from gui.panels.base import Panel
from gui.session_controller import Frame, SessionController
from gui.theme import Theme, mono_font
from gui.view_models.buffer import buffer_view
from gui.view_models.positions import PositionRow, positions


class Bar(QWidget):
    """A plain horizontal bar (QProgressBar repaints synchronously on every setValue: too slow per frame)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fraction = 0.0
        self.color = QColor("#2f6fde")
        self.warn = QColor("#c62828")
        self.track = QColor("#d0d4da")
        self.warning = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # it paints every pixel: nothing behind to redraw

    def sizeHint(self) -> QSize:
        return QSize(120, max(8, int(self.fontMetrics().height() * 0.7)))

    def set_fraction(self, fraction: float, warning: bool) -> None:
        if abs(fraction - self.fraction) > 1e-4 or warning != self.warning:
            self.fraction, self.warning = fraction, warning
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.fillRect(rect, self.track)
        filled = QRectF(rect)
        filled.setWidth(rect.width() * self.fraction)
        painter.fillRect(filled, self.warn if self.warning else self.color)
        painter.end()


class PositionsPanel(Panel):
    key = "positions"
    title = "Positions and sizes"
    tooltip = "Where the DMA and the port are, in the buffer and in the stream, and the buffer-size values."

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.rows: list[PositionRow] = []
        self._widgets: dict[str, tuple[QLabel, QLabel, Bar]] = {}
        self._keys: tuple[str, ...] = ()
        inner = QWidget()
        self.grid = QGridLayout(inner)
        self.grid.setColumnStretch(2, 1)
        self.empty = QLabel("No stream in this scenario (yet).")
        self.grid.addWidget(self.empty, 0, 0, 1, 3)
        scroll = QScrollArea(self)
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(scroll)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._keys = ()  # rebuild with the new colours

    def session_replaced(self) -> None:
        self._keys = ()

    def refresh(self, frame: Frame) -> None:
        pin = self.controller.pin()
        rows = positions(buffer_view(self.controller.session.system, pin, self.controller.hardware), pin)
        self.rows = rows
        keys = tuple(r.key + r.label for r in rows)
        if keys != self._keys:
            self._build(rows)
            self._keys = keys
        for row in rows:
            _label, value, bar = self._widgets[row.key]
            if value.text() != row.text:
                value.setText(row.text)
            if row.fraction is None:
                bar.hide()
            else:
                bar.show()
                bar.set_fraction(row.fraction, row.warning)
            warn = "error" if row.warning else ""
            if value.property("role") != (warn or "value"):
                value.setProperty("role", warn or "value")
                value.style().unpolish(value)
                value.style().polish(value)

    def _build(self, rows: list[PositionRow]) -> None:
        for label, value, bar in self._widgets.values():
            for w in (label, value, bar):
                self.grid.removeWidget(w)
                w.deleteLater()
        self._widgets.clear()
        self.empty.setVisible(not rows)
        font = mono_font()
        for i, row in enumerate(rows, start=1):
            label = QLabel(row.label)
            label.setToolTip(row.tooltip)
            value = QLabel()
            value.setFont(font)
            # A fixed width: a new number must not re-lay out the panel (and repaint the whole dock) every frame.
            value.setFixedWidth(QFontMetrics(font).horizontalAdvance("-0x0000000 (-000,000,000 bytes) = -00000.000 ms"))
            value.setProperty("role", "value")
            value.setToolTip(row.tooltip)
            bar = Bar()
            bar.color, bar.warn, bar.track = (
                QColor(self.theme.highlight),
                QColor(self.theme.error),
                QColor(self.theme.grid),
            )
            bar.setToolTip(row.tooltip)
            self.grid.addWidget(label, i, 0)
            self.grid.addWidget(value, i, 1)
            self.grid.addWidget(bar, i, 2)
            self._widgets[row.key] = (label, value, bar)
        self.grid.setRowStretch(len(rows) + 1, 1)
