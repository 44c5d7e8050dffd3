"""Start the window: ``main(scenario_source)`` is what ``dmaviz`` (cli/main.py) calls."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

NO_DISPLAY_MESSAGE = """\
dmaviz: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set).

  * On a machine without a screen, run the window under a virtual X server:
        xvfb-run dmaviz open [SCENARIO]
  * Or use the headless commands:
        dmaviz run SCENARIO      run a scenario and write its trace
        dmaviz shot SCENARIO     render a picture of the window or a panel
  * To force a Qt platform, set QT_QPA_PLATFORM (for example QT_QPA_PLATFORM=offscreen).
"""


def has_display() -> bool:
    """Can Qt open a window here? (X11/Wayland systems need a display; Windows and macOS always can.)"""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith(("win", "darwin")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(scenario_source: str | None = None) -> int:
    """Open the window on ``scenario_source`` (a file or a built-in name; None: the default scenario)."""
    return run(scenario_source)


def run(
    scenario_source: str | None = None,
    *,
    at_ns: int | None = None,
    theme: str | None = None,
    presentation: bool | None = None,
    fresh: bool = False,
) -> int:
    """``main`` with the development options of ``python -m gui``: start at a moment, in a theme,
    with the default layout and settings (``fresh``: the user's saved settings are neither read nor changed)."""
    if not has_display():
        print(NO_DISPLAY_MESSAGE, file=sys.stderr, end="")
        return 2
    import pyqtgraph as pg
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    from gui.error_reporting import recorder
    from gui.main_window import MainWindow
    from gui.theme import ThemeManager

    QCoreApplication.setOrganizationName("dmaviz")
    QCoreApplication.setApplicationName("dmaviz")
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    exceptions = recorder()
    exceptions.install()
    scratch = tempfile.TemporaryDirectory() if fresh else None
    settings = QSettings(str(Path(scratch.name) / "dmaviz.ini"), QSettings.Format.IniFormat) if scratch else QSettings()
    mode = theme or str(settings.value("theme/mode", "system"))
    if presentation is None:
        presentation = str(settings.value("theme/presentation", "false")).lower() == "true"
    themes = ThemeManager(app, mode=mode, presentation=presentation)
    window = MainWindow(themes, settings, exceptions)
    if not window.load(scenario_source) and scenario_source is not None:
        print(f"dmaviz: {window.last_error}", file=sys.stderr)
        window.load(None)  # show the default scenario, with the error message on top
    if at_ns is not None:
        window.controller.run_for(max(0, at_ns - window.controller.session.now_ns))
    window.show()
    try:
        return int(app.exec())
    finally:
        exceptions.uninstall()
        if scratch is not None:
            scratch.cleanup()
