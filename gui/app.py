"""Start the window: ``main(scenario_source)`` is what ``dmaviz`` (cli/main.py) calls."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from gui.display import display_problem


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
    problem = display_problem()
    if problem is not None:
        print(problem, file=sys.stderr, end="")
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
