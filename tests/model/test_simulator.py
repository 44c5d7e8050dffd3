"""The virtual clock, the event queue and the trace."""

from __future__ import annotations

import pytest

from model import MS, Machine
from model.simulator import SimulationError, Simulator
from model.trace import DpcRecord, EventRecord, InterruptRecord, NoteRecord, Record, RegisterRecord, to_json_line

SB = 0x220


class Log:
    """Events append to this list (a bound method, as model events are)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.seen: list[tuple[int, str]] = []

    def hit(self, label: str) -> None:
        self.seen.append((self.sim.now_ns, label))


def test_ties_run_in_insertion_order() -> None:
    sim = Simulator()
    log = Log(sim)
    for label in "cab":
        sim.schedule_at(100, log.hit, label, name=label, source="test")
    sim.schedule_at(50, log.hit, "early", name="early", source="test")
    sim.run_until(200)
    assert log.seen == [(50, "early"), (100, "c"), (100, "a"), (100, "b")]


def test_step_runs_exactly_one_event() -> None:
    sim = Simulator()
    log = Log(sim)
    sim.schedule_at(10, log.hit, "x", name="x", source="test")
    sim.schedule_at(10, log.hit, "y", name="y", source="test")
    sim.schedule_at(30, log.hit, "z", name="z", source="test")
    event = sim.step()
    assert event is not None and event.name == "x"
    assert log.seen == [(10, "x")]
    assert (sim.now_ns, sim.steps) == (10, 1)
    sim.step()
    sim.step()
    assert log.seen == [(10, "x"), (10, "y"), (30, "z")]
    assert sim.step() is None
    assert (sim.now_ns, sim.steps) == (30, 3)


def test_cancelled_events_do_not_run() -> None:
    sim = Simulator()
    log = Log(sim)
    doomed = sim.schedule_at(10, log.hit, "doomed", name="doomed", source="test")
    sim.schedule_at(20, log.hit, "kept", name="kept", source="test")
    sim.cancel(doomed)
    sim.cancel(None)
    peeked = sim.peek()
    assert peeked is not None and peeked.name == "kept"
    assert [e.name for e in sim.pending()] == ["kept"]
    assert sim.run_until(100) == 1
    assert log.seen == [(20, "kept")]


def test_run_until_includes_the_end_time_and_leaves_the_clock_there() -> None:
    sim = Simulator()
    log = Log(sim)
    for t in (10, 20, 30):
        sim.schedule_at(t, log.hit, str(t), name=str(t), source="test")
    assert sim.run_until(20) == 2
    assert sim.now_ns == 20
    assert sim.run_for(5) == 0
    assert sim.now_ns == 25
    assert sim.run_for(5) == 1
    assert log.seen == [(10, "10"), (20, "20"), (30, "30")]


def test_events_scheduled_while_running_at_the_same_time_still_run() -> None:
    sim = Simulator()

    class Chain:
        def __init__(self) -> None:
            self.times: list[int] = []

        def fire(self, left: int) -> None:
            self.times.append(sim.now_ns)
            if left:
                sim.schedule_in(0 if left % 2 else 7, self.fire, left - 1, name="chain", source="test")

    chain = Chain()
    sim.schedule_at(5, chain.fire, 4, name="chain", source="test")
    sim.run_until(19)
    assert chain.times == [5, 12, 12, 19, 19]


def test_misuse_is_refused() -> None:
    sim = Simulator()
    sim.run_until(100)
    with pytest.raises(SimulationError, match="before now"):
        sim.schedule_at(99, print, name="late", source="test")
    with pytest.raises(SimulationError, match="cannot run back"):
        sim.run_until(50)


def test_sync_hooks_see_each_event_time_and_their_records_belong_to_that_step() -> None:
    sim = Simulator(record_events=True)
    synced: list[int] = []

    def hook(now: int) -> None:
        synced.append(now)
        sim.emit(NoteRecord(text=f"sync {now}"))

    sim.add_sync_hook(hook)
    log = Log(sim)
    sim.schedule_at(10, log.hit, "a", name="a", source="test")
    sim.schedule_at(40, log.hit, "b", name="b", source="test")
    sim.run_until(50)
    assert synced == [10, 40, 50]
    kinds = [(r.kind, r.t_ns) for r in sim.trace]
    assert kinds == [("event", 10), ("note", 10), ("event", 40), ("note", 40), ("note", 50)]
    # What the devices did at a step's time is part of that step, not of the one before.
    assert sim.trace.step_starts == [0, 2]
    assert isinstance(sim.trace[2], EventRecord) and sim.trace[2].step == 1


def test_trace_numbers_records_and_notifies_subscribers() -> None:
    sim = Simulator()
    got: list[Record] = []
    sim.trace.subscribe(got.append)
    sim.emit(NoteRecord(text="one"))
    sim.run_until(5)
    sim.emit(NoteRecord(text="two"))
    sim.trace.unsubscribe(got.append)
    sim.emit(NoteRecord(text="three"))
    assert [r.seq for r in sim.trace] == [0, 1, 2]
    assert [r.t_ns for r in sim.trace] == [0, 5, 5]
    assert [r.text for r in got if isinstance(r, NoteRecord)] == ["one", "two"]
    assert sim.trace.count("note", text="two") == 1
    assert to_json_line(sim.trace[1]) == '{"seq":1,"t_ns":5,"kind":"note","text":"two","source":"scenario"}'


def test_compact_records_read_back_as_objects_with_their_fields() -> None:
    sim = Simulator()
    sim.run_until(7)
    sim.record(InterruptRecord, "SB16", 5, "raise")
    sim.emit(NoteRecord(text="object"))
    sim.record(RegisterRecord, "8237", 0xC6, "DMA2 ch5 count", "read", 0x3F)
    first = sim.trace[0]
    assert isinstance(first, InterruptRecord)
    assert (first.seq, first.t_ns, first.device, first.irq, first.action) == (0, 7, "SB16", 5, "raise")
    assert sim.trace[0] is first  # built once, then kept
    register = sim.trace.records[2]
    assert isinstance(register, RegisterRecord)
    assert (register.seq, register.value, register.space, register.width) == (2, 0x3F, "io", 8)


def test_a_subscriber_gets_records_the_trace_would_have_kept_compact() -> None:
    sim = Simulator()
    got: list[Record] = []
    sim.trace.subscribe(got.append)
    sim.record(DpcRecord, "sg", "queued", 0)
    assert len(got) == 1 and isinstance(got[0], DpcRecord) and got[0] is sim.trace[0]


def test_replay_over_compact_records_rebuilds_what_it_overwrote() -> None:
    """After a rollback the entries past the present are the recorded future; replay writes
    new ones over them, compact or not, and reading builds the new ones, not the old."""
    sim = Simulator()
    sim.record(InterruptRecord, "SB16", 5, "raise")
    sim.record(InterruptRecord, "SB16", 5, "ack")
    assert [r.action for r in sim.trace.records] == ["raise", "ack"]  # built
    mark = sim.trace.checkpoint()
    sim.record(InterruptRecord, "SB16", 5, "isr")
    sim.trace.rollback((1, mark[1]))
    sim.record(InterruptRecord, "SB16", 7, "raise")  # replay overwrites index 1 (built before)
    assert [(r.irq, r.action) for r in sim.trace.records] == [(5, "raise"), (7, "raise")]
    assert [r.action for r in sim.trace.history()] == ["raise", "raise", "isr"]
    sim.trace.forget_future()
    assert len(sim.trace.history()) == 2


# --- determinism of a whole machine ------------------------------------------------------------------


class Isr:
    def __init__(self, m: Machine) -> None:
        self.m = m

    def service(self, irq: int) -> None:
        self.m.io_read(SB + 0xF)
        self.m.io_write(0xD8, 0)  # and peek at the DMA count like a position query
        self.m.io_read(0xC6)
        self.m.io_read(0xC6)


def run_program(m: Machine) -> None:
    """A DOS-style program: 16-bit stereo 48 kHz auto-init with a 10 ms block IRQ."""
    m.sim.record_events = True
    m.connect_interrupt(5, Isr(m).service)
    m.phys_write(0x40000, bytes(range(256)) * 16)
    m.io_write(SB + 6, 1)
    m.io_write(SB + 6, 0)
    m.io_read(SB + 0xA)
    for port, value in ((0xD4, 5), (0xD8, 0), (0xD6, 0x59), (0xC4, 0x00), (0xC4, 0x00), (0x8B, 0x04)):
        m.io_write(port, value)
    for port, value in ((0xD8, 0), (0xC6, 0x7F), (0xC6, 0x07), (0xD4, 1)):
        m.io_write(port, value)
    for byte in (0x41, 0xBB, 0x80, 0xB6, 0x30, 0xBF, 0x03):
        m.io_write(SB + 0xC, byte)
    m.run_for(35 * MS)
    m.io_write(SB + 0xC, 0xD5)
    m.run_for(5 * MS)
    m.io_write(SB + 0xC, 0xD6)
    m.run_for(20 * MS)


def test_identical_machines_give_identical_traces_and_digests() -> None:
    a, b = Machine(), Machine()
    run_program(a)
    run_program(b)
    assert len(a.trace) > 50
    assert [to_json_line(r) for r in a.trace] == [to_json_line(r) for r in b.trace]
    assert a.trace.step_starts == b.trace.step_starts
    assert a.state_digest() == b.state_digest()
    assert a.sb16.sink.length == b.sb16.sink.length > 0


def test_digest_changes_with_state() -> None:
    a, b = Machine(), Machine()
    assert a.state_digest() == b.state_digest()
    b.io_write(0x83, 0x01)
    assert a.state_digest() != b.state_digest()
    a.io_write(0x83, 0x01)
    a.phys_write(0x1000, b"\x01")
    assert a.state_digest() != b.state_digest()


def test_trace_times_never_go_backwards() -> None:
    m = Machine()
    run_program(m)
    times = [r.t_ns for r in m.trace]
    assert times == sorted(times)
    assert [r.seq for r in m.trace] == list(range(len(m.trace)))


def test_a_call_record_begun_positionally_equals_one_built_by_keywords() -> None:
    """CallRecord.begin sets every field the keyword constructor does (none forgotten)."""
    import dataclasses

    from model.trace import CallRecord

    values = dict(
        object="dma",
        interface="IDmaChannel",
        method="CopyTo",
        args={"ByteCount": 4},
        context="dpc:sg",
        irql=2,
        caller="pin",
        processor=1,
        depth=2,
        duration_ns=300,
    )
    begun = CallRecord.begin(**values)
    built = CallRecord(**values)
    for f in dataclasses.fields(CallRecord):
        assert getattr(begun, f.name) == getattr(built, f.name), f.name
