"""The contract checker's rules (model/contract/rules.py), each provoked and its effect checked.

Covers the rules no other test provokes, what a broken CopyTo/CopyFrom really does to
simulated memory, IUnknown and IServiceGroup (portcls-contract.md §1.9), SetFormat
refusals (§1.7, §1.8), the data-race check with and without a shared spin lock (fact 17),
and the slave channel's path through the HAL (§1.2, §5.3). The last test keeps the rule
list honest: every rule it names must be raised somewhere in model/.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import model
from model.contract.rules import RULES
from model.hardware.memory import PAGE_SIZE
from model.interfaces.declarations import IIDS
from model.kernel.types import NTSTATUS
from model.trace import MemoryRecord
from model.units import MS
from tests.model.portcls.stacks import bare_system, new_channel, run_to_service, sb16, slave_channel, violations
from tests.model.portcls.test_wavepci_ac97 import ac97

SUCCESS = NTSTATUS.STATUS_SUCCESS
IID_OF = {name: iid for iid, name in IIDS.items()}


def rules(result: Any) -> list[str]:
    return [v.rule for v in result.violations]


def one_page_buffers(system: Any, count: int) -> list[Any]:
    """``count`` bus-master channels, each with a one-page buffer, mapped one after another."""
    channels = [new_channel(system) for _ in range(count)]
    for channel in channels:
        assert system.call(channel, "AllocateBuffer", {"BufferSize": PAGE_SIZE}).status == SUCCESS
    # The overrun tests rely on the kernel handing out virtual addresses with no gaps.
    for first, second in itertools.pairwise(channels):
        assert second.SystemAddress() == first.SystemAddress() + PAGE_SIZE
    return channels


def unmapped_address(system: Any) -> int:
    space = system.kernel.address_space
    va = space.next_va + 0x100000
    assert space.find(va) is None
    return va


# --- copy-outside-buffer, page-fault, no-buffer (§1.1 CopyTo / CopyFrom) ---------------------------


@pytest.mark.parametrize("side", ["past the end", "before the start"])
def test_copy_to_outside_the_buffer_overwrites_the_neighbour_and_marks_it_damaged(side: str) -> None:
    """§1.1 CopyTo: Destination must lie inside the common buffer; outside it, memory is really overwritten."""
    system = bare_system()
    memory = system.machine.memory
    space = system.kernel.address_space
    first, second, source = one_page_buffers(system, 3)
    space.write(source.SystemAddress(), np.arange(1, 0x41, dtype=np.uint8))
    if side == "past the end":
        channel, neighbour = first, second
        destination = first.SystemAddress() + PAGE_SIZE - 0x20
        spill_va, spilled = second.SystemAddress(), np.arange(0x21, 0x41, dtype=np.uint8)
    else:
        channel, neighbour = second, first
        destination = second.SystemAddress() - 0x20
        spill_va, spilled = first.SystemAddress() + PAGE_SIZE - 0x20, np.arange(1, 0x21, dtype=np.uint8)
    space.write(neighbour.SystemAddress(), np.full(PAGE_SIZE, 0xEE, dtype=np.uint8))
    spill_pa = space.to_physical(spill_va)
    mark = len(system.trace)

    result = system.call(
        channel, "CopyTo", {"Destination": destination, "Source": source.SystemAddress(), "ByteCount": 0x40}
    )

    assert rules(result) == ["copy-outside-buffer"]
    message = result.violations[0].message
    lo = channel.SystemAddress()
    assert f"{lo:#x}..{lo + PAGE_SIZE:#x}" in message
    assert f"overwrites 0x20 bytes at {spill_va:#x} ('{space.find(spill_va).label}')" in message
    assert list(memory.read(spill_pa, 0x20)) == list(spilled)
    assert list(np.flatnonzero(memory.damaged)) == [neighbour.PhysicalAddress() // PAGE_SIZE]
    damage = [r for r in system.trace.records[mark:] if isinstance(r, MemoryRecord) and r.action == "damage"]
    assert [(r.address, r.length) for r in damage] == [(spill_pa, 0x20)]


def test_copy_from_outside_the_buffer_reads_the_neighbour_and_damages_nothing() -> None:
    """§1.1 CopyFrom: Source must lie inside the common buffer; reading past it is reported, nothing is damaged."""
    system = bare_system()
    memory = system.machine.memory
    space = system.kernel.address_space
    channel, neighbour, destination = one_page_buffers(system, 3)
    space.write(channel.SystemAddress() + PAGE_SIZE - 0x10, np.full(0x10, 0x11, dtype=np.uint8))
    space.write(neighbour.SystemAddress(), np.full(0x10, 0x22, dtype=np.uint8))

    result = system.call(
        channel,
        "CopyFrom",
        {
            "Destination": destination.SystemAddress(),
            "Source": channel.SystemAddress() + PAGE_SIZE - 0x10,
            "ByteCount": 0x20,
        },
    )

    assert rules(result) == ["copy-outside-buffer"]
    message = result.violations[0].message
    assert f"reads 0x10 bytes at {neighbour.SystemAddress():#x}" in message
    assert "overwrites" not in message  # a read must not be described as a write
    assert not memory.damaged.any()
    assert list(space.read(destination.SystemAddress(), 0x20)) == [0x11] * 0x10 + [0x22] * 0x10
    assert list(space.read(neighbour.SystemAddress(), 0x10)) == [0x22] * 0x10


def test_copy_with_an_unmapped_source_or_destination_is_a_page_fault() -> None:
    """§1.1 CopyTo/CopyFrom take kernel VAs: an address with no mapping is a page fault, and the model goes on."""
    system = bare_system()  # strict: an exception inside the model would fail the test here
    space = system.kernel.address_space
    (channel,) = one_page_buffers(system, 1)
    space.write(channel.SystemAddress(), np.full(0x20, 0x5A, dtype=np.uint8))
    nowhere = unmapped_address(system)

    into = system.call(
        channel, "CopyTo", {"Destination": channel.SystemAddress(), "Source": nowhere, "ByteCount": 0x20}
    )
    out = system.call(
        channel, "CopyFrom", {"Destination": nowhere, "Source": channel.SystemAddress(), "ByteCount": 0x20}
    )

    assert into.executed and rules(into) == ["page-fault"]
    assert f"reads from {nowhere:#x}" in into.violations[0].message
    assert out.executed and rules(out) == ["page-fault"]
    assert f"writes to {nowhere:#x}" in out.violations[0].message
    assert list(space.read(channel.SystemAddress(), 0x20)) == [0x5A] * 0x20  # the failed read copied nothing


def test_copy_to_running_off_the_last_mapping_writes_what_is_mapped_then_faults() -> None:
    """§1.1 CopyTo past the end of the last mapping: the mapped part is written, the rest page-faults."""
    system = bare_system()
    space = system.kernel.address_space
    source, last = one_page_buffers(system, 2)
    assert space.find(last.SystemAddress() + PAGE_SIZE) is None
    space.write(source.SystemAddress(), np.arange(1, 0x21, dtype=np.uint8))

    result = system.call(
        last,
        "CopyTo",
        {"Destination": last.SystemAddress() + PAGE_SIZE - 0x10, "Source": source.SystemAddress(), "ByteCount": 0x20},
    )

    assert rules(result) == ["copy-outside-buffer", "page-fault"]
    assert "(unmapped addresses)" in result.violations[0].message
    assert list(space.read(last.SystemAddress() + PAGE_SIZE - 0x10, 0x10)) == list(range(1, 0x11))
    assert not system.machine.memory.damaged.any()  # nothing mapped there, so nothing to damage


def test_copy_to_without_a_buffer_is_no_buffer() -> None:
    """§1.1 SystemAddress is NULL with no buffer: CopyTo before AllocateBuffer or after FreeBuffer is no-buffer."""
    system = bare_system()
    channel, source = one_page_buffers(system, 2)
    never = new_channel(system)
    old_va = channel.SystemAddress()
    system.call(channel, "FreeBuffer")
    assert system.call(channel, "AllocatedBufferSize").value == 0

    stale = system.call(channel, "CopyTo", {"Destination": old_va, "Source": source.SystemAddress(), "ByteCount": 0x10})
    fresh = system.call(never, "CopyTo", {"Source": source.SystemAddress(), "ByteCount": 0x10})

    # The freed buffer's addresses are unmapped, so the stale pointer also faults.
    assert rules(stale) == ["no-buffer", "page-fault"]
    assert rules(fresh)[0] == "no-buffer"
    assert not system.machine.memory.damaged.any()


# --- rules no other test provokes ------------------------------------------------------------------


def test_free_buffer_while_the_slave_transfer_runs() -> None:
    """§1.1 FreeBuffer / §1.2 Stop: freeing the buffer of a started slave channel is free-while-running."""
    system = bare_system()
    memory = system.machine.memory
    channel = slave_channel(system, 1)
    system.call(channel, "AllocateBuffer", {"BufferSize": 0x2000})
    system.call(channel, "Start", {"MapSize": 0x2000, "WriteToDevice": True})
    free_before = memory.free_page_count()

    result = system.call(channel, "FreeBuffer")

    assert rules(result) == ["free-while-running"]
    assert memory.free_page_count() == free_before + 2
    assert not system.machine.dma.channel(1).masked  # the 8237 still walks the freed pages

    stopped = slave_channel(system, 3)
    system.call(stopped, "AllocateBuffer", {"BufferSize": 0x1000})
    system.call(stopped, "Start", {"MapSize": 0x1000, "WriteToDevice": True})
    system.call(stopped, "Stop")
    assert rules(system.call(stopped, "FreeBuffer")) == []


def test_wait_for_tc_on_an_auto_initialize_transfer() -> None:
    """§1.2 WaitForTC: an auto-initialize counter reloads instead of reaching 0, so the wait can only time out."""
    system = bare_system()
    channel = slave_channel(system, 1, auto_init=True)
    system.call(channel, "AllocateBuffer", {"BufferSize": 0x1000})
    system.call(channel, "Start", {"MapSize": 0x1000, "WriteToDevice": True})

    result = system.call(channel, "WaitForTC", {"Timeout": 1000})

    assert result.status == NTSTATUS.STATUS_UNSUCCESSFUL
    assert rules(result) == ["wait-for-tc"]


def test_release_of_a_destroyed_object_is_use_after_free() -> None:
    """IUnknown::Release below zero: the object is gone at zero, so the extra Release is a use-after-free.

    This is why rules.py has no separate 'refcount' rule: the count can never go below zero.
    """
    system = bare_system()
    memory = system.machine.memory
    channel = new_channel(system)
    system.call(channel, "AllocateBuffer", {"BufferSize": 0x1000})
    assert system.call(channel, "Release").value == 0
    free_after_destroy = memory.free_page_count()

    again = system.call(channel, "Release")

    assert not again.executed
    assert rules(again) == ["use-after-free"]
    assert channel.refcount == 0
    assert memory.free_page_count() == free_after_destroy  # destroy did not run a second time


def _violation_rule_literals(tree: ast.AST) -> set[str]:
    """Rule ids passed as literals to System.violation(...) or ArgumentError(..., rule)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        position = {"violation": 0, "ArgumentError": 2}.get(name)
        if position is None:
            continue
        candidates = node.args[position : position + 1] + [k.value for k in node.keywords if k.arg == "rule"]
        found |= {c.value for c in candidates if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return found


def test_every_rule_in_rules_py_is_raised_somewhere_in_model() -> None:
    """docs/trace.md calls rules.py the full list, so it must hold exactly the rules the model can raise."""
    root = Path(model.__file__).parent
    raised: set[str] = set()
    for path in root.rglob("*.py"):
        if path == root / "contract" / "rules.py":
            continue
        raised |= _violation_rule_literals(ast.parse(path.read_text(encoding="utf-8")))
    # ArgumentError's default rule is given in its signature, not at a call.
    raised.add("bad-argument")
    assert sorted(set(RULES) - raised) == []
    assert sorted(raised - set(RULES)) == []  # System.violation looks every id up in RULES


# --- IUnknown::QueryInterface ------------------------------------------------------------------------


@pytest.mark.parametrize("interface", ["IDmaChannelSlave", "IDmaChannel", "IUnknown"])
def test_query_interface_by_iid_string_succeeds_and_addrefs(interface: str) -> None:
    """§1.2: a slave channel answers its own IID and those of its bases, AddRef'd for the caller."""
    system = bare_system()
    channel = slave_channel(system, 1)
    before = channel.refcount
    for iid in (IID_OF[interface], IID_OF[interface].lower()):
        result = system.call(channel, "QueryInterface", {"InterfaceId": iid})
        assert result.status == SUCCESS
        assert result.out["Interface"] is channel
    assert channel.refcount == before + 2


@pytest.mark.parametrize(
    "iid",
    [
        "{0BADF00D-0000-0000-0000-000000000000}",  # no interface at all
        IID_OF["IDmaChannelSlave"],  # a real IID a master channel does not implement
        IID_OF["IServiceGroup"],
    ],
)
def test_query_interface_for_an_unsupported_iid_fails_without_addref(iid: str) -> None:
    """IUnknown: an IID the object does not answer gives STATUS_INVALID_PARAMETER, a NULL interface, no AddRef."""
    system = bare_system()
    channel = new_channel(system)
    before = channel.refcount
    result = system.call(channel, "QueryInterface", {"InterfaceId": iid})
    assert result.status == NTSTATUS.STATUS_INVALID_PARAMETER
    assert result.out["Interface"] is None
    assert channel.refcount == before


# --- IServiceGroup (§1.9) ------------------------------------------------------------------------------


def two_groups(system: Any) -> tuple[Any, Any]:
    """A group and a second group as its member (IServiceGroup derives from IServiceSink)."""
    made = [system.call("portcls", "PcNewServiceGroup", {}).out["OutServiceGroup"] for _ in range(2)]
    return made[0], made[1]


def dpc_runs(system: Any, first: int) -> list[Any]:
    return [r for r in system.trace.records[first:] if r.kind == "dpc" and r.action == "run"]


def serviced(system: Any, sink: Any, first: int) -> bool:
    return any(
        r.kind == "call" and r.object == sink.object_id and r.method == "RequestService"
        for r in system.trace.records[first:]
    )


def test_add_and_remove_member_count_references() -> None:
    """§1.9: AddMember AddRefs the sink, RemoveMember Releases it; the group's DPC services its members."""
    system = bare_system()
    group, sink = two_groups(system)
    assert sink.refcount == 1
    assert system.call(group, "AddMember", {"pServiceSink": sink}).status == SUCCESS
    assert sink.refcount == 2

    first = len(system.trace)
    system.call(group, "RequestService")
    system.run_for(1 * MS)
    assert serviced(system, sink, first)

    system.call(group, "RemoveMember", {"pServiceSink": sink})
    assert sink.refcount == 1 and sink.alive
    first = len(system.trace)
    system.call(group, "RequestService")
    system.run_for(1 * MS)
    assert dpc_runs(system, first) and not serviced(system, sink, first)

    null = system.call(group, "AddMember", {"pServiceSink": None})
    assert null.status == NTSTATUS.STATUS_INVALID_PARAMETER and rules(null) == ["null-object"]


def test_request_delayed_service_before_support_delayed_service() -> None:
    """§1.9: SupportDelayedService must come before RequestDelayedService; without it no timer is set."""
    system = bare_system()
    group, _ = two_groups(system)
    first = len(system.trace)
    result = system.call(group, "RequestDelayedService", {"ullDelay": -100_000})
    assert rules(result) == ["bad-argument"]
    system.run_for(50 * MS)
    assert dpc_runs(system, first) == []


@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_delayed_service_runs_the_dpc_after_the_delay(kind: str) -> None:
    """§1.9 RequestDelayedService: 100-ns units, negative relative to now, positive an absolute time."""
    system = bare_system()
    group, sink = two_groups(system)
    system.call(group, "AddMember", {"pServiceSink": sink})
    system.call(group, "SupportDelayedService")
    system.run_for(3 * MS)  # so that relative and absolute differ
    due = system.now_ns + 10 * MS
    delay = -(10 * MS // 100) if kind == "relative" else due // 100
    first = len(system.trace)
    assert rules(system.call(group, "RequestDelayedService", {"ullDelay": delay})) == []

    system.run_for(9 * MS)
    assert dpc_runs(system, first) == []
    while not dpc_runs(system, first):
        assert system.step() is not None

    run = dpc_runs(system, first)[0]
    assert run.name.startswith(group.object_id) and run.t_ns >= due
    system.run_for(1 * MS)
    assert serviced(system, sink, first)


def test_cancel_delayed_service_means_no_dpc() -> None:
    """§1.9 CancelDelayedService: the pending delayed service never runs."""
    system = bare_system()
    group, sink = two_groups(system)
    system.call(group, "AddMember", {"pServiceSink": sink})
    system.call(group, "SupportDelayedService")
    first = len(system.trace)
    system.call(group, "RequestDelayedService", {"ullDelay": -100_000})
    system.call(group, "CancelDelayedService")
    system.run_for(50 * MS)
    assert dpc_runs(system, first) == []
    assert not serviced(system, sink, first)


# --- SetFormat (§1.7, §1.8) ------------------------------------------------------------------------------


def dsp_writes(topology: Any, first: int) -> list[int]:
    port = topology.system.get("miniport").base + 0xC
    return [
        r.value
        for r in topology.system.trace.records[first:]
        if r.kind == "register" and r.address == port and r.access == "write"
    ]


def test_sb16_set_format_is_refused_while_running() -> None:
    """§1.7 SetFormat: the sb16 sample refuses while RUN with STATUS_INVALID_DEVICE_REQUEST."""
    topology, _ = sb16()
    system = topology.system
    stream = system.get("stream")
    before = stream.format
    first = len(system.trace)
    result = system.call(
        "stream", "SetFormat", {"DataFormat": {"SamplesPerSec": 44100, "BitsPerSample": 16, "Channels": 2}}
    )
    assert result.status == NTSTATUS.STATUS_INVALID_DEVICE_REQUEST
    assert stream.format == before
    assert dsp_writes(topology, first) == []  # the sample rate of the running stream is left alone


@pytest.mark.parametrize(
    "table",
    [
        {"SamplesPerSec": 48000, "BitsPerSample": 8, "Channels": 2},  # the 16-bit stream's DMA channel fixes the size
        {"SamplesPerSec": 46000, "BitsPerSample": 16, "Channels": 2},  # a rate NewStream refuses too
        {"SamplesPerSec": 48000, "BitsPerSample": 16, "Channels": 3},
    ],
)
def test_sb16_set_format_refuses_a_format_that_does_not_fit(table: dict[str, int]) -> None:
    """§1.7 SetFormat: the sb16 sample answers STATUS_INVALID_PARAMETER for a format it cannot play."""
    topology, _ = sb16(run=False)
    system = topology.system
    stream = system.get("stream")
    before = stream.format
    first = len(system.trace)
    assert system.call("stream", "SetFormat", {"DataFormat": table}).status == NTSTATUS.STATUS_INVALID_PARAMETER
    assert stream.format == before
    assert dsp_writes(topology, first) == []


def test_sb16_set_format_that_fits_reprograms_the_rate() -> None:
    """§1.7 SetFormat outside RUN with a format that fits: accepted, and the DSP gets the new rate."""
    topology, _ = sb16(run=False)
    system = topology.system
    first = len(system.trace)
    table = {"SamplesPerSec": 44100, "BitsPerSample": 16, "Channels": 2}
    assert system.call("stream", "SetFormat", {"DataFormat": table}).status == SUCCESS
    assert system.get("stream").format.sample_rate == 44100
    assert dsp_writes(topology, first) == [0x41, 44100 >> 8, 44100 & 0xFF]


def test_ac97_set_format_refusals() -> None:
    """§1.8 SetFormat on the WavePci stream: refused while the engine runs, and for formats the codec cannot take.

    The ac97 sample answers a running engine with STATUS_UNSUCCESSFUL (not sb16's
    STATUS_INVALID_DEVICE_REQUEST) and a bad format with STATUS_INVALID_PARAMETER.
    """
    topology, pin = ac97()
    system = topology.system
    stream = pin.stream
    before = stream.format
    other = {"SamplesPerSec": 44100, "BitsPerSample": 16, "Channels": 2}
    assert system.call(stream, "SetFormat", {"DataFormat": other}).status == NTSTATUS.STATUS_UNSUCCESSFUL
    assert stream.format == before
    system.call(pin, "SetState", {"State": "KSSTATE_PAUSE"})
    for table in (
        {"SamplesPerSec": 48000, "BitsPerSample": 8, "Channels": 2},
        {"SamplesPerSec": 48000, "BitsPerSample": 16, "Channels": 1},
    ):
        assert system.call(stream, "SetFormat", {"DataFormat": table}).status == NTSTATUS.STATUS_INVALID_PARAMETER
        assert stream.format == before
    assert system.call(stream, "SetFormat", {"DataFormat": other}).status == SUCCESS
    assert stream.format.sample_rate == 44100


# --- data races and spin locks (fact 17) ------------------------------------------------------------------


def _call_during_service_copy(dpc_lock: str | None, user_lock: str | None) -> list[str]:
    """Fact 17's overlap: SetBufferSize from a thread while the service DPC is inside CopyTo."""
    topology, _ = sb16()
    system = topology.system
    kernel = system.kernel
    group = system.get("sg")
    if dpc_lock is not None:
        unlocked = group._dpc

        def locked() -> None:
            with kernel.spin_lock(dpc_lock):
                unlocked()

        group._dpc = locked  # the miniport's DPC takes the lock around the port's work
    run_to_service(system)
    copy = [r for r in system.trace.of_kind("call") if r.method == "CopyTo"][-1]
    assert copy.context == "dpc:sg"
    start, end, _, _, _, locks = next(a for a in system.get("dma").accesses if a[3] == copy.seq)
    assert locks == ((dpc_lock,) if dpc_lock else ())
    system.sim.advance_to((start + end) // 2)
    if user_lock is None:
        result = system.call("dma", "SetBufferSize", {"BufferSize": 0x2000}, context="passive")
    else:
        with kernel.running(kernel.contexts["passive"]), kernel.spin_lock(user_lock):
            result = system.call("dma", "SetBufferSize", {"BufferSize": 0x2000})
    return rules(result)


@pytest.mark.parametrize(
    ("dpc_lock", "user_lock", "race"),
    [
        ("dma lock", "dma lock", False),
        (None, None, True),
        ("dma lock", None, True),
        (None, "dma lock", True),
        ("dma lock", "other lock", True),
    ],
)
def test_overlapping_calls_race_unless_both_hold_the_same_spin_lock(
    dpc_lock: str | None, user_lock: str | None, race: bool
) -> None:
    """Fact 17: IDmaChannel does no locking, so only a lock both callers hold makes the overlap safe."""
    assert ("data-race" in _call_during_service_copy(dpc_lock, user_lock)) is race


# --- the slave channel goes through the HAL (§1.2, §5.3) ----------------------------------------------------


def test_start_maps_the_buffer_with_map_transfer_on_the_adapter() -> None:
    """§1.2 Start sets up map registers for MapSize bytes: AllocateAdapterChannel, then MapTransfer, nested in Start."""
    topology, _ = sb16(run=False)
    system = topology.system
    dma = system.get("dma")
    adapter = dma.adapter.object_id
    first = len(system.trace)
    system.call("pin", "SetState", {"State": "KSSTATE_RUN"})
    records = [r for r in system.trace.records[first:] if r.kind == "call"]
    i = next(n for n, r in enumerate(records) if r.object == dma.object_id and r.method == "Start")
    start = records[i]
    inside = []
    for record in records[i + 1 :]:
        if record.depth <= start.depth:
            break
        inside.append(record)
    assert [(r.object, r.method) for r in inside] == [(adapter, "AllocateAdapterChannel"), (adapter, "MapTransfer")]
    mapped = inside[1]
    assert mapped.depth > start.depth
    assert mapped.args["CurrentVa"] == dma.SystemAddress()
    assert mapped.args["Length"] == mapped.out["Length"] == start.args["MapSize"]
    assert mapped.args["WriteToDevice"] is True


def test_read_counter_reads_the_adapter_counter_one_level_down() -> None:
    """§1.2 ReadCounter is the HAL's ReadDmaCounter (§5.3), called from inside ReadCounter."""
    topology, _ = sb16()
    system = topology.system
    system.run_for(20 * MS)
    dma = system.get("dma")
    first = len(system.trace)
    result = system.call(dma, "ReadCounter")
    calls = [r for r in system.trace.records[first:] if r.kind == "call"]
    assert calls[0] is result.record
    inner = calls[1]
    assert (inner.object, inner.method) == (dma.adapter.object_id, "ReadDmaCounter")
    assert inner.depth == result.record.depth + 1
    assert inner.caller == dma.object_id
    assert inner.value == result.value != 0
    assert not violations(system)
