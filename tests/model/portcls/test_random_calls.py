"""Random sequences of every declared interface method on a live stream (hypothesis, stateful).

The same state machine runs on every stack of ``stacks.py`` (SB16 and HD Audio WaveCyclic,
AC'97 WavePci, the virtual miniport with its own IDmaChannel), render and capture: one
TestCase per stack. Whatever is called, with whatever arguments, from whatever context:

* no Python exception escapes (the systems are strict: an internal error re-raises);
* each kind of invalid argument (wrong type or range, an object of the wrong interface, an
  unknown object id, an unknown parameter name) yields its NTSTATUS (STATUS_INVALID_PARAMETER
  for NTSTATUS methods) or a recorded violation, and well-formed arguments are never refused;
* the invariants hold after every step: channel sizes consistent, each channel's buffer
  inside a live COMMON_BUFFER allocation, 8237 registers and reference counts in range,
  and memory accounting balanced, also after FreeBuffer and a release to zero references.
"""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from model.hardware.memory import ISA_LIMIT, PAGE_SIZE, Allocation, PageOwner
from model.interfaces.types import FromTarget, Kind, Method, Param
from model.kernel.dma_adapter import DmaAdapter, pci_bus_master_table
from model.kernel.types import ENUM_TYPES, NTSTATUS
from model.objects import ComObject, ModelObject
from model.portcls.dma_channel import DmaChannel, SlaveDmaChannel
from model.system import ArgumentError, System, satisfies
from model.units import MS
from tests.model.portcls.stacks import DEVICES, live_stack

CONTEXTS = (None, "passive", "dispatch", "isr")
VALID = "valid"
TYPE_OR_RANGE = "wrong type or range"
WRONG_INTERFACE = "object of the wrong interface"
UNKNOWN_OBJECT = "unknown object id"
UNKNOWN_PARAMETER = "unknown parameter name"
KINDS = (VALID, VALID, VALID, TYPE_OR_RANGE, WRONG_INTERFACE, UNKNOWN_OBJECT, UNKNOWN_PARAMETER)
REFUSAL_RULE = {
    TYPE_OR_RANGE: "bad-argument",
    WRONG_INTERFACE: "wrong-interface",
    UNKNOWN_OBJECT: "bad-argument",  # a typo must not quietly become NULL ("NULL" says so on purpose)
    UNKNOWN_PARAMETER: "bad-argument",
}
UNKNOWN_IDS = ("no_such_object", "dma.no_such_item")


FORMATS = (
    {"SamplesPerSec": 48000, "BitsPerSample": 16, "Channels": 2},
    {"SamplesPerSec": 44100, "BitsPerSample": 16, "Channels": 2},
    {"SamplesPerSec": 22050, "BitsPerSample": 8, "Channels": 1},
)
DESCRIPTIONS = (
    pci_bus_master_table(0x10000),
    {  # a 16-bit system DMA channel
        "Version": 1,
        "DmaChannel": 6,
        "InterfaceType": "Isa",
        "DmaWidth": "Width16Bits",
        "AutoInitialize": True,
        "MaximumLength": 0x8000,
    },
    {  # an 8-bit system DMA channel
        "Version": 1,
        "DmaChannel": 3,
        "InterfaceType": "Isa",
        "DmaWidth": "Width8Bits",
        "AutoInitialize": True,
        "MaximumLength": 0x4000,
    },
)


# --- arguments ------------------------------------------------------------------------------------
def channels(system: System) -> list[Any]:
    """Every live object that answers IDmaChannel (the virtual miniport's stream is one)."""
    return [o for o in system.objects.values() if o.alive and o.implements("IDmaChannel")]


def references(system: System) -> list[str]:
    """Names an object parameter can take: object ids and named kernel items (MDLs)."""
    names = sorted(system.objects)
    names += [f"{o.object_id}.mdl" for o in channels(system) if getattr(o, "mdl", None) is not None]
    return names


def fits(system: System, param: Param, name: str) -> bool:
    item = system.resolve_reference(name)
    return item is not None and satisfies(item, param.ptype.interface)


def addresses(system: System) -> list[int]:
    """Addresses in, at the edge of and just past the live channels' buffers."""
    out: list[int] = []
    for channel in channels(system):
        va, size = channel.buffer_va, channel.allocated
        if va:
            out += [va, va + 0x10, va + max(size - 0x100, 0), va + size - 0x10]
    return out


def valid_value(system: System, param: Param, data: st.DataObject) -> Any:
    """A value of the declared type and range (which the implementation may still dislike)."""
    ptype = param.ptype
    if ptype.kind == Kind.INT:
        lo, hi = param.bounds()
        lo = 0 if lo is None else max(lo, 0)
        hi = min(hi if hi is not None else 0xFFFF_FFFF, 0x20000)
        choices = st.integers(lo, hi) | st.sampled_from([v for v in (lo, hi, 0x1000, 0x4000) if lo <= v <= hi])
        if param.type in ("PVOID", "PHYSICAL_ADDRESS") and addresses(system):
            choices |= st.sampled_from(addresses(system))
        return data.draw(choices)
    if ptype.kind == Kind.BOOL:
        return data.draw(st.booleans())
    if ptype.kind == Kind.ENUM:
        return data.draw(st.sampled_from(list(ENUM_TYPES[param.type].__members__)))
    if ptype.kind == Kind.IID:
        return data.draw(st.sampled_from(["IUnknown", "IDmaChannel", "IDmaChannelSlave", "IServiceGroup", "{BAD}"]))
    if ptype.kind == Kind.OBJECT:
        return data.draw(st.sampled_from([n for n in references(system) if fits(system, param, n)] + ["NULL"]))
    if param.type == "PKSDATAFORMAT":
        return dict(data.draw(st.sampled_from(FORMATS)))
    if param.type == "PDEVICE_DESCRIPTION":
        return dict(data.draw(st.sampled_from(DESCRIPTIONS)))
    return param.default if not isinstance(param.default, FromTarget) else None


def invalid_value(system: System, param: Param, kind: str, data: st.DataObject) -> Any:
    ptype = param.ptype
    if kind == WRONG_INTERFACE:
        return data.draw(st.sampled_from([n for n in references(system) if not fits(system, param, n)]))
    if kind == UNKNOWN_OBJECT:
        return data.draw(st.sampled_from(UNKNOWN_IDS))
    if ptype.kind == Kind.INT:
        lo, hi = param.bounds()
        return data.draw(st.sampled_from([(lo or 0) - 1, (hi or 0) + 1, "0x10", 1.5, True]))
    if ptype.kind == Kind.BOOL:
        return data.draw(st.sampled_from([0, "TRUE"] + ([] if param.optional else [None])))
    if ptype.kind == Kind.ENUM:
        return data.draw(st.sampled_from(["NOT_A_NAME", 7] + ([] if param.optional else [None])))
    if ptype.kind == Kind.STRUCT:
        return data.draw(st.sampled_from([{"NoSuchField": 1}, "text", 5]))
    return data.draw(st.sampled_from([12, 3.5, ["x"], {"a": 1}]))


def breakable(system: System, method: Method, kind: str) -> list[Param]:
    """The parameters of ``method`` that can carry an invalid argument of ``kind``."""
    if kind == WRONG_INTERFACE:
        objects = [p for p in method.inputs if p.ptype.kind == Kind.OBJECT]
        return [p for p in objects if any(not fits(system, p, n) for n in references(system))]
    if kind == UNKNOWN_OBJECT:
        return [p for p in method.inputs if p.ptype.kind == Kind.OBJECT]
    return list(method.inputs)


# --- the state machine ---------------------------------------------------------------------------
class RandomCalls(RuleBasedStateMachine):
    """Random calls on one live stream; subclasses name the stack (device and direction)."""

    device = "sb16"
    capture = False

    def __init__(self) -> None:
        super().__init__()
        self.topology, _ = live_stack(self.device, capture=self.capture)
        self.system = self.topology.system
        # Channels whose caller asked AllocateBuffer for more than MaximumBufferSize, which the
        # contract allows ([MS] fact 7: MaximumBufferSize may be smaller than the allocation).
        self.asked_for_more: set[str] = set()
        # The allocation behind each live channel's buffer, as of the last invariant check.
        self.held: dict[str, Allocation] = {}
        self.seen = 0  # trace records read by the last freed-buffer check

    @initialize()
    def start(self) -> None:
        self.system.run_for(15 * MS)

    @rule(data=st.data(), kind=st.sampled_from(KINDS), context=st.sampled_from(CONTEXTS))
    def call_something(self, data: st.DataObject, kind: str, context: str | None) -> None:
        system = self.system
        pool = [
            (object_id, name)
            for object_id, obj in sorted(system.objects.items())
            for name, method in sorted(obj.method_table().items())
            if kind in (VALID, UNKNOWN_PARAMETER) or breakable(system, method, kind)
        ]
        object_id, name = data.draw(st.sampled_from(pool), label="object, method")
        obj = system.objects[object_id]
        method = obj.method_table()[name]
        broken: Param | None = None
        if kind not in (VALID, UNKNOWN_PARAMETER):
            which = data.draw(st.sampled_from([p.name for p in breakable(system, method, kind)]), label="broken")
            broken = next(p for p in method.inputs if p.name == which)
        args: dict[str, Any] = {}
        for param in method.inputs:
            if param is broken:
                args[param.name] = invalid_value(system, param, kind, data)
            elif data.draw(st.booleans(), label=f"give {param.name}"):
                args[param.name] = valid_value(system, param, data)
            # else: left to the declared default
        if kind == UNKNOWN_PARAMETER:
            args["NoSuchParameter"] = 1
        if broken is not None and kind != UNKNOWN_OBJECT:
            with pytest.raises(ArgumentError) as refusal:
                system.convert_arg(broken, args[broken.name])
            assert refusal.value.rule == REFUSAL_RULE[kind]
        maximum = obj.MaximumBufferSize() if method.name == "AllocateBuffer" and obj.alive else None

        result = system.call(object_id, name, args, context=context, caller="user")

        assert result.record is not None
        assert not any(v.rule == "internal-error" for v in result.violations)
        refused = result.error.partition(":")[0] if result.error and not result.executed else None
        if refused is not None and refused not in args:
            # A declared default that does not fit this stack (GetScatterGatherList's
            # ExecutionRoutine "dma" fits no object): refused like any argument.
            assert [v.rule for v in result.violations] in (["bad-argument"], ["wrong-interface"])
            if method.returns == "NTSTATUS":
                assert result.status == NTSTATUS.STATUS_INVALID_PARAMETER
        elif kind in REFUSAL_RULE:
            # Refused before it runs, naming the argument; nothing is executed.
            assert broken is None or refused == broken.name, result.error
            assert refused is not None and [v.rule for v in result.violations] == [REFUSAL_RULE[kind]]
            if method.returns == "NTSTATUS":
                assert result.status == result.record.status == NTSTATUS.STATUS_INVALID_PARAMETER
            else:
                assert result.status is None
        else:
            # Well-formed arguments are never refused (the call runs unless the object is dead).
            assert refused is None, result.error
            assert result.executed or [v.rule for v in result.violations] == ["use-after-free"]
            if maximum is not None and result.status == NTSTATUS.STATUS_SUCCESS:
                event("AllocateBuffer succeeded")
                if result.record.args["BufferSize"] > maximum:
                    self.asked_for_more.add(object_id)

    @rule(ms=st.integers(0, 40))
    def let_time_pass(self, ms: int) -> None:
        self.system.run_for(ms * MS)

    @rule(data=st.data())
    def release_a_channel(self, data: st.DataObject) -> None:
        """Release a channel down to zero references (its buffer must be freed with it)."""
        system = self.system
        live = sorted(channels(system), key=lambda o: o.object_id)
        if not live:
            return
        channel = data.draw(st.sampled_from(live))
        while channel.alive:
            result = system.call(channel.object_id, "Release", caller="user")
            assert result.executed and not any(v.rule == "internal-error" for v in result.violations)

    @rule(description=st.sampled_from(DESCRIPTIONS), size=st.sampled_from([0x1000, 0x4000, 0x6000, 0x10000]))
    def new_channel_with_buffer(self, description: dict[str, Any], size: int) -> None:
        """PcNewDmaChannel and AllocateBuffer: more live channels and common buffers."""
        system = self.system
        made = system.call("portcls", "PcNewDmaChannel", {"DeviceDescription": dict(description)}, caller="user")
        channel = made.out.get("OutDmaChannel")
        if made.status == NTSTATUS.STATUS_SUCCESS and channel is not None:
            system.call(channel.object_id, "AllocateBuffer", {"BufferSize": size}, caller="user")
            if size > channel.MaximumBufferSize() and channel.allocated:
                self.asked_for_more.add(channel.object_id)

    # --- invariants ---------------------------------------------------------------------------------
    @invariant()
    def channel_sizes_are_consistent(self) -> None:
        for channel in channels(self.system):
            allocated, size = channel.AllocatedBufferSize(), channel.BufferSize()
            assert allocated >= 0 and size >= 0
            assert (channel.SystemAddress() == 0) == (allocated == 0) == (channel.PhysicalAddress() == 0)
            if not allocated:
                self.asked_for_more.discard(channel.object_id)
                continue
            if channel.object_id not in self.asked_for_more:
                assert allocated <= channel.MaximumBufferSize(), channel.describe()
            if isinstance(channel, DmaChannel):
                assert channel.mdl is not None
                assert (channel.mdl.va, channel.mdl.byte_count) == (channel.buffer_va, allocated)
            else:  # the virtual miniport's channel refuses a BufferSize above the allocation (msvad)
                assert 0 < size <= allocated

    @invariant()
    def channel_buffers_are_live_common_buffers(self) -> None:
        system = self.system
        memory, space = system.machine.memory, system.kernel.address_space
        taken: dict[int, str] = {}
        for channel in channels(system):
            if not channel.allocated:
                continue
            va, physical, allocated = channel.buffer_va, channel.buffer_physical, channel.allocated
            allocation = memory.allocation_at(physical)
            assert allocation is not None, f"{channel.object_id}'s buffer at {physical:#x} is not allocated"
            assert allocation.owner == PageOwner.COMMON_BUFFER and allocation.contiguous
            assert allocation.base <= physical
            assert physical + allocated <= allocation.base + len(allocation.pages) * PAGE_SIZE
            first = physical // PAGE_SIZE
            pages = range(first, -(-(physical + allocated) // PAGE_SIZE))
            assert np.all(memory.owner[pages.start : pages.stop] == PageOwner.COMMON_BUFFER)
            assert space.to_physical(va) == physical
            for page in pages:  # no two live channels share a page
                assert taken.setdefault(page, channel.object_id) == channel.object_id
            if isinstance(channel, SlaveDmaChannel):  # below 16 MiB, never across 64 KiB
                assert physical + allocated <= ISA_LIMIT
                assert physical >> 16 == (physical + allocated - 1) >> 16

    @invariant()
    def freed_buffers_give_their_pages_back(self) -> None:
        """After FreeBuffer, or a release to zero references, the buffer's pages are FREE again."""
        system = self.system
        memory = system.machine.memory
        now: dict[str, Allocation] = {}
        for channel in channels(system):
            if channel.allocated:
                allocation = memory.allocation_at(channel.buffer_physical)
                if allocation is not None:
                    now[channel.object_id] = allocation
        recent = system.trace.since(self.seen)
        self.seen = len(system.trace)
        for object_id, old in self.held.items():
            if now.get(object_id) == old:
                continue  # still the channel's buffer
            if memory.allocations.get(old.pages[0]) == old:
                # Only if the FreeCommonBuffer that should have freed it found the channel's
                # adapter already gone (PutDmaAdapter on it before): a use-after-free violation.
                adapter = getattr(getattr(system.objects[object_id], "adapter", None), "object_id", None)
                assert any(
                    r.kind == "violation"
                    and (r.rule, r.method, r.object) == ("use-after-free", "FreeCommonBuffer", adapter)
                    for r in recent
                ), f"{object_id} gave up its buffer ({old.label}) but the allocation is still live"
                event("a buffer stayed allocated: its adapter was put before FreeCommonBuffer")
                continue
            event("a channel's buffer was freed")
            for page in old.pages:  # FREE, unless a new allocation took the page since
                assert memory.owner[page] == PageOwner.FREE or memory.allocation_at(page * PAGE_SIZE) is not None
        self.held = now

    @invariant()
    def memory_accounting_balances(self) -> None:
        system = self.system
        memory, space = system.machine.memory, system.kernel.address_space
        live = [a for a in memory.allocations.values() if a.owner == PageOwner.COMMON_BUFFER]
        assert sum(len(a.pages) for a in live) == int(np.count_nonzero(memory.owner == PageOwner.COMMON_BUFFER))
        for allocation in memory.allocations.values():
            assert np.all(memory.owner[list(allocation.pages)] == allocation.owner)
        # The HAL's book of common buffers names live allocations, mapped where it says.
        for adapter in system.objects.values():
            if isinstance(adapter, DmaAdapter):
                for va, entry in adapter.common_buffers.items():
                    allocation = entry.allocation
                    assert memory.allocations.get(allocation.pages[0]) == allocation
                    assert 0 < entry.length <= len(allocation.pages) * PAGE_SIZE
                    assert space.to_physical(va) == entry.logical

    @invariant()
    def reference_counts_in_range(self) -> None:
        """A live COM object holds references; a destroyed one holds none and stays destroyed."""
        system = self.system
        for obj in system.objects.values():
            if not isinstance(obj, ComObject):
                continue
            assert obj.refcount >= 0, f"{obj.object_id}: refcount {obj.refcount}"
            if obj.alive:
                assert obj.refcount > 0, f"{obj.object_id} is alive with no references"
            else:
                assert obj.refcount == 0, f"{obj.object_id} was destroyed but holds {obj.refcount} reference(s)"

    @invariant()
    def registers_and_trace_in_range(self) -> None:
        system = self.system
        for number in (0, 1, 2, 3, 5, 6, 7):
            channel = system.machine.dma.channel(number)
            for value in (channel.current_count, channel.current_address, channel.base_count, channel.base_address):
                assert 0 <= value <= 0xFFFF
        records = system.trace.records
        if len(records) > 1:
            assert records[-1].seq == len(records) - 1
            assert records[-2].t_ns <= records[-1].t_ns


SETTINGS = settings(
    max_examples=80,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
STACKS = [(device, capture) for device in DEVICES for capture in (False, True)]


def _test_case(device: str, capture: bool) -> type:
    name = f"TestRandomCalls{device.capitalize()}{'Capture' if capture else 'Render'}"
    machine = type(name.removeprefix("Test"), (RandomCalls,), {"device": device, "capture": capture})
    case = machine.TestCase
    case.settings = SETTINGS
    case.__name__ = case.__qualname__ = name
    return case


for _device, _capture in STACKS:
    _case = _test_case(_device, _capture)
    globals()[_case.__name__] = _case
del _case


@pytest.mark.parametrize("device", DEVICES)
def test_unknown_object_id_is_refused(device: str) -> None:
    """An object argument naming no object is an invalid argument, like one of the wrong interface.

    (Before System.prepare_args checked names, an unknown id quietly became NULL: this call succeeded.)
    """
    topology, _ = live_stack(device)
    result = topology.system.call(
        "portcls", "PcNewDmaChannel", {"DeviceObject": "no_such_object", "DeviceDescription": DESCRIPTIONS[0]}
    )
    assert result.status == NTSTATUS.STATUS_INVALID_PARAMETER
    assert [v.rule for v in result.violations] == ["bad-argument"]


@pytest.mark.parametrize("device", DEVICES)
def test_port_init_refuses_a_port_as_miniport(device: str) -> None:
    """IPort::Init with a port as UnknownMiniport: wrong-interface and STATUS_INVALID_PARAMETER.

    (The WaveCyclic port once called the port's own Init with Port=...: a TypeError out of System.call.)
    """
    topology, _ = live_stack(device)
    result = topology.system.call("port", "Init", {"UnknownMiniport": "port"})
    assert result.status == NTSTATUS.STATUS_INVALID_PARAMETER
    assert [v.rule for v in result.violations] == ["wrong-interface"]


@pytest.mark.parametrize("device", DEVICES)
def test_add_member_of_a_destroyed_sink_is_a_use_after_free(device: str) -> None:
    """AddMember AddRefs its sink: a sink released to zero gets no reference back, is never
    serviced, and the use is reported (it once came back to life silently)."""
    topology, pin = live_stack(device)
    system = topology.system
    system.call("sg", "RemoveMember", {"pServiceSink": "pin"})
    while pin.alive:
        system.call("pin", "Release")
    result = system.call("sg", "AddMember", {"pServiceSink": "pin"})
    assert pin.refcount == 0 and "use-after-free" in [v.rule for v in result.violations]
    assert pin not in system.get("sg").members


def test_sb16_new_stream_gives_no_reference_to_a_destroyed_channel() -> None:
    """NewStream hands the port its cached channel with a reference: if that channel was
    released to zero, the miniport is using freed memory, and that is reported."""
    topology, _ = live_stack("sb16")
    system = topology.system
    channel = system.get("dma8")
    while channel.alive:
        system.call("dma8", "Release")
    fmt = {"SamplesPerSec": 22050, "BitsPerSample": 8, "Channels": 1}
    result = system.call("miniport", "NewStream", {"Capture": True, "DataFormat": fmt})
    assert channel.refcount == 0 and "use-after-free" in [v.rule for v in result.violations]


def test_every_stack_builds_a_live_stream() -> None:
    """Every stack the machine runs on really streams, render and capture."""
    for device, capture in STACKS:
        topology, pin = live_stack(device, capture=capture)
        topology.system.run_for(30 * MS)
        assert pin.alive and isinstance(topology.system.get("stream"), ModelObject), (device, capture)
        assert topology.system.trace.count("dpc", action="run") > 0, (device, capture)
