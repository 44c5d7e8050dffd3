"""Hardware registers of the DMA engine in use, in hex with the decoded meaning; the BDL for bus masters."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.panels.base import Panel
from gui.panels.picture_text import fit_table
from gui.session_controller import Frame, SessionController
from gui.theme import Theme, mono_font
from gui.view_models.registers import BdlRow, RegisterRow, RegistersView, registers_view


def _table(columns: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    # Sized once when the rows change, not per cell update: ResizeToContents would re-measure every row
    # on every setText (over a millisecond each with a 256-entry BDL).
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    return table


def _set(table: QTableWidget, row: int, col: int, text: str, tip: str = "") -> QTableWidgetItem:
    item = table.item(row, col)
    if item is None:
        item = QTableWidgetItem()
        table.setItem(row, col, item)
    if item.text() != text:
        item.setText(text)
    if item.toolTip() != tip:
        item.setToolTip(tip)
    return item


class RegistersPanel(Panel):
    key = "registers"
    title = "Hardware registers"
    tooltip = "The registers of the DMA engine the stream uses, read without side effects."

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.view: RegistersView | None = None
        self._shape: tuple[object, ...] = ()
        self._shown_rows: list[RegisterRow] = []
        self._shown_bdl: list[BdlRow] = []
        self.caption = QLabel(self)
        self.table = _table(["Register", "Value", "Meaning"])
        self.table.setToolTip("Hover a value for its decoded meaning.")
        self.bdl_caption = QLabel(self)
        self.bdl = _table(["#", "Address", "Bytes", "Flags"])
        self.bdl.setToolTip("Buffer descriptor list in memory; the current entry and the last valid one are marked.")
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.bdl_caption)
        bottom_layout.addWidget(self.bdl)
        self.bdl_box = bottom
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(splitter, 1)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._shape = ()
        self._shown_rows, self._shown_bdl = [], []

    def session_replaced(self) -> None:
        self._shape = ()

    def set_export_mode(self, on: bool) -> None:
        if on == self.export_mode:
            return
        super().set_export_mode(on)
        if on:
            # Long meanings wrap in a picture instead of ending in "…"; the BDL's cells are short.
            self._unfit = fit_table(self.table, anchor_bottom=False)
        else:
            self._unfit()

    def refresh(self, frame: Frame) -> None:
        view = registers_view(self.controller.session.system, self.controller.hardware)
        self.view = view
        shape = (view.title, tuple(r.name for r in view.rows), len(view.bdl))
        if shape != self._shape:
            self._shape = shape
            self.caption.setText(f"<b>{view.title}</b>")
            self.table.clearSpans()
            self.table.setRowCount(len(view.rows))
            self.bdl.setRowCount(len(view.bdl))
            self.bdl_box.setVisible(bool(view.bdl))
            self.bdl_caption.setText(view.bdl_title)
            self._shown_rows, self._shown_bdl = [], []
        resize = not self._shown_rows
        current = next((r.index for r in view.bdl if r.current), None)
        was = next((r.index for r in self._shown_bdl if r.current), None)
        self._fill_registers(view.rows)
        self._fill_bdl(view.bdl)
        self._shown_rows, self._shown_bdl = view.rows, view.bdl
        if resize:
            for table in (self.table, self.bdl):
                table.resizeColumnsToContents()
        if current is not None and current != was:
            self.bdl.scrollTo(self.bdl.model().index(current, 0))  # keep the entry being played in view

    def _fill_registers(self, rows: list[RegisterRow]) -> None:
        mono = mono_font()
        bold = QFont(self.font())
        bold.setBold(True)
        for i, row in enumerate(rows):
            if i < len(self._shown_rows) and self._shown_rows[i] == row:
                continue  # unchanged since the last frame
            if row.group:
                item = _set(self.table, i, 0, row.name)
                item.setFont(bold)
                if self.table.columnSpan(i, 0) != 3:
                    self.table.setSpan(i, 0, 1, 3)
                continue
            tip = f"{row.name} = {row.text}: {row.meaning}"
            _set(self.table, i, 0, row.name, tip)
            _set(self.table, i, 1, row.text, tip).setFont(mono)
            _set(self.table, i, 2, row.meaning, tip)

    def _fill_bdl(self, rows: list[BdlRow]) -> None:
        if rows is self._shown_bdl:
            return  # the same (cached) rows as last frame
        theme = self.theme
        mono = mono_font()
        plain = QBrush()
        for i, row in enumerate(rows):
            if i < len(self._shown_bdl) and (self._shown_bdl[i] is row or self._shown_bdl[i] == row):
                continue
            marks = [m for m, on in (("current", row.current), ("LVI", row.last_valid)) if on]
            tip = f"entry {row.index}: {row.length} bytes at 0x{row.address:X}" + (
                f" ({' and '.join(marks)})" if marks else ""
            )
            cells = (
                f"{row.index}{' ◀ ' + ', '.join(marks) if marks else ''}",
                f"0x{row.address:08X}",
                f"0x{row.length:X}",
                row.flags,
            )
            brush = (
                QBrush(QColor(theme.current_row))
                if row.current
                else QBrush(QColor(theme.lvi_row))
                if row.last_valid
                else plain
            )
            for col, text in enumerate(cells):
                item = _set(self.bdl, i, col, text, tip)
                if col in (1, 2):
                    item.setFont(mono)
                item.setBackground(brush)
