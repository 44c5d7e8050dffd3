"""The main window: it opens on every built-in scenario, stepping updates every panel, files, settings, keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QLineEdit, QWidget

from gui import scenario_source
from gui.view_models.buffer import BAND_VALID, band_codes
from model.units import MS

BUILTINS = [name for name, _title in scenario_source.builtin_scenarios()]


@pytest.mark.parametrize("name", BUILTINS)
def test_window_opens_on_every_builtin_scenario(make_window: Any, name: str) -> None:
    window = make_window(name)
    assert window.scenario.title in window.windowTitle()
    window.controller.run_for(40 * MS)
    window.refresh_all()
    description = window.panels["description"]
    assert description.markdown == window.scenario.description
    assert window.panels["objects"].nodes, "the object tree is empty"
    assert window.panels["log"].model.rowCount() > 0
    assert window.panels["memory"].view is not None
    assert window.panels["buffer"].view is not None
    assert window.status_time.text() == "t = 40.000 ms"


def _panel_state(window: Any) -> dict[str, Any]:
    buffer = window.panels["buffer"].view
    return {
        "buffer": (buffer.dma_position, buffer.port_offset, tuple(buffer.valid)),
        "positions": tuple(r.text for r in window.panels["positions"].rows),
        "registers": tuple(r.text for r in window.panels["registers"].view.rows),
        "counter": window.controller.counter.version,
        "memory": tuple(window.panels["memory"].view.counts.values()),
        "objects": tuple(n.state for root in window.panels["objects"].nodes for n in root.walk()),
        "log": window.panels["log"].model.rowCount(),
        "status": (window.status_time.text(), window.status_step.text(), window.status_next.text()),
    }


def test_stepping_updates_every_panel(make_window: Any) -> None:
    window = make_window("sb16_render")
    controller = window.controller
    controller.run_for(12 * MS)  # the stream runs and the first DPCs have copied data
    window.refresh_all()
    before = _panel_state(window)
    step = controller.session.step_index
    for _ in range(6):  # past at least one interrupt and its DPC
        controller.step()
    window.refresh_all()
    after = _panel_state(window)
    assert controller.session.step_index == step + 6
    for key in before:
        if key != "memory":  # page ownership does not change while a stream plays
            assert before[key] != after[key], f"the {key} panel did not change after six steps"
    controller.call("dma", "FreeBuffer", {}, None)  # 4 pages go back to the free list
    window.refresh_all()
    assert _panel_state(window)["memory"] != after["memory"]
    # The view models agree with the hardware they describe.
    system = controller.session.system
    channel = system.machine.dma.channel(5)
    remaining = ((channel.current_count + 1) & 0xFFFF) * 2
    assert window.panels["buffer"].view.dma_position == (0x4000 - remaining) % 0x4000
    assert controller.counter.arrays()[1][-1] == remaining
    current = next(r for r in window.panels["registers"].view.rows if r.name == "Current count")
    assert current.text == f"0x{channel.current_count:04X}"


def test_going_back_shows_that_moment(make_window: Any) -> None:
    window = make_window("sb16_render")
    controller = window.controller
    controller.run_for(30 * MS)
    window.refresh_all()
    at_30 = _panel_state(window)
    step = controller.session.step_index
    controller.run_for(30 * MS)
    controller.goto_step(step)
    window.refresh_all()
    back = _panel_state(window)
    for key in ("buffer", "positions", "registers", "status"):
        assert back[key] == at_30[key], key
    times, _ = controller.counter.arrays()
    assert times[-1] <= controller.session.now_ns
    model = window.panels["log"].model
    assert model.present < len(model.records), "the recorded future stays listed after a jump back"


def test_clicking_a_log_row_goes_to_that_moment(make_window: Any, qtbot: Any) -> None:
    window = make_window("sb16_render")
    controller = window.controller
    controller.run_for(40 * MS)
    window.refresh_all()
    panel = window.panels["log"]
    row = panel.model.rowCount() // 2
    seq = panel.model.seq_at(row)
    index = panel.model.index(row, 0)
    panel.table.scrollTo(index)
    rect = panel.table.visualRect(index)
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    session = controller.session
    starts = session.step_starts()
    assert (
        starts[session.step_index - 1]
        <= seq
        < (starts[session.step_index] if session.step_index < len(starts) else 10**9)
    )
    assert not panel.follow.isChecked()


def test_event_log_filters_and_follows_the_newest(make_window: Any) -> None:
    window = make_window("sb16_render")
    window.controller.run_for(40 * MS)
    window.refresh_all()
    panel = window.panels["log"]
    everything = panel.model.rowCount()
    panel.kind_box.setCurrentIndex(panel.kind_box.findData("call"))
    assert 0 < panel.model.rowCount() < everything
    assert all(panel.model.records[s].kind == "call" for s in panel.model.rows)
    panel.method_edit.setText("CopyTo")
    assert panel.model.rowCount() > 0
    assert all(panel.model.records[s].method == "CopyTo" for s in panel.model.rows)
    panel.object_edit.setText("no such object")
    assert panel.model.rowCount() == 0
    panel.object_edit.clear()
    panel.method_edit.clear()
    panel.kind_box.setCurrentIndex(0)
    window.controller.run_for(20 * MS)
    window.refresh_all()
    table = panel.table
    last_visible = table.rowAt(table.viewport().height() - 2)
    assert last_visible in (panel.model.rowCount() - 1, -1) or last_visible >= panel.model.rowCount() - 2


def test_buffer_band_marks_the_data_ahead_of_the_dma(make_window: Any) -> None:
    window = make_window("sb16_render")
    window.controller.run_for(33 * MS)
    window.refresh_all()
    view = window.panels["buffer"].view
    assert view.ahead > 0 and view.valid
    codes = band_codes(view, 1024)
    start = view.dma_position
    column = int((start + 64) * 1024 / view.extent)
    assert codes[column % 1024] == BAND_VALID
    assert window.panels["buffer"].wave.xData is not None and len(window.panels["buffer"].wave.xData) == 4096


def test_a_scenario_that_fails_to_load_keeps_the_session(make_window: Any, tmp_path: Path) -> None:
    window = make_window("sb16_render")
    session = window.controller.session
    assert not window.load("no_such_scenario")
    assert "no_such_scenario" in (window.last_error or "")
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 1\ntitle = "x"\n[device]\nkind = "floppy"\n', encoding="utf-8")
    assert not window.load(str(bad))
    assert "bad.toml" in (window.last_error or "")
    assert window.controller.session is session
    assert window.scenario.title in window.windowTitle()


def test_save_session_as_scenario_replays_the_calls(make_window: Any, tmp_path: Path) -> None:
    window = make_window("sb16_render")
    window.controller.run_for(15 * MS)
    methods = window.methods_panel
    assert methods.select("dma", "SetBufferSize")
    methods.form.set_value("BufferSize", "0x2000")
    result = methods.call()
    assert result is not None and result.executed
    path = tmp_path / "session.toml"
    assert window.save_scenario_to(path)
    assert window.load(str(path))
    actions = window.controller.session.recorded_actions()
    made = [(a["object"], a["method"], a["args"]) for a in actions]
    assert made == [("dma", "SetBufferSize", {"BufferSize": 0x2000})]
    assert str(path) in window.recent_files()


def test_drop_a_scenario_file_opens_it(make_window: Any, tmp_path: Path) -> None:
    window = make_window("sb16_render")
    source = scenario_source.load("sb16_capture").scenario.path
    copy = tmp_path / "dropped.toml"
    copy.write_text(Path(source).read_text(encoding="utf-8"), encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(copy))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)
    assert window.scenario.path == copy.resolve()


def test_layout_and_choices_are_remembered(make_window: Any, settings: Any) -> None:
    window = make_window("sb16_render")
    window.docks["memory"].hide()
    window.speed_box.setCurrentIndex(2)
    window.close()
    again = make_window("sb16_render", the_settings=settings)
    assert not again.docks["memory"].isVisible()
    assert again.speed_box.currentIndex() == 2
    again.reset_layout()
    assert again.docks["memory"].isVisible() or again.docks["log"].isVisible()


def test_keyboard_drives_the_simulation(make_window: Any, qtbot: Any) -> None:
    window = make_window("sb16_render")
    window.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    session = window.controller.session
    qtbot.keyClick(window, Qt.Key.Key_F10)
    qtbot.keyClick(window, Qt.Key.Key_F10)
    assert session.step_index == 2
    qtbot.keyClick(window, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    assert session.step_index == 1
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.controller.running
    qtbot.waitUntil(lambda: session.now_ns > 5 * MS, timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert not window.controller.running
    qtbot.keyClick(window, Qt.Key.Key_F5, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert session.step_index == 0


def test_every_control_has_a_tooltip(make_window: Any) -> None:
    window = make_window("sb16_render")
    window.refresh_all()
    missing = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, QAbstractButton | QComboBox | QLineEdit) or widget.objectName().startswith("qt_"):
            continue
        if not widget.isVisibleTo(window):
            continue
        owner: QWidget | None = widget
        while owner is not None and not owner.toolTip():
            owner = owner.parentWidget() if isinstance(owner.parentWidget(), QComboBox) else None
        if owner is None:
            missing.append(f"{type(widget).__name__} {widget.objectName()!r} {getattr(widget, 'text', lambda: '')()!r}")
    assert not missing, missing
    for action in window.actions():
        assert action.toolTip() and action.toolTip() != action.text().replace("&", ""), action.text()


def test_themes_and_presentation_mode(make_window: Any, qapp: Any) -> None:
    window = make_window("sb16_render", theme="light")
    base_size = qapp.font().pointSizeF()
    light = qapp.palette().window().color().lightness()
    window.set_theme_mode("dark")
    assert window.panels["buffer"].theme.dark
    assert qapp.palette().window().color().lightness() < light
    window._toggle_presentation()
    assert window.themes.theme.presentation
    assert qapp.font().pointSizeF() == pytest.approx(base_size * 1.5)
    window._toggle_presentation()
    window.set_theme_mode("light")
    assert qapp.font().pointSizeF() == pytest.approx(base_size)


def test_an_exception_in_a_slot_is_recorded_and_shown(make_window: Any, _fail_on_excepthook: list[Any]) -> None:
    window = make_window("sb16_render")

    def broken() -> None:
        raise RuntimeError("deliberately broken slot")

    window.controller.running_changed.connect(broken)
    window.controller.run()
    window.controller.pause()
    assert _fail_on_excepthook and "deliberately broken" in str(_fail_on_excepthook[0][1])
    assert "deliberately broken" in window.status_message.text()
    _fail_on_excepthook.clear()


def test_without_a_display_main_explains_and_returns_2(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from gui import app

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert app.main(None) == 2
    err = capsys.readouterr().err
    assert "xvfb-run dmaviz" in err and "dmaviz shot" in err and "dmaviz run" in err


@pytest.mark.parametrize("display", [":4321", "unix:4321", "127.0.0.1:4321.0", "nonsense"])
def test_with_a_stale_display_main_explains_instead_of_aborting(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, display: str
) -> None:
    """An old ssh session's DISPLAY: Qt would abort the process; dmaviz says what is wrong."""
    from gui import app
    from gui import display as display_module

    for name in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(display_module, "X11_SOCKETS", Path("/nonexistent-x11-sockets"))
    assert app.main(None) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the X display DISPLAY={display}" in err and "xvfb-run dmaviz" in err


def test_a_live_x_display_is_recognised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from gui import display as display_module

    monkeypatch.setattr(display_module, "X11_SOCKETS", tmp_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / "X7"))
        server.listen(1)
        assert display_module.x_display_reachable(":7")
        assert display_module.x_display_reachable("unix:7.0")
    assert not display_module.x_display_reachable(":8")


HIGH_DPI_SCRIPT = """
import pyqtgraph as pg
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
app = QApplication([])
from gui.error_reporting import recorder
from gui.main_window import MainWindow
from gui.theme import ThemeManager
rec = recorder(); rec.install()
window = MainWindow(ThemeManager(app, "light"), QSettings(r"{ini}", QSettings.Format.IniFormat), rec)
assert window.load("sb16_render")
window.resize(1200, 800)
window.show()
app.processEvents()
window.controller.run_for(50_000_000)
window.refresh_all()
app.processEvents()
image = window.grab().toImage()
print(window.devicePixelRatio(), image.width(), image.height(), len(rec.records))
window.close()
"""


def test_high_dpi_200_percent(tmp_path: Path) -> None:
    """At QT_SCALE_FACTOR=2 the window renders at twice the pixels, with no error (in a process of its own)."""
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2"}
    script = HIGH_DPI_SCRIPT.format(ini=tmp_path / "dpi.ini")
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    ratio, width, height, errors = out.stdout.split()[-4:]
    assert float(ratio) == 2.0
    assert (int(width), int(height)) == (2400, 1600)
    assert errors == "0"


def test_open_built_in_menu_lists_every_scenario_when_opened(make_window: Any) -> None:
    window = make_window("sb16_render", show=False)
    window.builtin_menu.aboutToShow.emit()
    names = [a.text().split(" — ")[0] for a in window.builtin_menu.actions()]
    assert names == BUILTINS
    window.builtin_menu.aboutToShow.emit()  # a second opening does not add them again
    assert len(window.builtin_menu.actions()) == len(BUILTINS)
