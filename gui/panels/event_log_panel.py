"""The trace as a filterable table; the newest record stays in view; clicking a row goes to that moment."""

from __future__ import annotations

import bisect
import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.panels.base import Panel
from gui.panels.picture_text import fit_table
from gui.session_controller import Frame, SessionController
from gui.theme import LIGHT, Theme
from gui.view_models.event_log import COLUMNS, KINDS, LogFilter, record_row
from model.trace import Record

Index = QModelIndex | QPersistentModelIndex
TEXT_CACHE = 4000
RUNNING_INTERVAL_S = 1 / 15  # a table scrolling 60 times a second cannot be read anyway


class TraceModel(QAbstractTableModel):
    """The records that pass the filter, appended to as the trace grows (never rebuilt per frame)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[Record] = []
        self.rows: list[int] = []  # indices into records
        self.filter = LogFilter()
        self.present = 0  # records at and after this are the recorded future (after a jump back)
        self.current: tuple[int, int] = (0, 0)  # records of the step that just ran
        self.theme = LIGHT
        self._scanned = 0
        self._texts: dict[int, tuple[str, ...]] = {}  # formatted rows: a painted row asks for each cell often

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        seq = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            row = self._texts.get(seq)
            if row is None:
                if len(self._texts) > TEXT_CACHE:
                    self._texts.clear()
                row = self._texts[seq] = record_row(self.records[seq])
            return row[index.column()]
        if role == Qt.ItemDataRole.BackgroundRole:
            first, end = self.current
            if first <= seq < end:
                return QBrush(QColor(self.theme.current_row))
            if seq >= self.present:
                return QBrush(QColor(self.theme.future_row))
        if role == Qt.ItemDataRole.ForegroundRole:
            record = self.records[seq]
            if seq >= self.present:
                return QBrush(QColor(self.theme.muted))
            if record.kind in ("violation", "glitch"):
                return QBrush(QColor(self.theme.error))
        return None

    def seq_at(self, row: int) -> int:
        return self.rows[row]

    def row_of(self, seq: int) -> int | None:
        i = bisect.bisect_left(self.rows, seq)
        return i if i < len(self.rows) and self.rows[i] == seq else None

    def sync(self, records: list[Record], present: int, current: tuple[int, int]) -> None:
        """Follow the trace: append new records, drop undone ones; start over only if the history was replaced."""
        changed_marks = (present, current) != (self.present, self.current)
        self.present, self.current = present, current
        if records is not self.records:
            # The session hands out the live trace or its copy of a longer recorded history; both
            # share their prefix (the same record objects) unless a call in the past forked history.
            common = min(len(records), self._scanned, len(self.records))
            if common and records[common - 1] is not self.records[common - 1]:
                self._texts.clear()
                self.beginResetModel()
                self.records = records
                self.rows = [i for i, r in enumerate(records) if self.filter.matches(r)]
                self._scanned = len(records)
                self.endResetModel()
                return
            self.records = records
        if len(records) < self._scanned:
            self._texts.clear()
            keep = bisect.bisect_left(self.rows, len(records))
            if keep < len(self.rows):
                self.beginRemoveRows(QModelIndex(), keep, len(self.rows) - 1)
                del self.rows[keep:]
                self.endRemoveRows()
            self._scanned = len(records)
        if len(records) > self._scanned:
            new = [i for i in range(self._scanned, len(records)) if self.filter.matches(records[i])]
            self._scanned = len(records)
            if new:
                self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(new) - 1)
                self.rows.extend(new)
                self.endInsertRows()
        if changed_marks and self.rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1), [Qt.ItemDataRole.BackgroundRole]
            )

    def set_filter(self, log_filter: LogFilter) -> None:
        self.filter = log_filter
        self.beginResetModel()
        self.rows = [i for i, r in enumerate(self.records) if log_filter.matches(r)]
        self._scanned = len(self.records)
        self.endResetModel()


class EventLogPanel(Panel):
    key = "log"
    title = "Event log"
    tooltip = "Every record of the trace: calls, registers, interrupts, DPCs, glitches, violations."

    record_chosen = Signal(int)

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.model = TraceModel()
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setToolTip("Click a row (or press Enter on it) to go to the moment right after that record's step.")
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.clicked.connect(self._chosen)
        self.table.activated.connect(self._chosen)

        self.kind_box = QComboBox(self)
        self.kind_box.addItem("all kinds", "")
        for kind in KINDS:
            self.kind_box.addItem(kind, kind)
        self.kind_box.setToolTip("Show only records of one kind.")
        self.object_edit = QLineEdit(self)
        self.object_edit.setPlaceholderText("object contains…")
        self.object_edit.setToolTip("Show only records whose object (or device, stream) contains this text.")
        self.object_edit.setClearButtonEnabled(True)
        self.method_edit = QLineEdit(self)
        self.method_edit.setPlaceholderText("method contains…")
        self.method_edit.setToolTip("Show only records whose method (or action) contains this text.")
        self.method_edit.setClearButtonEnabled(True)
        self.follow = QCheckBox("&Follow newest", self)
        self.follow.setChecked(True)
        self.follow.setToolTip("Keep the newest record in view.")
        self.count = QLabel(self)
        self.count.setProperty("role", "hint")
        for w in (self.kind_box,):
            w.currentIndexChanged.connect(self._filter_changed)
        for e in (self.object_edit, self.method_edit):
            e.textChanged.connect(self._filter_changed)

        bar = QHBoxLayout()
        kind_label = QLabel("&Kind", self)
        kind_label.setBuddy(self.kind_box)
        bar.addWidget(kind_label)
        bar.addWidget(self.kind_box)
        bar.addWidget(self.object_edit, 1)
        bar.addWidget(self.method_edit, 1)
        bar.addWidget(self.follow)
        bar.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self._widths_set = False
        self._last = 0.0
        self._focus_row: int | None = None  # a record to keep in view (a breakpoint stopped there)
        self._focus_epoch = -1

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.model.theme = theme
        self._widths_set = False
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)

    def session_replaced(self) -> None:
        self.model.sync([], 0, (0, 0))

    def _filter_changed(self) -> None:
        kind = self.kind_box.currentData()
        self.model.set_filter(
            LogFilter(
                frozenset([kind]) if kind else frozenset(),
                self.object_edit.text().strip(),
                self.method_edit.text().strip(),
            )
        )
        self._scroll()

    def refresh(self, frame: Frame) -> None:
        now = time.perf_counter()
        if frame.running and now - self._last < RUNNING_INTERVAL_S:
            return
        self._last = now
        session = self.controller.session
        before = self.model.rowCount()
        moved = frame.present != self.model.present  # a step, a call or a jump: the newest record changed
        self.model.sync(session.records(), frame.present, session.last_step_records())
        self.count.setText(f"{self.model.rowCount():,} of {len(self.model.records):,}")
        if not self._widths_set and self.model.rowCount():
            self._widths_set = True
            metrics = self.table.fontMetrics()
            for col, sample in enumerate(
                ("00000", "000.000 ms", "terminal_count", "adapter_ch5", "IMiniportWaveCyclicStream::GetPosition")
            ):
                self.table.setColumnWidth(col, metrics.horizontalAdvance(sample) + 16)
        if frame.running or frame.epoch != self._focus_epoch:
            self._focus_row = None  # running on, or gone to another moment: the newest record leads again
        if self.model.rowCount() != before or frame.running or moved:
            self._scroll()

    def _scroll(self) -> None:
        if not self.follow.isChecked():
            if self._focus_row is not None and (row := self.model.row_of(self._focus_row)) is not None:
                self.table.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.EnsureVisible)
            return
        # Newest visible: the last record of the present (the recorded future stays below it).
        row = None
        for candidate in range(self.model.rowCount() - 1, -1, -1):
            if self.model.seq_at(candidate) < self.model.present:
                row = candidate
                break
            if self.model.rowCount() - candidate > 2000:
                break
        if row is not None:
            self.table.doItemsLayout()  # rows were just inserted: let the scroll bar know before scrolling
            self.table.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtBottom)
        focus = self.model.row_of(self._focus_row) if self._focus_row is not None else None
        if focus is not None:  # a breakpoint's record stays in view under the newest
            self.table.scrollTo(self.model.index(focus, 0), QAbstractItemView.ScrollHint.EnsureVisible)

    def selected_record(self) -> int | None:
        """The seq of the selected row (F9 makes a breakpoint from it), or None."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.seq_at(rows[0].row()) if rows else None

    def select_record(self, seq: int | None) -> None:
        """Select the row of record ``seq`` (None: the last record of the present) and keep it in view."""
        session = self.controller.session
        self.model.sync(session.records(), len(session.system.trace), session.last_step_records())
        if seq is None:
            seq = len(session.system.trace) - 1
        row = self.model.row_of(seq)
        if row is None:  # filtered out: the nearest shown row before it
            row = bisect.bisect_right(self.model.rows, seq) - 1
        if row < 0:
            return
        self._focus_row = self.model.seq_at(row)
        self._focus_epoch = self.controller.epoch
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
        )
        self._scroll()

    # --- pictures ----------------------------------------------------------------------------------------------
    def export_clutter(self) -> list[QWidget]:
        """The filter bar; its count too, unless a filter hides records (the picture then says which)."""
        bar: list[QWidget] = [w for w in self.findChildren(QLabel) if w.buddy() is self.kind_box]
        bar += [self.kind_box, self.object_edit, self.method_edit, self.follow]
        if self.model.filter.everything:
            bar.append(self.count)
        return [*super().export_clutter(), *bar]

    def set_export_mode(self, on: bool) -> None:
        if on == self.export_mode:
            return
        super().set_export_mode(on)
        if on:
            self._count_text = self.count.text()
            log_filter = self.model.filter
            if not log_filter.everything:
                kinds = f"kind {', '.join(sorted(log_filter.kinds))}" if log_filter.kinds else ""
                texts = [kinds] + [
                    f"{what} contains “{text}”"
                    for what, text in (("object", log_filter.object_text), ("method", log_filter.method_text))
                    if text
                ]
                shown = f"{self.model.rowCount():,} of {len(self.model.records):,} records"
                self.count.setText(f"{shown}: {'; '.join(t for t in texts if t)}")
            # Whole method names (they cannot wrap) and wrapped details, with the bottom row kept in view.
            self._unfit = fit_table(self.table, anchor_bottom=True, widen=(COLUMNS.index("what"),))
            return
        self._unfit()
        self.count.setText(self._count_text)

    def _chosen(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        seq = self.model.seq_at(index.row())
        self.follow.setChecked(False)  # the user is looking at a moment: do not scroll away from it
        self.controller.goto_record(seq)
        self.record_chosen.emit(seq)
