"""The transfer counter over simulated time: a scrolling sawtooth with markers for what happened."""

from __future__ import annotations

import bisect

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from gui.panels.base import Panel
from gui.panels.plot_tools import configure_plot_item, style_plot
from gui.session_controller import Frame, SessionController
from gui.theme import Theme
from gui.view_models.counter import LANES
from gui.view_models.stream import counter_maximum
from model.units import MS

SYMBOLS = ("t1", "o", "s", "d", "x", "star")
LEFT_AXIS_WIDTH = 130  # room for the lane names; the counter's axis gets the same, so x lines up


class CounterPanel(Panel):
    key = "counter"
    title = "Transfer counter"
    tooltip = "The DMA engine's counter over simulated time, with the events that drive the stream."

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self._counter_version = -1
        self._marker_version = -1
        self._maximum = 1
        self._hw_label = ""
        self._now = -1
        self._range_key: tuple[float, str] = (0.0, "")
        self.caption = QLabel(self)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setToolTip(
            "Bottom: the counter the driver reads for its position (8237: bytes left before terminal count; "
            "HDA: LPIB; AC'97: PICB), sampled side-effect free as the simulation runs. Top: one row per kind of event."
        )
        self.events = self.graphics.addPlot(row=0, col=0, enableMenu=False)
        self.plot = self.graphics.addPlot(row=1, col=0, enableMenu=False)
        self.graphics.ci.layout.setRowStretchFactor(0, 2)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self.graphics.ci.setSpacing(0)
        for item in (self.events, self.plot):
            configure_plot_item(item)
            item.getViewBox().setMouseEnabled(x=False, y=False)
        self.events.setXLink(self.plot)
        self.events.hideAxis("bottom")
        self.events.setYRange(-0.5, len(LANES) - 0.5, padding=0)
        self.events.getAxis("left").setTicks([[(i, name) for i, name in enumerate(LANES)]])
        self.plot.setLabel("bottom", "time before now (ms, simulated)")
        self.curve = pg.PlotDataItem(antialias=False, skipFiniteCheck=True, clipToView=True)
        self.plot.addItem(self.curve)
        self.lanes = [pg.ScatterPlotItem(symbol=s, pxMode=True) for s in SYMBOLS]
        for lane in self.lanes:
            self.events.addItem(lane)
        # Rings around the markers of the event that just ran (when paused: while running it is every frame's).
        self.current = pg.ScatterPlotItem(symbol="o", pxMode=True, brush=None)
        self.events.addItem(self.current)
        self._current_key: tuple[int, int, int, bool] = (-1, -1, -1, False)
        self.now_line = pg.InfiniteLine(0, angle=90, movable=False)
        self.now_label = pg.InfLineLabel(self.now_line, "now", position=0.08, anchor=(1, 0.5))
        self.plot.addItem(self.now_line, ignoreBounds=True)
        self.events_now = pg.InfiniteLine(0, angle=90, movable=False)
        self.events.addItem(self.events_now, ignoreBounds=True)
        self.hover_text = pg.TextItem(anchor=(0, 0))
        self.plot.addItem(self.hover_text, ignoreBounds=True)
        self.hover_text.hide()
        self.graphics.scene().sigMouseMoved.connect(self._hover)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.graphics, 1)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        style_plot(self.graphics, theme, [self.events, self.plot])
        for item in (self.events, self.plot):
            item.getAxis("left").setWidth(int(LEFT_AXIS_WIDTH * theme.scale))
        # One text line per lane, whatever the panel's height: the sawtooth gets the rest.
        lanes_height = int(len(LANES) * QFontMetrics(QApplication.font()).height() * 0.95) + 6
        self.events.setMinimumHeight(lanes_height)
        self.events.setMaximumHeight(lanes_height)
        self.curve.setPen(theme.pen(theme.waveform))
        size = 9 * theme.scale
        for lane, color, symbol in zip(self.lanes, theme.lanes, SYMBOLS, strict=True):
            big = symbol in ("x", "star")
            lane.setSize(size * (1.4 if big else 1.0))
            lane.setBrush(pg.mkBrush(color))
            lane.setPen(pg.mkPen(color, width=1.5 * theme.scale if big else 1))
        self.now_line.setPen(theme.pen(theme.dma, 1.5, Qt.PenStyle.DashLine))
        self.current.setSize(20 * theme.scale)
        self.current.setPen(pg.mkPen(theme.highlight, width=2 * theme.scale))
        self.current.setBrush(None)
        self._current_key = (-1, -1, -1, False)
        self.events_now.setPen(theme.pen(theme.dma, 1.5, Qt.PenStyle.DashLine))
        self.now_label.setColor(theme.dma)
        self.hover_text.setColor(theme.text)
        self._marker_version = -1

    def set_export_mode(self, on: bool) -> None:
        super().set_export_mode(on)
        if on:
            self.hover_text.hide()

    def session_replaced(self) -> None:
        self._counter_version = -1
        self._marker_version = -1
        self._hw_label = ""
        self._range_key = (0.0, "")

    def refresh(self, frame: Frame) -> None:
        controller = self.controller
        system = controller.session.system
        hw = controller.hardware
        maximum = counter_maximum(system, hw, controller.pin())
        if maximum != self._maximum or hw.label != self._hw_label:
            self._maximum = maximum
            self._hw_label = hw.label
            self.plot.setYRange(0, maximum * 1.04, padding=0)
            self.plot.setLabel("left", hw.unit)
            self.caption.setText(f"<b>{hw.counter_name}</b> of {hw.label} · maximum 0x{maximum:X}")
            self._marker_version = -1
        history = controller.counter
        now = frame.now_ns
        window_ms = controller.window_ns / MS
        if (window_ms, self._hw_label) != self._range_key:
            # The axis stays put (time relative to now); only the data moves: no tick re-layout per frame.
            self._range_key = (window_ms, self._hw_label)
            self.plot.setXRange(-window_ms, window_ms * 0.02, padding=0)
        if history.version != self._counter_version or now != self._now:
            self._counter_version = history.version
            t, v = history.arrays()
            self.curve.setData((t - now) / MS, v)
        markers = controller.markers
        if markers.version != self._marker_version or now != self._now:
            self._marker_version = markers.version
            for i, (lane, times) in enumerate(zip(self.lanes, markers.lanes, strict=True)):
                x = (np.asarray(times, dtype=np.float64) - now) / MS
                lane.setData(x, np.full(len(x), float(i)))
        self._mark_current(frame, now)
        self._now = now

    def _mark_current(self, frame: Frame, now: int) -> None:
        """Ring the markers that the last step (or call) produced."""
        first, end = self.controller.session.last_step_records()
        key = (first, end, now, frame.running)
        if key == self._current_key:
            return
        self._current_key = key
        xs: list[float] = []
        ys: list[float] = []
        markers = self.controller.markers
        if not frame.running:
            for i, (times, seqs) in enumerate(zip(markers.lanes, markers.seqs, strict=True)):
                lo, hi = bisect.bisect_left(seqs, first), bisect.bisect_left(seqs, end)
                xs += [(t - now) / MS for t in times[lo:hi]]
                ys += [float(i)] * (hi - lo)
        self.current.setData(xs, ys)

    def _hover(self, pos: QPointF) -> None:
        vb = self.plot.getViewBox()
        if self.export_mode or not vb.sceneBoundingRect().contains(pos):
            self.hover_text.hide()
            return
        point = vb.mapSceneToView(pos)
        self.hover_text.setText(f"{point.x():+.3f} ms (t = {(self._now / MS + point.x()):.3f} ms)")
        self.hover_text.setPos(point.x(), self._maximum * 1.02)
        self.hover_text.show()
