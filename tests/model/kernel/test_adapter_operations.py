"""portcls-contract.md section 5: the DMA_OPERATIONS no other test calls directly.

PutDmaAdapter, FreeCommonBuffer, FreeAdapterChannel, FreeMapRegisters, GetDmaAlignment,
GetScatterGatherList and PutScatterGatherList, and every place the adapter raises the
`adapter-channel` and `map-registers` rules. Each call goes through System.call, as a
scenario's would. Where the reference names no behaviour, the test checks the policy
docs/contract.md states and says so.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from model.hardware.memory import ISA_LIMIT, PAGE_SIZE, PageOwner
from model.kernel.dma_adapter import ScatterGatherList, pci_bus_master_table
from model.kernel.types import IO_ALLOCATION_ACTION, NTSTATUS
from model.kernel.virtual_memory import Mdl
from model.topology import Topology
from model.trace import RegisterRecord


def system():
    topology = Topology("sb16")
    topology.system.strict = True
    return topology.system


def slave(sys_, channel: int = 1, width: str = "Width8Bits", maximum: int = 0x4000):
    table = {"Version": 1, "DmaChannel": channel, "DmaWidth": width, "AutoInitialize": True, "MaximumLength": maximum}
    return sys_.call("io", "IoGetDmaAdapter", {"DeviceDescription": table}).value


def master(sys_, maximum: int = 0x8000):
    return sys_.call("io", "IoGetDmaAdapter", {"DeviceDescription": pci_bus_master_table(maximum)}).value


class Routine:
    """A driver's AdapterControl / AdapterListControl routine that records what it was given."""

    def __init__(self, action: IO_ALLOCATION_ACTION = IO_ALLOCATION_ACTION.KeepObject) -> None:
        self.action = action
        self.grants: list[tuple[int, int]] = []  # (MapRegisterBase, Context)
        self.lists: list[tuple[ScatterGatherList, int]] = []

    def AdapterControl(self, DeviceObject: Any, Irp: Any, MapRegisterBase: int, Context: int) -> IO_ALLOCATION_ACTION:
        self.grants.append((MapRegisterBase, Context))
        return self.action

    def AdapterListControl(self, DeviceObject: Any, Irp: Any, ScatterGather: ScatterGatherList, Context: int) -> None:
        self.lists.append((ScatterGather, Context))

    def to_json_value(self) -> str:
        """The call records keep it as an argument; this is how a saved trace names it."""
        return "routine"


def rules(result) -> list[str]:
    return [v.rule for v in result.violations]


def allocate_channel(sys_, adapter, routine: Routine, registers: int = 1, context: int = 0):
    return sys_.call(
        adapter,
        "AllocateAdapterChannel",
        {"NumberOfMapRegisters": registers, "ExecutionRoutine": routine, "Context": context},
        context="dispatch",
    )


def common_buffer(sys_, adapter, length: int = 0x1000, cache: bool = False) -> tuple[int, int]:
    result = sys_.call(adapter, "AllocateCommonBuffer", {"Length": length, "CacheEnabled": cache})
    assert result.value
    return result.value, result.out["LogicalAddress"]


def high_buffer(sys_, length: int, label: str = "high") -> Mdl:
    """A physically contiguous buffer above 16 MiB, mapped, with its MDL."""
    memory = sys_.machine.memory
    allocation = memory.allocate_contiguous(
        length, lowest_address=0x2000000, owner=PageOwner.CLIENT_BUFFER, label=label
    )
    mapping = sys_.kernel.address_space.map(allocation)
    return sys_.kernel.address_space.mdl_for(f"{label}.mdl", mapping.va, length)


def get_sg(sys_, adapter, mdl: Mdl, routine: Routine, current_va: int | None = None, length: int | None = None):
    return sys_.call(
        adapter,
        "GetScatterGatherList",
        {
            "Mdl": mdl,
            "CurrentVa": mdl.va if current_va is None else current_va,
            "Length": mdl.byte_count if length is None else length,
            "ExecutionRoutine": routine,
            "Context": 0x55,
            "WriteToDevice": True,
        },
        context="dispatch",
    )


def put_sg(sys_, adapter, sg: ScatterGatherList):
    return sys_.call(adapter, "PutScatterGatherList", {"ScatterGather": sg, "WriteToDevice": True}, context="dispatch")


# --- PutDmaAdapter ----------------------------------------------------------------------------


def test_put_dma_adapter_retires_the_adapter() -> None:
    """§5.2: PutDmaAdapter frees the adapter (allowed up to DISPATCH_LEVEL, §5.3); later calls hit a dead object."""
    s = system()
    a = slave(s)
    result = s.call(a, "PutDmaAdapter", context="dispatch")
    assert result.executed and rules(result) == []
    late = s.call(a, "ReadDmaCounter")
    assert not late.executed and rules(late) == ["use-after-free"]
    # ReactOS keeps one adapter per system channel; a dead one must not be handed out again.
    again = slave(s)
    assert again is not None and again is not a and again.alive


def test_put_dma_adapter_while_the_channel_is_held_is_an_adapter_channel_violation() -> None:
    """§5.3: the channel is kept after KeepObject until FreeAdapterChannel; giving the adapter back first is misuse."""
    s = system()
    a = slave(s)
    allocate_channel(s, a, Routine())
    result = s.call(a, "PutDmaAdapter", context="dispatch")
    assert rules(result) == ["adapter-channel"]
    assert not a.alive  # the call still runs, so the consequence can be watched


def test_put_dma_adapter_with_common_buffers_still_allocated_is_reported() -> None:
    """The buffers an adapter allocated must be freed through it first: once it is put they can
    never be (FreeCommonBuffer on a dead adapter is a use after free), so they leak."""
    s = system()
    a = slave(s)
    va = s.call(a, "AllocateCommonBuffer", {"Length": 0x1000, "CacheEnabled": False}).value
    assert va
    result = s.call(a, "PutDmaAdapter", context="dispatch")
    assert rules(result) == ["adapter-in-use"] and f"{va:#x}" in result.violations[0].message
    clean = slave(s)
    va2 = s.call(clean, "AllocateCommonBuffer", {"Length": 0x1000, "CacheEnabled": False}).value
    logical = clean.common_buffers[va2].logical
    s.call(
        clean,
        "FreeCommonBuffer",
        {"Length": 0x1000, "LogicalAddress": logical, "VirtualAddress": va2, "CacheEnabled": False},
    )
    assert rules(s.call(clean, "PutDmaAdapter", context="dispatch")) == []


def test_put_dma_adapter_gives_back_map_register_buffers() -> None:
    """§5.4 [ROS]: map-register buffers below 16 MiB belong to the adapter; PutDmaAdapter must not leak them."""
    s = system()
    memory = s.machine.memory
    a = slave(s)
    mdl = high_buffer(s, 0x1000)
    s.call(a, "MapTransfer", {"Mdl": mdl, "CurrentVa": mdl.va, "Length": 0x1000, "WriteToDevice": True})
    assert np.count_nonzero(memory.owner == PageOwner.MAP_REGISTER_BUFFER) > 0
    s.call(a, "PutDmaAdapter")
    assert np.count_nonzero(memory.owner == PageOwner.MAP_REGISTER_BUFFER) == 0


# --- FreeCommonBuffer ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [slave, master], ids=["slave", "master"])
def test_free_common_buffer_with_matching_arguments_frees_it(make) -> None:
    """§5.3: FreeCommonBuffer with the allocation's own Length, LogicalAddress, VirtualAddress and CacheEnabled."""
    s = system()
    memory = s.machine.memory
    a = make(s)
    before = memory.free_page_count()
    va, logical = common_buffer(s, a, 0x2800, cache=True)
    assert memory.free_page_count() == before - 3
    result = s.call(
        a,
        "FreeCommonBuffer",
        {"Length": 0x2800, "LogicalAddress": logical, "VirtualAddress": va, "CacheEnabled": True},
    )
    assert result.executed and rules(result) == []
    assert memory.free_page_count() == before
    assert memory.owner[logical // PAGE_SIZE] == PageOwner.FREE
    assert s.kernel.address_space.find(va) is None  # the CPU's view of it is gone too
    assert va not in a.common_buffers


@pytest.mark.parametrize(
    ("field", "wrong"),
    [
        ("Length", lambda right: 0x1000),  # a partial free: §5.3 allows none
        ("Length", lambda right: 0x3000),  # the whole pages the HAL rounded up to are not the Length given
        ("LogicalAddress", lambda right: right + PAGE_SIZE),
        ("VirtualAddress", lambda right: right + PAGE_SIZE),
        ("CacheEnabled", lambda right: not right),
    ],
    ids=["shorter", "page-rounded", "logical", "virtual", "cache"],
)
def test_free_common_buffer_mismatch_is_reported_and_frees_nothing(field: str, wrong) -> None:
    """§5.3: FreeCommonBuffer's parameters must match exactly, else `common-buffer-mismatch` and nothing freed."""
    s = system()
    memory = s.machine.memory
    a = slave(s)
    va, logical = common_buffer(s, a, 0x2800)
    right = {"Length": 0x2800, "LogicalAddress": logical, "VirtualAddress": va, "CacheEnabled": False}
    after_alloc = memory.free_page_count()
    result = s.call(a, "FreeCommonBuffer", {**right, field: wrong(right[field])})
    assert rules(result) == ["common-buffer-mismatch"]
    assert memory.free_page_count() == after_alloc
    assert va in a.common_buffers and s.kernel.address_space.find(va) is not None
    # The buffer is intact, so the right call still frees it.
    assert rules(s.call(a, "FreeCommonBuffer", right)) == []
    assert va not in a.common_buffers


def test_free_common_buffer_twice_or_through_another_adapter_is_a_mismatch() -> None:
    """§5.3: only a live buffer of this adapter matches; a second free and a free through another adapter do not."""
    s = system()
    a, other = slave(s, 1), slave(s, 3)
    va, logical = common_buffer(s, a)
    args = {"Length": 0x1000, "LogicalAddress": logical, "VirtualAddress": va, "CacheEnabled": False}
    assert rules(s.call(other, "FreeCommonBuffer", args)) == ["common-buffer-mismatch"]
    assert va in a.common_buffers
    assert rules(s.call(a, "FreeCommonBuffer", args)) == []
    assert rules(s.call(a, "FreeCommonBuffer", args)) == ["common-buffer-mismatch"]


# --- FreeAdapterChannel ---------------------------------------------------------------------------


def test_free_adapter_channel_releases_channel_and_map_registers() -> None:
    """§5.3: after AdapterControl returned KeepObject, FreeAdapterChannel releases the channel and its map registers."""
    s = system()
    a = slave(s)
    routine = Routine(IO_ALLOCATION_ACTION.KeepObject)
    assert allocate_channel(s, a, routine, registers=3, context=7).status == NTSTATUS.STATUS_SUCCESS
    assert len(routine.grants) == 1 and routine.grants[0][1] == 7
    assert a.channel_holder is not None and a.map_registers_in_use == 3
    result = s.call(a, "FreeAdapterChannel", context="dispatch")
    assert result.executed and rules(result) == []
    assert a.channel_holder is None and a.map_registers_in_use == 0


def test_free_adapter_channel_hands_the_channel_to_the_queued_request_with_its_map_registers() -> None:
    """§5.3: a request made while the channel is busy is queued; freeing the channel grants it what it asked for."""
    s = system()
    a = slave(s)
    first, second = Routine(), Routine()
    allocate_channel(s, a, first, registers=2)
    assert allocate_channel(s, a, second, registers=4, context=9).status == NTSTATUS.STATUS_SUCCESS
    assert second.grants == []  # queued, not called
    s.call(a, "FreeAdapterChannel", context="dispatch")
    assert [context for _, context in second.grants] == [9]
    assert a.channel_holder is not None
    # Its map registers are held, so it can give all four back without a violation.
    assert a.map_registers_in_use == 4


def test_free_adapter_channel_without_a_channel_is_an_adapter_channel_violation() -> None:
    """§5.3: FreeAdapterChannel only after KeepObject: never allocated, freed twice, or given back by the routine."""
    s = system()
    a = slave(s)
    assert rules(s.call(a, "FreeAdapterChannel", context="dispatch")) == ["adapter-channel"]
    allocate_channel(s, a, Routine())
    assert rules(s.call(a, "FreeAdapterChannel", context="dispatch")) == []
    assert rules(s.call(a, "FreeAdapterChannel", context="dispatch")) == ["adapter-channel"]
    bus_master = master(s)
    allocate_channel(s, bus_master, Routine(IO_ALLOCATION_ACTION.DeallocateObject))
    assert bus_master.channel_holder is None
    assert rules(s.call(bus_master, "FreeAdapterChannel", context="dispatch")) == ["adapter-channel"]


def test_free_adapter_channel_below_dispatch_level_is_an_irql_violation() -> None:
    """§5.3: FreeAdapterChannel is a DISPATCH_LEVEL routine; at PASSIVE_LEVEL it is reported (and still runs)."""
    s = system()
    a = slave(s)
    allocate_channel(s, a, Routine())
    result = s.call(a, "FreeAdapterChannel", context="passive")
    assert rules(result) == ["irql"]
    assert a.channel_holder is None


# --- FreeMapRegisters -----------------------------------------------------------------------------


def test_free_map_registers_after_deallocate_object_keep_registers() -> None:
    """§5.3: a bus master's routine may return DeallocateObjectKeepRegisters; FreeMapRegisters then gives them back."""
    s = system()
    a = master(s)
    routine = Routine(IO_ALLOCATION_ACTION.DeallocateObjectKeepRegisters)
    allocate_channel(s, a, routine, registers=3)
    assert a.channel_holder is None and a.map_registers_in_use == 3
    base = routine.grants[0][0]
    result = s.call(a, "FreeMapRegisters", {"MapRegisterBase": base, "NumberOfMapRegisters": 3}, context="dispatch")
    assert result.executed and rules(result) == []
    assert a.map_registers_in_use == 0


def test_free_map_registers_beyond_those_held_is_a_map_registers_violation() -> None:
    """§5.3 (`map-registers`): freeing more map registers than the routine kept, or any after DeallocateObject."""
    s = system()
    a = master(s)
    routine = Routine(IO_ALLOCATION_ACTION.DeallocateObjectKeepRegisters)
    allocate_channel(s, a, routine, registers=2)
    base = routine.grants[0][0]
    too_many = s.call(a, "FreeMapRegisters", {"MapRegisterBase": base, "NumberOfMapRegisters": 3}, context="dispatch")
    assert rules(too_many) == ["map-registers"]
    assert a.map_registers_in_use == 0  # never negative
    none_kept = master(s)
    gone = Routine(IO_ALLOCATION_ACTION.DeallocateObject)
    allocate_channel(s, none_kept, gone, registers=2)
    result = s.call(none_kept, "FreeMapRegisters", {"MapRegisterBase": gone.grants[0][0], "NumberOfMapRegisters": 1})
    assert rules(result) == ["map-registers"]


# --- GetDmaAlignment --------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [slave, master], ids=["slave", "master"])
def test_get_dma_alignment_is_one_byte(make) -> None:
    """§5.3 names no value; [gap]: dmaviz answers 1 (no alignment needed), what ReactOS's x86 HAL answers."""
    s = system()
    result = s.call(make(s), "GetDmaAlignment")
    assert result.value == 1 and rules(result) == []


def test_get_dma_alignment_is_passive_level_only() -> None:
    """§5.3: GetDmaAlignment is PASSIVE_LEVEL; from a DPC it is an `irql` violation."""
    s = system()
    result = s.call(master(s), "GetDmaAlignment", context="dispatch")
    assert rules(result) == ["irql"] and result.value == 1


# --- GetScatterGatherList / PutScatterGatherList --------------------------------------------------


def test_scatter_gather_list_matches_the_buffers_physical_pages() -> None:
    """§5.3: GetScatterGatherList gives the buffer's physically contiguous runs, in order, to the routine."""
    s = system()
    memory = s.machine.memory
    space = s.kernel.address_space
    a = master(s)
    allocation = memory.allocate_scattered(6 * PAGE_SIZE, seed=11, label="client")
    mapping = space.map(allocation)
    va, length = mapping.va + 0x123, 5 * PAGE_SIZE
    mdl = space.mdl_for("client.mdl", va, length)
    routine = Routine()
    result = get_sg(s, a, mdl, routine)
    assert result.status == NTSTATUS.STATUS_SUCCESS
    assert len(routine.lists) == 1 and routine.lists[0][1] == 0x55
    elements = routine.lists[0][0].elements
    assert len(elements) >= 3  # the seed scatters the pages, so the list must really gather
    assert sum(n for _, n in elements) == length
    # Each element must start, cross every page boundary and end where the kernel maps that byte.
    offset = 0
    for physical, n in elements:
        here = va + offset
        first_boundary = PAGE_SIZE - (here & (PAGE_SIZE - 1))
        for k in {0, n - 1, *range(first_boundary, n, PAGE_SIZE)}:
            assert space.to_physical(here + k) == physical + k
        offset += n
    # Neighbouring elements are not contiguous, else they would have been one element.
    for (p1, n1), (p2, _) in itertools.pairwise(elements):
        assert p1 + n1 != p2
    assert elements == [(pa, n) for _, pa, n in space.pieces(va, length)]


def test_scatter_gather_list_of_a_known_layout() -> None:
    """§5.3: pages 0x300 and 0x301 are adjacent and merge; page 0x150 is a separate element."""
    s = system()
    a = master(s)
    mdl = Mdl("known", 0x90000F00, 0x1200, (0x300, 0x301, 0x150))
    routine = Routine()
    get_sg(s, a, mdl, routine)
    assert routine.lists[0][0].elements == [(0x300F00, 0x1100), (0x150000, 0x100)]
    get_sg(s, a, mdl, routine, current_va=0x90001F00, length=0x200)
    assert routine.lists[1][0].elements == [(0x301F00, 0x100), (0x150000, 0x100)]


def test_put_scatter_gather_list_frees_it_once() -> None:
    """§5.3: PutScatterGatherList gives a list back; a second put of the same list is `adapter-channel` misuse."""
    s = system()
    a = master(s)
    mdl = Mdl("known", 0x90000000, 0x2000, (0x300, 0x301))
    routine = Routine()
    get_sg(s, a, mdl, routine)
    sg = routine.lists[0][0]
    assert sg.name in a.sg_lists
    first = put_sg(s, a, sg)
    assert first.executed and rules(first) == []
    assert sg.name not in a.sg_lists
    assert rules(put_sg(s, a, sg)) == ["adapter-channel"]


def test_scatter_gather_lists_stay_distinct_after_one_is_put_back() -> None:
    """§5.3: each outstanding list can be put back exactly once, whatever order lists are built and freed in."""
    s = system()
    a = master(s)
    mdl = Mdl("known", 0x90000000, 0x2000, (0x300, 0x301))
    routine = Routine()
    get_sg(s, a, mdl, routine)
    get_sg(s, a, mdl, routine)
    put_sg(s, a, routine.lists[0][0])
    get_sg(s, a, mdl, routine)
    second, third = routine.lists[1][0], routine.lists[2][0]
    assert second.name != third.name
    assert rules(put_sg(s, a, second)) == []
    assert rules(put_sg(s, a, third)) == []
    assert a.sg_lists == {}


def test_put_scatter_gather_list_built_by_another_adapter_is_an_adapter_channel_violation() -> None:
    """§5.3 (`adapter-channel`): a list goes back to the adapter that built it."""
    s = system()
    builder, other = master(s), master(s)
    mdl = Mdl("known", 0x90000000, 0x1000, (0x300,))
    routine = Routine()
    get_sg(s, builder, mdl, routine)
    assert rules(put_sg(s, other, routine.lists[0][0])) == ["adapter-channel"]
    assert rules(put_sg(s, builder, routine.lists[0][0])) == []


@pytest.mark.parametrize(
    ("start", "length"),
    [(-PAGE_SIZE, 0x100), (-1, 0x10), (0x1F00, 0x200), (0, 0)],
    ids=["page-before", "byte-before", "past-the-end", "empty"],
)
def test_scatter_gather_range_outside_the_mdl_is_a_map_registers_violation(start: int, length: int) -> None:
    """§5.3 (`map-registers`): the range must lie inside the MDL; STATUS_INVALID_PARAMETER and no list otherwise."""
    s = system()
    a = master(s)
    mdl = Mdl("known", 0x90001000, 0x2000, (0x300, 0x301))
    routine = Routine()
    result = get_sg(s, a, mdl, routine, current_va=mdl.va + start, length=length)
    assert result.status == NTSTATUS.STATUS_INVALID_PARAMETER
    assert rules(result) == ["map-registers"]
    assert routine.lists == [] and a.sg_lists == {}


def test_scatter_gather_calls_are_dispatch_level() -> None:
    """§5.3: GetScatterGatherList and PutScatterGatherList run at DISPATCH_LEVEL; from a thread they are reported."""
    s = system()
    a = master(s)
    mdl = Mdl("known", 0x90000000, 0x1000, (0x300,))
    routine = Routine()
    args = {"Mdl": mdl, "CurrentVa": mdl.va, "Length": 0x1000, "ExecutionRoutine": routine}
    got = s.call(a, "GetScatterGatherList", args, context="passive")
    assert rules(got) == ["irql"] and got.status == NTSTATUS.STATUS_SUCCESS
    put = s.call(a, "PutScatterGatherList", {"ScatterGather": routine.lists[0][0]}, context="passive")
    assert rules(put) == ["irql"]


# --- the `adapter-channel` and `map-registers` rules, where the adapter raises them ---------------


def test_adapter_channel_rule_second_request_while_one_is_queued() -> None:
    """§5.3 (`adapter-channel`): only one request may wait per device; the third routine is never called."""
    s = system()
    a = slave(s)
    holder, waiting, third = Routine(), Routine(), Routine()
    allocate_channel(s, a, holder)
    assert rules(allocate_channel(s, a, waiting)) == []
    result = allocate_channel(s, a, third)
    assert rules(result) == ["adapter-channel"]
    s.call(a, "FreeAdapterChannel", context="dispatch")
    s.call(a, "FreeAdapterChannel", context="dispatch")
    assert len(waiting.grants) == 1 and third.grants == []


def test_map_registers_rule_map_transfer_outside_the_mdl_programs_nothing() -> None:
    """§5.3 (`map-registers`): MapTransfer's CurrentVa must lie in the MDL's buffer; the 8237 is left alone."""
    s = system()
    a = slave(s)
    mdl = Mdl("known", 0x90000000, 0x1000, (0x123,))
    first = len(s.trace)
    result = s.call(
        a, "MapTransfer", {"Mdl": mdl, "CurrentVa": mdl.va + 0x1000, "Length": 0x100, "WriteToDevice": True}
    )
    assert rules(result) == ["map-registers"]
    assert result.out["Length"] == 0
    assert not [r for r in s.trace.since(first) if isinstance(r, RegisterRecord) and r.access == "write"]


def test_map_registers_rule_transfer_longer_than_the_map_register_buffers() -> None:
    """§5.4 [ROS] bounce copies: a slave transfer above 16 MiB longer than its map-register buffers cannot be mapped."""
    s = system()
    a = slave(s, maximum=0x1000)  # BYTES_TO_PAGES + 1 = 2 map registers: 8 KiB of bounce buffer
    assert a.map_registers == 2
    mdl = high_buffer(s, 0x8000)
    result = s.call(a, "MapTransfer", {"Mdl": mdl, "CurrentVa": mdl.va, "Length": 0x8000, "WriteToDevice": True})
    assert rules(result) == ["map-registers"]
    assert result.out["Length"] == 0


def test_map_registers_rule_no_memory_below_16_mib_for_bounce_buffers() -> None:
    """§5.4 [ROS]: bounce buffers must come from below 16 MiB; with none free, MapTransfer reports `map-registers`."""
    s = system()
    memory = s.machine.memory
    a = slave(s)
    mdl = high_buffer(s, 0x1000)
    while run := memory.largest_free_run(ISA_LIMIT - 1):
        memory.allocate_contiguous(run * PAGE_SIZE, highest_address=ISA_LIMIT - 1, label="filler")
    result = s.call(a, "MapTransfer", {"Mdl": mdl, "CurrentVa": mdl.va, "Length": 0x1000, "WriteToDevice": True})
    assert rules(result) == ["map-registers"]
    assert result.out["Length"] == 0
