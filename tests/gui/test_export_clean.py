"""Pictures a technical writer can use: no controls or selections, whole text, vector markers, a sane size.

The audit of issue 7 found pictures with the log's filter bar, buttons and usage hints in them, a
selected row drawn highlighted, key rows cut off with "…", markers embedded in SVG as bitmaps,
and a size x scale that crashed. These tests hold each of those fixed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QLabel, QPushButton, QStyle, QTableView, QTreeWidget, QTreeWidgetItem, QWidget

from gui.export.renderer import (
    Moment,
    PictureError,
    PictureOptions,
    Scene,
    _stretch_tables,
    export_mode,
    render_png,
    shoot,
)
from gui.export.views import MAX_PIXELS, MAX_SIDE, PNG, SVG, VIEWS, check_pixels
from gui.theme import LIGHT
from model.scenario import load
from model.units import MS

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def scene_of() -> Iterator[Any]:
    made: list[Scene] = []

    def make(scenario: str, moment: Moment, view: str, size: tuple[int, int] | None = None) -> Scene:
        scene = Scene(load(scenario), moment, PictureOptions(view=view, size=size))
        made.append(scene)
        return scene

    yield make
    for scene in made:
        scene.close()


# --- size x scale ------------------------------------------------------------------------------------------------
def test_the_pixel_limit_counts_size_times_scale() -> None:
    check_pixels((MAX_SIDE, MAX_SIDE), 1.0)  # the largest side at scale 1 stays allowed
    check_pixels((1024, 1024), 8.0)
    with pytest.raises(ValueError, match=r"65536x65536 = 4,295 million pixels; the most is 67 million"):
        check_pixels((MAX_SIDE, MAX_SIDE), 8.0)
    with pytest.raises(ValueError, match="million pixels"):
        check_pixels((4096, 4096), 2.01)
    assert MAX_PIXELS == MAX_SIDE * MAX_SIDE


def test_the_renderer_refuses_too_many_pixels_before_allocating_them(qapp: Any) -> None:
    widget = QWidget()
    try:
        with pytest.raises(PictureError, match="million pixels"):
            render_png(widget, (MAX_SIDE, MAX_SIDE), 8.0, LIGHT)
        with pytest.raises(PictureError, match="million pixels"):  # a caption strip counts too
            render_png(widget, (MAX_SIDE, MAX_SIDE), 1.0, LIGHT, caption="a caption below the largest picture")
    finally:
        widget.deleteLater()


def test_the_export_dialog_refuses_too_many_pixels(make_window: Any, tmp_path: Any) -> None:
    from gui.export.dialog import ExportChoice, ExportDialog

    window = make_window("sb16_render")
    dialog = ExportDialog(window)
    dialog.set_choice(ExportChoice(view="memory", size=(MAX_SIDE, MAX_SIDE), scale=8.0))
    assert not dialog.save_button.isEnabled() and not dialog.copy_button.isEnabled()
    assert "million pixels" in dialog.pixels.text() and dialog.pixels.property("role") == "error"
    assert not dialog.save_to(tmp_path / "huge.png")
    assert "million pixels" in dialog.error.text() and not (tmp_path / "huge.png").exists()
    dialog.set_choice(ExportChoice(view="memory", size=(MAX_SIDE, MAX_SIDE), fmt=SVG, scale=8.0))
    assert dialog.save_button.isEnabled(), "an SVG has no pixels: the scale does not apply"
    dialog.set_choice(ExportChoice(view="memory", size=(860, 520), scale=2.0))
    assert dialog.save_button.isEnabled() and dialog.copy_button.isEnabled()
    assert dialog.pixels.text() == "PNG of 1720 × 1040 pixels" and dialog.pixels.property("role") == "hint"
    dialog.deleteLater()


# --- no controls, no selection -------------------------------------------------------------------------------------
def _shown(widgets: list[QWidget]) -> list[bool]:
    return [w.isVisible() for w in widgets]


@pytest.mark.parametrize(
    ("view", "controls"),
    [
        ("log", lambda p: [p.kind_box, p.object_edit, p.method_edit, p.follow, p.count]),
        ("objects", lambda p: [w for w in p.findChildren(QLabel) if w.property("role") == "hint"]),
        ("timeline", lambda p: [p.all_button]),
        ("breakpoints", lambda p: [p.new_button, p.delete_button, p.delete_all_button]),
    ],
)
def test_controls_and_hints_are_left_out_and_come_back(scene_of: Any, view: str, controls: Any) -> None:
    scene = scene_of("sb16_render", Moment(at_ns=40 * MS), view)
    widgets = controls(scene.widget)
    assert widgets and all(_shown(widgets)), "the controls are there on screen"
    with export_mode(scene.widget):
        assert not any(_shown(widgets)), f"the {view} picture shows controls"
        assert not [b for b in scene.widget.findChildren(QPushButton) if b.isVisible()]
    assert all(_shown(widgets)), "the controls must come back after the picture"


def test_the_log_picture_has_no_filter_bar_and_a_filtered_log_says_so(scene_of: Any) -> None:
    scene = scene_of("sb16_render", Moment(at_ns=40 * MS), "log")
    log = scene.widget
    top_with_bar = log.table.geometry().top()
    with export_mode(log):
        assert log.table.geometry().top() < top_with_bar, "the table takes the filter bar's place"
    log.kind_box.setCurrentIndex(log.kind_box.findData("interrupt"))
    with export_mode(log):
        assert log.count.isVisible() and not log.kind_box.isVisible()
        assert re.fullmatch(r"\d+ of [\d,]+ records: kind interrupt", log.count.text()), log.count.text()
    assert log.count.text().endswith(f"of {len(log.model.records):,}")


def test_a_selected_log_row_is_not_highlighted_in_a_picture_of_the_live_window(make_window: Any) -> None:
    from gui.export.renderer import window_picture

    window = make_window("sb16_render")
    window.controller.run_for(40 * MS)
    window.refresh_all()
    log = window.panels["log"]
    size, theme = (window.width(), window.height()), window.themes.theme
    plain = window_picture(window, "window", size, 1.0, theme, "", PNG)  # the live window itself is drawn
    top = log.table.rowAt(0)
    log.select_record(None)  # the newest record: in view already, so nothing scrolls
    selected = log.selected_record()
    assert selected is not None and log.table.rowAt(0) == top
    assert window_picture(window, "window", size, 1.0, theme, "", PNG) == plain
    assert log.selected_record() == selected, "the selection comes back after the picture"
    assert log.kind_box.isVisible(), "the filter bar comes back after the picture"


def test_log_rows_are_whole_after_scrolling_back_to_an_early_record(make_window: Any) -> None:
    """Rows that grow above the bottom row must not push unmeasured rows into view."""
    window = make_window("sb16_render")
    window.controller.run_for(40 * MS)
    window.refresh_all()
    log = window.panels["log"]
    log.select_record(5)
    window.refresh_all()
    assert _cut_cells(log.table), "the test must see cells that are cut on screen, or it checks nothing"
    bottom = log.table.rowAt(log.table.viewport().height() - 1)
    with export_mode(window):
        assert _cut_cells(log.table) == []
        assert log.table.rowAt(0) <= bottom, "the rows shown on screen are still in the picture"


# --- whole text ---------------------------------------------------------------------------------------------------
def _text_margin(view: QWidget) -> int:
    return 2 * (view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1)


def _fits(metrics: QFontMetrics, text: str, width: int, height: int, wrap: bool = True) -> bool:
    """``text`` wrapped at words (or on one line) in ``width`` x ``height`` pixels, no word wider than the width."""
    if not wrap:
        return metrics.horizontalAdvance(text) <= width and metrics.height() <= height
    if any(metrics.horizontalAdvance(word) > width for word in text.split()):
        return False
    flags = int(Qt.TextFlag.TextWordWrap)
    return metrics.boundingRect(QRect(0, 0, width, 100_000), flags, text).height() <= height


def _cut_cells(table: QTableView) -> list[str]:
    """The texts of the cells in view that do not fit their cell (they would end in "…")."""
    margin = _text_margin(table)
    model, cut = table.model(), []
    viewport = table.viewport().rect()
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            rect = table.visualRect(index)
            if (
                table.columnSpan(row, column) > 1
                or not rect.intersects(viewport)
                or rect.bottom() > viewport.bottom()
                or rect.top() < viewport.top()
            ):
                continue  # spanned titles, rows out of view, and the rows cut by the top or bottom edge
            text = str(model.data(index) or "")
            font = model.data(index, Qt.ItemDataRole.FontRole)  # values are in a fixed-width font
            metrics = QFontMetrics(font) if isinstance(font, QFont) else table.fontMetrics()
            if text and not _fits(metrics, text, rect.width() - margin, rect.height(), table.wordWrap()):
                cut.append(text)
    return cut


@pytest.mark.parametrize(
    ("scenario", "moment"), [("sb16_waitfortc", Moment(at_ns=50 * MS)), ("ac97_revoke", Moment(at_ns=150 * MS))]
)
def test_log_rows_in_a_picture_are_whole(scene_of: Any, scenario: str, moment: Moment) -> None:
    scene = scene_of(scenario, moment, "log")
    table = scene.widget.table
    assert _cut_cells(table), "the test must see cells that are cut on screen, or it checks nothing"
    with export_mode(scene.widget):
        assert _cut_cells(table) == []
        last = table.model().rowCount() - 1
        assert table.visualRect(table.model().index(last, 0)).bottom() <= table.viewport().height(), (
            "the newest record stays in view"
        )
    assert table.wordWrap() is False


def test_register_meanings_in_a_picture_are_whole_at_the_default_size(scene_of: Any) -> None:
    scene = scene_of("sb16_render", Moment(at_ns=50 * MS), "registers")
    table = scene.widget.table
    _stretch_tables(scene.widget)  # the widths the screen shows (the table was filled while hidden)
    assert any("physical address bits 16-23" in text for text in _cut_cells(table))
    with export_mode(scene.widget):
        assert _cut_cells(table) == []
        last = table.visualRect(table.model().index(table.rowCount() - 1, 0))
        assert last.bottom() <= table.viewport().height(), "every register is in the picture"


def test_every_register_of_the_hd_audio_stream_is_in_its_default_picture(scene_of: Any) -> None:
    scene = scene_of("hda_render", Moment(at_ns=55 * MS), "registers")
    table = scene.widget.table
    with export_mode(scene.widget):
        last = table.visualRect(table.model().index(table.rowCount() - 1, 0))
        assert last.bottom() <= table.viewport().height(), f"{VIEWS['registers'].size} cuts off the registers"


def _tree_items(tree: QTreeWidget) -> list[QTreeWidgetItem]:
    items, stack = [], [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    while stack:
        item = stack.pop()
        items.append(item)
        stack.extend(item.child(i) for i in range(item.childCount()))
    return items


def _cut_states(tree: QTreeWidget) -> list[str]:
    metrics, margin, cut = tree.fontMetrics(), _text_margin(tree), []
    for item in _tree_items(tree):
        rect = tree.visualItemRect(item)
        if rect.isEmpty():
            continue
        for column in (1, 2):
            if not _fits(metrics, item.text(column), tree.columnWidth(column) - margin, rect.height(), tree.wordWrap()):
                cut.append(item.text(column))
    return cut


@pytest.mark.parametrize(
    ("scenario", "moment"),
    [("sb16_use_after_release", Moment(at_ns=111 * MS)), ("virtual_own_dmachannel", Moment(at_ns=100 * MS))],
)
def test_object_states_in_a_picture_are_whole(scene_of: Any, scenario: str, moment: Moment) -> None:
    scene = scene_of(scenario, moment, "objects")
    tree = scene.widget.tree
    assert _cut_states(tree), "the test must see states that are cut on screen, or it checks nothing"
    with export_mode(scene.widget):
        assert _cut_states(tree) == []
    assert _cut_states(tree), "the window's rows are one line again after the picture"


# --- SVG ------------------------------------------------------------------------------------------------------------
def _scaled_groups(root: ET.Element) -> list[ET.Element]:
    """Groups whose transform scales or turns (a pure translation scales no pen)."""
    found = []
    for group in root.iter(f"{SVG_NS}g"):
        match = re.fullmatch(r"matrix\(([^)]*)\)", group.get("transform", ""))
        if match and [float(v) for v in match.group(1).split(",")[:4]] != [1.0, 0.0, 0.0, 1.0]:
            found.append(group)
    return found


def test_svg_markers_are_vector_paths_not_images() -> None:
    data = shoot(load("sb16_dpc_latency"), Moment(at_ns=300 * MS), PictureOptions(view="counter"), SVG)
    root = ET.fromstring(data)
    assert list(root.iter(f"{SVG_NS}image")) == [], "markers (or a background) embedded as bitmaps"
    # The event lanes' markers (interrupts, DPCs, copies...) are filled paths in the lanes' colours.
    fills = [g.get("fill", "").lower() for g in root.iter(f"{SVG_NS}g") if list(g.iter(f"{SVG_NS}path"))]
    assert fills.count(LIGHT.lanes[1].lower()) >= 20, "the interrupt markers are not paths"
    assert sum(fills.count(colour.lower()) for colour in LIGHT.lanes) >= 50
    # Every plot line and marker is in pixels: no "non-scaling" pen in a scaled group (librsvg ignores that).
    for group in _scaled_groups(root):
        shapes = [el for tag in ("path", "polyline") for el in group.iter(f"{SVG_NS}{tag}")]
        assert not shapes, f"a scaled group still holds {len(shapes)} paths"


def test_svg_of_a_panel_with_a_byte_band_embeds_only_the_band() -> None:
    data = shoot(load("sb16_underrun"), Moment(at_ns=285 * MS), PictureOptions(view="buffer"), SVG)
    images = list(ET.fromstring(data).iter(f"{SVG_NS}image"))
    assert len(images) == 1, "only the byte band is a bitmap"
