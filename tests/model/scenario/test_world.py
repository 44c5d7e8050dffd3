"""Building a scenario's world and playing its actions: timing, triggers, faults, injections, sessions."""

from __future__ import annotations

import pytest

from model import snapshot
from model.hardware.memory import PAGE_SIZE, PageOwner
from model.scenario import ScenarioError, ScenarioWorld, build_world, load, load_text, make_session, run_world
from model.session.breakpoints import BreakKind
from model.trace import CallRecord, NoteRecord, to_json_line
from tests.model.scenario.conftest import MINIMAL


def _trace(world: ScenarioWorld) -> list[str]:
    return [to_json_line(r) for r in world.system.trace.records]


def test_world_has_the_parts_a_session_needs() -> None:
    world = build_world(load_text(MINIMAL))
    assert world.system is world.topology.system
    assert world.system.get("pin") is world.pins[0]
    assert world.system.get("dma") is not None and world.system.get("client") is not None
    assert world.install_status.name == "STATUS_SUCCESS"
    assert world.system.now_ns == 0 and world.system.sim.steps == 0
    event = world.system.sim.peek()
    assert event is not None and event.source == "scenario" and event.name.startswith("action[0] pin.SetState")


def test_machine_settings_reach_the_model() -> None:
    text = MINIMAL.replace(
        "[device]", '[machine]\nmemory = "32MiB"\nisr_latency = "5us"\ndpc_latency = "1ms"\n[device]'
    )
    world = build_world(load_text(text))
    assert world.system.machine.memory.size == 32 * 1024 * 1024
    assert world.system.machine.interrupts.isr_latency_ns == 5_000
    assert world.system.kernel.dpc_latency_ns == 1_000_000


def test_stream_settings_reach_the_pin() -> None:
    """write_ahead and silence_threshold set the WaveCyclic port's copy policy for that stream."""
    assert "[[stream]]\n" in MINIMAL
    text = MINIMAL.replace("[[stream]]\n", '[[stream]]\nwrite_ahead = "60ms"\nsilence_threshold = "15ms"\n', 1)
    pin = build_world(load_text(text)).pins[0]
    assert (pin.write_ahead_ns, pin.silence_threshold_ns) == (60_000_000, 15_000_000)
    default = build_world(load_text(MINIMAL)).pins[0]
    assert (default.write_ahead_ns, default.silence_threshold_ns) == (40_000_000, 30_000_000)


def test_faults_reach_the_model() -> None:
    text = MINIMAL + (
        '[[fault]]\nkind = "starve"\nstart = "10ms"\nend = "20ms"\n'
        '[[fault]]\nkind = "dpc_spike"\nstart = "5ms"\nend = "6ms"\nextra = "2ms"\n'
        '[[fault]]\nkind = "memory_pressure"\noccupy = [{ address = 0x400000, length = "8KiB" }]\n'
    )
    world = build_world(load_text(text))
    client = world.system.get("client")
    assert [(s.start_ns, s.end_ns) for s in client.starvations] == [(10_000_000, 20_000_000)]
    assert [(s.start_ns, s.end_ns, s.extra_ns) for s in world.system.kernel.spikes] == [
        (5_000_000, 6_000_000, 2_000_000)
    ]
    memory = world.system.machine.memory
    assert all(memory.owner[0x400000 // PAGE_SIZE + i] == PageOwner.SYSTEM for i in range(2))
    assert any(r.kind == "memory" and r.action == "pressure" for r in world.system.trace.records)
    run_world(world, 30_000_000)
    notes = [r.text for r in world.system.trace.records if isinstance(r, NoteRecord)]
    assert any("starves" in n for n in notes) and any("fault[0] ends" in n for n in notes)


def test_actions_at_the_same_time_run_in_file_order() -> None:
    text = MINIMAL + "".join(
        f'[[action]]\nat = "5ms"\nobject = "dma"\nmethod = "{m}"\n'
        for m in ("BufferSize", "TransferCount", "SystemAddress")
    )
    world = build_world(load_text(text))
    run_world(world, 6_000_000)
    calls = [r.method for r in world.system.trace.records if isinstance(r, CallRecord) and r.caller == "scenario"]
    assert calls == ["SetState", "BufferSize", "TransferCount", "SystemAddress"]
    assert world.driver.results[2]["value"] > 0 and world.driver.results[1]["value"] == 0x4000


def test_after_trigger_with_nth_and_delay() -> None:
    text = MINIMAL.replace('until = "60ms"', 'until = "200ms"') + (
        '[[action]]\nafter = "terminal_count#2"\ndelay = "1500us"\nobject = "dma"\nmethod = "ReadCounter"\n'
    )
    world = build_world(load_text(text))
    run_world(world)
    tcs = [r.t_ns for r in world.system.trace.records if r.kind == "terminal_count"]
    result = world.driver.results[1]
    assert result["t_ns"] == tcs[1] + 1_500_000
    assert world.driver.waiting == []


def test_after_trigger_on_a_call_and_its_outcome() -> None:
    text = MINIMAL + (
        '[[action]]\nafter = { kind = "call", object = "dma", method = "CopyTo", '
        'where = { "args.ByteCount" = 1920 } }\n'
        'note = "a 10 ms copy"\n'
        '[[action]]\nafter = { kind = "call", method = "SetState", where = { status = "STATUS_SUCCESS" }, nth = 2 }\n'
        'note = "second successful SetState"\n'
    )
    world = build_world(load_text(text))
    run_world(world)
    notes = {r.text: r for r in world.system.trace.records if isinstance(r, NoteRecord)}
    assert "a 10 ms copy" in notes and "second successful SetState" in notes
    copy = next(
        r
        for r in world.system.trace.records
        if isinstance(r, CallRecord) and r.method == "CopyTo" and r.args["ByteCount"] == 1920
    )
    assert notes["a 10 ms copy"].t_ns == copy.t_ns


def test_unknown_object_is_allowed_when_an_action_creates_objects() -> None:
    text = MINIMAL + (
        '[[action]]\nat = "1ms"\nobject = "portcls"\nmethod = "PcNewServiceGroup"\n'
        '[[action]]\nat = "2ms"\nobject = "nosuch"\nmethod = "AddRef"\n'
    )
    world = build_world(load_text(text))
    run_world(world)
    notes = [r.text for r in world.system.trace.records if isinstance(r, NoteRecord)]
    assert any(n.startswith("action[2] not made: there is no object 'nosuch'") for n in notes)
    assert world.driver.results[2]["executed"] is False


def test_at_step_actions_are_applied_after_their_step() -> None:
    text = MINIMAL + '[[action]]\nat_step = 3\nat = "1ms"\nobject = "dma"\nmethod = "BufferSize"\n'
    scenario = load_text(text)
    world = build_world(scenario)
    steps = []
    world.system.trace.subscribe(
        lambda r: steps.append(world.system.sim.steps) if r.kind == "call" and r.caller == "user" else None
    )
    run_world(world)
    assert steps == [3]
    user = [r for r in world.system.trace.records if isinstance(r, CallRecord) and r.caller == "user"]
    assert user[0].t_ns >= 1_000_000


def test_at_step_that_cannot_reach_its_time_is_an_error() -> None:
    text = MINIMAL + '[[action]]\nat_step = 1\nat = "50ms"\nobject = "dma"\nmethod = "BufferSize"\n'
    with pytest.raises(ScenarioError, match=r"action\[1\]: at_step 1 with at = 50.000 ms"):
        run_world(build_world(load_text(text)))


def test_session_from_scenario_matches_the_headless_run() -> None:
    scenario = load("sb16_data_race")
    headless = build_world(scenario)
    run_world(headless)
    session = make_session(scenario)
    assert [bp.kind for bp in session.breakpoints] == [BreakKind.VIOLATION]
    session.breakpoints.clear()
    session.run(until_ns=scenario.run_until_ns)
    assert _trace(session.world) == _trace(headless)


def test_session_can_step_back_over_a_scenario_world() -> None:
    session = make_session(load("sb16_underrun"))
    session.run(max_steps=40)
    digest = snapshot.digest(session.world)
    session.run(max_steps=30)
    session.goto_step(40)
    assert snapshot.digest(session.world) == digest


def test_step_zero_injections_apply_at_once() -> None:
    text = MINIMAL + '[[action]]\nat_step = 0\nobject = "dma"\nmethod = "BufferSize"\n'
    session = make_session(load_text(text))
    user = [r for r in session.system.trace.records if isinstance(r, CallRecord) and r.caller == "user"]
    assert [r.method for r in user] == ["BufferSize"]
    assert session.injections[0][0].method == "BufferSize"


def test_triggers_count_what_happens_while_the_driver_starts() -> None:
    text = MINIMAL + '[[action]]\nafter = "dma16.AllocateBuffer"\nobject = "dma"\nmethod = "AllocatedBufferSize"\n'
    world = build_world(load_text(text))
    run_world(world)
    assert world.driver.results[1]["value"] == 0x4000 and world.driver.results[1]["t_ns"] == 0
