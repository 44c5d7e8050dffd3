"""The main window: dockable panels around one session, toolbar, status bar and the File and View menus."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QUrl
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QToolBar,
    QWidget,
)

from gui import scenario_source
from gui.debugger.actions import Debugger, tip_with_keys
from gui.debugger.breakpoints_panel import BreakpointsPanel
from gui.debugger.timeline_panel import TimelinePanel
from gui.error_reporting import ExceptionRecorder, recorder
from gui.icons import app_icon, icon
from gui.panels.base import Panel
from gui.panels.buffer_panel import BufferPanel
from gui.panels.counter_panel import CounterPanel
from gui.panels.description_panel import DescriptionPanel
from gui.panels.event_log_panel import EventLogPanel
from gui.panels.memory_panel import MemoryPanel
from gui.panels.methods_panel import MethodsPanel
from gui.panels.objects_panel import ObjectsPanel
from gui.panels.positions_panel import PositionsPanel
from gui.panels.registers_panel import RegistersPanel
from gui.scenario_source import LoadedScenario, ScenarioLoadError
from gui.session_controller import SPEEDS, Frame, SessionController, speed_label
from gui.theme import Theme, ThemeManager
from gui.view_models.status import status_view
from gui.view_models.stream import find_pins
from model.interfaces.declarations import INTERFACES

MAX_RECENT = 8
STATUS_INTERVAL_S = 1 / 15
LAYOUT_VERSION = 3  # bump when the default layout changes, so old saved layouts are not restored


class MainWindow(QMainWindow):
    def __init__(
        self,
        themes: ThemeManager,
        settings: QSettings | None = None,
        exceptions: ExceptionRecorder | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("dmaviz_main_window")
        self.setWindowTitle("dmaviz")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.themes = themes
        self.settings = settings if settings is not None else QSettings()
        self.controller = SessionController(parent=self)
        self.scenario: LoadedScenario | None = None
        self.last_error: str | None = None
        self._error_box: QMessageBox | None = None
        self._exceptions = exceptions if exceptions is not None else recorder()
        self._exceptions.recorded.connect(self._show_exception)

        placeholder = QWidget(self)
        placeholder.hide()  # every panel is a dock; a hidden centre lets them share all the room
        self.setCentralWidget(placeholder)

        self.panels: dict[str, Panel] = {}
        self.docks: dict[str, QDockWidget] = {}
        for panel_type in (
            BufferPanel,
            CounterPanel,
            PositionsPanel,
            RegistersPanel,
            MemoryPanel,
            ObjectsPanel,
            MethodsPanel,
            EventLogPanel,
            DescriptionPanel,
            BreakpointsPanel,
            TimelinePanel,
        ):
            panel = panel_type(self.controller)
            self.panels[panel.key] = panel
            dock = QDockWidget(panel.title, self)
            dock.setObjectName(f"dock_{panel.key}")
            dock.setWidget(panel)
            dock.setToolTip(panel.tooltip)
            dock.toggleViewAction().setToolTip(f"Show or hide the {panel.title} panel: {panel.tooltip}")
            self.docks[panel.key] = dock
            dock.visibilityChanged.connect(lambda shown, p=panel: self._panel_shown(p, shown))
        self._last_frame: Frame | None = None
        self._status_time = 0.0
        self._default_layout()

        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self._make_status_bar()

        self.controller.frame.connect(self._on_frame)
        self.controller.running_changed.connect(self._on_running)
        self.controller.session_replaced.connect(self._on_session_replaced)
        self.controller.stopped.connect(self.flash)
        self.objects_panel.object_chosen.connect(self._call_methods_of)
        themes.changed.connect(self.apply_theme)
        self.apply_theme(themes.theme)
        self._restore_settings()

    # --- panels ------------------------------------------------------------------------------------------
    @property
    def objects_panel(self) -> ObjectsPanel:
        panel = self.panels["objects"]
        assert isinstance(panel, ObjectsPanel)
        return panel

    @property
    def methods_panel(self) -> MethodsPanel:
        panel = self.panels["methods"]
        assert isinstance(panel, MethodsPanel)
        return panel

    def _default_layout(self) -> None:
        d = self.docks
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        for dock in d.values():
            # Start from nothing: re-splitting docks that are already tabbed together crashes Qt.
            self.removeDockWidget(dock)
            dock.setFloating(False)
        self.addDockWidget(left, d["buffer"])
        self.splitDockWidget(d["buffer"], d["counter"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["counter"], d["log"], Qt.Orientation.Vertical)
        self.addDockWidget(right, d["description"])
        self.splitDockWidget(d["description"], d["positions"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["positions"], d["registers"], Qt.Orientation.Vertical)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, d["timeline"])  # the whole width, short
        # Tabs only after the splits: splitting a tabbed dock moves the whole tab group.
        self.tabifyDockWidget(d["log"], d["memory"])
        self.tabifyDockWidget(d["description"], d["objects"])
        self.tabifyDockWidget(d["registers"], d["methods"])
        self.tabifyDockWidget(d["objects"], d["breakpoints"])
        for dock in d.values():
            dock.show()
        for front in ("description", "registers", "log"):
            d[front].raise_()
        self.resizeDocks([d["buffer"], d["description"]], [960, 640], Qt.Orientation.Horizontal)
        self.resizeDocks([d["buffer"], d["counter"], d["log"]], [310, 330, 260], Qt.Orientation.Vertical)
        self.resizeDocks([d["description"], d["positions"], d["registers"]], [300, 250, 350], Qt.Orientation.Vertical)
        self.resizeDocks([d["timeline"]], [150], Qt.Orientation.Vertical)

    def reset_layout(self) -> None:
        self._default_layout()

    # --- actions ---------------------------------------------------------------------------------------------
    def _action(
        self, text: str, slot: Callable[[], object], shortcut: str | QKeySequence.StandardKey | None, tip: str
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())  # never pass `checked` on (step_back(n) would get it)
        self.addAction(action)  # shortcuts work whichever panel has the focus
        return action

    def _make_actions(self) -> None:
        c = self.controller
        self.act_open = self._action(
            "&Open Scenario…", self.open_dialog, QKeySequence.StandardKey.Open, "Open a scenario file"
        )
        self.act_reload = self._action("&Reload", self.reload, "Ctrl+R", "Load the scenario again from its file")
        self.act_save = self._action(
            "&Save Session as Scenario…",
            self.save_dialog,
            QKeySequence.StandardKey.Save,
            "Write the scenario plus the calls you made, so the session replays",
        )
        self.act_quit = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit, "Close dmaviz")
        self.act_run = self._action(
            "&Run", c.toggle_run, "F5", "Run the simulation at the chosen speed; again to pause"
        )
        self.act_run.setCheckable(True)
        self.act_pause = self._action("&Break", c.pause, "Pause", "Pause the simulation")
        # Qt has no "Break" key: Ctrl+Break arrives as Ctrl+Cancel (Windows) or Ctrl+Pause (X11).
        self.act_pause.setShortcuts([QKeySequence(k) for k in ("Pause", "Ctrl+Cancel", "Ctrl+Pause")])
        tip_with_keys(self.act_pause, "Pause the simulation", "Pause, Ctrl+Break")
        self.act_step = self._action("&Step", c.step, "F10", "Run the next event, then stop")
        self.act_step_into = self._action(
            "Step &Into", c.step_into, "F11", "Stop before the next interface call inside the event"
        )
        self.act_step_out = self._action("Step &Out", c.step_out, "Shift+F11", "Finish the current call and stop")
        self.act_step_back = self._action("Step &Back", c.step_back, "Shift+F10", "Go back one event")
        self.act_step_back.setShortcuts([QKeySequence("Shift+F10"), QKeySequence("Ctrl+Shift+F10")])
        tip_with_keys(self.act_step_back, "Go back one event")
        self.act_restart = self._action("Res&tart", c.restart, "Ctrl+Shift+F5", "Back to the very beginning")
        self.act_presentation = self._action(
            "&Presentation Mode", self._toggle_presentation, "Ctrl+Shift+P", "Larger text and lines for a projector"
        )
        self.act_presentation.setCheckable(True)
        self.act_reset_layout = self._action(
            "Reset &Layout", self.reset_layout, None, "Put every panel back where it starts"
        )
        self.theme_actions = QActionGroup(self)
        for mode, text in (("system", "Follow &System"), ("light", "&Light"), ("dark", "&Dark")):
            action = QAction(text, self.theme_actions)
            action.setCheckable(True)
            action.setData(mode)
            action.setToolTip(f"{text.replace('&', '')} theme")
            action.triggered.connect(lambda _checked, m=mode: self.set_theme_mode(m))
        self.act_about = self._action("&About dmaviz", self._about, None, "What dmaviz is")
        self.debugger = Debugger(self)  # F9, Run to Time/Event, faster/slower (gui/debugger/actions.py)

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_open)
        self.builtin_menu = file_menu.addMenu("Open &Built-in")
        self.builtin_menu.setToolTipsVisible(True)
        # Filled when first opened: reading every scenario's title costs ~40 ms at each start.
        self.builtin_menu.aboutToShow.connect(self._fill_builtin_menu)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.setToolTipsVisible(True)
        file_menu.addAction(self.act_reload)
        file_menu.addAction(self.act_save)
        file_menu.addSeparator()
        from gui.export.dialog import add_export_actions  # the picture actions live with the exporter

        self.act_export_picture, self.act_copy_picture = add_export_actions(self, file_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        sim_menu = bar.addMenu("&Simulation")
        for action in (
            self.act_run,
            self.act_pause,
            self.act_step,
            self.act_step_into,
            self.act_step_out,
            self.act_step_back,
            self.act_restart,
        ):
            sim_menu.addAction(action)
        dbg = self.debugger
        sim_menu.addSeparator()
        for action in (dbg.act_run_to_time, dbg.act_run_to_event, dbg.act_toggle, dbg.act_show_breakpoints):
            sim_menu.addAction(action)
        sim_menu.addSeparator()
        sim_menu.addAction(dbg.act_faster)
        sim_menu.addAction(dbg.act_slower)
        sim_menu.addSeparator()
        self.fault_menu = sim_menu.addMenu("Inject &Fault")
        self.fault_menu.setToolTipsVisible(True)
        for method in INTERFACES["FaultInjection"].methods:
            action = self.fault_menu.addAction(method.name)
            action.setToolTip(f"{method.description} Opens its form in the Methods panel; Call injects it.")
            action.triggered.connect(lambda _c=False, m=method.name: self._call_method("faults", m))
        view_menu = bar.addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        theme_menu = view_menu.addMenu("&Theme")
        for action in self.theme_actions.actions():
            theme_menu.addAction(action)
        view_menu.addAction(self.act_presentation)
        view_menu.addAction(self.act_reset_layout)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_about)
        for menu in (file_menu, sim_menu, view_menu, theme_menu, help_menu):
            menu.setToolTipsVisible(True)

    def _make_toolbar(self) -> None:
        tb = QToolBar("Simulation", self)
        tb.setObjectName("toolbar_simulation")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.scenario_label = QLabel(self)
        self.scenario_label.setToolTip("The scenario shown (File → Open to choose another)")
        tb.addAction(self.act_open)
        tb.addAction(self.act_reload)
        tb.addSeparator()
        for action in (
            self.act_run,
            self.act_step,
            self.act_step_into,
            self.act_step_out,
            self.act_step_back,
            self.act_restart,
            self.debugger.act_run_to_time,
            self.debugger.act_run_to_event,
            self.debugger.act_toggle,
        ):
            tb.addAction(action)
        for action in self.debugger.actions:
            tb.widgetForAction(action).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)  # names: tooltips
        tb.addSeparator()
        speed_label_widget = QLabel(" Speed ", self)
        self.speed_box = QComboBox(self)
        for speed in SPEEDS:
            self.speed_box.addItem(speed_label(speed), speed)
        self.speed_box.setToolTip("Simulated time per real second while running")
        speed_label_widget.setBuddy(self.speed_box)
        self.speed_box.currentIndexChanged.connect(self._speed_changed)
        tb.addWidget(speed_label_widget)
        tb.addWidget(self.speed_box)
        self.stream_label = QLabel(" Stream ", self)
        self.stream_box = QComboBox(self)
        self.stream_box.setToolTip("The stream the panels follow")
        self.stream_box.currentIndexChanged.connect(self._stream_changed)
        self.stream_label_action = tb.addWidget(self.stream_label)
        self.stream_box_action = tb.addWidget(self.stream_box)
        tb.addSeparator()
        tb.addAction(self.act_presentation)
        self.toolbar = tb

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_time = QLabel(self)
        self.status_time.setToolTip("Simulated time")
        self.status_step = QLabel(self)
        self.status_step.setToolTip("Events run so far")
        self.status_state = QLabel(self)
        self.status_state.setToolTip("KS state of the stream the panels follow")
        self.status_next = QLabel(self)
        self.status_next.setToolTip("The event that runs next (what Step will do)")
        self.status_run = QLabel(self)
        self.status_run.setToolTip("Running or paused, and whether the machine keeps up with the speed")
        self.status_history = QLabel(self)
        self.status_history.setToolTip("Where the present is in the recorded history")
        self.status_message = QLabel(self)
        self.status_message.setToolTip("The last thing that needs your attention (a stop, an error, a file saved)")
        metrics = self.fontMetrics()
        # Fixed widths: numbers changing 60 times a second must not re-lay out the window.
        for label, sample in (
            (self.status_time, "t = 0000.000000 s"),
            (self.status_step, "step 00000000"),
            (self.status_state, "ACQUIRE"),
            (self.status_run, "running 1000× — can't keep up"),
        ):
            label.setFixedWidth(metrics.horizontalAdvance(sample) + 12)
        for w in (self.status_time, self.status_step, self.status_state, self.status_run, self.status_history):
            bar.addPermanentWidget(w)
        # The "next event" text changes every frame: its width must not move the status bar's layout.
        self.status_next.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status_next.setMinimumWidth(
            metrics.horizontalAdvance("next: DPC stream.timer (stream.timer) at 000.000 ms")
        )
        bar.insertWidget(0, self.scenario_label)
        bar.insertWidget(1, self.status_next, 1)
        bar.insertWidget(2, self.status_message)

    # --- themes -----------------------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        for name, action in (
            ("open", self.act_open),
            ("reload", self.act_reload),
            ("save", self.act_save),
            ("run", self.act_run),
            ("pause", self.act_pause),
            ("step", self.act_step),
            ("step_into", self.act_step_into),
            ("step_out", self.act_step_out),
            ("step_back", self.act_step_back),
            ("restart", self.act_restart),
            ("presentation", self.act_presentation),
        ):
            action.setIcon(icon(name, theme.text))
        self.debugger.apply_theme(theme)
        self._on_running(self.controller.running)
        for panel in self.panels.values():
            panel.apply_theme(theme)
        for action in self.theme_actions.actions():
            action.setChecked(action.data() == self.themes.mode)
        self.act_presentation.setChecked(theme.presentation)
        if self.controller.has_session:
            self.controller.repaint_now()

    def set_theme_mode(self, mode: str) -> None:
        self.themes.set_mode(mode)
        self.settings.setValue("theme/mode", mode)

    def _toggle_presentation(self) -> None:
        on = not self.themes.presentation
        self.themes.set_presentation(on)
        self.settings.setValue("theme/presentation", on)

    # --- scenarios ------------------------------------------------------------------------------------------------
    def load(self, source: str | None) -> bool:
        """Open a scenario (path or built-in name; None: the default). On failure the current session stays."""
        try:
            loaded = scenario_source.load(source)
            session = loaded.make_session()
        except ScenarioLoadError as exc:
            self._load_failed(str(exc))
            return False
        except Exception as exc:  # a scenario that breaks the model while building must not take the window
            self._load_failed(f"{source}: {type(exc).__name__}: {exc}")
            return False
        self.scenario = loaded
        self.last_error = None
        self.controller.set_session(session)
        self.setWindowTitle(f"{loaded.title} — dmaviz")
        self.scenario_label.setText(f"<b>{loaded.title}</b>")
        self.scenario_label.setToolTip(f"{loaded.title}\n{loaded.path or loaded.source}")
        description = self.panels["description"]
        assert isinstance(description, DescriptionPanel)
        description.set_markdown(loaded.description)
        self.act_save.setEnabled(loaded.can_save)
        self.act_reload.setEnabled(True)
        if loaded.path is not None:
            self._add_recent(str(loaded.path))
        self.flash("")
        return True

    def _load_failed(self, message: str) -> None:
        self.last_error = message
        self.flash(f"could not open: {message}")
        self._message("Could not open the scenario", message + "\n\nThe current session is kept.")

    def _message(self, title: str, text: str, details: str = "") -> None:
        """A non-modal message: the simulation and the tests go on while it is shown."""
        if self._error_box is not None:
            self._error_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        if details:
            box.setDetailedText(details)
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self._error_box = box
        box.destroyed.connect(lambda: setattr(self, "_error_box", None))

    def reload(self) -> bool:
        if self.scenario is None:
            return self.load(None)
        return self.load(str(self.scenario.path) if self.scenario.path else self.scenario.source)

    def open_dialog(self) -> None:
        start = str(Path(self.scenario.path).parent) if self.scenario and self.scenario.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open scenario", start, scenario_source.file_filter())
        if path:
            self.load(path)

    def save_dialog(self) -> None:
        if self.scenario is None:
            return
        start = (
            str(self.scenario.path.with_name(self.scenario.path.stem + "-session.toml")) if self.scenario.path else ""
        )
        path, _ = QFileDialog.getSaveFileName(self, "Save session as scenario", start, scenario_source.file_filter())
        if path:
            self.save_scenario_to(Path(path))

    def save_scenario_to(self, path: Path) -> bool:
        if self.scenario is None or not self.controller.has_session:
            return False
        try:
            text = self.scenario.to_toml(self.controller.session, self.controller.user_breakpoints())
            path.write_text(text, encoding="utf-8")
        except (OSError, ScenarioLoadError) as exc:
            self._message("Could not save the session", str(exc))
            return False
        self.flash(f"saved {path}")
        self._add_recent(str(path))
        return True

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            return [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: str) -> None:
        recent = [p for p in self.recent_files() if p != path]
        recent.insert(0, path)
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.load(p))
        self.recent_menu.setEnabled(bool(recent))

    # --- drag and drop ------------------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(_is_scenario(url) for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if _is_scenario(url):
                event.acceptProposedAction()
                self.load(url.toLocalFile())
                return

    # --- model changes ------------------------------------------------------------------------------------------------
    def _on_session_replaced(self) -> None:
        for panel in self.panels.values():
            panel.session_replaced()
        self._fill_streams()

    def _fill_streams(self) -> None:
        pins = find_pins(self.controller.session.system)
        self.stream_box.blockSignals(True)
        self.stream_box.clear()
        for pin in pins:
            self.stream_box.addItem(f"{pin.object_id} ({'capture' if pin.capture else 'render'})", pin.object_id)
        self.stream_box.blockSignals(False)
        several = len(pins) > 1
        self.stream_label_action.setVisible(several)
        self.stream_box_action.setVisible(several)

    def _stream_changed(self) -> None:
        pin_id = self.stream_box.currentData()
        if pin_id:
            self.controller.set_pin(str(pin_id))

    def _speed_changed(self) -> None:
        self.controller.set_speed(self.speed_box.currentData())
        speed = self.speed_box.currentData()
        self.settings.setValue("speed", "fastest" if speed is None else speed)

    def _on_running(self, running: bool) -> None:
        self.act_run.setChecked(running)
        self.act_run.setText("Pause" if running else "Run")
        color = self.themes.theme.text
        self.act_run.setIcon(icon("pause" if running else "run", color))
        self.act_run.setToolTip(f"{'Pause' if running else 'Run'} the simulation (F5)")

    def _on_frame(self, frame: Frame) -> None:
        self._last_frame = frame
        shown = self.isVisible()
        for panel in self.panels.values():
            # A panel behind another tab or closed is brought up to date when it is shown again.
            if not shown or (self.docks[panel.key].isVisible() and not panel.visibleRegion().isEmpty()):
                panel.refresh(frame)
        self._update_status(frame)

    def _panel_shown(self, panel: Panel, shown: bool) -> None:
        if shown and self._last_frame is not None and self.controller.has_session:
            panel.refresh(self._last_frame)

    def grab_panel(self, key: str) -> QPixmap:
        """A picture of one panel as it is now, with its interactive overlays hidden (docs, exports)."""
        dock, panel = self.docks[key], self.panels[key]
        dock.show()
        if not dock.isFloating():
            dock.raise_()  # bring its tab to the front (a floating dock is a window of its own)
        self.refresh_all()
        panel.set_export_mode(True)
        try:
            return panel.grab()
        finally:
            panel.set_export_mode(False)

    def refresh_all(self) -> None:
        """Bring every panel up to date now, hidden ones included (tests, exports)."""
        c = self.controller
        c.repaint_now()
        session = c.session
        frame = Frame(c.generation, c.epoch, session.step_index, session.now_ns, len(session.system.trace), c.running)
        for panel in self.panels.values():
            panel.refresh(frame)

    def _update_status(self, frame: Frame) -> None:
        now = time.perf_counter()
        if frame.running and now - self._status_time < STATUS_INTERVAL_S:
            return  # text is read, not watched: 15 updates a second are enough while running
        self._status_time = now
        c = self.controller
        view = status_view(c.session, c.pin())
        self.status_time.setText(f"t = {view.time_text}")
        self.status_step.setText(view.step_text)
        self.status_state.setText(view.ks_state)
        self.status_next.setText(view.next_text)
        run = "paused"
        if c.running:
            run = f"running {speed_label(None if c.run_fast else c.speed)}" + (" — can't keep up" if c.behind else "")
            if c.temporary is not None:
                run = "running to target" + (", fastest" if c.run_fast else f" {speed_label(c.speed)}")
        self.status_run.setText(run)
        self.status_history.setText(view.history_text)
        self.status_history.setVisible(bool(view.history_text))

    def flash(self, text: str) -> None:
        """Show a message in the status bar until the next one (never over the title or the time)."""
        self.status_message.setText(text)
        self.status_message.setToolTip(text)

    def _fill_builtin_menu(self) -> None:
        if self.builtin_menu.actions():
            return
        for name, title in scenario_source.builtin_scenarios():
            action = self.builtin_menu.addAction(f"{name} — {title}")
            action.setToolTip(f"Open the built-in scenario {name}: {title}")
            action.triggered.connect(lambda _c=False, n=name: self.load(n))

    def _call_method(self, object_id: str, method: str) -> None:
        """Open ``object_id.method``'s form in the Methods panel (a fault injection, for example)."""
        if self.methods_panel.select(object_id, method):
            self.docks["methods"].show()
            self.docks["methods"].raise_()

    def _call_methods_of(self, object_id: str) -> None:
        if self.methods_panel.select(object_id):
            self.docks["methods"].show()
            self.docks["methods"].raise_()
            self.methods_panel.method_box.setFocus()

    # --- errors ------------------------------------------------------------------------------------------------
    def _show_exception(self, summary: str, details: str) -> None:
        self.flash(f"internal error: {summary}")
        self._message("dmaviz hit an internal error", f"{summary}\n\nThe window keeps running.", details)

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About dmaviz",
            "<b>dmaviz</b> shows how Windows audio drivers move sound through DMA: PortCls ports and miniports, "
            "the 8237 and bus-master DMA engines, the common buffer, step by step.",
        )

    # --- settings ------------------------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        else:
            screen = self.screen().availableGeometry() if self.screen() is not None else None
            width, height = 1600, 1000
            if screen is not None:
                width = min(screen.width(), max(width, int(screen.width() * 0.9)))
                height = min(screen.height(), max(height, int(screen.height() * 0.9)))
            self.resize(width, height)
        state = s.value("window/state")
        if isinstance(state, QByteArray | bytes) and int(s.value("window/layout_version", 0) or 0) == LAYOUT_VERSION:
            self.restoreState(QByteArray(state), LAYOUT_VERSION)
        # The speed itself, not its index: the list of speeds may grow.
        saved = s.value("speed")
        try:
            speed = None if saved == "fastest" else float(saved) if saved is not None else 1.0
        except (TypeError, ValueError):
            speed = 1.0
        self.speed_box.setCurrentIndex(SPEEDS.index(speed) if speed in SPEEDS else SPEEDS.index(1.0))
        self._fill_recent_menu()

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(LAYOUT_VERSION))
        s.setValue("window/layout_version", LAYOUT_VERSION)
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self.controller.shutdown()
        self._exceptions.recorded.disconnect(self._show_exception)
        if self._error_box is not None:
            self._error_box.close()
        super().closeEvent(event)


def _is_scenario(url: QUrl) -> bool:
    return url.isLocalFile() and url.toLocalFile().lower().endswith(".toml")
