"""Sessions at the edges an audit found: between events, inside an event, and on every device.

A moment is a step and a time. Break, Run to time and a timeline click leave the clock
between two events; Step Into leaves the model inside one. Going forward and back from
such a moment, finishing such an event, and mixing both with recorded calls must give
exactly what a fresh replay of the same history gives.
"""

from __future__ import annotations

import copy

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from model.scenario import load, make_session
from model.session.breakpoints import BreakKind, Breakpoint
from model.session.session import Session, StopReason
from model.units import MS
from tests.model.session.streams import lines, new_session


def to_next_dpc(session: Session) -> None:
    while "DPC" not in session.describe_next():
        session.step()


def fresh_replay(session: Session) -> Session:
    """A new session given the same recorded calls, taken to the same step and time without breakpoints."""
    ref = new_session(every=session.snapshot_every)
    ref.injections = copy.deepcopy(session.injections)
    ref.restart()  # applies the calls recorded at step 0
    ref.goto_step(session.step_index, moment=False)
    if session.now_ns > ref.now_ns:
        ref.run(until_ns=session.now_ns)
    return ref


def assert_same(a: Session, b: Session) -> None:
    assert (a.step_index, a.now_ns) == (b.step_index, b.now_ns)
    assert lines(a) == lines(b)
    assert a.system.state_digest() == b.system.state_digest()


# --- between events -------------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["sb16", "hda", "ac97", "virtual"])
@pytest.mark.parametrize("n", [1, 5, 40])
def test_forward_and_back_from_a_break_between_events(device: str, n: int) -> None:
    session = new_session(device, every=16)
    session.run(until_ns=37_123_456)  # Break: the clock stops between two events, the DMA has moved on
    event = session.next_event()
    assert event is not None and event.time_ns > session.now_ns  # really between events
    moment = (session.step_index, session.now_ns, session.system.state_digest(), lines(session))
    session.run(max_steps=n)
    session.step_back(n)
    assert (session.step_index, session.now_ns, session.system.state_digest(), lines(session)) == moment


def test_forward_and_back_from_a_timeline_jump() -> None:
    session = new_session(every=16)
    session.run(until_ns=200 * MS)
    session.goto_time(180_500_000)  # a click on the timeline, between two events
    assert session.now_ns == 180_500_000
    digest = session.system.state_digest()
    session.step()
    session.step_back()
    assert session.now_ns == 180_500_000 and session.system.state_digest() == digest


def test_a_click_on_a_log_row_goes_to_the_event_not_to_where_the_user_stood() -> None:
    session = new_session(every=16)
    session.run(until_ns=37_123_456)
    step = session.step_index
    last_record = session.system.trace.records[-1]
    session.goto_record(last_record.seq)  # the step that made it: the same step, at its event's time
    assert session.step_index == step and session.now_ns == last_record.t_ns < 37_123_456
    ref = new_session(every=16)
    ref.goto_step(step)
    assert_same(session, ref)


# --- inside an event ------------------------------------------------------------------------------------


@pytest.mark.parametrize("leave", ["step", "step_out", "run", "step_back", "call"])
def test_step_into_after_a_recorded_call_makes_each_call_once(leave: str) -> None:
    session = new_session(every=16)
    session.run(until_ns=20 * MS)
    to_next_dpc(session)
    session.call("dma", "SetBufferSize", {"BufferSize": 0x2000})
    session.step_into()
    assert session.frozen is not None
    if leave == "step":
        session.step()
    elif leave == "step_out":
        session.step_out()
    elif leave == "run":
        session.run(max_steps=3)
    elif leave == "step_back":
        session.step_back()
    else:
        session.call("pin", "GetPosition")
    assert session.frozen is None
    assert sum(1 for r in session.system.trace.records if getattr(r, "method", "") == "SetBufferSize") == 1
    assert_same(session, fresh_replay(session))


def test_finishing_an_event_from_inside_it_stops_at_breakpoints_and_highlights_it() -> None:
    plain = new_session(every=16)
    plain.run(until_ns=20 * MS)
    to_next_dpc(plain)
    first = len(plain.system.trace)
    plain.step()
    event_records = (first, len(plain.system.trace))

    def inside() -> tuple[Session, Breakpoint]:
        session = new_session(every=16)
        session.run(until_ns=20 * MS)
        to_next_dpc(session)
        bp = session.add_breakpoint(Breakpoint(BreakKind.CALL, object="dma", method="CopyTo"))
        assert session.step_into().reason == StopReason.FROZEN  # before RequestService: CopyTo still to come
        return session, bp

    for finish in ("step", "step_out"):
        session, bp = inside()
        result = getattr(session, finish)()
        assert result.reason == StopReason.BREAKPOINT and bp.hits == 1, finish
        assert result.hit is not None and result.hit.record.method == "CopyTo"
        assert session.last_step_records() == event_records, finish

    session, bp = inside()
    while session.step_into().reason == StopReason.FROZEN:  # every call shown one by one, CopyTo included
        pass
    assert bp.hits == 0  # what was shown while stepping through does not stop again
    assert session.last_step_records() == event_records  # the log highlights the event that just ended


def test_step_out_from_the_events_own_call_finishes_the_event() -> None:
    session = new_session(every=16)
    session.run(until_ns=20 * MS)
    to_next_dpc(session)
    step = session.step_index
    session.step_into()
    assert session.frozen is not None and session.frozen.record.depth == 0
    session.step_out()
    assert session.frozen is None and session.step_index == step + 1
    ref = new_session(every=16)
    ref.goto_step(step + 1)
    assert_same(session, ref)


# --- breakpoints that the first tests did not reach ------------------------------------------------------


def test_a_time_breakpoint_on_an_events_time_stops_where_run_to_that_time_stops() -> None:
    reference = new_session(every=16)
    reference.run(until_ns=30 * MS)
    t = reference.next_event().time_ns  # the next event's own time
    ran = new_session(every=16)
    ran.run(until_ns=t)
    session = new_session(every=16)
    session.add_breakpoint(Breakpoint(BreakKind.TIME, time_ns=t))
    result = session.run(until_ns=400 * MS)
    assert result.reason == StopReason.BREAKPOINT and session.now_ns == t
    assert_same(session, ran)  # the events at t ran, as `dmaviz run --until t` runs them


def test_a_time_breakpoint_is_not_skipped_when_a_run_is_cut_short_between_its_events() -> None:
    t = 20 * MS  # two events run at this time (the block end and the client's tick)
    reference = new_session(every=16)
    times = []
    while reference.now_ns <= t:
        reference.step()
        times.append(reference.now_ns)
    assert times.count(t) >= 2
    session = new_session(every=16)
    session.add_breakpoint(Breakpoint(BreakKind.TIME, time_ns=t))
    results = []
    while not results or results[-1].reason == StopReason.DEADLINE:
        results.append(session.run(until_ns=400 * MS, deadline=lambda: True))  # the GUI's frame budget, tiny
    assert results[-1].reason == StopReason.BREAKPOINT and session.now_ns == t
    ran = new_session(every=16)
    ran.run(until_ns=t)
    assert_same(session, ran)
    assert session.run(max_steps=1).reason == StopReason.STEP  # standing on it: the next run goes on


def test_a_violation_breakpoint_stops_the_run_at_the_violation() -> None:
    session = make_session(load("sb16_waitfortc"))
    bp = session.add_breakpoint(Breakpoint(BreakKind.VIOLATION))
    result = session.run(until_ns=2_000 * MS)
    assert result.reason == StopReason.BREAKPOINT and bp.hits == 1
    assert result.hit is not None and result.hit.record.kind == "violation"
    first, end = session.last_step_records()
    assert first <= result.hit.record.seq < end  # the step that just ran made it


@pytest.mark.parametrize("offset", [0x1000, 0x2000])
def test_a_position_breakpoint_stops_a_wavepci_stream(offset: int) -> None:
    session = new_session("ac97", every=16)
    stream = session.system.get("stream")
    session.add_breakpoint(Breakpoint(BreakKind.POSITION, object="pin", offset=offset))
    before = stream.probe_position()
    result = session.run(until_ns=1_000 * MS)
    assert result.reason == StopReason.BREAKPOINT
    after = stream.probe_position()
    assert before < offset <= after
    session.breakpoints.clear()
    session.step_back()
    assert session.system.get("stream").probe_position() < offset  # the step before had not crossed it


def test_the_wavepci_probe_is_getposition_without_side_effects() -> None:
    session = new_session("ac97", every=16)
    system = session.system
    for _ in range(30):
        session.run(max_steps=3)
        before, digest = len(system.trace), system.state_digest()
        probed = system.get("stream").probe_position()
        assert len(system.trace) == before and system.state_digest() == digest
        assert system.call("stream", "GetPosition", context="dispatch").out["Position"] == probed


# --- any mix of it ---------------------------------------------------------------------------------------

OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["step", "run", "run_to", "back", "goto", "goto_time", "call", "into", "call_into", "out", "restart"]
        ),
        st.integers(1, 60),
    ),
    min_size=1,
    max_size=14,
)


@given(ops=OPS)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_sequence_of_debugger_commands_equals_a_fresh_replay(ops: list[tuple[str, int]]) -> None:
    session = new_session(every=16)
    for op, k in ops:
        if op == "step":
            session.step()
        elif op == "run":
            session.run(max_steps=k)
        elif op == "run_to":
            session.run(until_ns=session.now_ns + k * 777_777)  # Break somewhere between events
        elif op == "back":
            session.step_back(k)
        elif op == "goto":
            session.goto_step(k * 3 % (session.furthest_step + 5))
        elif op == "goto_time":
            session.goto_time(k * 1_234_567)
        elif op == "call":
            if k % 2:
                session.call("pin", "GetPosition")
            else:
                session.call("dma", "SetBufferSize", {"BufferSize": 0x1000 * (1 + k % 4)})
        elif op in ("into", "call_into"):
            if op == "call_into":  # a call, then into the next event: its snapshot holds the call
                to_next_dpc(session)
                session.call("dma", "SetBufferSize", {"BufferSize": 0x1000 * (1 + k % 4)})
            for _ in range(1 + k % 4):
                session.step_into()
        elif op == "out":
            session.step_out()
        else:
            session.restart()
    if session.frozen is not None:
        session.step()
    assert_same(session, fresh_replay(session))
