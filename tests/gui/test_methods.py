"""Every declared method can be called from the Methods panel, with its defaults and with a bad argument;
what the panel shows is what the trace recorded."""

from __future__ import annotations

from typing import Any

import pytest

from gui import scenario_source
from gui.view_models.method_call import show_value
from model.interfaces.declarations import all_methods
from model.interfaces.types import Kind, Method
from model.scenario import load, make_session
from model.trace import CallRecord, ViolationRecord
from model.units import MS

# One built-in scenario per device kind covers every object kind the model has.
BUILTINS = [name for name, _title in scenario_source.builtin_scenarios()]


def _by_device() -> dict[str, str]:
    chosen: dict[str, str] = {}
    for name in BUILTINS:
        chosen.setdefault(load(name).device, name)
    return chosen


SCENARIOS = sorted(_by_device().values())
INVALID = {Kind.INT: "0x1FFFFFFFFFFFFFFFF", Kind.BOOL: "maybe", Kind.ENUM: "NOT_A_NAME", Kind.STRUCT: "Bogus=1"}


def _targets(name: str) -> list[tuple[str, list[str]]]:
    session = make_session(load(name))
    session.run(until_ns=15 * MS)
    system = session.system
    return [(obj_id, list(obj.method_table())) for obj_id, obj in sorted(system.objects.items()) if obj.method_table()]


def test_every_declared_method_is_reachable() -> None:
    """Through the objects of the built-in scenarios, every method of every interface can be picked."""
    reachable: set[str] = set()
    for name in SCENARIOS:
        session = make_session(load(name))
        session.run(until_ns=15 * MS)
        for obj in session.system.objects.values():
            for method in obj.method_table().values():
                reachable.add(method.qualified)
            # A derived interface hides the base's method of the same name on that object only.
    declared = {m.qualified for m in all_methods()}
    hidden = {
        m.qualified
        for m in all_methods()
        if m.qualified not in reachable and any(r.endswith(f"::{m.name}") for r in reachable)
    }
    assert declared - reachable - hidden == set()


def _check_shown_matches_trace(panel: Any, session: Any) -> None:
    view = panel.result
    result = panel.last_call
    assert view is not None and result is not None
    record = session.records()[view.seq]
    assert isinstance(record, CallRecord) and record is result.record
    assert view.status == (show_value(record.status) if record.status is not None else None)
    assert view.value == (show_value(record.value) if record.value is not None else None)
    assert view.out == [(k, show_value(v)) for k, v in (record.out or {}).items()]
    assert view.context == record.context
    traced = [r for r in session.records() if isinstance(r, ViolationRecord) and r.call_seq == record.seq]
    assert {(r.rule, r.message) for r in traced} <= {(rule, message) for rule, message, _w in view.violations}
    text = panel.output.toPlainText()
    assert view.headline in text
    for rule, _message, _windows in view.violations:
        assert rule in text


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_method_with_its_defaults(make_window: Any, name: str) -> None:
    window = make_window(name, show=False)
    panel = window.methods_panel
    calls = 0
    for obj_id, methods in _targets(name):
        for method in methods:
            # A fresh session per call: each call starts from the scenario's moment, whatever the last one broke.
            assert window.load(name)
            window.controller.run_for(15 * MS)
            assert panel.select(obj_id, method), (obj_id, method)
            result = panel.call()
            assert result is not None
            _check_shown_matches_trace(panel, window.controller.session)
            calls += 1
    assert calls > 10


def _bad_input(method: Method) -> tuple[str, str, bool] | None:
    """(parameter, text, refused): a value the model refuses, or a missing object (passed as NULL)."""
    for param in method.inputs:
        if param.ptype.kind in INVALID:
            return param.name, INVALID[param.ptype.kind], True
    for param in method.inputs:
        if param.ptype.kind == Kind.OBJECT:
            return param.name, "no_such_object", False
    return None


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_method_with_a_bad_argument(make_window: Any, name: str) -> None:
    window = make_window(name, show=False)
    panel = window.methods_panel
    assert window.load(name)
    window.controller.run_for(15 * MS)
    tried = 0
    for obj_id, methods in _targets(name):
        for method_name in methods:
            assert panel.select(obj_id, method_name)
            method = panel.method
            assert method is not None
            bad = _bad_input(method)
            if bad is None:
                continue
            param, text, refused = bad
            panel.form.set_value(param, text)
            assert param in panel.form.errors(), f"{method.qualified}: no inline message for {param}={text}"
            result = panel.call()
            assert result is not None
            _check_shown_matches_trace(panel, window.controller.session)
            if refused:
                assert not result.executed and panel.result.headline.startswith("refused")
                assert any(rule == "bad-argument" for rule, _m, _w in panel.result.violations)
            tried += 1
    assert tried > 5


def test_an_irql_violation_is_explained(make_window: Any) -> None:
    window = make_window("sb16_render", show=False)
    window.controller.run_for(15 * MS)
    panel = window.methods_panel
    assert panel.select("dma", "AllocateBuffer")
    panel.context_box.setCurrentIndex(panel.context_box.findData("isr"))
    assert panel.irql_note.property("role") == "error"
    panel.call()
    rules = [rule for rule, _m, _w in panel.result.violations]
    assert "irql" in rules
    assert "On Windows" in panel.output.toPlainText()


def test_the_form_is_generated_from_the_declaration(make_window: Any) -> None:
    window = make_window("sb16_render", show=False)
    window.controller.run_for(15 * MS)
    panel = window.methods_panel
    assert panel.select("dma", "CopyTo")
    method = panel.method
    assert method is not None
    assert list(panel.form.fields) == [p.name for p in method.inputs]
    field = panel.form.fields["Destination"]
    system = window.controller.session.system
    assert f"0x{system.get('dma').buffer_va:X}" in field.editor.placeholderText()  # FromTarget default shown
    assert "SystemAddress()" in field.hint
    panel.form.set_value("ByteCount", "12x")
    assert "ByteCount" in panel.form.errors()
    panel.form.set_value("ByteCount", "0x40")
    assert panel.form.errors() == {}
    assert panel.form.arguments() == {"ByteCount": 0x40}
    assert "learn.microsoft.com" in panel.description.text()


def test_inject_fault_menu_opens_the_form_and_the_fault_is_recorded(make_window: Any) -> None:
    """issue 6: a fault injected while paused is a recorded call (so a saved session replays it)."""
    window = make_window("sb16_render")
    controller = window.controller
    controller.run_for(100_000_000)
    actions = {a.text(): a for a in window.fault_menu.actions()}
    assert set(actions) == {"StarveClient", "DelayDpcs", "TakeMemory"}
    actions["StarveClient"].trigger()
    panel = window.methods_panel
    assert panel.method_box.currentData() == "StarveClient"
    result = panel.call()
    assert result is not None and result.status is not None and result.status.name == "STATUS_SUCCESS"
    recorded = controller.session.recorded_actions()
    assert recorded[-1]["object"] == "faults" and recorded[-1]["method"] == "StarveClient"
    controller.run_for(300_000_000)
    assert controller.session.system.trace.count("glitch") == 1
