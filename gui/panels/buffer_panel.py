"""The common buffer as a strip: sample data, the byte band, the positions, the wrap point and the three sizes.

A WavePci stream has no cyclic buffer; the panel lists its mappings instead.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetrics
from PySide6.QtWidgets import (
    QApplication,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.panels.base import Panel
from gui.panels.plot_tools import HexAxis, configure_plot_item, legend_html, legend_label, style_plot
from gui.session_controller import Frame, SessionController
from gui.theme import Theme
from gui.view_models.buffer import (
    BAND_NAMES,
    BufferView,
    Envelope,
    band_codes,
    buffer_view,
    buffer_writes,
    ring_pieces,
)
from model.system import System

BAND_COLUMNS = 1024
# Vertical layout of the strip (data units): waveform in -1..1, the byte band below it.
BAND_TOP, BAND_BOTTOM = -1.1, -1.45
Y_RANGE = (-1.47, 1.12)
# The sizes strip above it: one bar per size, linked to the strip's x axis.
SIZES = (("maximum", "MaximumBufferSize"), ("allocated", "AllocatedBufferSize"), ("buffer_size", "BufferSize"))
LEFT_AXIS_WIDTH = 44
MAPPING_COLUMNS = ("Tag", "Physical address", "Bytes", "Pages", "Stream offset", "State")


class BufferPanel(Panel):
    key = "buffer"
    title = "Common buffer"
    tooltip = "The stream's cyclic DMA buffer: its bytes, where the DMA and the port are, and its sizes."

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.view: BufferView | None = None
        self._geometry: tuple[int, ...] | None = None
        self.envelope = Envelope()
        self._seen = 0  # trace records already looked at for writes into the buffer
        self._epoch = -1
        self._last_dma: int | None = None
        self._plotted = -1
        self._band_key: tuple[object, ...] | None = None

        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setToolTip(
            "Top: MaximumBufferSize, AllocatedBufferSize and BufferSize to scale. Below: the first channel of the "
            "bytes in the common buffer, and a band saying what each byte holds. Scroll to zoom along the buffer."
        )
        self.sizes = self.graphics.addPlot(row=0, col=0, enableMenu=False)
        self.plot = self.graphics.addPlot(row=1, col=0, enableMenu=False, axisItems={"bottom": HexAxis("bottom")})
        layout_ = self.graphics.ci.layout
        layout_.setRowStretchFactor(0, 1)
        layout_.setRowStretchFactor(1, 4)
        self.graphics.ci.setSpacing(0)
        for item in (self.sizes, self.plot):
            configure_plot_item(item)
        self.sizes.setXLink(self.plot)
        self.sizes.getViewBox().setMouseEnabled(x=False, y=False)
        self.sizes.hideAxis("bottom")
        self.sizes.getAxis("left").setStyle(showValues=False)
        self.sizes.getAxis("left").setTicks([[]])  # no tick stubs over the bars' labels
        self.sizes.setYRange(0, len(SIZES), padding=0.05)
        self.plot.setLabel("bottom", "byte offset in the common buffer")
        self.plot.getAxis("left").setTicks([[(-1, "-1"), (0, "0"), (1, "1")]])
        self.plot.setLabel("left", "sample")
        self.plot.setYRange(*Y_RANGE, padding=0)

        self.wave = pg.PlotDataItem(
            antialias=False,
            clipToView=True,
            autoDownsample=True,
            downsampleMethod="peak",
            skipFiniteCheck=True,
        )
        self.band = pg.ImageItem(axisOrder="row-major")
        self.valid_regions = [pg.LinearRegionItem(movable=False) for _ in range(2)]
        for region in self.valid_regions:
            region.setZValue(-10)
            for line in region.lines:
                line.setPen(pg.mkPen(None))
        self.size_bars = pg.BarGraphItem(x0=[0, 0, 0], y=[2.5, 1.5, 0.5], height=0.62, width=[1, 1, 1])
        self.sizes.addItem(self.size_bars)
        self.size_labels: dict[str, pg.TextItem] = {}
        for row, (name, _title) in enumerate(SIZES):
            label = pg.TextItem(anchor=(0, 0.5))
            label.setPos(0, len(SIZES) - row - 0.5)
            self.size_labels[name] = label
            self.sizes.addItem(label, ignoreBounds=True)
        self.dma_line = pg.InfiniteLine(angle=90, movable=False)
        self.dma_label = pg.InfLineLabel(self.dma_line, "DMA", position=0.93, anchor=(0, 0.5))
        self.port_line = pg.InfiniteLine(angle=90, movable=False)
        self.port_label = pg.InfLineLabel(self.port_line, "write", position=0.8, anchor=(0, 0.5))
        self.wrap_line = pg.InfiniteLine(angle=90, movable=False)
        self.wrap_label = pg.InfLineLabel(self.wrap_line, "wrap", position=0.25, anchor=(1, 0.5))
        self.hover_line = pg.InfiniteLine(angle=90, movable=False)
        self.hover_text = pg.TextItem(anchor=(0, 0))
        for it in (*self.valid_regions, self.wave, self.band):
            self.plot.addItem(it)
        for it in (self.wrap_line, self.port_line, self.dma_line, self.hover_line, self.hover_text):
            self.plot.addItem(it, ignoreBounds=True)
        self.hover_line.hide()
        self.hover_text.hide()
        self.graphics.scene().sigMouseMoved.connect(self._hover)

        self.mappings = QTableWidget(0, len(MAPPING_COLUMNS), self)
        self.mappings.setHorizontalHeaderLabels(list(MAPPING_COLUMNS))
        self.mappings.verticalHeader().hide()
        self.mappings.setWordWrap(False)
        self.mappings.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.mappings.horizontalHeader().setStretchLastSection(True)
        self.mappings.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.mappings.setToolTip(
            "A WavePci stream has no cyclic buffer: the port hands the miniport mappings (pieces of the "
            "client's packets) with GetMapping, and the miniport gives each back with ReleaseMapping."
        )
        self.stack.addWidget(self.graphics)
        self.stack.addWidget(self.mappings)
        self.legend = legend_label(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.legend)

    # --- theme ---------------------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        style_plot(self.graphics, theme, [self.sizes, self.plot])
        for item in (self.sizes, self.plot):
            item.getAxis("left").setWidth(int(LEFT_AXIS_WIDTH * theme.scale))
        line = QFontMetrics(QApplication.font()).height()
        sizes_height = int(len(SIZES) * line * 1.2) + 4
        self.sizes.setMinimumHeight(sizes_height)
        self.sizes.setMaximumHeight(sizes_height)
        self.wave.setPen(theme.pen(theme.waveform, 1))
        lut = np.array([pg.mkColor(c).getRgb() for c in theme.band], dtype=np.ubyte)
        self.band.setLookupTable(lut)
        self.band.setLevels((0, len(theme.band) - 1))
        for region in self.valid_regions:
            region.setBrush(theme.color(theme.valid, 50))
        colors = {"buffer_size": theme.buffer_size, "allocated": theme.allocated, "maximum": theme.maximum}
        self.size_bars.setOpts(
            brushes=[theme.color(colors[name], 90) for name, _t in SIZES],
            pens=[pg.mkPen(colors[name], width=1.5 * theme.scale) for name, _t in SIZES],
        )
        for label in self.size_labels.values():
            label.setColor(theme.text)
        for line, label, color in (
            (self.dma_line, self.dma_label, theme.dma),
            (self.port_line, self.port_label, theme.port),
        ):
            line.setPen(theme.pen(color, 2))
            label.setColor(color)
        self.wrap_line.setPen(theme.pen(theme.wrap, 1.5, Qt.PenStyle.DashLine))
        self.wrap_label.setColor(theme.wrap)
        self.hover_line.setPen(theme.pen(theme.muted, 1, Qt.PenStyle.DotLine))
        self.hover_text.setColor(theme.text)
        self.legend.setText(self._legend(theme))
        self._band_key = None
        self._geometry = None

    def _legend(self, theme: Theme) -> str:
        # "Not allocated" is nearly the background colour: an outline square shows in the legend.
        entries = [
            ("□", theme.muted, name) if i == 0 else ("■", theme.band[i], name) for i, name in enumerate(BAND_NAMES)
        ]
        entries += [
            ("┃", theme.dma, "DMA position"),
            ("┃", theme.port, "port's write/read position"),
            ("┆", theme.wrap, "wrap (BufferSize the port uses)"),
        ]
        return legend_html(entries)

    def set_export_mode(self, on: bool) -> None:
        super().set_export_mode(on)
        if on:
            self.hover_line.hide()
            self.hover_text.hide()

    def session_replaced(self) -> None:
        self.view = None
        self._geometry = None
        self.envelope.key = None
        self._band_key = None

    # --- data -------------------------------------------------------------------------------------------------
    def refresh(self, frame: Frame) -> None:
        session = self.controller.session
        system = session.system
        view = buffer_view(system, self.controller.pin(), self.controller.hardware)
        self.view = view
        if view.kind == "mappings":
            self.stack.setCurrentWidget(self.mappings)
            self.legend.hide()
            self._show_mappings(view)
            return
        self.stack.setCurrentWidget(self.graphics)
        self.legend.show()
        if view.kind == "none" or not view.allocated:
            self.caption.setText("No stream with a common buffer in this scenario (yet).")
        geometry = view.geometry_key()
        if geometry != self._geometry:
            self._geometry = geometry
            self._set_geometry(view)
            self.envelope.key = None
        self._update_waveform(system, view, frame)
        if self.envelope.version != self._plotted:
            self._plotted = self.envelope.version
            self.wave.setData(self.envelope.x, self.envelope.y)
        band_key = (view.wrap, view.allocated, view.extent, tuple(view.valid), tuple(view.silence))
        if band_key != self._band_key:
            self._band_key = band_key
            self.band.setImage(band_codes(view, BAND_COLUMNS)[np.newaxis, :], autoLevels=False)
            self.band.setLevels((0, len(self.theme.band) - 1))
            self.band.setRect(0, BAND_BOTTOM, view.extent, BAND_TOP - BAND_BOTTOM)
        self._move_markers(view)

    def _update_waveform(self, system: System, view: BufferView, frame: Frame) -> None:
        """Re-read only the bytes that changed since the last frame; everything when in doubt."""
        records = self.controller.session.system.trace.records
        present = len(records)
        stale = (
            self.envelope.key is None
            or frame.epoch != self._epoch
            or not frame.running  # paused (a step, a call): read it all, it is cheap once
            or present < self._seen
        )
        if stale:
            self.envelope.rebuild(system, view)
        else:
            changed = buffer_writes(records[self._seen : present], view)
            if view.capture and view.dma_position is not None and self._last_dma is not None:
                # The device wrote what it recorded between the last position and this one.
                moved = (view.dma_position - self._last_dma) % max(1, view.wrap)
                changed += ring_pieces(self._last_dma, moved, view.wrap)
            self.envelope.update(system, view, changed)
        self._seen = present
        self._epoch = frame.epoch
        self._last_dma = view.dma_position

    def _set_geometry(self, view: BufferView) -> None:
        """Axes and the size bars: only when a size or the buffer itself changed."""
        extent = view.extent
        self.plot.setXRange(0, extent, padding=0)
        self.plot.getViewBox().setLimits(xMin=0, xMax=extent, minXRange=min(64, extent))
        values = {"buffer_size": view.buffer_size, "allocated": view.allocated, "maximum": view.maximum}
        self.size_bars.setOpts(width=[max(values[name], 0) for name, _t in SIZES])
        for name, title in SIZES:
            value = values[name]
            self.size_labels[name].setText(f" {title} = 0x{value:X} ({_size(value)})")
        self.wrap_line.setValue(view.wrap)
        self.wrap_line.setVisible(view.wrap > 0)
        if view.allocated:
            self.caption.setText(
                f"<b>{view.pin_id}</b> · {view.format_text} · {'capture' if view.capture else 'render'} · "
                f"common buffer at physical 0x{view.buffer_physical:X} (kernel VA 0x{view.buffer_va:X})"
            )

    def _move_markers(self, view: BufferView) -> None:
        """Markers move; nothing is re-plotted for them."""
        if view.dma_position is None:
            self.dma_line.hide()
        else:
            self.dma_line.show()
            self.dma_line.setValue(view.dma_position)
        if view.port_offset is None:
            self.port_line.hide()
        else:
            self.port_line.show()
            self.port_line.setValue(view.port_offset)
            self.port_label.setFormat("read" if view.capture else "write")
        for i, region in enumerate(self.valid_regions):
            if i < len(view.valid):
                region.setRegion(view.valid[i])
                region.show()
            else:
                region.hide()

    def _show_mappings(self, view: BufferView) -> None:
        outstanding = [m for m in view.mappings if not m.released]
        held = sum(m.length for m in outstanding)
        self.caption.setText(
            f"<b>{view.pin_id}</b> · {view.format_text} · WavePci stream: no common buffer; the miniport's bus master "
            f"reads the client's pages through mappings · <b>{len(outstanding)} outstanding</b> "
            f"(0x{held:X} bytes), latest released below them"
        )
        table = self.mappings
        fresh = table.rowCount() == 0
        table.setRowCount(len(view.mappings))
        theme = self.theme
        for row, m in enumerate(view.mappings):
            values = (
                f"0x{m.tag:X}",
                f"0x{m.address:08X}",
                f"0x{m.length:X}",
                m.pages,
                "" if m.stream_offset is None else f"0x{m.stream_offset:X}",
                ("released" if m.released else "outstanding") + (" · last of packet" if m.last else ""),
            )
            brush = QBrush(QColor(theme.future_row)) if m.released else QBrush(QColor(theme.current_row))
            for col, text in enumerate(values):
                item = table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    table.setItem(row, col, item)
                if item.text() != text:
                    item.setText(text)
                item.setBackground(brush)
        if fresh and view.mappings:
            table.resizeColumnsToContents()

    # --- hover -----------------------------------------------------------------------------------------------------
    def _hover(self, pos: QPointF) -> None:
        view = self.view
        vb = self.plot.getViewBox()
        if self.export_mode or view is None or not vb.sceneBoundingRect().contains(pos):
            self.hover_line.hide()
            self.hover_text.hide()
            return
        x = vb.mapSceneToView(pos).x()
        offset = int(max(0, min(view.extent - 1, x)))
        env = self.envelope
        index = int(np.searchsorted(env.x, offset, side="right")) - 1
        if env.raw:
            sample = f", sample {env.y[index]:+.3f}" if 0 <= index < len(env.y) else ""
        else:
            column = index // 2
            ok = 0 <= column < len(env.y) // 2
            sample = f", samples {env.y[2 * column]:+.3f} … {env.y[2 * column + 1]:+.3f}" if ok else ""
        self.hover_line.setValue(offset)
        self.hover_text.setText(f"0x{offset:X}{sample}")
        self.hover_text.setPos(offset, Y_RANGE[1] - 0.02)
        self.hover_line.show()
        self.hover_text.show()


def _size(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n:,} bytes"
