"""portcls-contract.md section 6: the facts about IDmaChannel, IDmaChannelSlave and the adapter object.

Each test names the fact it checks ("portcls-contract fact N").
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from model.hardware.memory import PAGE_SIZE, PageOwner
from model.kernel.types import NTSTATUS, Irql
from model.units import MS, US
from tests.model.portcls.stacks import bare_system, new_channel, run_to_service, sb16, slave_channel, violations

SUCCESS = NTSTATUS.STATUS_SUCCESS


def test_fact_1_allocate_buffer_once_and_at_passive_level() -> None:
    """portcls-contract fact 1: AllocateBuffer at PASSIVE_LEVEL, only once unless FreeBuffer comes first."""
    system = bare_system()
    channel = new_channel(system)
    assert system.call(channel, "AllocateBuffer", {"BufferSize": 0x2000}).status == SUCCESS
    second = system.call(channel, "AllocateBuffer", {"BufferSize": 0x2000})
    assert second.status == NTSTATUS.STATUS_UNSUCCESSFUL
    assert [v.rule for v in second.violations] == ["allocate-twice"]
    system.call(channel, "FreeBuffer")
    third = system.call(channel, "AllocateBuffer", {"BufferSize": 0x1000}, context="dispatch")
    assert third.status == SUCCESS
    assert [v.rule for v in third.violations] == ["irql"]


def test_fact_2_constraint_keeps_buffer_inside_64k() -> None:
    """portcls-contract fact 2: with PhysicalAddressConstraint 0xFFFF the buffer does not cross 64 KiB."""
    system = bare_system()
    memory = system.machine.memory
    # Leave the first free run starting 8 KiB below a 64 KiB line, so first fit would cross it.
    first_free = int(np.flatnonzero(memory.owner == PageOwner.FREE)[0])
    line = (first_free * PAGE_SIZE // 0x10000 + 2) * 0x10000
    memory.reserve(first_free * PAGE_SIZE, line - 0x2000 - first_free * PAGE_SIZE, "test filler")
    plain, constrained = new_channel(system), new_channel(system)
    assert system.call(plain, "AllocateBuffer", {"BufferSize": 0x4000}).status == SUCCESS
    assert plain.PhysicalAddress() // 0x10000 != (plain.PhysicalAddress() + 0x3FFF) // 0x10000
    result = system.call(constrained, "AllocateBuffer", {"BufferSize": 0x4000, "PhysicalAddressConstraint": 0xFFFF})
    assert result.status == SUCCESS
    start = constrained.PhysicalAddress()
    assert start // 0x10000 == (start + 0x3FFF) // 0x10000


def test_fact_3_buffer_is_contiguous_and_shared_by_cpu_and_device() -> None:
    """portcls-contract fact 3: one physically contiguous buffer, reachable by virtual and physical address."""
    system = bare_system()
    channel = new_channel(system)
    system.call(channel, "AllocateBuffer", {"BufferSize": 0x3000})
    assert channel.mdl.pages == tuple(range(channel.mdl.pages[0], channel.mdl.pages[0] + 3))
    system.kernel.address_space.write(channel.SystemAddress() + 0x1FFE, np.array([1, 2, 3, 4], dtype=np.uint8))
    assert list(system.machine.memory.read(channel.PhysicalAddress() + 0x1FFE, 4)) == [1, 2, 3, 4]


def test_facts_4_and_5_allocated_size_and_buffer_size() -> None:
    """portcls-contract facts 4 and 5: AllocatedBufferSize is the size asked for; BufferSize follows SetBufferSize."""
    system = bare_system()
    channel = new_channel(system)
    system.call(channel, "AllocateBuffer", {"BufferSize": 0x1800})
    assert system.call(channel, "AllocatedBufferSize").value == 0x1800
    assert system.call(channel, "BufferSize").value == 0x1800
    system.call(channel, "SetBufferSize", {"BufferSize": 0x1000})
    assert system.call(channel, "BufferSize").value == 0x1000
    assert system.call(channel, "AllocatedBufferSize").value == 0x1800


def test_fact_6_channel_does_not_act_on_buffer_size() -> None:
    """portcls-contract fact 6: SetBufferSize on a running slave channel changes nothing the channel does."""
    topology, _ = sb16()
    system = topology.system
    system.run_for(30 * MS)
    dma = system.get("dma")
    count_before = system.call("dma", "TransferCount").value
    system.call("dma", "SetBufferSize", {"BufferSize": 0x1000})
    system.run_for(50 * MS)
    assert system.call("dma", "TransferCount").value == count_before == 0x4000
    registers = system.machine.dma.channel(5)
    assert registers.base_count == 0x4000 // 2 - 1  # the 8237 still runs the old transfer
    assert dma.BufferSize() == 0x1000


def test_fact_7_maximum_buffer_size_can_be_above_or_below_the_allocation() -> None:
    """portcls-contract fact 7: MaximumBufferSize may exceed the allocation, or be smaller than it."""
    system = bare_system()
    bigger = new_channel(system, MaximumLength=0x2000)
    system.call(bigger, "AllocateBuffer", {"BufferSize": 0x1800})
    assert system.call(bigger, "MaximumBufferSize").value == 0x2000 > bigger.AllocatedBufferSize()
    smaller = new_channel(system, MaximumLength=0x1000)
    system.call(smaller, "AllocateBuffer", {"BufferSize": 0x3000})
    assert system.call(smaller, "MaximumBufferSize").value == 0x1000 < smaller.AllocatedBufferSize()
    eight_bit = slave_channel(system, 1, maximum=0x30000)
    assert eight_bit.MaximumBufferSize() == 0x10000  # the 8237's 64 KiB window on an 8-bit channel


def test_facts_8_9_10_start() -> None:
    """portcls-contract facts 8, 9, 10: TransferCount = MapSize; a second Start fails; WriteToDevice sets direction."""
    system = bare_system()
    channel = slave_channel(system, 1)
    system.call(channel, "AllocateBuffer", {"BufferSize": 0x2000})
    assert system.call(channel, "TransferCount").value == 0
    assert system.call(channel, "Start", {"MapSize": 0x1000, "WriteToDevice": True}).status == SUCCESS
    assert system.call(channel, "TransferCount").value == 0x1000
    again = system.call(channel, "Start", {"MapSize": 0x800, "WriteToDevice": True})
    assert again.status == NTSTATUS.STATUS_UNSUCCESSFUL
    assert system.call(channel, "TransferCount").value == 0x1000
    mode = system.machine.dma.channel(1).mode_byte
    assert mode.transfer_type.name == "READ"  # memory -> device
    system.call(channel, "Stop")
    system.call(channel, "Start", {"MapSize": 0x1000, "WriteToDevice": False})
    assert system.machine.dma.channel(1).mode_byte.transfer_type.name == "WRITE"  # device -> memory


def test_fact_11_map_size_larger_than_the_buffer_is_refused() -> None:
    """portcls-contract fact 11: MapSize must not exceed the allocated size (dmaviz refuses and reports it)."""
    system = bare_system()
    channel = slave_channel(system, 1)
    system.call(channel, "AllocateBuffer", {"BufferSize": 0x1000})
    result = system.call(channel, "Start", {"MapSize": 0x2000, "WriteToDevice": True})
    assert result.status == NTSTATUS.STATUS_INVALID_PARAMETER
    assert [v.rule for v in result.violations] == ["map-size"]
    assert not channel.started


def test_fact_12_read_counter_counts_down_and_reloads() -> None:
    """portcls-contract fact 12: ReadCounter = MapSize after Start, counts down, then reloads to MapSize."""
    topology, _ = sb16(run=False)
    system = topology.system
    system.call("pin", "SetState", {"State": "KSSTATE_RUN"})
    map_size = system.call("dma", "TransferCount").value
    assert system.call("dma", "ReadCounter").value == map_size
    readings = []
    for _ in range(60):
        system.run_for(2 * MS)
        readings.append(system.call("dma", "ReadCounter").value)
    assert all(0 < r <= map_size for r in readings)
    drops = [b < a for a, b in itertools.pairwise(readings)]
    assert drops.count(False) >= 1  # at least one reload back up
    assert drops.count(True) > 40  # and otherwise counting down


def test_fact_13_irql_rules_of_the_slave_methods() -> None:
    """portcls-contract fact 13: ReadCounter and Stop up to DISPATCH_LEVEL; Start and WaitForTC only at PASSIVE."""
    system = bare_system()
    channel = slave_channel(system, 1)
    system.call(channel, "AllocateBuffer", {"BufferSize": 0x1000})
    assert not system.call(channel, "ReadCounter", context="dispatch").violations
    assert [v.rule for v in system.call(channel, "Start", {"MapSize": 0x1000}, context="dispatch").violations] == [
        "irql"
    ]
    assert not system.call(channel, "Stop", context="dispatch").violations
    assert [v.rule for v in system.call(channel, "WaitForTC", {"Timeout": 10}, context="dispatch").violations] == [
        "irql"
    ]
    assert [v.rule for v in system.call(channel, "ReadCounter", context="isr").violations] == ["irql"]


def test_fact_14_wait_for_tc_rounds_the_timeout_down_to_10_us() -> None:
    """portcls-contract fact 14: WaitForTC's timeout is in microseconds, rounded down to a multiple of 10 µs."""
    system = bare_system()
    channel = slave_channel(system, 1, auto_init=False)
    system.call(channel, "AllocateBuffer", {"BufferSize": 0x1000})
    system.call(channel, "Start", {"MapSize": 0x1000, "WriteToDevice": True})
    # Nothing pulls on the channel, so the wait times out after the rounded-down timeout.
    result = system.call(channel, "WaitForTC", {"Timeout": 25})
    assert result.status == NTSTATUS.STATUS_UNSUCCESSFUL
    assert result.record.duration_ns - 2 * 1000 - 800 * 2 <= 20 * US  # the call's own cost plus 20 µs
    assert result.record.duration_ns >= 20 * US


def test_wait_for_tc_on_a_non_auto_init_transfer_succeeds_at_terminal_count() -> None:
    """WaitForTC waits for the single-cycle transfer the SB16 pulls to reach terminal count."""
    system = bare_system()
    machine = system.machine
    channel = slave_channel(system, 1, auto_init=False)
    system.call(channel, "AllocateBuffer", {"BufferSize": 0x1000})
    system.call(channel, "Start", {"MapSize": 0x1000, "WriteToDevice": True})
    machine.io_write(0x226, 1)
    machine.io_write(0x226, 0)
    for byte in (0x40, 256 - 1_000_000 // 22050, 0x14, 0xFF, 0x0F):  # 22 kHz, 8-bit single-cycle 0x1000 bytes
        machine.io_write(0x22C, byte)
    result = system.call(channel, "WaitForTC", {"Timeout": 500_000})
    assert result.status == SUCCESS
    assert 180 * MS < result.record.duration_ns < 190 * MS  # 4096 bytes at 22.05 kHz
    assert not violations(system)


def test_fact_15_stop_flushes_and_masks_the_channel() -> None:
    """portcls-contract fact 15: Stop flushes the adapter buffers (for system DMA: the channel is masked)."""
    topology, _ = sb16()
    system = topology.system
    system.run_for(20 * MS)
    first = len(system.trace)
    system.call("dma", "Stop")
    calls = [(r.object, r.method) for r in system.trace.records[first:] if r.kind == "call"]
    assert ("adapter_ch5", "FlushAdapterBuffers") in calls
    assert system.machine.dma.channel(5).masked


def test_fact_16_release_frees_the_buffer() -> None:
    """portcls-contract fact 16: the buffer is freed when the channel object is destroyed."""
    system = bare_system()
    memory = system.machine.memory
    free_before = memory.free_page_count()
    channel = new_channel(system)
    system.call(channel, "AllocateBuffer", {"BufferSize": 0x3000})
    assert memory.free_page_count() == free_before - 3
    assert system.call(channel, "Release").value == 0
    assert memory.free_page_count() == free_before
    assert [v.rule for v in system.call(channel, "BufferSize").violations] == ["use-after-free"]


def test_fact_17_no_internal_synchronisation_means_races_are_reported() -> None:
    """portcls-contract fact 17: two contexts using the channel at overlapping times, without a lock, race."""
    topology, _ = sb16()
    system = topology.system
    run_to_service(system)  # the service DPC has just copied
    copy = [r for r in system.trace.of_kind("call") if r.method == "CopyTo"][-1]
    assert copy.context == "dpc:sg"
    start, end = next((a[0], a[1]) for a in system.get("dma").accesses if a[3] == copy.seq)
    system.sim.advance_to((start + end) // 2)  # the user's thread on CPU 1, while the DPC copies on CPU 0
    result = system.call("dma", "SetBufferSize", {"BufferSize": 0x2000}, context="passive")
    races = [v for v in result.violations if v.rule == "data-race"]
    assert races and races[0].other_seq is not None
    assert system.trace[races[0].other_seq].method in ("CopyTo", "BufferSize", "SystemAddress")


def test_fact_18_wavecyclic_port_uses_six_channel_methods() -> None:
    """portcls-contract fact 18: the WaveCyclic port calls only six IDmaChannel methods."""
    topology, _ = sb16()
    system = topology.system
    system.run_for(200 * MS)
    used = {r.method for r in system.trace.of_kind("call") if r.object == "dma16" and r.caller == "pin"}
    assert used
    assert used <= {"AllocatedBufferSize", "BufferSize", "CopyFrom", "CopyTo", "SetBufferSize", "SystemAddress"}


def test_fact_19_new_wavecyclic_stream_starts_stopped_at_zero() -> None:
    """portcls-contract fact 19: a new WaveCyclic stream starts in KSSTATE_STOP with position 0."""
    topology, _ = sb16(run=False)
    system = topology.system
    assert system.get("stream").state.name == "KSSTATE_STOP"
    assert system.call("stream", "GetPosition").out["Position"] == 0


def test_fact_20_port_asks_for_10_ms_notifications() -> None:
    """portcls-contract fact 20: the WaveCyclic port calls SetNotificationFreq with Interval = 10."""
    topology, _ = sb16(run=False)
    calls = [r for r in topology.system.trace.of_kind("call") if r.method == "SetNotificationFreq"]
    assert [c.args["Interval"] for c in calls] == [10]
    assert calls[0].caller == "pin"


def test_fact_21_new_master_channel_ignores_resource_list_width_and_speed() -> None:
    """portcls-contract fact 21: NewMasterDmaChannel ignores ResourceList, DmaWidth and DmaSpeed."""
    topology, _ = sb16(run=False)
    system = topology.system
    made = []
    for width, speed in (("Width8Bits", "Compatible"), ("MaximumDmaWidth", "MaximumDmaSpeed")):
        result = system.call(
            "port",
            "NewMasterDmaChannel",
            {
                "ResourceList": None,
                "MaximumLength": 0x8000,
                "Dma32BitAddresses": True,
                "Dma64BitAddresses": False,
                "DmaWidth": width,
                "DmaSpeed": speed,
            },
        )
        assert result.status == SUCCESS
        made.append(result.out["DmaChannel"].description)
    assert made[0] == made[1]


def test_fact_23_getposition_wraps_inside_the_buffer() -> None:
    """portcls-contract fact 23: GetPosition is a buffer offset that wraps; callable at DISPATCH_LEVEL."""
    topology, _ = sb16()
    system = topology.system
    size = system.get("dma").BufferSize()
    positions = []
    for _ in range(100):
        system.run_for(3 * MS)
        result = system.call("stream", "GetPosition", context="dispatch")
        assert not result.violations
        positions.append(result.out["Position"])
    assert all(0 <= p < size for p in positions)
    assert any(b < a for a, b in itertools.pairwise(positions))  # it wrapped


def test_fact_25_stop_resets_and_pause_freezes_the_position() -> None:
    """portcls-contract fact 25: STOP resets the position to 0 and RUN->PAUSE freezes it.

    The third part, '->RUN resumes it', is where the WDK sb16 sample (fact 46) departs: Start
    reprograms the 8237 from the buffer's start, so after PAUSE->RUN the position begins at 0
    again. dmaviz's SB16 miniport does what the sample does, and the port reports the glitch
    that follows. (The HD Audio and virtual miniports resume; their tests check it.)
    """
    topology, _ = sb16()
    system = topology.system
    system.run_for(37 * MS)
    system.call("pin", "SetState", {"State": "KSSTATE_PAUSE"})
    frozen = system.call("stream", "GetPosition").out["Position"]
    frozen_total = system.get("pin").play
    assert frozen > 0
    system.run_for(25 * MS)
    assert system.call("stream", "GetPosition").out["Position"] == frozen
    system.call("pin", "SetState", {"State": "KSSTATE_RUN"})
    assert system.call("stream", "GetPosition").out["Position"] == 0  # the sample restarts the DMA
    system.run_for(30 * MS)
    glitches = system.trace.of_kind("glitch")
    assert [g.cause for g in glitches] == ["discontinuity"]
    assert glitches[0].offset == frozen_total
    system.call("pin", "SetState", {"State": "KSSTATE_STOP"})
    assert system.get("pin").play == 0
    assert system.get("stream").state.name == "KSSTATE_STOP"


def test_fact_26_state_changes_go_one_step_at_a_time() -> None:
    """portcls-contract fact 26: STOP->ACQUIRE->PAUSE->RUN and back, one step at a time."""
    topology, _ = sb16(run=False)
    system = topology.system
    first = len(system.trace)
    system.call("pin", "SetState", {"State": "KSSTATE_RUN"})
    system.call("pin", "SetState", {"State": "KSSTATE_STOP"})
    states = [
        r.args["State"].name
        for r in system.trace.records[first:]
        if r.kind == "call" and r.object == "stream" and r.method == "SetState"
    ]
    assert states == [
        "KSSTATE_ACQUIRE",
        "KSSTATE_PAUSE",
        "KSSTATE_RUN",
        "KSSTATE_PAUSE",
        "KSSTATE_ACQUIRE",
        "KSSTATE_STOP",
    ]
    skipped = system.call("stream", "SetState", {"State": "KSSTATE_RUN"})
    assert [v.rule for v in skipped.violations] == ["state-sequence"]


def test_fact_27_silence_values() -> None:
    """portcls-contract fact 27: Silence writes 0x80 for 8-bit PCM and 0x00 for 16-bit PCM."""
    for bits, value in ((8, 0x80), (16, 0x00)):
        from model.wave_format import WaveFormat

        topology, _ = sb16(WaveFormat(22050, bits, 1), run=False)
        system = topology.system
        dma = system.get("dma")
        system.kernel.address_space.write(dma.SystemAddress(), np.full(64, 0x5A, dtype=np.uint8))
        system.call("stream", "Silence", {"Buffer": dma.SystemAddress(), "ByteCount": 32})
        data = system.kernel.address_space.read(dma.SystemAddress(), 64)
        assert set(data[:32].tolist()) == {value} and set(data[32:].tolist()) == {0x5A}


def test_fact_28_normalize_physical_position() -> None:
    """portcls-contract fact 28: NormalizePhysicalPosition turns bytes into 100-ns units, in place."""
    topology, _ = sb16(run=False)  # 16-bit stereo 48 kHz: 192000 bytes per second
    result = topology.system.call("stream", "NormalizePhysicalPosition", {"PhysicalPosition": 19200})
    assert result.out["PhysicalPosition"] == 1_000_000  # 100 ms


def test_fact_29_write_position_follows_copyto() -> None:
    """portcls-contract fact 29: the render write position advances to the last byte each CopyTo copied."""
    topology, pin = sb16()
    system = topology.system
    system.run_for(100 * MS)
    copied = sum(
        r.args["ByteCount"] for r in system.trace.of_kind("call") if r.method == "CopyTo" and r.caller == "pin"
    )
    assert system.call("pin", "GetPosition").out["WriteOffset"] == copied == pin.data_end


def test_fact_30_forty_ms_ahead_and_silence_under_thirty() -> None:
    """portcls-contract fact 30: about 40 ms written ahead; silence after the data when less than 30 ms is there."""
    topology, pin = sb16()
    system = topology.system
    fmt = pin.format
    system.run_for(100 * MS)
    run_to_service(system)
    ahead_ms = fmt.duration_of(pin.data_end - pin.play) / MS
    assert 38 <= ahead_ms <= 41
    client = topology.clients[0]
    client.starve(system.now_ns, system.now_ns + 200 * MS)
    first = len(system.trace)
    system.run_for(120 * MS)  # the 40 ms of queued packets run out, then the buffer drains
    silences = [r for r in system.trace.records[first:] if r.kind == "call" and r.method == "Silence"]
    assert silences, "the port pads with silence once real data ahead drops below 30 ms"


@pytest.mark.parametrize(("ahead_ms", "threshold_ms"), [(40, 30), (60, 20), (25, 25)])
def test_fact_30_write_ahead_and_silence_threshold_are_honoured_at_every_service(
    ahead_ms: int, threshold_ms: int
) -> None:
    """portcls-contract fact 30, with the policy settable per stream: after every service the
    port has real data up to write_ahead ahead of the play position when the client has it;
    it writes silence in that service exactly when less than silence_threshold of real data
    is left, and then up to write_ahead."""
    from model.topology import StreamSpec, Topology

    topology = Topology("sb16")
    topology.system.strict = True
    topology.install()
    spec = StreamSpec(packets_in_flight=8, write_ahead_ns=ahead_ms * MS, silence_threshold_ns=threshold_ms * MS)
    pin = topology.open_stream(spec)
    system = topology.system
    system.call(pin, "SetState", {"State": "KSSTATE_RUN"})
    fmt = pin.format
    topology.clients[0].starve(400 * MS, 600 * MS)
    padded = steady = 0
    while system.now_ns < 900 * MS:
        first = len(system.trace)
        run_to_service(system)
        silenced = any(r.kind == "call" and r.method == "Silence" for r in system.trace.records[first:])
        ahead = pin.data_end - pin.play
        assert silenced == (ahead < fmt.bytes_for(threshold_ms * MS)), (system.now_ns, ahead)
        if silenced:
            padded += 1
            assert pin.silence_end - pin.play == fmt.bytes_for(ahead_ms * MS)
        if system.now_ns < 350 * MS or system.now_ns > 750 * MS:
            steady += 1
            assert ahead == fmt.bytes_for(ahead_ms * MS), (system.now_ns, ahead)
    assert padded > 0 and steady > 20


def test_fact_38_notify_from_an_isr_is_allowed() -> None:
    """portcls-contract fact 38: IPortWaveCyclic::Notify may be called at any IRQL (here from the ISR)."""
    topology, _ = sb16()
    system = topology.system
    system.run_for(50 * MS)
    notifies = [r for r in system.trace.of_kind("call") if r.method == "Notify"]
    assert notifies and all(r.irql == Irql.DIRQL for r in notifies)
    assert not violations(system)


def test_fact_39_too_many_map_registers() -> None:
    """portcls-contract fact 39: AllocateAdapterChannel asking for more map registers than granted fails at once."""
    system = bare_system()
    channel = slave_channel(system, 1, maximum=0x4000)
    adapter = channel.adapter
    assert adapter.map_registers == 5
    result = system.call(
        adapter,
        "AllocateAdapterChannel",
        {
            "DeviceObject": "device",
            "NumberOfMapRegisters": 6,
            "ExecutionRoutine": channel,
            "Context": 0,
        },
        context="dispatch",
    )
    assert result.status == NTSTATUS.STATUS_INSUFFICIENT_RESOURCES
    assert adapter.channel_holder is None  # the execution routine never ran


def test_fact_40_slave_execution_routine_keeps_the_channel() -> None:
    """portcls-contract fact 40: for system DMA the AdapterControl routine returns KeepObject."""
    system = bare_system()
    channel = slave_channel(system, 1)
    system.call(channel, "AllocateBuffer", {"BufferSize": 0x1000})
    system.call(channel, "Start", {"MapSize": 0x1000, "WriteToDevice": True})
    assert channel.adapter.channel_holder == channel.object_id


def test_fact_41_common_buffer_is_at_least_a_page() -> None:
    """portcls-contract fact 41: AllocateCommonBuffer allocates at least one page whatever Length is."""
    system = bare_system()
    channel = new_channel(system)
    memory = system.machine.memory
    before = memory.free_page_count()
    result = system.call(channel.adapter, "AllocateCommonBuffer", {"Length": 16, "CacheEnabled": False})
    assert result.value and memory.free_page_count() == before - 1


def test_fact_42_map_registers_granted() -> None:
    """portcls-contract fact 42: the HAL grants BYTES_TO_PAGES(MaximumLength) + 1 map registers (or fewer)."""
    system = bare_system()
    for maximum, expected in ((0x4000, 5), (0x1000, 2), (0x20000, 16)):
        result = system.call(
            "io",
            "IoGetDmaAdapter",
            {"DeviceDescription": {"Version": 1, "DmaChannel": 1, "DmaWidth": "Width8Bits", "MaximumLength": maximum}},
        )
        assert result.out["NumberOfMapRegisters"] == expected  # 16 is the slave cap


def test_fact_43_adapter_version_and_unsupported_descriptions() -> None:
    """portcls-contract fact 43: the adapter reports Version 1; an unsupported description version gives NULL."""
    system = bare_system()
    ok = system.call(
        "io", "IoGetDmaAdapter", {"DeviceDescription": {"Version": 2, "DmaChannel": 3, "MaximumLength": 0x1000}}
    )
    assert ok.value is not None and ok.value.version == 1
    refused = system.call(
        "io", "IoGetDmaAdapter", {"DeviceDescription": {"Version": 3, "DmaChannel": 3, "MaximumLength": 0x1000}}
    )
    assert refused.value is None


def test_fact_44_read_dma_counter_is_for_system_dma() -> None:
    """portcls-contract fact 44: ReadDmaCounter returns the bytes left of a system DMA transfer."""
    system = bare_system()
    slave = slave_channel(system, 5)
    system.call(slave, "AllocateBuffer", {"BufferSize": 0x2000})
    system.call(slave, "Start", {"MapSize": 0x2000, "WriteToDevice": True})
    assert system.call(slave.adapter, "ReadDmaCounter").value == 0x2000
    master = new_channel(system)
    result = system.call(master.adapter, "ReadDmaCounter")
    assert result.value == 0 and [v.rule for v in result.violations] == ["bad-argument"]


def test_fact_45_pcnewdmachannel_wants_non_paged_pool() -> None:
    """portcls-contract fact 45: PcNewDmaChannel is obsolete and needs a non-paged PoolType."""
    system = bare_system()
    result = system.call("portcls", "PcNewDmaChannel", {"PoolType": "PagedPool", "DeviceObject": "device"})
    assert [v.rule for v in result.violations] == ["non-paged-pool"]


def test_fact_46_sb16_starts_on_run_and_stops_on_pause() -> None:
    """portcls-contract fact 46 (SAMPLE): Start(BufferSize(), !Capture) on ->RUN, Stop() on ->PAUSE, nothing on STOP."""
    topology, _ = sb16(run=False)
    system = topology.system

    def channel_calls(start: int) -> list[str]:
        return [
            r.method
            for r in system.trace.records[start:]
            if r.kind == "call" and r.object == "dma16" and r.caller == "stream" and r.method in ("Start", "Stop")
        ]

    first = len(system.trace)
    system.call("pin", "SetState", {"State": "KSSTATE_RUN"})
    start = next(r for r in system.trace.records[first:] if r.kind == "call" and r.method == "Start")
    assert start.args == {"MapSize": system.get("dma").BufferSize(), "WriteToDevice": True}
    assert channel_calls(first) == ["Start"]
    mark = len(system.trace)
    system.call("pin", "SetState", {"State": "KSSTATE_PAUSE"})
    assert channel_calls(mark) == ["Stop"]
    mark = len(system.trace)
    system.call("pin", "SetState", {"State": "KSSTATE_STOP"})
    assert channel_calls(mark) == []


def test_fact_47_sb16_position_formula() -> None:
    """portcls-contract fact 47 (SAMPLE): position = TransferCount - ReadCounter when ReadCounter != 0, else 0."""
    topology, _ = sb16()
    system = topology.system
    for _ in range(30):
        system.run_for(1_700 * US)
        counter = system.get("dma").ReadCounter()
        expected = system.get("dma").TransferCount() - counter if counter else 0
        assert system.call("stream", "GetPosition").out["Position"] == expected


def test_fact_48_sb16_halves_the_buffer_under_fragmentation() -> None:
    """portcls-contract fact 48 (SAMPLE): MAXLEN_DMA_BUFFER 0x4000, halved on failure while > PAGE_SIZE/2."""
    from model.topology import Topology

    topology = Topology("sb16")
    topology.system.machine.memory.fragment(0.0, seed=1, max_free_run_pages=2)
    assert topology.install() == SUCCESS
    system = topology.system
    sizes = [
        (r.args["BufferSize"], r.status.name)
        for r in system.trace.of_kind("call")
        if r.method == "AllocateBuffer" and r.object == "dma8"
    ]
    assert sizes == [(0x4000, "STATUS_UNSUCCESSFUL"), (0x2000, "STATUS_SUCCESS")]
