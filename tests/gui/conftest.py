"""GUI test fixtures: offscreen Qt, exceptions and Qt warnings fail tests, no timer or thread left running."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QSettings, QThread, QTimer
from PySide6.QtWidgets import QApplication

from gui.error_reporting import recorder

HERE = Path(__file__).resolve().parent

# Messages Qt prints that say nothing about dmaviz: the offscreen platform cannot resize native windows.
QT_LOG_IGNORE = (r"This plugin does not support propagateSizeHints\(\)",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every GUI test fails on a Qt warning (pytest-qt's qt_log_level_fail)."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(*QT_LOG_IGNORE))


@pytest.fixture(autouse=True)
def _fail_on_excepthook(qapp: QApplication) -> Iterator[list[Any]]:
    """Any exception that reached the app's excepthook (raised in a slot, a timer...) fails the test."""
    rec = recorder()
    rec.records.clear()
    rec.install()
    yield rec.records
    rec.uninstall()
    caught = list(rec.records)
    rec.records.clear()
    assert not caught, f"exceptions reached the excepthook: {[f'{e[0].__name__}: {e[1]}' for e in caught]}"


@pytest.fixture(autouse=True)
def _fail_on_running_timers(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test may not leave a QTimer or QThread running (napari's rule)."""
    timers: list[QTimer] = []
    threads: list[QThread] = []
    timer_start = QTimer.start
    thread_start = QThread.start

    def start_timer(self: QTimer, *args: Any) -> None:
        timers.append(self)
        timer_start(self, *args)

    def start_thread(self: QThread, *args: Any) -> None:
        threads.append(self)
        thread_start(self, *args)

    monkeypatch.setattr(QTimer, "start", start_timer)
    monkeypatch.setattr(QThread, "start", start_thread)
    yield
    running = []
    for timer in timers:
        try:
            if timer.isActive():
                running.append(f"QTimer {timer.objectName() or hex(id(timer))} of {type(timer.parent()).__name__}")
                timer.stop()
        except RuntimeError:  # already deleted with its parent: not running
            pass
    for thread in threads:
        try:
            if thread.isRunning():
                running.append(f"QThread {thread.objectName() or hex(id(thread))}")
        except RuntimeError:
            pass
    assert not running, f"left running after the test: {running}"


@pytest.fixture(scope="session", autouse=True)
def _pyqtgraph_options() -> None:
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Settings in a file of the test's own, never the user's."""
    return QSettings(str(tmp_path / "dmaviz.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot: Any, qapp: QApplication, settings: QSettings) -> Iterator[Callable[..., Any]]:
    """A main window on a scenario (default: the default scenario), shown offscreen at 1600x1000."""
    from gui.main_window import MainWindow
    from gui.theme import ThemeManager

    made: list[Any] = []

    def make(scenario: str | None = None, *, theme: str = "light", show: bool = True, the_settings: Any = None) -> Any:
        themes = ThemeManager(qapp, theme)
        window = MainWindow(themes, the_settings if the_settings is not None else settings, recorder())
        made.extend((window, themes))
        assert window.load(scenario), window.last_error
        if show:
            window.resize(1600, 1000)
            window.show()
            qtbot.waitExposed(window)
        return window

    yield make
    for obj in made:
        if hasattr(obj, "close"):
            obj.close()
        obj.deleteLater()
    # Really delete them now: a window left alive is re-polished by every later theme change.
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
