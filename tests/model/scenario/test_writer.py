"""Writing scenarios back out, and sessions saved as scenarios that replay to the same trace."""

from __future__ import annotations

import pytest

from model.kernel.types import KSSTATE
from model.scenario import (
    Scenario,
    ScenarioError,
    ScenarioWorld,
    build_world,
    builtin_names,
    load,
    load_text,
    make_session,
    run_world,
)
from model.session.breakpoints import BreakKind, Breakpoint, Condition
from model.trace import to_json_line

NAMES = [name for name, _ in builtin_names()]


def _trace(world: ScenarioWorld) -> list[str]:
    return [to_json_line(r) for r in world.system.trace.records]


def _headless(scenario: Scenario) -> list[str]:
    world = build_world(scenario)
    run_world(world)
    return _trace(world)


@pytest.mark.parametrize("name", NAMES)
def test_to_toml_round_trips(name: str) -> None:
    scenario = load(name)
    text = scenario.to_toml()
    again = load_text(text, "again.toml")
    assert again.doc == scenario.doc
    assert again.to_toml() == text


@pytest.mark.parametrize("name", ["sb16_waitfortc", "ac97_wavepci_render", "sb16_64k_boundary"])
def test_rewritten_scenario_runs_identically(name: str) -> None:
    scenario = load(name)
    assert _headless(load_text(scenario.to_toml())) == _headless(scenario)


def test_saved_session_replays_to_the_same_trace() -> None:
    scenario = load("sb16_render")
    session = make_session(scenario)
    session.run(max_steps=25)
    result = session.call("dma", "SetBufferSize", {"BufferSize": 0x2000})
    assert result.executed
    session.run(max_steps=10)
    session.call("pin", "SetState", {"State": KSSTATE.KSSTATE_PAUSE}, context="passive")
    session.run(max_steps=3)
    session.call("pin", "SetState", {"State": "KSSTATE_RUN"})
    session.call("pin", "GetPosition")
    session.run(until_ns=scenario.run_until_ns)
    recorded = session.recorded_actions()
    assert len(recorded) == 4
    text = scenario.to_toml(extra_actions=recorded)
    saved = load_text(text, "saved.toml")
    assert [a.at_step for a in saved.actions if a.at_step is not None] == [a["at_step"] for a in recorded]
    assert _headless(saved) == _trace(session.world)

    # Saved again from a session of the saved file: the same file.
    second = make_session(saved)
    second.run(until_ns=saved.run_until_ns)
    assert _trace(second.world) == _trace(session.world)
    assert saved.to_toml(extra_actions=second.recorded_actions()) == text


def test_session_at_step_zero_is_saved_and_replayed() -> None:
    scenario = load("sb16_render")
    session = make_session(scenario)
    session.call("dma", "BufferSize")
    session.run(until_ns=scenario.run_until_ns)
    saved = load_text(scenario.to_toml(extra_actions=session.recorded_actions()))
    assert _headless(saved) == _trace(session.world)


def test_recorded_model_values_are_written_as_file_values() -> None:
    scenario = load("sb16_render")
    session = make_session(scenario)
    session.call("port", "Notify", {"ServiceGroup": session.system.get("sg")})
    session.call("port", "Notify", {"ServiceGroup": None})
    text = scenario.to_toml(extra_actions=session.recorded_actions())
    assert 'args = { ServiceGroup = "sg" }' in text
    assert 'args = { ServiceGroup = "NULL" }' in text
    load_text(text)


def test_breakpoints_can_be_replaced() -> None:
    scenario = load("sb16_data_race")
    bps = [
        Breakpoint(BreakKind.TIME, time_ns=95_000_000),
        Breakpoint(
            BreakKind.CALL, object="dma", method="SetBufferSize", conditions=[Condition("BufferSize", ">", 0x1000)]
        ),
    ]
    text = scenario.to_toml(breakpoints=bps)
    saved = load_text(text)
    got = saved.breakpoints
    assert [b.kind for b in got] == [BreakKind.TIME, BreakKind.CALL]
    assert got[0].time_ns == 95_000_000 and 'time = "95ms"' in text
    assert got[1].conditions[0].value == 0x1000
    assert "[[breakpoint]]" not in scenario.to_toml(breakpoints=[])


def test_a_recorded_call_the_schema_refuses_is_reported() -> None:
    scenario = load("sb16_render")
    bad = [{"at_step": 1, "at": "0ns", "object": "dma", "method": "SetBufferSize", "args": {"BufferSize": -5}}]
    with pytest.raises(ScenarioError, match=r"as saved\): action\[1\]\.args\.BufferSize"):
        scenario.to_toml(extra_actions=bad)


def test_strings_are_escaped() -> None:
    text = load("sb16_render").to_toml().replace('title = "', 'title = "quote \\" backslash \\\\ tab \\t ', 1)
    scenario = load_text(text)
    assert scenario.title.startswith('quote " backslash \\ tab \t ')
    assert load_text(scenario.to_toml()).title == scenario.title


def test_recorded_actions_replace_the_files_own() -> None:
    scenario = load("sb16_render")
    session = make_session(scenario)
    session.run(max_steps=5)
    session.call("dma", "BufferSize")
    saved = load_text(scenario.to_toml(extra_actions=session.recorded_actions()))
    assert sum(a.at_step is not None for a in saved.actions) == 1
    # A session of the saved file that forked before the call recorded nothing: saving drops it.
    again = make_session(saved)
    again.run(max_steps=10)
    again.goto_step(2)
    again.call("dma", "TransferCount")
    text = saved.to_toml(extra_actions=again.recorded_actions())
    assert [a.method for a in load_text(text).actions if a.at_step is not None] == ["TransferCount"]
    assert load_text(saved.to_toml()).doc == saved.doc


def test_faults_injected_while_paused_are_recorded_and_replay() -> None:
    """issue 6: fault injections made while paused are recorded, and the saved file replays identically."""
    scenario = load("sb16_render")
    session = make_session(scenario)
    session.run(until_ns=100_000_000)
    assert session.call("faults", "StarveClient", {"Milliseconds": 80}).status == 0
    session.run(until_ns=300_000_000)
    assert session.call("faults", "DelayDpcs", {"Milliseconds": 5, "ExtraMicroseconds": 40_000}).status == 0
    session.run(until_ns=scenario.run_until_ns)
    glitches = session.system.trace.of_kind("glitch")
    assert len(glitches) >= 2  # one from the starvation, one from the late DPC
    text = scenario.to_toml(extra_actions=session.recorded_actions())
    assert 'method = "StarveClient"' in text and 'method = "DelayDpcs"' in text
    assert _headless(load_text(text, "saved.toml")) == _trace(session.world)


def test_take_memory_makes_a_later_allocation_fail() -> None:
    scenario = load("sb16_render")
    session = make_session(scenario)
    session.run(until_ns=20_000_000)
    session.call("faults", "TakeMemory", {"Percent": 0, "Seed": 3, "LargestFreeRunPages": 1})
    result = session.call("portcls", "PcNewDmaChannel", {"DeviceObject": "device"})
    channel = result.out["OutDmaChannel"]
    assert (
        session.call(channel.object_id, "AllocateBuffer", {"BufferSize": 0x2000}).status.name == "STATUS_UNSUCCESSFUL"
    )
    assert session.call(channel.object_id, "AllocateBuffer", {"BufferSize": 0x1000}).status == 0
