"""The timeline: simulated time from 0 to the furthest point reached, the present, and what happened when.

A strip of lanes (interrupts, your calls, glitches, violations, breakpoint stops) over the
recorded history. The part after the present (after a jump back) is greyed: it is the
recorded future, which stepping forward re-runs. Clicking goes to that moment, dragging
scrubs through time, the wheel zooms. Left and Right step back and forward, Home and End
go to the first and the furthest step.

Markers are found by scanning the trace once, incrementally; a fork (a call made in the
past) replaces the history after it, which is noticed by the records no longer being the
ones seen, and only the part after the fork is scanned again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gui.panels.base import Panel
from gui.panels.plot_tools import configure_plot_item, style_plot
from gui.session_controller import Frame, SessionController
from gui.theme import Theme
from model.trace import Record
from model.units import format_ns

LANES = ("interrupt", "your call", "glitch", "violation", "breakpoint")
HIT_LANE = 4
LEFT_AXIS_WIDTH = 80
RUNNING_INTERVAL_S = 1 / 10  # the markers of a running session: ten updates a second are plenty
TICK = 0.36  # half the height of a marker tick, in lanes


def lane_of(record: Record) -> int | None:
    """The lane of a trace record, or None (breakpoint stops come from the controller, not the trace)."""
    kind = record.kind
    if kind == "interrupt":
        return 0 if getattr(record, "action", "") == "raise" else None
    if kind == "call":
        return 1 if getattr(record, "caller", "") == "user" and getattr(record, "depth", 0) == 0 else None
    if kind == "glitch":
        return 2
    if kind == "violation":
        return 3
    return None


def marker_time(record: Record) -> int:
    return int(getattr(record, "start_ns", record.t_ns)) if record.kind == "glitch" else record.t_ns


class Markers:
    """Marker times per lane over a recorded history, kept up to date as it grows or forks."""

    def __init__(self) -> None:
        self.times: list[list[int]] = [[] for _ in LANES]
        self._found: list[tuple[int, Record, int]] = []  # (seq, record, lane) in seq order, to notice a fork
        self._scanned = 0
        self._last: Record | None = None  # the record at _scanned - 1
        self.version = 0

    def clear(self) -> None:
        self.times = [[] for _ in LANES]
        self._found = []
        self._scanned = 0
        self._last = None
        self.version += 1

    def update(self, records: Sequence[Record]) -> None:
        if self._scanned and (len(records) < self._scanned or records[self._scanned - 1] is not self._last):
            self._forget_after_fork(records)
        if len(records) > self._scanned:
            found = self._found
            times = self.times
            for seq in range(self._scanned, len(records)):
                record = records[seq]
                lane = lane_of(record)
                if lane is not None:
                    found.append((seq, record, lane))
                    times[lane].append(marker_time(record))
            self._scanned = len(records)
            self._last = records[-1]
            self.version += 1

    def _forget_after_fork(self, records: Sequence[Record]) -> None:
        """Keep the markers whose records are still the same objects; scan again from the first that is not."""
        keep = 0
        for seq, record, _lane in self._found:
            if seq >= len(records) or records[seq] is not record:
                break
            keep += 1
        self._found = self._found[:keep]
        self.times = [[] for _ in LANES]
        for _seq, record, lane in self._found:
            self.times[lane].append(marker_time(record))
        self._scanned = self._found[-1][0] + 1 if self._found else 0
        self._last = records[self._scanned - 1] if self._scanned else None
        self.version += 1


class TimeAxis(pg.AxisItem):
    """Seconds, written with the unit that suits the tick spacing (no axis title needed: 50 ms, 1.5 s)."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if spacing >= 1:
            return [f"{v:g} s" for v in values]
        if spacing >= 1e-3:
            return [f"{v * 1e3:g} ms" for v in values]
        return [f"{v * 1e6:g} µs" for v in values]


class ScrubViewBox(pg.ViewBox):
    """A view box where a left click or drag picks a time (the wheel still zooms along x)."""

    scrubbed = Signal(float, bool)  # (x in seconds, the drag is finished)

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.scrubbed.emit(self.mapSceneToView(ev.scenePos()).x(), True)
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.scrubbed.emit(self.mapSceneToView(ev.scenePos()).x(), bool(ev.isFinish()))
        else:
            super().mouseDragEvent(ev, axis)


class TimelinePanel(Panel):
    key = "timeline"
    title = "Timeline"
    tooltip = "The whole session over simulated time: the present, the recorded future, and what happened when."

    moment_chosen = Signal(int)  # t_ns the user clicked or dragged to

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.markers = Markers()
        self.furthest_ns = 0
        self._zoomed = False
        self._drawn: tuple[Any, ...] = ()
        self._last = 0.0
        self._hits_seen = -1
        self._sized = False

        self.caption = QLabel(self)
        self.caption.setToolTip(
            "Where the present is (the red line) and how far the session has been run. After a jump back, the "
            "part after the present is greyed: the recorded future, which Step and Run re-run exactly."
        )
        self.caption.setProperty("role", "hint")
        self.all_button = QPushButton("&Whole Session", self)
        self.all_button.setToolTip("Show the whole session again after zooming in with the wheel.")
        self.all_button.clicked.connect(self.show_all)
        # Beside the strip, not above it: the dock spans the window's width, its height is what is scarce.
        side = QVBoxLayout()
        side.setContentsMargins(6, 0, 0, 4)
        side.addWidget(self.caption, 1, Qt.AlignmentFlag.AlignTop)
        side.addWidget(self.all_button, 0, Qt.AlignmentFlag.AlignLeft)

        self.view_box = ScrubViewBox()
        self.graphics = pg.PlotWidget(viewBox=self.view_box, axisItems={"bottom": TimeAxis("bottom")}, enableMenu=False)
        self.graphics.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.graphics.setToolTip(
            "Click to go to that moment, drag to scrub through time, scroll to zoom. With the keyboard: "
            "Left and Right step back and forward, Home goes to the start, End to the furthest step reached."
        )
        self.plot = self.graphics.getPlotItem()
        configure_plot_item(self.plot)
        self.plot.getAxis("left").setTicks([[(i, name) for i, name in enumerate(LANES)]])
        self.plot.setYRange(-0.6, len(LANES) - 0.4, padding=0)
        self.view_box.setLimits(xMin=0)
        self.future = pg.LinearRegionItem(movable=False)
        self.future.setZValue(-10)
        for line in self.future.lines:
            line.setPen(pg.mkPen(None))
        self.plot.addItem(self.future, ignoreBounds=True)
        self.lanes = [pg.PlotDataItem(connect="pairs", antialias=False) for _ in LANES]
        for lane in self.lanes:
            self.plot.addItem(lane)
        self.present = pg.InfiniteLine(0, angle=90, movable=False)
        self.present_label = pg.InfLineLabel(self.present, "now", position=0.96, anchor=(0, 0.5))
        self.plot.addItem(self.present, ignoreBounds=True)
        self.hover_line = pg.InfiniteLine(angle=90, movable=False)
        self.hover_text = pg.TextItem(anchor=(0, 1))
        for item in (self.hover_line, self.hover_text):
            self.plot.addItem(item, ignoreBounds=True)
            item.hide()
        self.graphics.scene().sigMouseMoved.connect(self._hover)
        self.view_box.scrubbed.connect(self._scrubbed)
        self.view_box.sigRangeChangedManually.connect(self._range_changed_by_user)
        self.view_box.sigXRangeChanged.connect(lambda *_: self._draw_lanes())
        self.graphics.installEventFilter(self)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 0)  # every pixel of this short dock goes to the lanes
        layout.setSpacing(0)
        layout.addWidget(self.graphics, 1)
        layout.addLayout(side)
        controller.forked.connect(self._forked)
        # A strip: never taller than its size hint, so a taller window gives its height to the panels above
        # (the hidden central area would otherwise hand all of it to the bottom dock area).
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def sizeHint(self) -> QSize:
        """Half again the minimum: room for the lanes to breathe, and no more (see the size policy)."""
        hint = super().sizeHint()
        return QSize(hint.width(), int(self.graphics.minimumHeight() * 1.5))

    def showEvent(self, event: QShowEvent) -> None:
        """The first time: take the height the size hint asks for, once the window is laid out. (The default
        layout is made before the window has its size, and the panels above take all of it.)"""
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            QTimer.singleShot(0, self, self._take_height)  # with self as context: never called after deletion

    def _take_height(self) -> None:
        dock = self.parentWidget()
        window = dock.parentWidget() if isinstance(dock, QDockWidget) else None
        wanted = self.sizeHint().height()
        docked = isinstance(dock, QDockWidget) and isinstance(window, QMainWindow) and not dock.isFloating()
        if docked and self.height() < wanted:
            title = dock.height() - self.height()  # type: ignore[union-attr]
            window.resizeDocks([dock], [wanted + title], Qt.Orientation.Vertical)  # type: ignore[union-attr]

    # --- theme ---------------------------------------------------------------------------------------------
    def _lane_colors(self, theme: Theme) -> list[str]:
        return [theme.lanes[1], theme.port, theme.lanes[4], theme.lanes[5], theme.highlight]

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        style_plot(self.graphics, theme, [self.plot])
        self.plot.getAxis("left").setWidth(int(LEFT_AXIS_WIDTH * theme.scale))
        colors = self._lane_colors(theme)
        for lane, color in zip(self.lanes, colors, strict=True):
            lane.setPen(theme.pen(color, 2 if color != theme.lanes[1] else 1))
        self.future.setBrush(theme.color(theme.muted, 60))
        self.present.setPen(theme.pen(theme.dma, 2))
        self.present_label.setColor(theme.dma)
        self.hover_line.setPen(theme.pen(theme.muted, 1, Qt.PenStyle.DotLine))
        self.hover_text.setColor(theme.text)
        # One text line per lane, whatever the dock's height: the lane names are the legend.
        # The lane names are drawn in the axis font (style_plot: 0.9 of the application's); the time axis below.
        line = QFontMetrics(QApplication.font()).height() * 0.9
        self.graphics.setMinimumHeight(int(len(LANES) * line + line + 14))
        sample = "recorded to 000.000000 s · step 0,000,000"
        self.caption.setFixedWidth(QFontMetrics(QApplication.font()).horizontalAdvance(sample) + 8)
        self._drawn = ()

    def set_export_mode(self, on: bool) -> None:
        super().set_export_mode(on)
        if on:
            self.hover_line.hide()
            self.hover_text.hide()

    def session_replaced(self) -> None:
        self.markers.clear()
        self.furthest_ns = 0
        self._zoomed = False
        self._drawn = ()
        self._hits_seen = -1

    def _forked(self, _step: int) -> None:
        self.furthest_ns = 0  # the recorded future is gone: the furthest point is measured again

    # --- data ------------------------------------------------------------------------------------------------
    def refresh(self, frame: Frame) -> None:
        now = time.perf_counter()
        if frame.running and now - self._last < RUNNING_INTERVAL_S:
            self._show_present(frame)  # the present line is cheap: it moves every frame
            return
        self._last = now
        session = self.controller.session
        records = session.records()
        self.markers.update(records)
        last_t = records[-1].t_ns if len(records) else 0
        self.furthest_ns = max(self.furthest_ns, last_t, frame.now_ns)
        self._show_present(frame)
        hits = self.controller.hit_marks
        self.caption.setText(
            f"now <b>{format_ns(frame.now_ns)}</b> · step {frame.step_index:,}<br>"
            f"recorded to {format_ns(self.furthest_ns)} · step {max(session.furthest_step, frame.step_index):,}<br>"
            f"{len(hits)} breakpoint stop{'s' if len(hits) != 1 else ''}"
        )
        if not self._zoomed:
            self._fit()
        self._draw_lanes()

    def _show_present(self, frame: Frame) -> None:
        now_s = frame.now_ns / 1e9
        self.present.setValue(now_s)
        furthest = max(self.furthest_ns, frame.now_ns)
        if furthest > frame.now_ns:
            self.future.setRegion((now_s, furthest / 1e9))
            self.future.show()
        else:
            self.future.hide()

    def _fit(self) -> None:
        end = max(self.furthest_ns, 1_000_000) / 1e9
        self.view_box.setLimits(xMin=0, xMax=end * 1.02)
        self.view_box.setXRange(0, end * 1.02, padding=0)

    def show_all(self) -> None:
        self._zoomed = False
        self._fit()

    def _range_changed_by_user(self, *_args: Any) -> None:
        self._zoomed = True

    def _draw_lanes(self) -> None:
        """Ticks per lane; many are merged into one per pixel column (10 minutes of SB16 hold 60,000 IRQs)."""
        (x0, x1), _ = self.view_box.viewRange()
        width = max(1, int(self.view_box.width()))
        hits = self.controller.hit_marks if self.controller.has_session else []
        key = (self.markers.version, len(hits), x0, x1, width)
        if key == self._drawn:
            return
        self._drawn = key
        span = max(x1 - x0, 1e-12)
        for i, lane in enumerate(self.lanes):
            source = [t for t, _step in hits] if i == HIT_LANE else self.markers.times[i]
            t = np.asarray(source, dtype=np.float64) / 1e9
            if len(t) > width:
                t = t[(t >= x0) & (t <= x1)]
                if len(t) > width:
                    columns = np.unique(((t - x0) / span * width).astype(np.int64))
                    t = x0 + (columns + 0.5) * span / width
            xs = np.repeat(t, 2)
            ys = np.tile(np.array([i - TICK, i + TICK]), len(t))
            lane.setData(xs, ys)

    # --- going to a moment -----------------------------------------------------------------------------------
    def time_at(self, x_seconds: float) -> int:
        """The moment under x, within the recorded history."""
        return int(max(0, min(self.furthest_ns, round(x_seconds * 1e9))))

    def _scrubbed(self, x: float, _finished: bool) -> None:
        if not self.controller.has_session:
            return
        t_ns = self.time_at(x)
        self.controller.goto_time(t_ns)
        self.moment_chosen.emit(t_ns)

    def x_of(self, t_ns: int) -> float:
        """The x position (pixels, in the plot widget) of time ``t_ns``: for tests and the hover text."""
        point = self.view_box.mapViewToScene(QPointF(t_ns / 1e9, 0))
        return self.graphics.mapFromScene(point).x()

    def _hover(self, pos: QPointF) -> None:
        vb = self.view_box
        if self.export_mode or not vb.sceneBoundingRect().contains(pos):
            self.hover_line.hide()
            self.hover_text.hide()
            return
        x = vb.mapSceneToView(pos).x()
        self.hover_line.setValue(x)
        self.hover_text.setText(format_ns(self.time_at(x)))
        self.hover_text.setPos(x, len(LANES) - 0.45)
        self.hover_line.show()
        self.hover_text.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.graphics and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            c = self.controller
            if event.modifiers() == Qt.KeyboardModifier.NoModifier or key in (Qt.Key.Key_Home, Qt.Key.Key_End):
                if key == Qt.Key.Key_Left:
                    c.step_back()
                    return True
                if key == Qt.Key.Key_Right:
                    c.step()
                    return True
                if key == Qt.Key.Key_Home:
                    c.goto_step(0)
                    return True
                if key == Qt.Key.Key_End:
                    c.goto_step(c.session.furthest_step)
                    return True
        return super().eventFilter(watched, event)
