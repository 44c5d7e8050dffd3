"""Expectations fail when they should, and say what they found."""

from __future__ import annotations

from model.scenario import ExpectationResult, build_world, check_expectations, load, load_text, run_scenario, run_world
from tests.model.scenario.conftest import MINIMAL


def _results(extra: str, until: str = "60ms") -> list[ExpectationResult]:
    text = MINIMAL.replace('until = "60ms"', f'until = "{until}"') + extra
    return run_scenario(load_text(text)).expectations


def test_status_mismatch_is_reported() -> None:
    (result,) = _results('[[expect]]\ncall = { action = 0 }\nstatus = "STATUS_UNSUCCESSFUL"\n')
    assert not result.passed
    assert result.detail == "found status STATUS_SUCCESS at 0 ns"
    assert result.label == "action[0] pin.SetState(State=KSSTATE_RUN): returns STATUS_UNSUCCESSFUL"


def test_an_action_that_never_ran() -> None:
    extra = (
        '[[action]]\nat = "1s"\nobject = "dma"\nmethod = "BufferSize"\n[[expect]]\ncall = { action = 1 }\nvalue = 0\n'
    )
    (result,) = _results(extra)
    assert not result.passed and result.detail == "no such call was made"


def test_nth_call_from_the_start_and_from_the_end() -> None:
    extra = (
        '[[expect]]\ncall = { object = "dma", method = "CopyTo", nth = 1 }\nexecuted = true\n'
        '[[expect]]\ncall = { object = "dma", method = "CopyTo", nth = -1 }\nexecuted = true\n'
        '[[expect]]\ncall = { object = "dma", method = "CopyTo", nth = 10000 }\nexecuted = true\n'
    )
    first, last, missing = _results(extra)
    assert first.passed and last.passed and first.detail != last.detail
    assert not missing.passed and "there were" in missing.label


def test_comparisons_and_references() -> None:
    extra = (
        '[[action]]\nat = "20ms"\nobject = "dma"\nmethod = "BufferSize"\n'
        '[[action]]\nat = "30ms"\nobject = "dma"\nmethod = "AllocatedBufferSize"\n'
        '[[expect]]\ncall = { action = 1 }\nvalue = "action[2]"\n'
        "[[expect]]\ncall = { action = 1 }\nvalue = { at_least = 0x1000, at_most = 0x4000, multiple_of = 0x1000 }\n"
        "[[expect]]\ncall = { action = 1 }\nvalue = { not_equals = 0x4000 }\n"
    )
    same, ranged, different = _results(extra)
    assert same.passed and ranged.passed
    assert not different.passed and different.detail == "found value 0x4000 at 20.000 ms"


def test_counts() -> None:
    extra = (
        '[[expect]]\ncount = "interrupt"\nwhere = { action = "isr" }\nequals = 5\n'
        '[[expect]]\ncount = "interrupt"\nwhere = { action = "isr" }\nat_least = 1\nat_most = 3\n'
        '[[expect]]\ncount = "call"\nwhere = { object = "dma", method = "CopyTo" }\n'
        'window = { start = "0ms", end = "1ms" }\n'
        "at_least = 1\n"
    )
    exact, ranged, windowed = _results(extra)
    assert exact.passed and exact.detail == "found 5"
    assert not ranged.passed and ranged.label == "interrupt records action=isr: >= 1 and <= 3"
    assert windowed.passed


def test_audio_detects_a_corrupted_byte() -> None:
    world = build_world(load("sb16_render"))
    run_world(world)
    assert all(r.passed for r in check_expectations(world) if r.kind == "audio")
    sink = world.system.machine.sb16.sink
    sink._buffer[5000] ^= 0xFF
    (audio,) = [r for r in check_expectations(world) if r.kind == "audio"]
    assert not audio.passed
    assert audio.detail.startswith("the device played 0x") and "as stream byte 5000" in audio.detail


def test_audio_detects_corruption_in_capture() -> None:
    world = build_world(load("sb16_capture"))
    run_world(world)
    client = world.system.get("client")
    client.received._buffer[777] ^= 0x55
    (audio,) = [r for r in check_expectations(world) if r.kind == "audio"]
    assert not audio.passed and "as its byte 777" in audio.detail


def test_audio_of_a_stream_that_never_ran() -> None:
    text = MINIMAL.replace('args = { State = "KSSTATE_RUN" }', 'args = { State = "KSSTATE_ACQUIRE" }') + (
        '[[expect]]\naudio = "pin"\n'
    )
    (result,) = run_scenario(load_text(text)).expectations
    assert not result.passed and result.detail == "the stream never ran"


def test_summary_numbers_and_forms() -> None:
    summary = run_scenario(load("sb16_underrun"))
    assert summary.passed
    assert summary.glitches == 1 and summary.violations == 0
    assert summary.interrupts == summary.notifications > 40
    assert summary.bytes_moved == 96000
    data = summary.to_dict()
    assert data["passed"] is True and data["scenario"] == "sb16_underrun"
    assert summary.to_json().startswith('{"scenario":"sb16_underrun"') and "\n" not in summary.to_json()
    text = summary.to_text()
    assert "glitches 1" in text and "expectations: 5 of 5 hold" in text
