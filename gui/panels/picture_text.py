"""Whole text in pictures: while a picture is taken, tables and trees wrap long cells instead of eliding them.

On screen a cell cut off with "…" costs nothing (hover shows it whole); in a picture the text is
lost. ``fit_table`` and ``fit_tree`` make the rows in view as tall as their wrapped text needs
(and may widen named columns, for names that cannot wrap), and return a ``Restore`` that puts
everything back, so the live window is unchanged after a picture. Only the rows that can be in
view are measured: a log of a hundred thousand records costs as much as one of twenty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QTableView, QTreeWidget, QTreeWidgetItem

# The last column keeps at least this share of the table's width when other columns widen.
MIN_LAST_SHARE = 0.35

Restore = Callable[[], None]


def _stretch_last(header: QHeaderView) -> None:
    """Let the last column take the room left now (a view laid out while hidden keeps stale widths)."""
    if header.stretchLastSection():
        header.setStretchLastSection(False)
        header.setStretchLastSection(True)


def _widen(table: QTableView, columns: Sequence[int]) -> dict[int, int]:
    """Widen ``columns`` to their widest cell in view, keeping MIN_LAST_SHARE for the last column; old widths."""
    header = table.horizontalHeader()
    count = header.count()
    room = table.viewport().width() * (1 - MIN_LAST_SHARE)
    room -= sum(table.columnWidth(c) for c in range(count - 1) if not table.isColumnHidden(c))
    saved: dict[int, int] = {}
    for column in columns:
        if room <= 0 or column >= count - 1:
            break
        width = table.columnWidth(column)
        wanted = max(_widest_in_view(table, column), header.sectionSizeHint(column))
        grow = int(min(wanted - width, room))
        if grow > 0:
            saved[column] = width
            table.setColumnWidth(column, width + grow)
            room -= grow
    return saved


def _widest_in_view(table: QTableView, column: int) -> int:
    """The width ``column``'s widest cell among the rows in view needs on one line (QTableView's own
    sizeHintForColumn reads up to a thousand rows, in view or not)."""
    model = table.model()
    if model is None or model.rowCount() == 0:
        return 0
    first = max(0, table.rowAt(0))
    last = table.rowAt(table.viewport().height() - 1)
    last = model.rowCount() - 1 if last < 0 else last
    margin = _text_margin(table) + 1
    widest = 0
    for row in range(first, last + 1):
        index = model.index(row, column)
        text = model.data(index)
        if table.isRowHidden(row) or not text:
            continue
        font = model.data(index, Qt.ItemDataRole.FontRole)
        metrics = QFontMetrics(font) if isinstance(font, QFont) else table.fontMetrics()
        widest = max(widest, metrics.horizontalAdvance(str(text)) + margin)
    return widest


def _text_margin(view: QAbstractItemView) -> int:
    """The room a cell keeps free of text, both sides together (QCommonStyle's view item text margin)."""
    return 2 * (view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1)


def fit_table(table: QTableView, *, anchor_bottom: bool, widen: Sequence[int] = ()) -> Restore:
    """Wrap ``table``'s cells and make the rows in view tall enough for them; how to undo it.

    ``anchor_bottom``: the row at the bottom of the view stays there (a log, newest at the bottom); otherwise
    the row at the top stays. ``widen``: columns that grow to their widest cell in view first.
    """
    vertical = table.verticalHeader()
    scroll = (table.horizontalScrollBar().value(), table.verticalScrollBar().value())
    word_wrap = table.wordWrap()
    scroll_mode = table.verticalScrollMode()
    _stretch_last(table.horizontalHeader())
    widths = _widen(table, widen)
    rows = table.model().rowCount() if table.model() is not None else 0
    heights: dict[int, int] = {}
    if rows:
        table.setWordWrap(True)
        height = table.viewport().height()
        anchor = table.rowAt(height - 1 if anchor_bottom else 0)
        if anchor < 0:
            anchor = rows - 1 if anchor_bottom else 0
        order = range(anchor, -1, -1) if anchor_bottom else range(anchor, rows)
        used = 0
        for row in order:
            if table.isRowHidden(row):
                continue
            now = table.rowHeight(row)
            needed = table.sizeHintForRow(row)
            if needed > now:
                heights[row] = now
                vertical.resizeSection(row, needed)
            used += max(now, needed)
            if used >= height:
                break
        # Scrolled by pixels while the picture is taken: by whole rows, Qt may put the anchor elsewhere once
        # rows above it have grown (and the rows then in view were never measured).
        table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        table.updateGeometries()  # the scroll bar's range, now and not at the next timer
        top = vertical.sectionPosition(anchor)
        if anchor_bottom:
            top += vertical.sectionSize(anchor) - height
        table.verticalScrollBar().setValue(max(0, top))

    def restore() -> None:
        for row, old in heights.items():
            if row < vertical.count():
                vertical.resizeSection(row, old)
        table.setWordWrap(word_wrap)
        table.setVerticalScrollMode(scroll_mode)
        for column, old in widths.items():
            table.setColumnWidth(column, old)
        table.updateGeometries()
        table.horizontalScrollBar().setValue(scroll[0])
        table.verticalScrollBar().setValue(scroll[1])

    return restore


def fit_tree(tree: QTreeWidget) -> Restore:
    """Wrap ``tree``'s cells after the first column, each row as tall as its longest text needs; how to undo it.

    A tree view does not measure wrapped text itself (it asks each cell for its height as if it had all the
    width it wants), so the rows that need more than one line get a size hint for the picture.
    """
    word_wrap = tree.wordWrap()
    _stretch_last(tree.header())
    tree.setWordWrap(True)
    metrics = tree.fontMetrics()
    line = metrics.height()
    flags = int(Qt.TextFlag.TextWordWrap)
    hints: list[tuple[QTreeWidgetItem, int, QSize]] = []
    margin = _text_margin(tree)
    for item in _items(tree):
        padding = max(0, tree.visualItemRect(item).height() - line)
        for column in range(1, tree.columnCount()):
            text = item.text(column)
            width = tree.columnWidth(column) - margin
            if not text or tree.isColumnHidden(column) or metrics.horizontalAdvance(text) <= width:
                continue  # fits on one line
            needed = metrics.boundingRect(QRect(0, 0, max(width, 1), 100_000), flags, text).height()
            if needed > line:
                hints.append((item, column, item.sizeHint(column)))
                item.setSizeHint(column, QSize(tree.columnWidth(column), needed + padding))
    tree.doItemsLayout()  # row heights now, not at the next event loop

    def restore() -> None:
        for item, column, hint in hints:
            item.setSizeHint(column, hint)
        tree.setWordWrap(word_wrap)
        tree.doItemsLayout()

    return restore


def _items(tree: QTreeWidget) -> Iterator[QTreeWidgetItem]:
    """Every item of ``tree`` under an expanded parent (the rows a picture can show)."""
    stack = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount() - 1, -1, -1)]
    while stack:
        item = stack.pop()
        yield item
        if item.isExpanded():
            stack.extend(item.child(i) for i in range(item.childCount() - 1, -1, -1))
