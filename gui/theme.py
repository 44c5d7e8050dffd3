"""Light and dark themes (following the system unless chosen), and presentation mode for projectors.

The Fusion style with an explicit palette looks the same on every platform, so the two
themes are palettes plus the colours the plots use. Presentation mode scales the
application font and the plots' line widths and marker sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QPalette, QPen
from PySide6.QtWidgets import QApplication

from resources import STYLES

PRESENTATION_SCALE = 1.5


@dataclass(frozen=True)
class Theme:
    dark: bool
    presentation: bool
    window: str
    base: str
    alternate: str
    text: str
    muted: str
    grid: str
    highlight: str
    error: str
    warning: str
    dock_title: str
    plot_bg: str
    plot_fg: str
    waveform: str
    dma: str  # the DMA (play/record) position
    port: str  # the port's write/read position
    valid: str  # data ahead of the DMA position
    wrap: str
    allocated: str
    buffer_size: str
    maximum: str
    band: tuple[str, ...]  # by gui.view_models.buffer BAND_* code
    lanes: tuple[str, ...]  # by gui.view_models.counter LANES
    memory: tuple[str, ...]  # by gui.view_models.memory code
    current_row: str  # the step that just ran (event log), CIV (BDL)
    future_row: str  # recorded history after the present
    lvi_row: str

    @property
    def name(self) -> str:
        return "dark" if self.dark else "light"

    @property
    def scale(self) -> float:
        return PRESENTATION_SCALE if self.presentation else 1.0

    @property
    def line_width(self) -> float:
        return 3.0 if self.presentation else 1.5

    def pen(self, color: str, width: float | None = None, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
        pen = pg.mkPen(color=color, width=self.line_width if width is None else width * self.scale)
        pen.setStyle(style)
        pen.setCosmetic(True)
        return pen

    def color(self, name: str, alpha: int = 255) -> QColor:
        c = QColor(name)
        c.setAlpha(alpha)
        return c


LIGHT = Theme(
    dark=False,
    presentation=False,
    window="#f3f3f3",
    base="#ffffff",
    alternate="#f5f7fa",
    text="#1b1b1b",
    muted="#5f6368",
    grid="#d0d4da",
    highlight="#2f6fde",
    error="#c62828",
    warning="#b26a00",
    dock_title="#e4e7eb",
    plot_bg="#ffffff",
    plot_fg="#30343a",
    waveform="#1f5fbf",
    dma="#d81b60",
    port="#2e7d32",
    valid="#43a047",
    wrap="#6a1b9a",
    allocated="#00838f",
    buffer_size="#ef6c00",
    maximum="#757575",
    band=("#eceff1", "#cfd8dc", "#b0bec5", "#66bb6a", "#fff176"),
    lanes=("#6a1b9a", "#d81b60", "#1565c0", "#2e7d32", "#ef6c00", "#c62828"),
    memory=("#eef0f2", "#9aa3ad", "#80cbc4", "#ffe082", "#ce93d8", "#00897b", "#f9a825", "#e53935"),
    current_row="#fff3c4",
    future_row="#e8eaed",
    lvi_row="#e3f2fd",
)

DARK = Theme(
    dark=True,
    presentation=False,
    window="#202124",
    base="#17181b",
    alternate="#1e2024",
    text="#e8eaed",
    muted="#9aa0a6",
    grid="#3c4043",
    highlight="#5b8def",
    error="#ff6b6b",
    warning="#ffb74d",
    dock_title="#2d2f33",
    plot_bg="#141517",
    plot_fg="#c8ccd2",
    waveform="#64b5f6",
    dma="#ff4f8b",
    port="#7bd88f",
    valid="#43a047",
    wrap="#ce93d8",
    allocated="#4dd0e1",
    buffer_size="#ffa726",
    maximum="#9e9e9e",
    band=("#26292d", "#3a3f45", "#4a5058", "#2e7d32", "#9e9d24"),
    lanes=("#ce93d8", "#ff4f8b", "#64b5f6", "#7bd88f", "#ffa726", "#ff6b6b"),
    memory=("#2a2d31", "#5f6670", "#26a69a", "#d4a73a", "#9575cd", "#4dd0c0", "#ffd54f", "#ff5252"),
    current_row="#4a4220",
    future_row="#2b2d31",
    lvi_row="#1d3557",
)


def _palette(t: Theme) -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: t.window,
        QPalette.ColorRole.WindowText: t.text,
        QPalette.ColorRole.Base: t.base,
        QPalette.ColorRole.AlternateBase: t.alternate,
        QPalette.ColorRole.Text: t.text,
        QPalette.ColorRole.Button: t.window,
        QPalette.ColorRole.ButtonText: t.text,
        QPalette.ColorRole.ToolTipBase: t.base,
        QPalette.ColorRole.ToolTipText: t.text,
        QPalette.ColorRole.PlaceholderText: t.muted,
        QPalette.ColorRole.Highlight: t.highlight,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: t.highlight,
        QPalette.ColorRole.BrightText: t.error,
        QPalette.ColorRole.Mid: t.grid,
    }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(t.muted))
    return p


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


def mono_font() -> QFont:
    """The system's fixed-width font at the application font's size (so presentation mode scales it too)."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    size = QApplication.font().pointSizeF()
    if size > 0:
        font.setPointSizeF(size)
    return font


class ThemeManager(QObject):
    """Applies the theme to the application and tells the panels when it changes."""

    changed = Signal(object)  # Theme

    MODES = ("system", "light", "dark")

    def __init__(self, app: QApplication, mode: str = "system", presentation: bool = False) -> None:
        super().__init__(app)
        self.app = app
        self.mode = mode if mode in self.MODES else "system"
        self.presentation = presentation
        self.base_font = QFont(app.font())
        self.theme = LIGHT
        app.setStyle("Fusion")
        hints = QGuiApplication.styleHints()
        if hints is not None:
            hints.colorSchemeChanged.connect(self._system_changed)
        self.apply()

    def _system_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self.mode == "system":
            self.apply()

    def set_mode(self, mode: str) -> None:
        self.mode = mode if mode in self.MODES else "system"
        self.apply()

    def set_presentation(self, on: bool) -> None:
        self.presentation = on
        self.apply()

    def apply(self) -> None:
        dark = self.mode == "dark" or (self.mode == "system" and system_prefers_dark())
        base = DARK if dark else LIGHT
        self.theme = Theme(**{**base.__dict__, "presentation": self.presentation})
        app = self.app
        app.setPalette(_palette(self.theme))
        font = QFont(self.base_font)
        size = self.base_font.pointSizeF()
        if size > 0:
            font.setPointSizeF(size * self.theme.scale)
        app.setFont(font)
        app.setStyleSheet(stylesheet(self.theme))
        pg.setConfigOptions(background=self.theme.plot_bg, foreground=self.theme.plot_fg, antialias=False)
        self.changed.emit(self.theme)


def stylesheet(t: Theme) -> str:
    template = Template((STYLES / "app.qss").read_text(encoding="utf-8"))
    return template.substitute(
        error=t.error,
        muted=t.muted,
        mono=f'"{mono_font().family()}"',
        dock_title=t.dock_title,
        grid=t.grid,
    )
