"""Draw the window or one panel into a PNG or SVG: the one path `dmaviz shot`, the gallery and the window share.

* ``Scene`` builds what a picture shows for a scenario at a moment: a fresh window in the
  default layout, or one panel on its own (building the other panels would only cost time).
* ``twin_panel`` / ``twin_window`` do the same for the live window (File → Export Picture):
  a copy of the view at the size and theme asked for, reading the live session, so the
  window on screen never changes size or colour while a picture is taken.
* ``render_png`` / ``render_svg`` draw a laid-out widget, in export mode (no hover lines or
  hover text), with an optional caption strip below it.

Pictures are reproducible: nothing drawn depends on the clock, the layout is the default one
at a fixed size, the settings are a scratch file, the application font is chosen explicitly,
and PNGs are written by Qt with no text chunks or timestamps.
"""

from __future__ import annotations

import copy
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QPoint, QRect, QRectF, QSettings, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontInfo, QFontMetricsF, QImage, QPainter, QPalette, QRegion
from PySide6.QtWidgets import QApplication, QHeaderView, QWidget

from gui.export.views import PNG, SVG, VIEWS, WINDOW, check_pixels, device_pixels
from gui.icons import icon
from gui.panels.base import Panel
from gui.session_controller import Frame, SessionController
from gui.theme import DARK, LIGHT, Theme, ThemeManager, stylesheet
from gui.theme import _palette as theme_palette
from model.scenario import Scenario, make_session
from model.session.session import StopReason
from model.units import format_ns

if TYPE_CHECKING:
    from gui.main_window import MainWindow

# Families tried in order for the pictures' text: one that ships with each platform (Linux
# distributions, Windows, macOS). The first one installed wins; the style hint is the fallback.
PICTURE_FONT_FAMILIES = ("DejaVu Sans", "Liberation Sans", "Segoe UI", "Helvetica Neue", "Arial", "Helvetica")
PICTURE_FONT_POINTS = 9.0
PNG_QUALITY = 60
# Qt's screen scaling settings, ignored by pictures (their scale is --scale).
SCREEN_VARIABLES = ("QT_SCALE_FACTOR", "QT_SCREEN_SCALE_FACTORS", "QT_FONT_DPI", "QT_ENABLE_HIGHDPI_SCALING")
# What Qt's offscreen platform says about windows it cannot resize natively: nothing to do with us.
QT_NOISE = ("This plugin does not support propagateSizeHints()",)


class PictureError(Exception):
    """A picture that cannot be taken as asked; the message is one line meant for the user."""


@dataclass(frozen=True)
class Moment:
    """When the picture is taken: a simulated time or a number of events (exactly one)."""

    at_ns: int | None = None
    event: int | None = None


@dataclass(frozen=True)
class PictureOptions:
    view: str = WINDOW
    size: tuple[int, int] | None = None  # logical pixels of the view; None: the view's default
    scale: float = 1.0  # device pixel ratio: a PNG has size × scale pixels
    theme: str = "light"
    presentation: bool = False
    caption: str = ""

    @property
    def logical_size(self) -> tuple[int, int]:
        return self.size if self.size is not None else VIEWS[self.view].size


# --- the application ------------------------------------------------------------------------------------------
def picture_font() -> QFont:
    """The application font of pictures: a fixed family and size, not whatever the desktop is set to."""
    installed = set(QFontDatabase.families())
    family = next((f for f in PICTURE_FONT_FAMILIES if f in installed), None)
    font = QFont(family) if family else QFont()
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPointSizeF(PICTURE_FONT_POINTS)
    return font


def _quiet_qt_messages() -> None:
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        if kind == QtMsgType.QtDebugMsg or any(noise in message for noise in QT_NOISE):
            return
        print(f"dmaviz: Qt: {message}", file=sys.stderr)

    qInstallMessageHandler(handler)


def picture_application() -> QApplication:
    """The QApplication for headless pictures (`dmaviz shot`, the gallery).

    Qt's offscreen platform is used unless QT_QPA_PLATFORM names another: it needs no
    display, and a picture then does not depend on the screen it happened to be taken on
    (nor on Qt's scaling variables, which are dropped).
    """
    app = QApplication.instance()
    if app is None:
        if not os.environ.get("QT_QPA_PLATFORM"):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
            for name in SCREEN_VARIABLES:  # a desktop's scaling must not reach the pictures either
                os.environ.pop(name, None)
        _quiet_qt_messages()
        app = QApplication(sys.argv[:1])
        app.setFont(picture_font())
    assert isinstance(app, QApplication)
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    return app


def _themes(app: QApplication, options: PictureOptions) -> ThemeManager:
    """The theme manager of pictures: the theme asked for, on the picture font whatever the app had before."""
    manager = app.findChild(ThemeManager, "dmaviz_picture_themes")
    if manager is None:
        manager = ThemeManager(app, mode=options.theme, presentation=options.presentation)
        manager.setObjectName("dmaviz_picture_themes")
    manager.base_font = picture_font()
    manager.mode = options.theme
    manager.set_presentation(options.presentation)  # applies palette, style sheet and font to the application
    return manager


@dataclass
class _AppLook:
    """What a picture changes in the application, put back afterwards (a window may be open in the same app)."""

    palette: QPalette
    font: QFont
    style_sheet: str
    pg_options: dict[str, object]

    @classmethod
    def save(cls, app: QApplication) -> _AppLook:
        options = {k: pg.getConfigOption(k) for k in ("background", "foreground", "antialias")}
        return cls(QPalette(app.palette()), QFont(app.font()), app.styleSheet(), options)

    def restore(self, app: QApplication) -> None:
        app.setPalette(self.palette)
        app.setFont(self.font)
        app.setStyleSheet(self.style_sheet)
        pg.setConfigOptions(**self.pg_options)


def delete_now(widget: QWidget) -> None:
    """Close and really delete ``widget`` (a window left alive is re-polished by every later theme change)."""
    widget.close()
    widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


# --- panels on their own ------------------------------------------------------------------------------------------
# Panels that can be drawn on their own, by key: module and class (imported only when drawn).
STANDALONE_PANELS = {
    "buffer": ("gui.panels.buffer_panel", "BufferPanel"),
    "counter": ("gui.panels.counter_panel", "CounterPanel"),
    "positions": ("gui.panels.positions_panel", "PositionsPanel"),
    "registers": ("gui.panels.registers_panel", "RegistersPanel"),
    "memory": ("gui.panels.memory_panel", "MemoryPanel"),
    "objects": ("gui.panels.objects_panel", "ObjectsPanel"),
    "methods": ("gui.panels.methods_panel", "MethodsPanel"),
    "log": ("gui.panels.event_log_panel", "EventLogPanel"),
    "description": ("gui.panels.description_panel", "DescriptionPanel"),
}


def _panel_type(key: str) -> type[Panel] | None:
    import importlib

    where = STANDALONE_PANELS.get(key)
    if where is None:
        return None
    panel_type = getattr(importlib.import_module(where[0]), where[1])
    assert issubclass(panel_type, Panel) and panel_type.key == key, f"{where} is not the {key} panel"
    return panel_type


def current_frame(controller: SessionController) -> Frame:
    """The frame the controller would paint now (built by the controller itself, so it is always complete)."""
    frames: list[Frame] = []
    controller.frame.connect(frames.append)
    try:
        controller.repaint_now()
    finally:
        controller.frame.disconnect(frames.append)
    return frames[-1]


def standalone_panel(key: str, controller: SessionController, theme: Theme, description: str) -> Panel | None:
    """Panel ``key`` as a top-level widget of its own on ``controller``; None for a panel that needs the window."""
    panel_type = _panel_type(key)
    if panel_type is None:
        return None
    panel = panel_type(controller)
    panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    panel.apply_theme(theme)
    panel.session_replaced()
    if hasattr(panel, "set_markdown"):
        panel.set_markdown(description)
    return panel


# --- a scenario at a moment ----------------------------------------------------------------------------------------
def _run_to(controller: SessionController, target_ns: int) -> None:
    """Run to ``target_ns`` in the controller's chunks, so the counter is sampled on the way as in the window.

    The controller's run_for goes to a moment through breakpoints; the loop only makes sure of it.
    """
    session = controller.session
    while session.now_ns < target_ns:
        before = (session.now_ns, session.step_index)
        controller.run_for(target_ns - session.now_ns)
        if (session.now_ns, session.step_index) == before:
            break  # nothing moved (a guard: time always advances to the target)


def event_time(scenario: Scenario, event: int) -> tuple[int, int]:
    """(time, events run) after ``event`` events of a throwaway session, never past the scenario's run.until."""
    probe = make_session(scenario)
    until_ns = scenario.run_until_ns
    while probe.step_index < event:
        result = probe.run(until_ns=until_ns, max_steps=event - probe.step_index)
        if result.reason in (StopReason.END, StopReason.TIME):
            break
    return probe.now_ns, probe.step_index


def advance(controller: SessionController, scenario: Scenario, moment: Moment) -> None:
    """Bring the controller's fresh session to ``moment`` the way the window would get there.

    After event N: run to just before that event's time, then step the last events one by one,
    so the session ends exactly there with no recorded future (stepping back would grey the log).
    """
    until_ns, label = scenario.run_until_ns, scenario.label
    if moment.at_ns is not None:
        if moment.at_ns > until_ns:
            raise PictureError(
                f"{label}: the moment {format_ns(moment.at_ns)} is past the end of the scenario (run.until = "
                f"{format_ns(until_ns)})"
            )
        _run_to(controller, moment.at_ns)
        return
    assert moment.event is not None
    t_ns, reached = event_time(scenario, moment.event)
    if reached < moment.event:
        raise PictureError(
            f"{label}: event {moment.event} is past the end of the scenario: it has {reached} events up to "
            f"run.until = {format_ns(until_ns)}"
        )
    session = controller.session
    if t_ns > 0:
        _run_to(controller, t_ns - 1)
    while session.step_index < moment.event:
        controller.step()


class Scene:
    """What one picture of a scenario shows, built offscreen: a fresh window or a lone panel."""

    def __init__(self, scenario: Scenario, moment: Moment, options: PictureOptions) -> None:
        if options.view not in VIEWS:
            raise PictureError(f"unknown view {options.view!r}; the views are: {', '.join(VIEWS)}")
        self.scenario = scenario
        self.moment = moment
        self.options = options
        self.app = picture_application()
        self._look: _AppLook | None = _AppLook.save(self.app)
        self.themes = _themes(self.app, options)
        self.window: MainWindow | None = None
        self.controller: SessionController | None = None
        self.widget: QWidget | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        try:
            self._build()
        except Exception:
            self.close()
            raise

    def _build(self) -> None:
        theme = self.themes.theme
        label = self.scenario.label
        if self.options.view != WINDOW:
            controller = SessionController()
            self.controller = controller
            controller.set_session(make_session(self.scenario))
            panel = standalone_panel(self.options.view, controller, theme, self.scenario.description)
            if panel is not None:
                self.widget = panel
                advance(controller, self.scenario, self.moment)
                lay_out(panel, self.options.logical_size)
                panel.refresh(current_frame(controller))
                settle()
                return
            controller.shutdown()
            controller.deleteLater()
            self.controller = None
        from gui.error_reporting import recorder
        from gui.main_window import MainWindow

        self._scratch = tempfile.TemporaryDirectory(prefix="dmaviz-shot-")
        settings = QSettings(str(Path(self._scratch.name) / "dmaviz.ini"), QSettings.Format.IniFormat)
        window = MainWindow(self.themes, settings, recorder())
        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        self.window = window
        self.controller = window.controller
        source = str(self.scenario.path) if self.scenario.path is not None else self.scenario.source
        if not window.load(source):
            raise PictureError(window.last_error or f"{label}: cannot be opened")
        advance(window.controller, self.scenario, self.moment)
        if self.options.view == WINDOW:
            self.widget = window
            lay_out(window, self.options.logical_size)
            window.controller.repaint_now()  # the panels in view; those behind other tabs are not drawn anyway
            settle()
        else:
            panel = detach_panel(window, self.options.view)
            self.widget = panel
            lay_out(panel, self.options.logical_size)
            panel.refresh(current_frame(window.controller))
            settle()

    def render(self, fmt: str, title: str = "") -> bytes:
        """The picture as PNG or SVG bytes."""
        assert self.widget is not None
        theme = self.themes.theme
        size, caption = self.options.logical_size, self.options.caption
        if fmt == SVG:
            return render_svg(self.widget, size, theme, caption, title or self.scenario.title)
        return encode_png(render_png(self.widget, size, self.options.scale, theme, caption))

    def close(self) -> None:
        if self.controller is not None:
            self.controller.shutdown()
        if self.widget is not None and self.widget is not self.window:
            delete_now(self.widget)
        if self.window is not None:
            delete_now(self.window)
        elif self.controller is not None:
            self.controller.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        self.widget = self.window = self.controller = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None
        if self._look is not None:
            self._look.restore(self.app)
            self._look = None


def detach_panel(window: MainWindow, key: str) -> Panel:
    """Take panel ``key`` out of its dock as a top-level widget (for panels that need the window to exist)."""
    if key not in window.panels:
        raise PictureError(f"the window has no panel {key!r}")
    window.refresh_all()
    panel = window.panels[key]
    window.docks[key].setWidget(QWidget())
    panel.setParent(None)
    panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    return panel


# --- the live window --------------------------------------------------------------------------------------------------
@contextmanager
def _pg_colours(theme: Theme) -> Iterator[None]:
    """pyqtgraph's default colours for items made now (the panels set most colours themselves)."""
    before = {k: pg.getConfigOption(k) for k in ("background", "foreground")}
    pg.setConfigOptions(background=theme.plot_bg, foreground=theme.plot_fg)
    try:
        yield
    finally:
        pg.setConfigOptions(**before)


def theme_for(name: str, presentation: bool) -> Theme:
    base = DARK if name == "dark" else LIGHT
    return Theme(**{**base.__dict__, "presentation": presentation})


def _paint_theme_on(widget: QWidget, theme: Theme, app_theme: Theme) -> None:
    """Give a twin its own colours when they differ from the application's (the live window keeps its own).

    With an application style sheet, Qt does not pass a parent's palette on to its children:
    every widget gets the palette itself, after the twin has built all of them.
    """
    if theme.dark == app_theme.dark:
        return
    widget.setStyleSheet(stylesheet(theme))
    settle()
    palette = theme_palette(theme)
    for each in (widget, *widget.findChildren(QWidget)):
        each.setPalette(palette)


def twin_panel(window: MainWindow, key: str, theme: Theme, size: tuple[int, int]) -> Panel | None:
    """A copy of panel ``key`` of the live window, reading the same session and counter history.

    None for a panel that cannot live outside a window (live_view then takes it out of a twin window).
    """
    controller = window.controller
    description = window.scenario.description if window.scenario is not None else ""
    with _pg_colours(theme):
        panel = standalone_panel(key, controller, theme, description)
    if panel is None:
        return None
    lay_out(panel, size)
    panel.refresh(current_frame(controller))
    settle()
    _paint_theme_on(panel, theme, window.themes.theme)
    return panel


def twin_window(window: MainWindow, theme: Theme, size: tuple[int, int]) -> tuple[MainWindow, Callable[[], None]]:
    """A second window in the default layout showing the live session at this moment; and how to dispose of it."""
    from gui.error_reporting import recorder
    from gui.main_window import MainWindow

    scratch = tempfile.TemporaryDirectory(prefix="dmaviz-export-")
    settings = QSettings(str(Path(scratch.name) / "dmaviz.ini"), QSettings.Format.IniFormat)
    live = window.controller
    with _pg_colours(theme):
        twin = MainWindow(window.themes, settings, recorder())
    twin.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    twin.apply_theme(theme)
    twin.act_run.setIcon(icon("run", theme.text))  # apply_theme draws Run in the shared theme manager's colour

    def dispose() -> None:
        twin.controller.shutdown()
        delete_now(twin)
        scratch.cleanup()

    try:
        if window.scenario is not None and window.scenario.path is not None:
            twin.load(str(window.scenario.path))  # the title, the description and the scenario's menus
        breakpoints = list(live.session.breakpoints)
        twin.controller.set_session(live.session)
        live.session.breakpoints[:] = breakpoints  # the twin's controller may add its defaults: not to the live list
        index = twin.stream_box.findData(live.pin_id) if live.pin_id else -1
        if index >= 0:
            twin.stream_box.setCurrentIndex(index)  # follow the same stream, the way a user chooses it
        twin.speed_box.setCurrentIndex(window.speed_box.currentIndex())
        # The counter's history and markers exist only in the live controller: the twin draws copies of them.
        twin.controller.counter = copy.deepcopy(live.counter)
        twin.controller.markers = copy.deepcopy(live.markers)
        lay_out(twin, size)
        twin.refresh_all()
        settle()
        _paint_theme_on(twin, theme, window.themes.theme)
        twin.controller.shutdown()  # stop listening to the live session; nothing runs while the picture is taken
    except Exception:
        dispose()
        raise
    return twin, dispose


@contextmanager
def live_view(window: MainWindow, view: str, size: tuple[int, int], theme: Theme) -> Iterator[QWidget]:
    """What File → Export Picture draws: the live window itself when nothing differs from the screen, else a twin."""
    app_theme = window.themes.theme
    if view == WINDOW:
        if size == (window.width(), window.height()) and theme == app_theme:
            window.refresh_all()
            yield window
            return
        twin, dispose = twin_window(window, theme, size)
        try:
            yield twin
        finally:
            dispose()
        return
    if view not in window.panels:
        raise PictureError(f"the window has no panel {view!r}")
    panel = twin_panel(window, view, theme, size)
    if panel is not None:
        try:
            yield panel
        finally:
            delete_now(panel)
        return
    twin, dispose = twin_window(window, theme, (window.width(), window.height()))
    detached: Panel | None = None
    try:
        detached = detach_panel(twin, view)
        lay_out(detached, size)
        detached.refresh(current_frame(twin.controller))
        settle()
        _paint_theme_on(detached, theme, app_theme)
        yield detached
    finally:
        if detached is not None:
            delete_now(detached)
        dispose()


def window_picture(
    window: MainWindow, view: str, size: tuple[int, int], scale: float, theme: Theme, caption: str, fmt: str
) -> bytes:
    """A PNG or SVG of the live window or one of its panels (File → Export Picture)."""
    with live_view(window, view, size, theme) as widget:
        if fmt == SVG:
            title = window.scenario.title if window.scenario is not None else "dmaviz"
            return render_svg(widget, size, theme, caption, title)
        return encode_png(render_png(widget, size, scale, theme, caption))


def window_image(
    window: MainWindow, view: str, size: tuple[int, int], scale: float, theme: Theme, caption: str = ""
) -> QImage:
    """The same picture as an image, for the clipboard."""
    with live_view(window, view, size, theme) as widget:
        return render_png(widget, size, scale, theme, caption)


# --- drawing ---------------------------------------------------------------------------------------------------------
def lay_out(widget: QWidget, size: tuple[int, int]) -> None:
    """Give ``widget`` exactly ``size`` (logical pixels) and let every layout settle, without showing it on screen."""
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    # No painting until the picture is drawn: painting the hidden window's own backing store is wasted time.
    widget.setUpdatesEnabled(False)
    widget.resize(QSize(*size))
    if not widget.isVisible():
        widget.show()
    widget.resize(QSize(*size))
    settle()
    if (widget.width(), widget.height()) != size:
        minimum = widget.minimumSizeHint().expandedTo(widget.minimumSize())
        raise PictureError(
            f"cannot draw this view at {size[0]}x{size[1]}: it needs at least "
            f"{minimum.width()}x{minimum.height()} logical pixels"
        )


def settle() -> None:
    """Deliver the posted layout requests and deferred shows (widgets added to a shown panel appear only then)."""
    for _ in range(3):  # docks and plots settle in a couple of rounds
        QApplication.sendPostedEvents()
        QApplication.processEvents()


@contextmanager
def export_mode(widget: QWidget) -> Iterator[None]:
    """Draw ``widget`` as a picture: every panel in export mode (no hover lines or text, no controls, no
    selection, whole text), no keyboard focus frame, plot markers as vectors; all put back afterwards."""
    panels = [widget] if isinstance(widget, Panel) else widget.findChildren(Panel)
    focus = widget.focusWidget()
    if focus is not None and focus.hasFocus():
        focus.clearFocus()
    else:
        focus = None
    for panel in panels:
        panel.set_export_mode(True)
    # A panel may hide a whole hover line of text: lay out again now, so no empty strip is left in its place.
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    undo_vectors = _vector_plots(widget)
    try:
        yield
    finally:
        undo_vectors()
        for panel in panels:
            panel.set_export_mode(False)
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if focus is not None:
            focus.setFocus(Qt.FocusReason.OtherFocusReason)


def _vector_plots(widget: QWidget) -> Callable[[], None]:
    """Plots drawn as vectors, for SVG (and crisp PNG at any scale); how to put them back.

    pyqtgraph draws scatter markers from a cache of small pixmaps (ScatterPlotItem's useCache), which an
    SVG would hold as one embedded image per marker; in pyqtgraph's export mode each marker is a path.
    A graphics view caches its background as a pixmap too, which would be one more (blank) image.
    """
    views = widget.findChildren(pg.GraphicsView)
    if isinstance(widget, pg.GraphicsView):
        views.append(widget)
    caches = [(view, view.cacheMode()) for view in views]
    scatters: list[pg.ScatterPlotItem] = []
    for view in views:
        view.setCacheMode(pg.GraphicsView.CacheModeFlag.CacheNone)
        scene = view.scene()
        if scene is None:
            continue
        for item in scene.items():
            if isinstance(item, pg.ScatterPlotItem) and item._exportOpts is False:
                item.setExportMode(True, {"antialias": True})
                scatters.append(item)

    def undo() -> None:
        for item in scatters:
            item.setExportMode(False)
        for view, mode in caches:
            view.setCacheMode(mode)

    return undo


def _stretch_tables(widget: QWidget) -> None:
    """Let every table's last column take the room left (a table filled while hidden keeps stale widths)."""
    for header in widget.findChildren(QHeaderView):
        if header.stretchLastSection() and header.orientation() == Qt.Orientation.Horizontal:
            header.setStretchLastSection(False)
            header.setStretchLastSection(True)


def caption_height(caption: str, width: int) -> int:
    if not caption:
        return 0
    metrics = QFontMetricsF(_caption_font())
    rect = metrics.boundingRect(QRectF(0, 0, width - 24, 10_000), _CAPTION_FLAGS, caption)
    return int(rect.height() + metrics.height() * 0.9)


_CAPTION_FLAGS = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap)


def _caption_font() -> QFont:
    """A little larger than the panels' text, in pixels: the picture's own resolution must not change its size."""
    font = QFont(QApplication.font())
    font.setPixelSize(round(QFontInfo(QApplication.font()).pixelSize() * 1.15))
    return font


def _paint(painter: QPainter, widget: QWidget, size: tuple[int, int], theme: Theme, caption: str) -> None:
    width, height = size
    painter.fillRect(QRect(0, 0, width, height + caption_height(caption, width)), QColor(theme.window))
    with export_mode(widget):
        _stretch_tables(widget)
        widget.setUpdatesEnabled(True)
        widget.render(painter, QPoint(0, 0), QRegion(), QWidget.RenderFlag.DrawChildren)
    if caption:
        strip = QRect(0, height, width, caption_height(caption, width))
        painter.fillRect(strip, QColor(theme.dock_title))
        painter.setPen(QColor(theme.text))
        painter.setFont(_caption_font())
        painter.drawText(strip.adjusted(12, 0, -12, 0), _CAPTION_FLAGS, caption)


def render_png(widget: QWidget, size: tuple[int, int], scale: float, theme: Theme, caption: str = "") -> QImage:
    """``widget`` (laid out at ``size``) drawn at ``scale`` device pixels per logical pixel."""
    width, height = size
    total = height + caption_height(caption, width)
    try:
        check_pixels((width, total), scale, "choose a smaller size or scale")
    except ValueError as exc:
        raise PictureError(str(exc)) from None
    pixels_wide, pixels_high = device_pixels((width, total), scale)
    image = QImage(pixels_wide, pixels_high, QImage.Format.Format_ARGB32_Premultiplied)
    if image.isNull():
        raise PictureError(f"not enough memory for a picture of {pixels_wide}x{pixels_high} pixels")
    image.setDevicePixelRatio(scale)
    # 96 dots per inch per logical pixel (a CSS pixel): documents that read the resolution place a 2x picture
    # at its logical size.
    dots_per_metre = round(96 * scale / 0.0254)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    image.fill(QColor(theme.window))
    painter = QPainter(image)
    try:
        _paint(painter, widget, size, theme, caption)
    finally:
        painter.end()
    return image.convertToFormat(QImage.Format.Format_RGB32)


def encode_png(image: QImage) -> bytes:
    """PNG bytes written by Qt: no text chunks, no time chunk, so equal images give equal files."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # Quality 60 is zlib level 3: as small as the default level here, and a third faster.
    if not image.save(buffer, "PNG", PNG_QUALITY):
        raise PictureError("Qt could not encode the PNG")
    buffer.close()
    return bytes(data.data())


def render_svg(widget: QWidget, size: tuple[int, int], theme: Theme, caption: str = "", title: str = "") -> bytes:
    """``widget`` as SVG: text, lines and curves stay vectors; images (byte bands, the page map) are embedded."""
    from PySide6.QtSvg import QSvgGenerator

    width, height = size
    total = height + caption_height(caption, width)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(width, total))
    generator.setViewBox(QRect(0, 0, width, total))
    generator.setResolution(96)
    generator.setTitle(title or "dmaviz")
    generator.setDescription(caption or "made with dmaviz shot")
    painter = QPainter(generator)
    try:
        _paint(painter, widget, size, theme, caption)
    finally:
        painter.end()
    buffer.close()
    return _bake_scaled_strokes(_pixel_units(bytes(data.data()), width, total))


_GROUP = re.compile(rb'(<g [^>]*?) transform="matrix\(([^)]*)\)"([^>]*>)(.*?)(</g>)', re.DOTALL)
_ELEMENT = re.compile(rb"<(\w+)[^>]*>")
_PAIR = re.compile(rb"(-?[0-9.]+(?:e[-+]?[0-9]+)?),(-?[0-9.]+(?:e[-+]?[0-9]+)?)")


def _bake_scaled_strokes(svg: bytes) -> bytes:
    """Plot lines and markers with their coordinates in pixels, not in a scaled group with "non-scaling" strokes.

    Qt draws a plot's data in the plot's own units inside ``<g transform="matrix(...)">`` (a marker: a unit
    shape scaled to its size), and keeps the pen one pixel wide with ``vector-effect="non-scaling-stroke"``.
    Browsers honour that, but several SVG renderers do not (librsvg, used by Pandoc and GNOME, among them):
    they scale the pen too, and markers become blobs and lines bars. Here each scaled group that holds only
    paths and polylines gets its matrix applied to their coordinates and loses it, so every renderer agrees.
    """

    def bake(match: re.Match[bytes]) -> bytes:
        head, matrix, tail, body, end = match.groups()
        try:
            a, b, c, d, e, f = (float(v) for v in matrix.split(b","))
        except ValueError:
            return match.group(0)
        if (a, b, c, d) == (1.0, 0.0, 0.0, 1.0):
            return match.group(0)  # a translation scales no pen
        if any(tag not in (b"path", b"polyline") for tag in _ELEMENT.findall(body)):
            return match.group(0)  # text, images or other shapes keep their transform

        def point(pair: re.Match[bytes]) -> bytes:
            x, y = float(pair.group(1)), float(pair.group(2))
            return f"{a * x + c * y + e:.6g},{b * x + d * y + f:.6g}".encode()

        def coordinates(attribute: re.Match[bytes]) -> bytes:
            return attribute.group(1) + _PAIR.sub(point, attribute.group(2)) + b'"'

        body = re.sub(rb'( (?:d|points)=")([^"]*)"', coordinates, body)
        return head + tail + body + end

    return _GROUP.sub(bake, svg)


def _pixel_units(svg: bytes, width: int, height: int) -> bytes:
    """Qt sizes the drawing in millimetres; pixels show it at its logical size in browsers and documents."""
    head, sep, rest = svg.partition(b"viewBox=")
    head = re.sub(rb'width="[^"]*" height="[^"]*"', f'width="{width}" height="{height}"'.encode(), head, count=1)
    return head + sep + rest


def write_picture(path: Path, data: bytes) -> None:
    """Write the picture; PictureError with a one-line reason when the file cannot be written."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise PictureError(f"{path}: cannot write the picture: {exc.strerror or exc}") from None


def shoot(scenario: Scenario, moment: Moment, options: PictureOptions, fmt: str = PNG) -> bytes:
    """One picture of ``scenario`` at ``moment``: build the scene, draw it, tidy up."""
    scene = Scene(scenario, moment, options)
    try:
        return scene.render(fmt)
    finally:
        scene.close()


def shot_moment(scenario: Scenario) -> tuple[Moment, str | None] | None:
    """The scenario's own moment and view from its [shot] table, or None if it has none."""
    shot = scenario.shot
    if shot is None:
        return None
    return Moment(shot.at_ns, shot.event), shot.view
