"""The JSONL trace: the documented shape, WDK names for enums, and identical bytes run after run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.scenario import build_world, builtin_names, load, run_world
from model.trace import RECORD_KINDS

NAMES = [name for name, _ in builtin_names()]


def _jsonl(name: str, path: Path) -> bytes:
    world = build_world(load(name))
    run_world(world)
    world.system.trace.write_jsonl(path)
    return path.read_bytes()


@pytest.mark.parametrize("name", ["sb16_render", "sb16_data_race", "ac97_wavepci_render", "sb16_waitfortc"])
def test_two_runs_give_byte_identical_traces(name: str, tmp_path: Path) -> None:
    assert _jsonl(name, tmp_path / "a.jsonl") == _jsonl(name, tmp_path / "b.jsonl")


@pytest.mark.parametrize("name", NAMES)
def test_records_kept_compact_read_back_as_the_records_a_subscriber_is_given(name: str, tmp_path: Path) -> None:
    """A subscriber makes the trace hand out every record as an object at once; without one,
    the hardware's records are kept compact and built when read. Both must give the same
    trace, byte for byte."""
    world = build_world(load(name))
    trace = world.system.trace
    first = len(trace)  # building the world wrote these before anyone subscribed
    seen: list[object] = []
    trace.subscribe(seen.append)
    run_world(world)
    trace.write_jsonl(tmp_path / "eager.jsonl")
    assert seen == trace.records[first:] and all(a is b for a, b in zip(seen, trace.records[first:], strict=True))
    compact = _jsonl(name, tmp_path / "compact.jsonl")
    assert compact == (tmp_path / "eager.jsonl").read_bytes()


@pytest.mark.parametrize("name", NAMES)
def test_trace_records_have_the_documented_shape(name: str, tmp_path: Path) -> None:
    data = _jsonl(name, tmp_path / "t.jsonl").decode("utf-8")
    assert "object at 0x" not in data, "a model object leaked into the trace by its repr"
    last_t = 0
    kinds = set()
    for seq, line in enumerate(data.splitlines()):
        record = json.loads(line)
        assert list(record)[:3] == ["seq", "t_ns", "kind"]
        assert record["seq"] == seq
        assert isinstance(record["t_ns"], int) and record["t_ns"] >= last_t
        last_t = record["t_ns"]
        assert record["kind"] in RECORD_KINDS
        kinds.add(record["kind"])
        if record["kind"] == "call":
            for key in ("object", "interface", "method", "args", "context", "irql", "caller"):
                assert key in record, key
            assert isinstance(record["args"], dict)
            assert record["irql"] in ("PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL", "DIRQL")
            if "status" in record:
                assert record["status"].startswith("STATUS_")
            if "out" in record:
                assert isinstance(record["out"], dict)
        if record["kind"] == "violation":
            assert record["rule"] and record["message"]
        for value in _leaves(record):
            assert value is None or isinstance(value, bool | int | str | float)
    assert {"call", "dpc", "state"} <= kinds


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def test_enums_and_booleans_are_written_by_name(tmp_path: Path) -> None:
    lines = [json.loads(line) for line in _jsonl("sb16_capture", tmp_path / "c.jsonl").splitlines()]
    set_state = next(r for r in lines if r["kind"] == "call" and r["method"] == "SetState")
    assert set_state["args"]["State"] in ("KSSTATE_ACQUIRE", "KSSTATE_RUN")
    start = next(r for r in lines if r["kind"] == "call" and r["method"] == "Start")
    assert start["args"]["WriteToDevice"] is False
    assert start["status"] == "STATUS_SUCCESS" and start["irql"] == "PASSIVE_LEVEL"
    state = next(r for r in lines if r["kind"] == "state" and r["what"] == "KSSTATE")
    assert state["new"].startswith("KSSTATE_")
