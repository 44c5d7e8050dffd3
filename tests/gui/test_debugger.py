"""The debugger in the window: controls, Run to, F9, the Breakpoints panel, the timeline, forks, saved sessions.

Runs are driven frame by frame (the controller's tick) rather than by waiting on the
frame timer, and every stop is compared with what an unchunked model-level
``Session.run`` does with the same breakpoints.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QKeySequence, QMouseEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QLineEdit, QWidget

from cli.main import main as cli_main
from gui.debugger.logic import describe
from gui.session_controller import SPEEDS, SessionController
from model.scenario import load, make_session, run_scenario
from model.session.breakpoints import BreakKind, Breakpoint, Condition
from model.session.session import Session, StopReason
from model.trace import to_json_line
from model.units import MS


def drive(controller: SessionController, *, speed: float | None = None, frames: int = 20_000) -> None:
    """Run until something stops it, one frame tick at a time (no waiting on timers)."""
    controller.set_speed(speed)
    if not controller.running:
        controller.run()
    for _ in range(frames):
        if not controller.running:
            return
        controller._tick()
    controller.pause()
    raise AssertionError("the run did not stop")


def drag(widget: QWidget, points: list[QPoint]) -> None:
    """Press the left button at the first point, move through the others with it held, release at the last.

    (QTest's mouseMove sends no held buttons, which is no drag to pyqtgraph.)
    """
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    plain = Qt.KeyboardModifier.NoModifier

    def send(kind: QEvent.Type, point: QPoint, button: Qt.MouseButton, buttons: Qt.MouseButton) -> None:
        local = QPointF(point)
        event = QMouseEvent(kind, local, QPointF(widget.mapToGlobal(point)), button, buttons, plain)
        QApplication.sendEvent(widget, event)

    send(QEvent.Type.MouseButtonPress, points[0], left, left)
    for point in points[1:]:
        send(QEvent.Type.MouseMove, point, none, left)
    send(QEvent.Type.MouseButtonRelease, points[-1], left, none)


def lines(session: Session) -> list[str]:
    return [to_json_line(r) for r in session.system.trace.records]


def digest(session: Session) -> str:
    """The state digest with the event queue in canonical form: sorted, without cancelled events.

    ``Simulator.peek`` drops cancelled events lazily, and heap pushes and pops arrange the list
    by their history. The window peeks (the status bar's "next: ..."), a headless run peeks
    less, so the raw digests of two equal states can differ by dead queue entries.
    """
    sim = session.system.sim
    sim._queue[:] = sorted(entry for entry in sim._queue if not entry[2].cancelled)  # a sorted list is a heap
    return session.system.state_digest()


def model_stop(name: str, breakpoints: list[Breakpoint], until_ns: int) -> tuple[Any, Session]:
    """The same breakpoints in a fresh session of the scenario, run unchunked."""
    session = make_session(load(name))
    session.breakpoints[:] = [copy.deepcopy(bp) for bp in breakpoints]
    for bp in session.breakpoints:
        bp.hits = 0
    return session.run(until_ns=until_ns), session


# --- controls ---------------------------------------------------------------------------------------------------
def test_every_control_has_an_icon_and_a_tooltip_with_all_its_keys(make_window: Any) -> None:
    window = make_window("sb16_render")
    dbg = window.debugger
    controls = {
        "Run (Go)": (window.act_run, ["F5"]),
        "Break": (window.act_pause, ["Pause", "Ctrl+Break"]),
        "Step": (window.act_step, ["F10"]),
        "Step Into": (window.act_step_into, ["F11"]),
        "Step Out": (window.act_step_out, ["Shift+F11"]),
        "Step Back": (window.act_step_back, ["Shift+F10", "Ctrl+Shift+F10"]),
        "Restart": (window.act_restart, ["Ctrl+Shift+F5"]),
        "Run to Time": (dbg.act_run_to_time, ["Ctrl+G"]),
        "Run to Event": (dbg.act_run_to_event, ["Ctrl+F10"]),
        "Toggle Breakpoint": (dbg.act_toggle, ["F9"]),
    }
    for name, (action, keys) in controls.items():
        assert not action.icon().isNull(), name
        for key in keys:
            assert key in action.toolTip(), f"{name}: {key} not in {action.toolTip()!r}"
            if key != "Ctrl+Break":
                assert QKeySequence(key) in action.shortcuts(), f"{name}: {key}"
    # Ctrl+Break reaches Qt as Ctrl+Cancel (Windows) or Ctrl+Pause (X11).
    assert {QKeySequence("Ctrl+Cancel"), QKeySequence("Ctrl+Pause")} <= set(window.act_pause.shortcuts())
    toolbar_actions = window.toolbar.actions()
    for name in ("Run (Go)", "Step", "Step Into", "Step Out", "Step Back", "Restart", "Run to Time", "Run to Event"):
        assert controls[name][0] in toolbar_actions, name


def test_each_control_does_what_it_says(make_window: Any, qtbot: Any) -> None:
    window = make_window("sb16_render")
    c = window.controller
    session = c.session
    c.run_for(20 * MS)
    step = session.step_index
    before = session.system.state_digest()
    window.act_step.trigger()
    assert session.step_index == step + 1
    window.act_step_back.trigger()
    assert session.step_index == step and session.system.state_digest() == before
    while "DPC" not in session.describe_next():
        window.act_step.trigger()
    step = session.step_index
    window.act_step_into.trigger()
    assert session.frozen is not None and session.frozen.record.method == "RequestService"
    window.act_step_into.trigger()
    assert session.frozen.record.method == "GetPosition"
    window.refresh_all()
    assert window.status_next.text() == f"next: inside step {step}: next call stream.GetPosition"
    window.act_step_out.trigger()  # finishes GetPosition's caller: the DPC's next call at depth 0, or its end
    assert session.frozen is None or session.frozen.record.depth == 0
    window.act_step_back.trigger()
    assert session.frozen is None and session.step_index == step
    window.act_restart.trigger()
    assert session.step_index == 0 and session.now_ns == 0
    window.act_run.trigger()  # Go
    assert c.running
    qtbot.waitUntil(lambda: session.now_ns > 2 * MS, timeout=5000)
    window.act_pause.trigger()  # Break
    assert not c.running
    now = session.now_ns
    qtbot.wait(50)
    assert session.now_ns == now


def test_the_next_event_is_shown_and_the_last_one_highlighted(make_window: Any) -> None:
    window = make_window("sb16_render")
    c = window.controller
    c.run_for(12 * MS)
    while "ISR" not in c.session.describe_next():
        c.step()
    window.refresh_all()
    assert window.status_next.text().startswith("next: ISR")
    c.step()
    window.refresh_all()
    first, end = c.session.last_step_records()
    log = window.panels["log"].model
    assert log.current == (first, end) and end > first
    objects = window.panels["objects"]
    assert objects._called  # the ISR called the miniport's and the port's objects
    while "block end" not in c.session.describe_next():
        c.step()
    c.step()
    window.refresh_all()
    counter = window.panels["counter"]
    assert len(counter.current.data) >= 1  # the interrupt the block end raised is ringed on its lane


def test_speed_control_runs_from_a_thousandth_to_a_thousand_and_as_fast_as_possible(
    make_window: Any, settings: Any
) -> None:
    window = make_window("sb16_render")
    speeds = [window.speed_box.itemData(i) for i in range(window.speed_box.count())]
    assert speeds == list(SPEEDS)
    assert speeds[0] == 0.001 and max(s for s in speeds if s is not None) == 1000 and speeds[-1] is None
    window.speed_box.setCurrentIndex(SPEEDS.index(1.0))
    window.debugger.act_faster.trigger()
    assert window.controller.speed == 2.0
    window.debugger.act_slower.trigger()
    window.debugger.act_slower.trigger()
    assert window.controller.speed == 0.5
    window.speed_box.setCurrentIndex(len(SPEEDS) - 1)
    assert window.controller.speed is None
    window.close()
    again = make_window("sb16_render", the_settings=settings)
    assert again.controller.speed is None  # remembered by value, not by index


# --- run to -------------------------------------------------------------------------------------------------------
def test_run_to_time_dialog_checks_its_input_and_stops_exactly_there(make_window: Any) -> None:
    window = make_window("sb16_render")
    c = window.controller
    dialog = window.debugger.run_to_time_dialog()
    assert dialog is not None and dialog.isVisible()
    dialog.time_edit.setText("twelve")
    dialog.accept()
    assert dialog.isVisible() and dialog.error.isVisible() and "duration" in dialog.error.text()
    dialog.time_edit.setText("12.5ms")
    assert not dialog.error.isVisible()
    dialog.accept()
    assert not dialog.isVisible()
    assert c.running and c.temporary is not None and c.temporary not in c.user_breakpoints()
    drive(c, speed=1.0)  # the dialog asked for as fast as possible: the toolbar's speed does not matter
    assert c.session.now_ns == 12_500_000
    assert c.temporary is None and c.temporary not in c.session.breakpoints
    assert "ran to" in window.status_message.text()
    reference = make_session(load("sb16_render"))
    reference.run(until_ns=12_500_000)
    assert lines(reference) == lines(c.session)
    assert digest(reference) == digest(c.session)
    # From now, at the toolbar's speed.
    dialog = window.debugger.run_to_time_dialog()
    dialog.time_edit.setText("2ms")
    dialog.relative.setChecked(True)
    dialog.fast.setChecked(False)
    dialog.accept()
    assert not c.run_fast
    drive(c, speed=50.0)
    assert c.session.now_ns == 14_500_000
    # A time already passed is a jump back.
    dialog = window.debugger.run_to_time_dialog()
    dialog.time_edit.setText("3ms")
    dialog.relative.setChecked(False)
    dialog.accept()
    assert not c.running and c.session.now_ns == 3 * MS
    assert c.session.step_index < c.session.furthest_step


def test_run_to_event_stops_at_the_next_matching_record(make_window: Any) -> None:
    window = make_window("sb16_render")
    c = window.controller
    c.run_for(30 * MS)
    dialog = window.debugger.run_to_event_dialog()
    editor = dialog.editor
    editor.set_kind(BreakKind.CALL)
    editor.object_box.setEditText("dma")
    editor.method_box.setEditText("CopyTo")
    dialog.accept()
    start = len(c.session.system.trace)
    drive(c)
    hit = c.session.last_hit
    assert hit is not None and hit.record is not None
    records = c.session.system.trace.records
    expected = next(r for r in records[start:] if r.kind == "call" and r.method == "CopyTo")
    assert hit.record.seq == expected.seq
    assert window.panels["log"].selected_record() == expected.seq
    assert c.user_breakpoints() == [bp for bp in c.session.breakpoints]  # the target is gone
    # An empty position offset is refused inline.
    dialog = window.debugger.run_to_event_dialog()
    dialog.editor.set_kind(BreakKind.POSITION)
    dialog.accept()
    assert dialog.isVisible() and "offset" in dialog.editor.error.text()
    dialog.reject()


# --- breakpoints ----------------------------------------------------------------------------------------------------
def _fill(panel: Any, bp: Breakpoint) -> Breakpoint:
    """Describe ``bp`` in the New Breakpoint dialog, field by field, as a user would, and press Add."""
    panel.new_button.click()
    editor = panel.editor
    for row in list(editor.conditions):
        row.remove.click()
    editor.set_kind(bp.kind)
    if bp.kind == BreakKind.CALL:
        editor.object_box.setEditText(bp.object or "")
        editor.method_box.setEditText(bp.method or "")
        editor.status_box.setEditText(bp.status or "")
        editor.context_box.setEditText(bp.context or "")
        for condition in bp.conditions:
            row = editor.add_condition()
            row.param.setEditText(condition.param)
            row.op.setCurrentText(condition.op)
            row.value.setText(hex(condition.value) if isinstance(condition.value, int) else str(condition.value))
    elif bp.kind == BreakKind.TERMINAL_COUNT and bp.channel is not None:
        editor.channel_box.setCurrentIndex(bp.channel + 1)
    elif bp.kind in (BreakKind.POSITION, BreakKind.GLITCH):
        editor.stream_box.setEditText(bp.object or "")
        if bp.offset is not None:
            editor.offset_edit.setText(hex(bp.offset))
    elif bp.kind == BreakKind.VIOLATION:
        editor.rule_box.setEditText(bp.rule or "")
    elif bp.kind == BreakKind.TIME and bp.time_ns is not None:
        editor.time_edit.setText(f"{bp.time_ns}ns")
    dialog = panel.dialog
    dialog.accept()
    assert not dialog.isVisible(), editor.error.text()
    added = panel.selected()
    assert added is not None
    return added


KIND_CASES = [
    ("sb16_render", Breakpoint(BreakKind.CALL, object="dma", method="CopyTo", conditions=[Condition("ByteCount", ">", 9)])),  # noqa: E501
    ("sb16_render", Breakpoint(BreakKind.CALL, object="stream", method="GetPosition", status="STATUS_SUCCESS")),
    ("sb16_render", Breakpoint(BreakKind.CALL, method="ReadCounter", context="dpc:sg")),
    ("sb16_render", Breakpoint(BreakKind.TERMINAL_COUNT, channel=5)),
    ("sb16_render", Breakpoint(BreakKind.BLOCK_END)),
    ("hda_render", Breakpoint(BreakKind.IOC)),
    ("sb16_render", Breakpoint(BreakKind.INTERRUPT)),
    ("sb16_render", Breakpoint(BreakKind.DPC)),
    ("sb16_render", Breakpoint(BreakKind.POSITION, object="pin", offset=0x2000)),
    ("hda_render", Breakpoint(BreakKind.POSITION, offset=0x1234)),
    ("sb16_underrun", Breakpoint(BreakKind.GLITCH, object="pin")),
    ("sb16_waitfortc", Breakpoint(BreakKind.VIOLATION, rule="wait-for-tc")),
    ("sb16_render", Breakpoint(BreakKind.TIME, time_ns=123_456_789)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "wanted"), KIND_CASES, ids=[f"{n}-{describe(b)}" for n, b in KIND_CASES])
@pytest.mark.parametrize("speed", [None, 20.0])
def test_each_kind_made_in_the_panel_stops_where_the_model_stops(
    make_window: Any, name: str, wanted: Breakpoint, speed: float | None
) -> None:
    window = make_window(name)
    c = window.controller
    panel = window.panels["breakpoints"]
    c.clear_breakpoints()  # only this breakpoint: break on violation would stop some scenarios first
    c.run_for(7 * MS)  # start between two events: the chunked run must still agree
    bp = _fill(panel, wanted)
    assert [(b.kind, describe(b)) for b in c.user_breakpoints()] == [(wanted.kind, describe(wanted))]
    at_7ms = c.session.step_index
    drive(c, speed=speed)
    hit = c.session.last_hit
    assert hit is not None and hit.breakpoint is bp and bp.hits == 1
    reference = make_session(load(name))
    reference.run(until_ns=7 * MS)
    assert reference.step_index == at_7ms
    reference.breakpoints[:] = [copy.deepcopy(wanted)]
    result = reference.run(until_ns=3_000 * MS)
    assert result.reason == StopReason.BREAKPOINT and result.hit is not None
    assert (c.session.step_index, c.session.now_ns) == (reference.step_index, reference.now_ns)
    want_seq = result.hit.record.seq if result.hit.record is not None else None
    assert (hit.record.seq if hit.record is not None else None) == want_seq
    assert lines(c.session) == lines(reference)
    assert digest(c.session) == digest(reference)
    assert "breakpoint 1" in window.status_message.text()
    window.refresh_all()
    log = window.panels["log"]
    selected = log.selected_record()
    assert selected == (want_seq if want_seq is not None else len(c.session.system.trace) - 1)
    assert c.hit_marks == [(c.session.now_ns, c.session.step_index)]


def test_a_conditional_breakpoint_does_not_stop_when_false(make_window: Any) -> None:
    window = make_window("sb16_render")
    c = window.controller
    c.run_for(5 * MS)  # past the start, where the scenario's own thread calls ReadCounter once
    panel = window.panels["breakpoints"]
    never = _fill(
        panel,
        Breakpoint(BreakKind.CALL, object="dma", method="CopyTo", conditions=[Condition("ByteCount", ">", 0x10000)]),
    )
    wrong_context = _fill(panel, Breakpoint(BreakKind.CALL, method="ReadCounter", context="passive"))
    wrong_status = _fill(
        panel, Breakpoint(BreakKind.CALL, object="stream", method="GetPosition", status="STATUS_PENDING")
    )
    c.run_to_time(200 * MS)
    drive(c)
    assert c.session.now_ns == 200 * MS
    assert never.hits == wrong_context.hits == wrong_status.hits == 0
    assert "ran to" in window.status_message.text()


def test_finishing_an_event_from_inside_reports_its_breakpoint(make_window: Any) -> None:
    window = make_window("sb16_render")
    c = window.controller
    session = c.session
    c.run_for(20 * MS)
    while "DPC" not in session.describe_next():
        window.act_step.trigger()
    first = len(session.system.trace)
    c.add_breakpoint(Breakpoint(BreakKind.CALL, object="dma", method="CopyTo"))
    window.act_step_into.trigger()  # before RequestService
    window.act_step_out.trigger()  # the whole DPC runs: its CopyTo matches
    assert session.frozen is None and c.last_result.reason == StopReason.BREAKPOINT
    assert "stopped at breakpoint" in window.status_message.text() and "CopyTo" in window.status_message.text()
    assert session.last_step_records()[0] == first  # the log highlights the whole event


def test_the_editor_says_what_is_wrong(make_window: Any) -> None:
    window = make_window("sb16_render")
    panel = window.panels["breakpoints"]
    dialog = panel.new_dialog()
    editor = panel.editor
    cases = [
        (BreakKind.TIME, lambda: editor.time_edit.setText("soon"), "duration"),
        (BreakKind.POSITION, lambda: editor.offset_edit.setText("middle"), "byte offset"),
        (BreakKind.VIOLATION, lambda: editor.rule_box.setEditText("no-such-rule"), "no rule"),
        (BreakKind.CALL, lambda: editor.status_box.setEditText("STATUS_MAYBE"), "NTSTATUS"),
        (BreakKind.CALL, lambda: (editor.status_box.setEditText(""), editor.add_condition()), "parameter"),
        (
            BreakKind.CALL,
            lambda: editor.method_box.setEditText("CopyToo"),
            "no interface declares a method 'CopyToo' (did you mean CopyTo",
        ),
        (
            BreakKind.CALL,
            lambda: (
                editor.method_box.setEditText("CopyTo"),
                editor.conditions[-1].param.setEditText("Bytecount"),
                editor.conditions[-1].value.setText("5"),
            ),
            "CopyTo has no parameter 'Bytecount' (did you mean ByteCount?)",
        ),
    ]
    count = len(window.controller.user_breakpoints())
    for kind, fill, words in cases:
        editor.set_kind(kind)
        fill()
        dialog.accept()
        assert dialog.isVisible(), words  # Add refused: the dialog stays, saying why
        assert editor.error.isVisible() and words in editor.error.text(), words
    dialog.reject()
    assert len(window.controller.user_breakpoints()) == count


def test_the_panel_lists_enables_and_deletes(make_window: Any, qtbot: Any) -> None:
    window = make_window("sb16_render")
    c = window.controller
    panel = window.panels["breakpoints"]
    window.debugger.show_breakpoints()
    tree = panel.tree
    assert tree.topLevelItemCount() == 1 and "violation" in tree.topLevelItem(0).text(1)  # on by default
    dpc = _fill(panel, Breakpoint(BreakKind.DPC))
    assert tree.topLevelItemCount() == 2
    assert _fill(panel, Breakpoint(BreakKind.DPC)) is dpc  # the same one again: no duplicate
    drive(c)
    window.refresh_all()
    assert tree.topLevelItem(1).text(3) == "1"  # its hit count
    tree.topLevelItem(1).setCheckState(0, Qt.CheckState.Unchecked)
    assert not dpc.enabled
    c.run_for(0)  # nothing
    c.run_to_time(c.session.now_ns + 30 * MS)
    drive(c)
    assert dpc.hits == 1  # disabled: it did not stop the run
    tree.setCurrentItem(tree.topLevelItem(1))
    tree.setFocus()
    qtbot.keyClick(tree.viewport(), Qt.Key.Key_Space)  # the keyboard's way to tick it again
    assert dpc.enabled
    qtbot.keyClick(tree.viewport(), Qt.Key.Key_Space)
    assert not dpc.enabled
    qtbot.keyClick(tree, Qt.Key.Key_Delete)
    assert dpc not in c.session.breakpoints and tree.topLevelItemCount() == 1
    panel.delete_all_button.click()
    assert c.user_breakpoints() == [] and tree.topLevelItemCount() == 0


def test_f9_toggles_on_the_chosen_method_and_on_a_log_row(make_window: Any, qtbot: Any) -> None:
    window = make_window("sb16_render")
    window.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    c = window.controller
    c.clear_breakpoints()
    methods = window.methods_panel
    window.docks["methods"].show()
    window.docks["methods"].raise_()
    assert methods.select("dma", "CopyTo")
    methods.method_box.setFocus()
    window.debugger.act_toggle.trigger()
    assert [(b.kind, b.object, b.method) for b in c.user_breakpoints()] == [(BreakKind.CALL, "dma", "CopyTo")]
    assert "breakpoint added" in window.status_message.text()
    window.debugger.act_toggle.trigger()
    assert c.user_breakpoints() == []
    # A log row: a terminal count makes a terminal-count breakpoint on its channel.
    c.run_for(120 * MS)
    window.refresh_all()
    log = window.panels["log"]
    window.docks["log"].raise_()
    seq = next(r.seq for r in c.session.records() if r.kind == "terminal_count")
    log.select_record(seq)
    log.table.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F9)
    added = c.user_breakpoints()
    assert [(b.kind, b.channel) for b in added] == [(BreakKind.TERMINAL_COUNT, 5)]
    qtbot.keyClick(window, Qt.Key.Key_F9)
    assert c.user_breakpoints() == []
    # A call row: the object by its alias, and the method.
    seq = next(r.seq for r in c.session.records() if r.kind == "call" and r.method == "ReadCounter")
    log.select_record(seq)
    log.table.setFocus()
    window.debugger.toggle_breakpoint()
    assert [(b.kind, b.object, b.method) for b in c.user_breakpoints()] == [(BreakKind.CALL, "dma", "ReadCounter")]
    # A register row: no breakpoint kind matches; the status bar says so.
    seq = next(r.seq for r in c.session.records() if r.kind == "register")
    log.select_record(seq)
    assert window.debugger.toggle_breakpoint() is None
    assert "no kind of breakpoint" in window.status_message.text()


def test_break_on_violation_is_on_by_default_never_twice_and_saved(make_window: Any, tmp_path: Path) -> None:
    window = make_window("sb16_render")
    c = window.controller
    assert [(b.kind, b.rule) for b in c.user_breakpoints()] == [(BreakKind.VIOLATION, None)]
    race = make_window("sb16_data_race")  # its file has a violation breakpoint of its own: no second one
    assert [(b.kind, b.rule) for b in race.controller.user_breakpoints()] == [(BreakKind.VIOLATION, "data-race")]
    drive(race.controller)
    hit = race.controller.session.last_hit
    assert hit is not None and hit.record is not None and hit.record.kind == "violation"
    assert "data-race" in race.status_message.text()
    assert race.panels["log"].selected_record() == hit.record.seq
    # Removed and saved: the saved file keeps the user's choice (a disabled one keeps the default away).
    default = c.user_breakpoints()[0]
    c.set_breakpoint_enabled(default, False)
    c.add_breakpoint(Breakpoint(BreakKind.TIME, time_ns=42 * MS))
    c.add_breakpoint(
        Breakpoint(BreakKind.CALL, object="dma", method="CopyTo", conditions=[Condition("ByteCount", ">=", 64)])
    )
    c.run_to(Breakpoint(BreakKind.DPC))  # a run-to target is never saved
    path = tmp_path / "saved.toml"
    assert window.save_scenario_to(path)
    c.pause()
    text = path.read_text(encoding="utf-8")
    assert text.count("[[breakpoint]]") == 3 and 'kind = "dpc"' not in text
    assert window.load(str(path))
    loaded = window.controller.user_breakpoints()
    assert [describe(b) for b in loaded] == [
        "any contract violation",
        "time reaches 42.000 ms",
        "dma.CopyTo if ByteCount >= 0x40",
    ]
    assert not loaded[0].enabled


def test_restart_keeps_breakpoints_and_edges_step_back_exactly(make_window: Any) -> None:
    window = make_window("sb16_render")
    c = window.controller
    session = c.session
    bps = c.user_breakpoints()
    # The first event.
    first = session.system.state_digest()
    c.step()
    c.step_back()
    assert session.step_index == 0 and session.system.state_digest() == first
    # Right after a wrap (the first terminal count).
    c.run_for(200 * MS)
    seq = next(r.seq for r in session.records() if r.kind == "terminal_count")
    c.goto_record(seq)
    wrap = session.system.state_digest()
    step = session.step_index
    for _ in range(5):
        c.step()
    c.step_back(5)
    assert session.step_index == step and session.system.state_digest() == wrap
    # Right after Restart, and after a jump (timeline).
    c.restart()
    assert c.user_breakpoints() == bps
    start = session.system.state_digest()
    c.step()
    c.step_back()
    assert session.system.state_digest() == start
    c.goto_time(77 * MS)
    here, step = session.system.state_digest(), session.step_index
    c.step()
    c.step_back()
    assert session.step_index == step
    c.goto_time(77 * MS)
    assert session.system.state_digest() == here


# --- timeline -----------------------------------------------------------------------------------------------------
def test_timeline_click_goes_to_that_moment_and_drag_scrubs(make_window: Any, qtbot: Any) -> None:
    window = make_window("sb16_underrun")
    c = window.controller
    c.run_for(320 * MS)
    window.docks["timeline"].show()
    window.refresh_all()
    timeline = window.panels["timeline"]
    assert timeline.furthest_ns == 320 * MS
    assert timeline.markers.times[0] and timeline.markers.times[2]  # interrupts and the glitch
    viewport = timeline.graphics.viewport()
    y = viewport.height() // 2
    x = round(timeline.x_of(100 * MS))
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    t = c.session.now_ns
    assert abs(t - 100 * MS) < 320 * MS / viewport.width() * 2  # within two pixels
    reference = make_session(load("sb16_underrun"))
    reference.run(until_ns=t)
    assert (c.session.step_index, c.session.now_ns) == (reference.step_index, reference.now_ns)
    assert lines(c.session) == lines(reference)
    assert digest(c.session) == digest(reference)
    assert not c.session.at_frontier
    window.refresh_all()
    assert timeline.future.isVisible()  # the recorded future is greyed
    # Drag from 200 ms back to 50 ms: it ends at 50 ms.
    x0, x1 = round(timeline.x_of(200 * MS)), round(timeline.x_of(50 * MS))
    seen: list[int] = []
    timeline.moment_chosen.connect(seen.append)
    drag(viewport, [QPoint(x, y) for x in [*range(x0, x1, -40), x1]])
    # Moments on the way, then the end (pyqtgraph passes on at most 60 moves a second, so how many is not known).
    assert len(seen) >= 2 and seen == sorted(seen, reverse=True)
    assert abs(c.session.now_ns - 50 * MS) < 320 * MS / viewport.width() * 2
    # The keyboard: End goes to the furthest step, Home to the start, Left and Right step.
    timeline.graphics.setFocus()
    qtbot.keyClick(timeline.graphics, Qt.Key.Key_End)
    assert c.session.step_index == c.session.furthest_step
    qtbot.keyClick(timeline.graphics, Qt.Key.Key_Home)
    assert c.session.step_index == 0
    qtbot.keyClick(timeline.graphics, Qt.Key.Key_Right)
    assert c.session.step_index == 1
    qtbot.keyClick(timeline.graphics, Qt.Key.Key_Left)
    assert c.session.step_index == 0


def test_after_a_timeline_jump_every_panel_shows_that_moment(make_window: Any) -> None:
    """No panel keeps a model object across a restore: each reads the moment it is at."""
    fresh = make_window("sb16_render", show=True)
    fresh.controller.run_for(47 * MS)
    fresh.refresh_all()
    window = make_window("sb16_render")
    window.controller.run_for(90 * MS)
    window.refresh_all()
    window.controller.goto_time(47 * MS)
    window.refresh_all()

    def state(w: Any) -> dict[str, Any]:
        buffer = w.panels["buffer"].view
        return {
            "buffer": (buffer.dma_position, buffer.port_offset, tuple(buffer.valid), tuple(buffer.silence)),
            "waveform": (tuple(w.panels["buffer"].envelope.y[:64]), len(w.panels["buffer"].envelope.y)),
            "positions": tuple(r.text for r in w.panels["positions"].rows),
            "registers": tuple((r.name, r.text) for r in w.panels["registers"].view.rows),
            "memory": tuple(w.panels["memory"].view.counts.items()),
            "objects": tuple((n.label, n.state) for root in w.panels["objects"].nodes for n in root.walk()),
            "counter": float(w.controller.counter.arrays()[1][-1]),
            "status": (w.status_time.text(), w.status_step.text(), w.status_next.text(), w.status_state.text()),
        }

    assert state(window) == state(fresh)


def test_a_call_made_in_the_past_forks_and_says_so(make_window: Any) -> None:
    window = make_window("sb16_render")
    c = window.controller
    c.run_for(60 * MS)
    window.refresh_all()
    furthest = c.session.furthest_step
    c.goto_time(30 * MS)
    c.step()  # stepping forward from the past continues the same history
    assert not c.session.forked and c.session.furthest_step == furthest
    methods = window.methods_panel
    assert methods.select("dma", "SetBufferSize")
    methods.form.set_value("BufferSize", "0x2000")
    result = methods.call()
    assert result is not None and result.executed
    assert c.session.forked and c.session.furthest_step < furthest
    assert "new history" in window.status_message.text()
    window.refresh_all()
    assert "new history" in window.status_history.text()
    assert window.panels["timeline"].furthest_ns == c.session.now_ns  # the old future is gone from the strip


# --- sessions -------------------------------------------------------------------------------------------------------
def test_a_recorded_session_saved_from_the_window_replays_identically(make_window: Any, tmp_path: Path) -> None:
    window = make_window("sb16_render")
    c = window.controller
    methods = window.methods_panel
    c.run_for(15 * MS)
    assert methods.select("dma", "SetBufferSize")
    methods.form.set_value("BufferSize", "0x2000")
    assert methods.call() is not None
    c.run_for(23 * MS)
    c.step()
    c.step()
    assert methods.select("stream", "GetPosition")
    assert methods.call() is not None
    c.run_for(40 * MS)
    end = c.session.now_ns
    session_trace = lines(c.session)
    assert len(c.session.recorded_actions()) == 2  # every call through the panel was recorded
    path = tmp_path / "session.toml"
    assert window.save_scenario_to(path)
    saved = load(str(path))
    first = run_scenario(saved, until_ns=end)
    second = run_scenario(load(str(path)), until_ns=end)
    assert first.world is not None and second.world is not None
    assert [to_json_line(r) for r in first.world.system.trace.records] == session_trace
    assert [to_json_line(r) for r in second.world.system.trace.records] == session_trace
    # And through the command line, byte for byte.
    out1, out2 = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    for out in (out1, out2):
        cli_main(["run", str(path), "--until", f"{end}ns", "--trace", str(out)])
    assert out1.read_bytes() == out2.read_bytes()
    assert out1.read_text(encoding="utf-8").splitlines() == session_trace


def test_chunked_running_stepping_and_one_run_agree(qapp: Any) -> None:
    """The window runs in chunks of run(until_ns=...); stepping and one unchunked run reach the same state."""
    until = 150 * MS
    ran = make_session(load("sb16_underrun"))
    ran.breakpoints.clear()
    ran.run(until_ns=until)
    stepped = make_session(load("sb16_underrun"))
    stepped.breakpoints.clear()
    while (event := stepped.next_event()) is not None and event.time_ns <= until:
        stepped.step()
    stepped.run(until_ns=until)
    chunked = SessionController(make_session(load("sb16_underrun")))
    try:
        chunked.clear_breakpoints()
        for target in range(0, until + 1, 1_234_567):  # what the frame ticks ask for at some speed
            chunked._run_chunks(target, None)
        chunked._run_chunks(until, None)
        assert chunked.session.now_ns == until
        for session in (stepped, chunked.session):
            assert lines(session) == lines(ran)
            assert digest(session) == digest(ran)
    finally:
        chunked.shutdown()
        chunked.deleteLater()


def test_every_debugger_control_has_a_tooltip(make_window: Any) -> None:
    window = make_window("sb16_render")
    for key in ("breakpoints", "timeline"):
        window.docks[key].show()
        window.docks[key].raise_()
    window.debugger.run_to_time_dialog()
    window.debugger.run_to_event_dialog()
    new = window.panels["breakpoints"].new_dialog()
    new.editor.set_kind(BreakKind.CALL)
    new.editor.add_condition()
    missing = []
    roots: list[QWidget] = [window.panels["breakpoints"], window.panels["timeline"]]
    roots += [d for d in (window.debugger.time_dialog, window.debugger.event_dialog, new) if d is not None]
    for root in roots:
        for widget in root.findChildren(QWidget):
            if not isinstance(widget, QAbstractButton | QComboBox | QLineEdit) or widget.objectName().startswith("qt_"):
                continue
            if not widget.isVisibleTo(root):
                continue
            owner: QWidget | None = widget
            while owner is not None and not owner.toolTip():
                owner = owner.parentWidget() if isinstance(owner.parentWidget(), QComboBox) else None
            if owner is None:
                missing.append(f"{type(root).__name__}: {type(widget).__name__} {getattr(widget, 'text', str)()!r}")
    for dialog in (window.debugger.time_dialog, window.debugger.event_dialog, new):
        assert dialog is not None
        dialog.reject()
    assert not missing, missing
    assert QApplication.activeModalWidget() is None


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 1.0])
def test_a_position_crossing_while_paused_between_events_stops_the_next_step(qapp: Any, fraction: float) -> None:
    """Paused between two events (a run stops at a frame's end), the clock has moved: the crossing counts."""
    bp = Breakpoint(BreakKind.POSITION, object="pin", offset=0x2345)
    reference = make_session(load("sb16_render"))
    reference.breakpoints[:] = [copy.deepcopy(bp)]
    result = reference.run(until_ns=2_000 * MS)
    assert result.reason == StopReason.BREAKPOINT and result.hit is not None and result.hit.record is None
    stop_step, stop_ns = reference.step_index, reference.now_ns
    before = make_session(load("sb16_render"))
    before.run(max_steps=stop_step - 1)
    previous_ns = before.now_ns
    controller = SessionController(make_session(load("sb16_render")))
    try:
        controller.clear_breakpoints()
        controller.add_breakpoint(copy.deepcopy(bp))
        controller._run_chunks(previous_ns + int((stop_ns - previous_ns) * fraction) - 1, None)  # a frame's end
        assert controller.session.step_index == stop_step - 1
        step = controller.step()  # F10
        assert step.reason == StopReason.BREAKPOINT
        assert (controller.session.step_index, controller.session.now_ns) == (stop_step, stop_ns)
    finally:
        controller.shutdown()
        controller.deleteLater()
