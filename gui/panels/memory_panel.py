"""Physical memory as a page map: ownership, the stream's pages, damage, the 16 MiB ISA limit and 64 KiB boundaries."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.panels.base import Panel
from gui.panels.plot_tools import legend_html, legend_label, make_plot, style_plot
from gui.session_controller import Frame, SessionController
from gui.theme import Theme
from gui.view_models.memory import CODE_NAMES, COLUMNS, DAMAGED, MemoryView, describe_page, memory_view
from model.hardware.memory import PAGE_SIZE

ROW_BYTES = COLUMNS * PAGE_SIZE


class RowAxis(pg.AxisItem):
    """Rows labelled with the physical address they start at."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        out = []
        for v in values:
            address = round(v) * ROW_BYTES
            out.append(f"{address >> 20} MiB" if address % (1 << 20) == 0 else f"0x{address:X}")
        return out


class ColumnAxis(pg.AxisItem):
    """Columns labelled with the offset inside the row, on the 64 KiB boundaries."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        major = 16.0  # 64 KiB
        while (maxVal - minVal) / major > max(2.0, size / 70):
            major *= 2
        return [(major, 0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"+{round(v) * PAGE_SIZE // 1024} KiB" for v in values]


class MemoryPanel(Panel):
    key = "memory"
    title = "Physical memory"
    tooltip = "Every 4 KiB page of physical memory and who owns it."

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.view: MemoryView | None = None
        self._key: tuple[object, ...] = ()
        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        self.plot = make_plot(bottom=ColumnAxis("bottom"), left=RowAxis("left"))
        self.plot.setToolTip(
            f"One cell per 4 KiB page, {COLUMNS} pages ({ROW_BYTES // 1024} KiB) per row. The dashed line is the "
            "16 MiB ISA limit (system DMA cannot reach above it); the faint vertical lines are 64 KiB boundaries "
            "(an 8-bit 8237 transfer cannot cross one). Hover a page for its owner."
        )
        vb = self.plot.getViewBox()
        vb.setMouseEnabled(x=False, y=False)
        vb.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.boundaries = pg.PlotDataItem(connect="pairs", antialias=False)
        self.plot.addItem(self.boundaries)
        self.isa_line = pg.InfiniteLine(angle=0, movable=False)
        self.isa_label = pg.InfLineLabel(self.isa_line, "16 MiB ISA DMA limit", position=0.82, anchor=(0.5, 1))
        self.plot.addItem(self.isa_line, ignoreBounds=True)
        self.buffer_label = pg.TextItem(anchor=(0, 0.5))
        self.plot.addItem(self.buffer_label, ignoreBounds=True)
        self.damage_marks = pg.ScatterPlotItem(symbol="x", pxMode=True)
        self.plot.addItem(self.damage_marks, ignoreBounds=True)
        self.hover_box = pg.PlotDataItem(antialias=False)
        self.plot.addItem(self.hover_box, ignoreBounds=True)
        self.hover = QLabel(" ", self)
        self.hover.setProperty("role", "hint")
        self.plot.scene().sigMouseMoved.connect(self._hover)
        self.legend = legend_label(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.hover)
        layout.addWidget(self.legend)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        style_plot(self.plot, theme)
        self.plot.getPlotItem().getAxis("left").setWidth(int(56 * theme.scale))
        self.plot.getPlotItem().layout.setContentsMargins(0, 8 * theme.scale, 0, 0)  # room for the "0 MiB" label
        lut = np.array([pg.mkColor(c).getRgb() for c in theme.memory], dtype=np.ubyte)
        self.image.setLookupTable(lut)
        self.image.setLevels((0, len(theme.memory) - 1))
        self.boundaries.setPen(pg.mkPen(theme.color(theme.plot_fg, 60), width=1))
        self.isa_line.setPen(theme.pen(theme.error, 2, Qt.PenStyle.DashLine))
        self.isa_label.setColor(theme.error)
        # The labels sit on the page map, which can be as busy as a chessboard: give them a backing.
        for label in (self.isa_label, self.buffer_label):
            label.fill = pg.mkBrush(theme.color(theme.plot_bg, 215))
            label.update()
        self.hover_box.setPen(theme.pen(theme.text, 1.5))
        self.buffer_label.setColor(theme.text)
        self.damage_marks.setPen(pg.mkPen(theme.memory[7], width=2 * theme.scale))
        self.damage_marks.setBrush(pg.mkBrush(theme.memory[7]))
        self.damage_marks.setSize(10 * theme.scale)
        self._key = ()

    def set_export_mode(self, on: bool) -> None:
        super().set_export_mode(on)
        self.hover.setVisible(not on)
        if on:
            self.hover_box.setData([], [])

    def session_replaced(self) -> None:
        self._key = ()

    def refresh(self, frame: Frame) -> None:
        memory = self.controller.session.system.machine.memory
        pin = self.controller.pin()
        dma = getattr(pin, "dma", None)
        # Not memory.version: that moves with every byte written. The map shows owners and damage only.
        key = (
            hash(memory.owner.tobytes()),
            hash(memory.damaged.tobytes()),
            frame.epoch,
            getattr(dma, "buffer_physical", 0),
            getattr(dma, "allocated", 0),
            len(getattr(getattr(pin, "client", None), "buffers", ())),
        )
        if key == self._key:
            return  # nothing about the pages changed
        first = not self._key
        self._key = key
        view = memory_view(self.controller.session.system, pin)
        self.view = view
        self.image.setImage(view.codes, autoLevels=False)
        self.image.setLevels((0, len(self.theme.memory) - 1))
        self.image.setRect(0, 0, COLUMNS, view.rows)
        if first:
            self.plot.setXRange(0, COLUMNS, padding=0)
            self.plot.setYRange(0, view.rows, padding=0)
            xs = np.repeat(np.arange(16, COLUMNS, 16, dtype=np.float64), 2)
            ys = np.tile(np.array([0, view.rows], dtype=np.float64), len(xs) // 2)
            self.boundaries.setData(xs, ys)
            self.isa_line.setValue(view.isa_row)
            self.caption.setText(
                f"<b>{view.n_pages * PAGE_SIZE >> 20} MiB</b> in {view.n_pages} pages · "
                f"this stream: common buffer {len(view.stream_pages)} pages, client buffers "
                f"{len(view.client_pages)} pages (scattered) · one row = 1 MiB"
            )
        # Pages are small on a 64 MiB map: point at the ones that matter.
        if view.stream_pages:
            first = view.stream_pages[0]
            row, col = divmod(first, COLUMNS)
            self.buffer_label.setText(f"◀ this stream's common buffer (0x{first * PAGE_SIZE:X})")
            self.buffer_label.setPos(col + len(view.stream_pages) + 1, row + 0.5)
            self.buffer_label.show()
        else:
            self.buffer_label.hide()
        damaged = np.flatnonzero(view.codes.reshape(-1) == DAMAGED)
        self.damage_marks.setData(damaged % COLUMNS + 0.5, damaged // COLUMNS + 0.5)
        theme = self.theme
        self.legend.setText(
            legend_html(
                [
                    # Free pages are nearly the background colour: an outline square shows in the legend.
                    ("□", theme.muted, f"{name} ({view.counts[name]})")
                    if i == 0
                    else ("■", theme.memory[i], f"{name} ({view.counts[name]})")
                    for i, name in enumerate(CODE_NAMES)
                    if view.counts[name] or i in (5, 6, 7)
                ]
            )
        )

    def _hover(self, pos: QPointF) -> None:
        vb = self.plot.getViewBox()
        if self.export_mode or self.view is None or not vb.sceneBoundingRect().contains(pos):
            self.hover_box.setData([], [])
            return
        p = vb.mapSceneToView(pos)
        col, row = int(p.x()), int(p.y())
        if not (0 <= col < COLUMNS and 0 <= row < self.view.rows):
            return
        page = row * COLUMNS + col
        self.hover.setText(describe_page(self.controller.session.system, page))
        self.hover_box.setData([col, col + 1, col + 1, col, col], [row, row, row + 1, row + 1, row])
