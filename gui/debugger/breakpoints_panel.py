"""The Breakpoints panel: every breakpoint with its hit count and a checkbox to enable it; New… adds one.

The list is the session's (a scenario file's breakpoints, break on violation, F9's); a
Run to target is not in it. Space toggles the selected breakpoint, Delete removes it,
double-click opens New Breakpoint with it filled in (to make a similar one).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.debugger.editor import BreakpointEditor
from gui.debugger.logic import KIND_LABELS, describe, find_same
from gui.icons import icon
from gui.panels.base import Panel
from gui.session_controller import Frame, SessionController
from gui.theme import Theme
from model.session.breakpoints import Breakpoint
from model.system import System

COLUMNS = ("#", "Breakpoint", "Kind", "Hits")


class BreakpointsPanel(Panel):
    key = "breakpoints"
    title = "Breakpoints"
    tooltip = "Where a run stops: calls, hardware events, positions, glitches, violations, times."

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        # (breakpoint, enabled, hits) per row, to update only what changed. Holding the breakpoint itself, not its
        # id(): a deleted one's id may be reused by the next one made.
        self._shown: list[tuple[Breakpoint, bool, int]] = []
        self._step = -1

        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setMinimumHeight(self.tree.fontMetrics().height() * 4)  # a short dock must still fit the window
        self.tree.setToolTip(
            "The breakpoints. The checkbox (or Space) enables and disables one; Delete removes it. "
            "A run stops after the event that matches; the status bar says which breakpoint it was."
        )
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.itemDoubleClicked.connect(lambda _item, _col: self._copy_to_form())

        self.new_button = QPushButton("&New…", self)
        self.new_button.setToolTip("Make a breakpoint of any kind: a call, a hardware event, a position, a time…")
        self.new_button.clicked.connect(self.new_dialog)
        self.delete_button = QPushButton("&Delete", self)
        self.delete_button.setToolTip("Remove the selected breakpoint (Delete).")
        self.delete_button.clicked.connect(self.delete_selected)
        self.delete_all_button = QPushButton("Delete A&ll", self)
        self.delete_all_button.setToolTip("Remove every breakpoint, break on violation included.")
        self.delete_all_button.clicked.connect(self.controller.clear_breakpoints)
        self.count = QLabel(self)
        self.count.setProperty("role", "hint")
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.delete_all_button)
        buttons.addStretch(1)
        buttons.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.tree, 1)

        self.dialog = NewBreakpointDialog(self._system, self)
        self.dialog.accepted.connect(self._dialog_accepted)
        self.editor = self.dialog.editor
        self.tree.installEventFilter(self)  # Delete removes the selected breakpoint
        controller.breakpoints_changed.connect(self._sync)
        self._selection_changed()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.tree
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
        ):
            self.delete_selected()
            return True
        return super().eventFilter(watched, event)

    def _system(self) -> System | None:
        return self.controller.session.system if self.controller.has_session else None

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.new_button.setIcon(icon("breakpoint", theme.error))

    def session_replaced(self) -> None:
        self._step = -1
        self.editor.refresh_choices()
        self._rebuild()

    # --- the list ----------------------------------------------------------------------------------------
    @property
    def breakpoints(self) -> list[Breakpoint]:
        return self.controller.user_breakpoints()

    def refresh(self, frame: Frame) -> None:
        self._sync()
        if self.dialog.isVisible() and not frame.running and frame.step_index != self._step:
            self._step = frame.step_index
            self.editor.refresh_choices()  # objects come and go (NewStream, Release)

    def _sync(self) -> None:
        """Rows as the breakpoints are now: the changed ones in place (a checkbox's own signal leads here,
        and its item must survive it), everything again only when breakpoints came or went."""
        if not self.controller.has_session:
            return
        breakpoints = self.breakpoints
        same = len(breakpoints) == len(self._shown) and all(
            bp is row[0] for bp, row in zip(breakpoints, self._shown, strict=True)
        )
        if not same:
            self._rebuild()
            return
        for i, bp in enumerate(breakpoints):
            if self._shown[i][1:] != (bp.enabled, bp.hits):
                self._fill(self.tree.topLevelItem(i), i, bp)

    def _rebuild(self) -> None:
        if not self.controller.has_session:
            return
        selected = self.selected()
        self.tree.blockSignals(True)
        self.tree.clear()
        self._shown = []
        for i, bp in enumerate(self.breakpoints):
            item = QTreeWidgetItem()
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            self.tree.addTopLevelItem(item)
            self._shown.append((bp, bp.enabled, -1))
            self._fill(item, i, bp)
            if bp is selected:
                item.setSelected(True)
        self.tree.blockSignals(False)
        n = len(self._shown)
        self.count.setText("no breakpoints" if n == 0 else f"{n} breakpoint{'s' if n != 1 else ''}")
        self._selection_changed()

    def _fill(self, item: QTreeWidgetItem, index: int, bp: Breakpoint) -> None:
        self.tree.blockSignals(True)
        text = describe(bp)
        item.setText(0, str(index + 1))
        item.setCheckState(0, Qt.CheckState.Checked if bp.enabled else Qt.CheckState.Unchecked)
        item.setText(1, text)
        item.setText(2, KIND_LABELS[bp.kind])
        item.setText(3, str(bp.hits))
        item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        state = "enabled" if bp.enabled else "disabled"
        tip = f"{text} — {state}, hit {bp.hits} time{'s' if bp.hits != 1 else ''}. Double-click to copy it to the form."
        for col in range(len(COLUMNS)):
            item.setToolTip(col, tip)
        if not bp.enabled:
            for col in range(len(COLUMNS)):
                item.setForeground(col, self.palette().placeholderText())
        else:
            for col in range(len(COLUMNS)):
                item.setForeground(col, self.palette().text())
        self._shown[index] = (bp, bp.enabled, bp.hits)
        self.tree.blockSignals(False)

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if column != 0:
            return
        index = self.tree.indexOfTopLevelItem(item)
        breakpoints = self.breakpoints
        if 0 <= index < len(breakpoints):
            self.controller.set_breakpoint_enabled(breakpoints[index], item.checkState(0) == Qt.CheckState.Checked)

    def selected(self) -> Breakpoint | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        index = self.tree.indexOfTopLevelItem(items[0])
        breakpoints = self.breakpoints
        return breakpoints[index] if 0 <= index < len(breakpoints) else None

    def select(self, bp: Breakpoint) -> None:
        for i, candidate in enumerate(self.breakpoints):
            if candidate is bp:
                self.tree.setCurrentItem(self.tree.topLevelItem(i))

    def _selection_changed(self) -> None:
        self.delete_button.setEnabled(self.selected() is not None)
        self.delete_all_button.setEnabled(bool(self._shown))

    def delete_selected(self) -> None:
        bp = self.selected()
        if bp is None:
            return
        index = self.tree.indexOfTopLevelItem(self.tree.selectedItems()[0])
        self.controller.remove_breakpoint(bp)
        remaining = self.tree.topLevelItemCount()
        if remaining:
            self.tree.setCurrentItem(self.tree.topLevelItem(min(index, remaining - 1)))

    def _copy_to_form(self) -> None:
        """Double-click: a New Breakpoint dialog that starts from this one."""
        bp = self.selected()
        if bp is not None:
            self.editor.refresh_choices()
            self.editor.set_breakpoint(bp)
            self.dialog.open()

    # --- adding ----------------------------------------------------------------------------------------------
    def new_dialog(self) -> NewBreakpointDialog:
        """Open the New Breakpoint dialog (it keeps what was typed last, to make similar ones quickly)."""
        self.editor.refresh_choices()
        self.dialog.open()
        return self.dialog

    def _dialog_accepted(self) -> None:
        if self.dialog.made is not None:
            self.add(self.dialog.made)

    def add_from_form(self) -> Breakpoint | None:
        """Add the breakpoint the dialog's form describes (None, and the reason shown in it, if none)."""
        bp = self.editor.breakpoint()
        return self.add(bp) if bp is not None else None

    def add(self, bp: Breakpoint) -> Breakpoint:
        """Add ``bp``, or enable and select the equal one already there."""
        existing = find_same(self.breakpoints, bp)
        if existing is not None:
            self.controller.set_breakpoint_enabled(existing, True)
            self.select(existing)
            return existing
        self.controller.add_breakpoint(bp)
        self.select(bp)
        return bp


class NewBreakpointDialog(QDialog):
    """The form of every kind of breakpoint, with Add and Cancel."""

    def __init__(self, system: Callable[[], System | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Breakpoint")
        self.made: Breakpoint | None = None
        self.editor = BreakpointEditor(system, parent=self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        add = buttons.addButton("&Add", QDialogButtonBox.ButtonRole.AcceptRole)
        add.setToolTip("Add this breakpoint (Enter).")
        add.setDefault(True)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setToolTip("Close without adding (Esc).")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.editor)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("x") * 64)

    def showEvent(self, event: object) -> None:
        self.made = None
        self.editor.kind_box.setFocus()
        super().showEvent(event)  # type: ignore[arg-type]

    def accept(self) -> None:
        bp = self.editor.breakpoint()
        if bp is None:
            self.adjustSize()  # the reason is shown in red under the form; the dialog stays
            return
        self.made = bp
        super().accept()
