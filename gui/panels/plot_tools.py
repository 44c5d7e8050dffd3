"""Shared pieces of the plot panels: a hex axis, a fixed-range plot, a legend row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QWidget

from gui.theme import Theme


class HexAxis(pg.AxisItem):
    """An axis labelled in hex (byte offsets, addresses)."""

    def __init__(self, orientation: str, scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.hex_scale = scale  # a tick value times this is the number shown

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        """Powers of two, so the ticks fall on round hex numbers (0x1000, 0x2000...)."""
        span = (maxVal - minVal) * self.hex_scale
        if span <= 0 or size <= 0:
            return super().tickSpacing(minVal, maxVal, size)
        wanted = max(2, int(size / 90))  # about one label per 90 pixels
        major = 1
        while span / major > wanted:
            major *= 2
        return [(major / self.hex_scale, 0), (major / 4 / self.hex_scale, 0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"0x{max(0, round(v * self.hex_scale)):X}" for v in values]


def configure_plot_item(item: pg.PlotItem) -> None:
    """Fixed ranges: no auto-range, no context menu, no buttons, zoom along x only."""
    item.hideButtons()
    item.setMenuEnabled(False)
    vb = item.getViewBox()
    vb.disableAutoRange()
    vb.setMouseEnabled(x=True, y=False)
    vb.setDefaultPadding(0.0)


def make_plot(bottom: pg.AxisItem | None = None, left: pg.AxisItem | None = None) -> pg.PlotWidget:
    """A plot widget with fixed ranges (see configure_plot_item)."""
    axes = {}
    if bottom is not None:
        axes["bottom"] = bottom
    if left is not None:
        axes["left"] = left
    widget = pg.PlotWidget(axisItems=axes or None, enableMenu=False)
    configure_plot_item(widget.getPlotItem())
    return widget


def style_plot(widget: pg.GraphicsView, theme: Theme, items: list[pg.PlotItem] | None = None) -> None:
    """Colours and font sizes of a plot for ``theme`` (presentation mode scales them)."""
    widget.setBackground(theme.plot_bg)
    font = QFont(widget.font())
    font.setPointSizeF(max(6.0, font.pointSizeF() * 0.9))
    for item in items if items is not None else [widget.getPlotItem()]:
        for name in ("left", "bottom", "right", "top"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(theme.plot_fg))
            axis.setTextPen(pg.mkPen(theme.plot_fg))
            axis.setStyle(tickFont=font, tickLength=int(-6 * theme.scale))
            if axis.label is not None:
                axis.label.setFont(font)
        item.titleLabel.item.setFont(font)


def legend_html(entries: Sequence[tuple[str, str, str]]) -> str:
    """A one-line legend: (symbol, colour, text) per entry."""
    # Non-breaking spaces inside an entry: a narrow panel wraps between entries, never inside one.
    parts = [
        f'<span style="color:{color}; font-weight:bold">{symbol}</span>&nbsp;{text.replace(" ", "&nbsp;")}'
        for symbol, color, text in entries
    ]
    return "&nbsp;&nbsp; ".join(parts)


def legend_label(parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    return label
