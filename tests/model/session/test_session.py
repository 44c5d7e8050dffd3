"""Sessions: exact reverse stepping at the edges, one execution path, breakpoints, recorded calls."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from model.session.breakpoints import BreakKind, Breakpoint, Condition
from model.session.session import Session, StopReason
from model.trace import to_json_line
from model.units import MS
from tests.model.session.streams import lines, new_session


def first_wrap_step(session: Session) -> int:
    """The step right after the first terminal count (the 8237 reloads: the buffer wrapped)."""
    session.run(until_ns=200 * MS)
    records = session.records()
    starts = session.step_starts()
    seq = next(r.seq for r in records if r.kind == "terminal_count")
    return next(i for i, s in enumerate(starts) if s > seq)


@pytest.mark.parametrize("edge", ["first", "wrap", "restart", "jump"])
@pytest.mark.parametrize("n", [1, 2, 7, 33, 100])
def test_forward_n_then_back_n_is_identical_at_the_edges(edge: str, n: int) -> None:
    session = new_session()
    if edge == "wrap":
        session.goto_step(first_wrap_step(session))
    elif edge == "restart":
        session.run(until_ns=50 * MS)
        session.restart()
    elif edge == "jump":
        session.run(until_ns=150 * MS)
        session.goto_step(41)
    start = session.step_index
    digest = session.system.state_digest()
    trace = lines(session)
    session.run(max_steps=n)
    assert session.step_index == start + n
    session.step_back(n)
    assert session.step_index == start
    assert session.system.state_digest() == digest
    assert lines(session) == trace


@given(start=st.integers(0, 120), n=st.integers(1, 150))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_forward_and_back_random(start: int, n: int) -> None:
    session = new_session(every=16)
    session.goto_step(start)
    digest = session.system.state_digest()
    session.run(max_steps=n)
    session.goto_step(start)
    assert session.system.state_digest() == digest


@pytest.mark.parametrize("device", ["sb16", "hda", "virtual", "ac97"])
def test_step_by_step_equals_run_to_time(device: str) -> None:
    stepped = new_session(device)
    while True:
        event = stepped.next_event()
        if event is None or event.time_ns > 120 * MS:
            break
        stepped.step()
    stepped.run(until_ns=120 * MS)
    ran = new_session(device)
    ran.run(until_ns=120 * MS)
    assert lines(stepped) == lines(ran)
    assert stepped.system.state_digest() == ran.system.state_digest()


def test_step_into_walks_the_calls_of_one_event_and_step_out_finishes_it() -> None:
    session = new_session()
    session.run(until_ns=25 * MS)
    while "DPC" not in session.describe_next():
        session.step()
    step = session.step_index
    boundary = session.system.state_digest()
    seen = []
    while True:
        result = session.step_into()
        if result.reason != StopReason.FROZEN:
            break
        seen.append((session.frozen.record.object, session.frozen.record.method))
    assert seen[:3] == [("pin", "RequestService"), ("stream", "GetPosition"), ("dma16", "TransferCount")]
    assert ("dma16", "CopyTo") in seen
    assert session.step_index == step + 1
    done = session.system.state_digest()
    session.goto_step(step)
    assert session.system.state_digest() == boundary
    session.step_into()
    session.step_into()  # stopped before GetPosition (depth 1)
    assert session.frozen.record.method == "GetPosition"
    session.step_out()  # finishes RequestService's callees up to the next depth-0 call: the event ends
    assert session.frozen is None and session.step_index == step + 1
    assert session.system.state_digest() == done


def test_step_back_from_inside_an_event_returns_to_its_start() -> None:
    session = new_session()
    session.run(max_steps=12)
    while "DPC" not in session.describe_next():
        session.step()
    step = session.step_index
    digest = session.system.state_digest()
    session.step_into()
    session.step_into()
    assert session.frozen is not None
    session.step_back()
    assert session.frozen is None and session.step_index == step
    assert session.system.state_digest() == digest


def test_each_breakpoint_kind_stops_at_the_right_step() -> None:
    cases = [
        (
            Breakpoint(BreakKind.CALL, object="dma", method="CopyTo"),
            lambda r: r.kind == "call" and r.method == "CopyTo",
        ),
        (Breakpoint(BreakKind.TERMINAL_COUNT, channel=5), lambda r: r.kind == "terminal_count" and r.channel == 5),
        (Breakpoint(BreakKind.BLOCK_END), lambda r: r.kind == "block_end"),
        (Breakpoint(BreakKind.INTERRUPT), lambda r: r.kind == "interrupt"),
        (Breakpoint(BreakKind.DPC), lambda r: r.kind == "dpc"),
    ]
    for bp, is_it in cases:
        reference = new_session()
        base = len(reference.system.trace.records)  # records made while the stack was built
        reference.run(until_ns=300 * MS)
        expected = next(r for r in reference.system.trace.records[base:] if is_it(r))
        session = new_session()
        session.add_breakpoint(bp)
        result = session.run(until_ns=300 * MS)
        assert result.reason == StopReason.BREAKPOINT, bp.describe()
        assert result.hit.record.seq == expected.seq
        starts = session.system.trace.step_starts
        assert starts[-1] <= expected.seq < len(session.system.trace.records)  # it is this step's record
        assert bp.hits == 1


def test_conditional_call_breakpoint_stops_only_when_the_condition_holds() -> None:
    session = new_session()
    never = session.add_breakpoint(
        Breakpoint(BreakKind.CALL, object="dma", method="CopyTo", conditions=[Condition("ByteCount", ">", 0x10000)])
    )
    assert session.run(until_ns=200 * MS).reason == StopReason.TIME
    assert never.hits == 0
    session.remove_breakpoint(never)
    ctx = session.add_breakpoint(Breakpoint(BreakKind.CALL, method="ReadCounter", context="passive"))
    assert session.run(until_ns=300 * MS).reason == StopReason.TIME  # the DPC calls it, never a thread
    assert ctx.hits == 0
    ctx.enabled = False
    status = session.add_breakpoint(Breakpoint(BreakKind.CALL, method="SetState", status="STATUS_SUCCESS"))
    session.call("pin", "SetState", {"State": "KSSTATE_PAUSE"})
    assert status.hits == 0  # interactive calls are not stepped over breakpoints; the next run is
    result = session.run(until_ns=400 * MS)
    assert result.reason == StopReason.TIME


def test_time_position_glitch_and_violation_breakpoints() -> None:
    session = new_session()
    session.add_breakpoint(Breakpoint(BreakKind.TIME, time_ns=123 * MS))
    result = session.run(until_ns=1_000 * MS)
    assert result.reason == StopReason.BREAKPOINT and session.now_ns == 123 * MS
    session.breakpoints.clear()
    session.add_breakpoint(Breakpoint(BreakKind.POSITION, object="pin", offset=0x2000))
    before = session.system.get("stream").probe_position()
    result = session.run(until_ns=1_000 * MS)
    after = session.system.get("stream").probe_position()
    assert result.reason == StopReason.BREAKPOINT
    assert before < 0x2000 <= after or after < before
    session.breakpoints.clear()
    session.add_breakpoint(Breakpoint(BreakKind.VIOLATION, rule="buffer-size"))
    session.call("dma", "SetBufferSize", {"BufferSize": 0x100000})
    assert session.system.trace.count("violation", rule="buffer-size") == 1
    session.breakpoints.clear()
    glitch = session.add_breakpoint(Breakpoint(BreakKind.GLITCH))
    session.world.clients[0].starve(session.now_ns, session.now_ns + 200 * MS)
    result = session.run(until_ns=2_000 * MS)
    assert result.reason == StopReason.BREAKPOINT and result.hit.record.kind == "glitch" and glitch.hits == 1


def test_a_call_in_the_past_forks_and_replays_with_its_injection() -> None:
    session = new_session()
    session.run(until_ns=100 * MS)
    furthest = session.step_index
    session.goto_step(furthest // 2)
    assert not session.forked
    session.call("dma", "SetBufferSize", {"BufferSize": 0x2000})
    assert session.forked and session.furthest_step == furthest // 2
    session.run(until_ns=150 * MS)
    trace = lines(session)
    digest = session.system.state_digest()
    session.goto_step(3)
    session.run(until_ns=150 * MS)  # replay passes the injection again
    assert lines(session) == trace
    assert session.system.state_digest() == digest
    actions = session.recorded_actions()
    assert len(actions) == 1 and actions[0]["method"] == "SetBufferSize" and actions[0]["at_step"] == furthest // 2


def test_log_keeps_the_future_after_a_jump_back_and_click_to_a_later_row() -> None:
    session = new_session()
    session.run(until_ns=100 * MS)
    total = len(session.records())
    later = session.records()[total - 5].seq
    session.goto_step(10)
    assert len(session.records()) == total  # the log still shows what comes later
    session.goto_record(later)
    assert len(session.system.trace.records) > later
    assert session.system.trace.step_starts[-1] <= later
    reference = new_session()
    reference.goto_step(session.step_index)
    assert lines(reference) == lines(session)  # the jump forward rebuilt exactly the same trace
    assert reference.system.state_digest() == session.system.state_digest()


@pytest.mark.parametrize("every", [8, 32])
def test_history_survives_any_sequence_of_jumps(every: int) -> None:
    """The log's recorded history stays exact through jumps back, forward, short and far, and Step Into."""
    session = new_session(every=every)
    session.run(until_ns=150 * MS)
    reference = [to_json_line(r) for r in session.records()]
    furthest = session.step_index
    for target in (furthest - 2, furthest - 30, 5, furthest - 1, 40, 41, 3, furthest, furthest - 7, 0):
        session.goto_step(target)
        if target % 2 and target < furthest - 1:  # Step Into at the end would extend the history
            session.step_into()
            session.step_into()
        assert [to_json_line(r) for r in session.records()] == reference
        assert list(session.step_starts())[: len(session.system.trace.step_starts)] == session.system.trace.step_starts
    session.goto_step(furthest)
    assert lines(session) == reference


@pytest.mark.parametrize("device", ["sb16", "hda", "virtual"])
def test_probe_position_equals_getposition_without_side_effects(device: str) -> None:
    session = new_session(device)
    system = session.system
    for _ in range(40):
        session.run(max_steps=3)
        before = len(system.trace)
        digest = system.state_digest()
        probed = system.get("stream").probe_position()
        assert len(system.trace) == before and system.state_digest() == digest  # probing changed nothing
        assert system.call("stream", "GetPosition", context="dispatch").out["Position"] == probed


@pytest.mark.parametrize("chunk_us", [137, 1000, 7000])
@pytest.mark.parametrize(
    "bp",
    [
        Breakpoint(BreakKind.TIME, time_ns=123_456_789),
        Breakpoint(BreakKind.POSITION, object="pin", offset=0x2222),
        Breakpoint(BreakKind.CALL, method="CopyTo", conditions=[Condition("ByteCount", "<", 1000)]),
    ],
    ids=["time", "position", "call"],
)
def test_running_in_chunks_stops_where_one_run_stops(bp: Breakpoint, chunk_us: int) -> None:
    """The GUI runs in frame-sized chunks; a breakpoint must stop at the same moment either way."""
    import copy

    whole = new_session()
    whole.add_breakpoint(copy.deepcopy(bp))
    one = whole.run(until_ns=400 * MS)
    chunked = new_session()
    chunked.add_breakpoint(copy.deepcopy(bp))
    while True:
        result = chunked.run(until_ns=min(400 * MS, chunked.now_ns + chunk_us * 1000))
        if result.reason != StopReason.TIME or chunked.now_ns >= 400 * MS:
            break
    assert (result.reason, chunked.step_index) == (one.reason, whole.step_index)
    assert one.reason == StopReason.BREAKPOINT
    assert chunked.now_ns == whole.now_ns
    assert lines(chunked) == lines(whole)


def test_running_to_a_time_already_passed_does_nothing() -> None:
    session = new_session()
    session.run(until_ns=50 * MS)
    digest = session.system.state_digest()
    assert session.run(until_ns=10 * MS).steps == 0
    assert session.system.state_digest() == digest


def test_records_built_in_bulk_join_the_permanent_generation_like_those_a_run_makes() -> None:
    """The hardware's records stay compact until read; the first read after a long run builds
    them all at once. Left in the young generations, they would make every collection during
    the next jumps walk them (50 ms pauses), so the session freezes them as it freezes the
    objects a run makes after each snapshot."""
    import gc

    session = new_session(every=4096)
    session.run(until_ns=45_000 * MS)  # about 105 000 records, 60 000 of them compact
    trace = session.system.trace
    compact = sum(type(entry) is tuple for entry in trace._records)
    assert compact > 50_000
    frozen = gc.get_freeze_count()
    try:
        records = session.records()
        assert all(type(r) is not tuple for r in records)
        assert gc.get_freeze_count() >= frozen + compact
    finally:
        gc.unfreeze()
