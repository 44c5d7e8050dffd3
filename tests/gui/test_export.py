"""Pictures (gui/export): reproducible, the size and scale asked for, SVG with the plots as paths, not blank,
themes that differ, no hover overlays, moments exactly where asked; and File → Export Picture in the window."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMenu

from gui.export.renderer import Moment, PictureError, PictureOptions, Scene, shoot
from gui.export.views import PNG, SVG, VIEWS, WINDOW, parse_scale, parse_size, picture_format
from gui.theme import DARK, LIGHT
from model.scenario import Scenario, load
from model.units import MS
from tests.gui.images import luminance, pixels, variance

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def underrun() -> Scenario:
    return load("sb16_underrun")


def small(view: str, **kwargs: Any) -> PictureOptions:
    return PictureOptions(view=view, size=kwargs.pop("size", (480, 260)), **kwargs)


def test_every_view_is_a_panel_of_the_window_and_the_command_line_knows_them(make_window: Any) -> None:
    from cli.shot import VIEW_NAMES

    window = make_window("sb16_render", show=False)
    assert set(VIEWS) - {WINDOW} <= set(window.panels), "a view names no panel"
    assert tuple(VIEWS) == VIEW_NAMES, "cli/shot.py's help lists other views than gui/export/views.py"


def test_the_same_picture_twice_is_the_same_bytes(underrun: Scenario) -> None:
    options = small("buffer")
    first = shoot(underrun, Moment(at_ns=285 * MS), options)
    second = shoot(underrun, Moment(at_ns=285 * MS), options)
    assert first == second
    assert first.startswith(b"\x89PNG") and b"tIME" not in first and b"tEXt" not in first


@pytest.mark.parametrize(("size", "scale", "expected"), [((480, 260), 1.0, (480, 260)), ((400, 300), 2.0, (800, 600))])
def test_size_and_scale_give_the_pixels(
    underrun: Scenario, size: tuple[int, int], scale: float, expected: tuple[int, int]
) -> None:
    data = shoot(underrun, Moment(at_ns=285 * MS), small("counter", size=size, scale=scale))
    rgb = pixels(data)
    assert (rgb.shape[1], rgb.shape[0]) == expected


def test_a_fractional_scale_and_a_caption_strip(underrun: Scenario) -> None:
    plain = pixels(shoot(underrun, Moment(at_ns=285 * MS), small("positions", scale=1.5)))
    assert (plain.shape[1], plain.shape[0]) == (720, 390)
    captioned = pixels(
        shoot(underrun, Moment(at_ns=285 * MS), small("positions", scale=1.5, caption="Data ahead goes negative"))
    )
    assert captioned.shape[1] == 720 and captioned.shape[0] > plain.shape[0] + 20
    assert (captioned[: plain.shape[0]] == plain).all(), "the caption must not change the view above it"


@pytest.mark.parametrize("view", [v for v in VIEWS if v != WINDOW])
def test_every_panel_is_drawn_not_blank(underrun: Scenario, view: str) -> None:
    data = shoot(underrun, Moment(at_ns=285 * MS), PictureOptions(view=view))
    assert variance(data) > 50, f"the {view} picture is (nearly) blank"


def test_the_whole_window_at_half_scale(underrun: Scenario) -> None:
    data = shoot(underrun, Moment(at_ns=285 * MS), PictureOptions(view=WINDOW, scale=0.5))
    rgb = pixels(data)
    width, height = VIEWS[WINDOW].size
    assert (rgb.shape[1], rgb.shape[0]) == (width // 2, height // 2)
    assert variance(data) > 300


def test_light_and_dark_differ(underrun: Scenario) -> None:
    light = shoot(underrun, Moment(at_ns=285 * MS), small("buffer", theme="light"))
    dark = shoot(underrun, Moment(at_ns=285 * MS), small("buffer", theme="dark"))
    assert light != dark
    assert luminance(light) > luminance(dark) + 80


def test_svg_is_xml_with_the_plot_as_vector_paths(underrun: Scenario) -> None:
    data = shoot(underrun, Moment(at_ns=285 * MS), small("counter", caption="The counter"), SVG)
    root = ET.fromstring(data)
    assert root.tag == f"{SVG_NS}svg"
    assert (root.get("width"), root.get("height")) != ("480", "260")  # taller by the caption strip
    assert root.get("width") == "480"
    # The sawtooth is vector lines in the waveform colour (pyqtgraph may draw it as one path or as segments).
    segments = sum(
        el.get("d", "").count("L") + max(0, len(el.get("points", "").split()) - 1)
        for tag in ("path", "polyline")
        for el in root.iter(f"{SVG_NS}{tag}")
        if _stroke(root, el) == LIGHT.waveform.lower()
    )
    assert segments > 20, "the counter curve is not in the SVG as lines"
    texts = "".join(el.text or "" for el in root.iter(f"{SVG_NS}text"))
    assert "now" in texts and "interrupt" in texts and "The counter" in texts


def _stroke(root: ET.Element, element: ET.Element) -> str | None:
    """The stroke colour of ``element``: QSvgGenerator puts it on the enclosing <g>."""
    parents = {child: parent for parent in root.iter() for child in parent}
    node: ET.Element | None = element
    while node is not None:
        if node.get("stroke"):
            return node.get("stroke", "").lower()
        node = parents.get(node)
    return None


def _hover_buffer(panel: Any) -> None:
    panel.hover_line.setValue(0x800)
    panel.hover_text.setText("0x800, sample +0.000")
    panel.hover_line.show()
    panel.hover_text.show()


def _hover_counter(panel: Any) -> None:
    panel.hover_text.setText("-12.000 ms (t = 273.000 ms)")
    panel.hover_text.setPos(-12, 8000)
    panel.hover_text.show()


def _hover_memory(panel: Any) -> None:
    panel.hover_box.setData([3, 4, 4, 3, 3], [3, 3, 4, 4, 3])
    panel.hover.setText("page 0x304: this stream's common buffer")


@pytest.mark.parametrize(
    ("view", "hover"), [("buffer", _hover_buffer), ("counter", _hover_counter), ("memory", _hover_memory)]
)
def test_hover_overlays_are_left_out(underrun: Scenario, view: str, hover: Any) -> None:
    scene = Scene(underrun, Moment(at_ns=285 * MS), small(view, size=(520, 360)))
    try:
        expected = scene.render(PNG)
        hover(scene.widget)
        assert scene.render(PNG) == expected
    finally:
        scene.close()


def test_after_event_n_is_exactly_there_with_no_recorded_future() -> None:
    scenario = load("sb16_data_race")  # starts with a breakpoint: the run goes on past it, as a user would
    scene = Scene(scenario, Moment(event=33), small("log"))
    try:
        session = scene.controller.session
        assert session.step_index == 33
        assert session.furthest_step == 33, "the picture must not show a greyed future"
        log = scene.widget
        assert log.model.rowCount() == len(session.records())
        assert session.records()[-1].kind == "violation"
    finally:
        scene.close()


def test_at_a_time_the_counter_has_its_history(underrun: Scenario) -> None:
    scene = Scene(underrun, Moment(at_ns=100 * MS), small("counter"))
    try:
        t, _v = scene.controller.counter.arrays()
        assert scene.controller.session.now_ns == 100 * MS
        assert len(t) > 100 and t[-1] == 100 * MS
    finally:
        scene.close()


def test_moments_past_the_end_and_unknown_views_are_refused(underrun: Scenario) -> None:
    with pytest.raises(PictureError, match="past the end of the scenario"):
        shoot(underrun, Moment(at_ns=underrun.run_until_ns + 1), small("buffer"))
    with pytest.raises(PictureError, match="event 99999999 is past the end"):
        shoot(underrun, Moment(event=99_999_999), small("buffer"))
    with pytest.raises(PictureError, match="unknown view"):
        shoot(underrun, Moment(at_ns=MS), PictureOptions(view="bufer"))
    with pytest.raises(PictureError, match="needs at least"):
        shoot(underrun, Moment(at_ns=MS), PictureOptions(view=WINDOW, size=(300, 200)))


def test_a_picture_leaves_the_application_as_it_was(underrun: Scenario, qapp: QApplication) -> None:
    before = (qapp.palette().color(QPalette.ColorRole.Window).name(), qapp.font().toString(), qapp.styleSheet())
    shoot(underrun, Moment(at_ns=MS), small("buffer", theme="dark"))
    after = (qapp.palette().color(QPalette.ColorRole.Window).name(), qapp.font().toString(), qapp.styleSheet())
    assert after == before


def test_option_parsing() -> None:
    assert parse_size("1200x800") == (1200, 800) and parse_size("640×480") == (640, 480)
    for bad in ("1200", "x800", "10x10", "1200x99999", "axb"):
        with pytest.raises(ValueError):
            parse_size(bad)
    assert parse_scale("2") == 2.0
    for bad in ("0", "nine", "100"):
        with pytest.raises(ValueError):
            parse_scale(bad)
    assert picture_format("a.PNG") == PNG and picture_format("b.svg") == SVG and picture_format("c.jpg") is None


# --- File → Export Picture ----------------------------------------------------------------------------------------
def test_file_menu_has_export_and_copy(make_window: Any, qtbot: Any) -> None:
    from gui.export.dialog import ExportDialog

    window = make_window("sb16_render")
    menus = [m for m in window.menuBar().findChildren(QMenu) if m.title() == "&File"]
    assert menus and window.act_export_picture in menus[0].actions() and window.act_copy_picture in menus[0].actions()
    assert window.act_export_picture.text() == "E&xport Picture…" and window.act_copy_picture.text() == "&Copy Picture"
    window.act_export_picture.trigger()
    dialog = window.findChild(ExportDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.choice().view == WINDOW and dialog.choice().size == (window.width(), window.height())
    dialog.view_box.setCurrentIndex(dialog.view_box.findData("counter"))
    assert dialog.choice().size == (window.panels["counter"].width(), window.panels["counter"].height())
    dialog.reject()


def test_export_dialog_writes_png_and_svg_of_a_panel_and_the_window(make_window: Any, tmp_path: Path) -> None:
    from gui.export.dialog import ExportChoice, ExportDialog

    window = make_window("sb16_underrun")
    window.controller.run_for(285 * MS)
    window.refresh_all()
    palette = QApplication.palette().color(QPalette.ColorRole.Window).name()
    cases = [
        (ExportChoice(view="buffer", size=(600, 300), scale=2.0, theme="dark", caption="Underrun"), "a.png"),
        (ExportChoice(view="counter", size=(600, 300), theme="light"), "b.svg"),
        (ExportChoice(view=WINDOW, size=(window.width(), window.height()), scale=1.0), "c.png"),
        (ExportChoice(view=WINDOW, size=(1400, 900), scale=0.5, theme="dark"), "d.png"),
    ]
    for choice, name in cases:
        dialog = ExportDialog(window)
        dialog.set_choice(choice)
        assert dialog.save_to(tmp_path / name), dialog.error.text()
    a = pixels((tmp_path / "a.png").read_bytes())
    assert a.shape[1] == 1200 and a.shape[0] > 600 and luminance((tmp_path / "a.png").read_bytes()) < 80
    assert ET.fromstring((tmp_path / "b.svg").read_bytes()).get("width") == "600"
    assert pixels((tmp_path / "c.png").read_bytes()).shape[:2] == (window.height(), window.width())
    assert pixels((tmp_path / "d.png").read_bytes()).shape[:2] == (450, 700)
    # The window on screen kept its theme and its session.
    assert QApplication.palette().color(QPalette.ColorRole.Window).name() == palette == LIGHT.window
    assert window.controller.session.now_ns == 285 * MS
    assert DARK.window != LIGHT.window


def test_export_dialog_reports_what_it_cannot_do(make_window: Any, tmp_path: Path) -> None:
    from gui.export.dialog import ExportChoice, ExportDialog

    window = make_window("sb16_render")
    dialog = ExportDialog(window)
    dialog.set_choice(ExportChoice(view="buffer", size=(600, 300)))
    assert not dialog.save_to(tmp_path / "missing" / "a.png")
    assert "cannot write" in dialog.error.text()
    assert dialog.save_to(tmp_path / "named")  # no ending: the format box's
    assert (tmp_path / "named.png").exists()


def test_copy_picture_puts_the_window_on_the_clipboard(make_window: Any, qapp: QApplication) -> None:
    window = make_window("sb16_render")
    window.act_copy_picture.trigger()
    image = qapp.clipboard().image()
    ratio = window.devicePixelRatioF()
    assert (image.width(), image.height()) == (round(window.width() * ratio), round(window.height() * ratio))
    assert "picture copied" in window.status_message.text()
