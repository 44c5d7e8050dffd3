"""The virtual (msvad-style) WaveCyclic miniport: its stream is its own IDmaChannel, a timer drives it.

Render and capture for 2 s with every byte checked, exact timer-DPC and notification
counts, portcls-contract facts 18, 23 and 25, the IDmaChannel choices (SetBufferSize,
GetAdapterObject, PhysicalAddress, TransferCount, MaximumBufferSize), NewStream's refusal,
a clean run without violations and snapshot/restore mid-stream.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from model.kernel.types import NTSTATUS
from model.portcls.miniports.virtual_wavecyclic import (
    DMA_BUFFER_SIZE,
    MiniportWaveCyclicStreamVirtual,
    MiniportWaveCyclicVirtual,
)
from model.topology import StreamSpec, Topology
from model.trace import CallRecord
from model.units import MS, S
from model.wave_format import WaveFormat

FMT = WaveFormat()  # 48 kHz 16-bit stereo
PORT_CALLS = {"AllocatedBufferSize", "BufferSize", "CopyFrom", "CopyTo", "SetBufferSize", "SystemAddress"}


def virtual(*, capture: bool = False, run: bool = True) -> tuple[Topology, object]:
    topology = Topology("virtual")
    topology.system.strict = True
    assert topology.install() == NTSTATUS.STATUS_SUCCESS
    pin = topology.open_stream(StreamSpec(capture=capture, format=FMT))
    assert pin is not None
    if run:
        assert topology.system.call(pin, "SetState", {"State": "KSSTATE_RUN"}).status == NTSTATUS.STATUS_SUCCESS
    return topology, pin


def position(topology: Topology) -> int:
    result = topology.system.call("stream", "GetPosition")
    assert result.status == NTSTATUS.STATUS_SUCCESS
    return int(result.out["Position"])


def miniport_of(topology: Topology) -> MiniportWaveCyclicVirtual:
    miniport = topology.miniport
    assert isinstance(miniport, MiniportWaveCyclicVirtual)
    return miniport


# --- data integrity -----------------------------------------------------------------------------


def test_stream_is_returned_as_both_stream_and_dma_channel() -> None:
    topology, pin = virtual(run=False)
    stream = pin.stream  # type: ignore[attr-defined]
    assert isinstance(stream, MiniportWaveCyclicStreamVirtual)
    assert pin.dma is stream  # type: ignore[attr-defined]
    assert stream.implements("IDmaChannel") and stream.implements("IMiniportWaveCyclicStream")
    assert stream.refcount == 2  # one reference per out-parameter
    result = topology.system.call(stream, "QueryInterface", {"InterfaceId": "IDmaChannel"})
    assert result.status == NTSTATUS.STATUS_SUCCESS and result.out["Interface"] is stream


def test_render_2s_every_byte_played_once_in_order() -> None:
    topology, pin = virtual()
    system = topology.system
    system.run_for(2 * S)
    sink = miniport_of(topology).sink
    assert sink.length >= FMT.bytes_for(2 * S - 10 * MS)  # up to the last tick at least
    n = min(sink.length, pin.data_end)  # type: ignore[attr-defined]
    assert n == sink.length
    assert np.array_equal(sink.data[:n], topology.clients[0].expected(0, n))  # a ramp: no loss, repeat or swap
    assert system.trace.count("glitch") == 0
    assert system.trace.count("violation") == 0


def test_capture_2s_every_byte_received_once_in_order() -> None:
    topology, _ = virtual(capture=True)
    system = topology.system
    system.run_for(2 * S)
    client = topology.clients[0]
    got = client.received.data
    assert len(got) >= FMT.bytes_for(2 * S) - 2 * client.packet_bytes
    assert np.array_equal(got, miniport_of(topology).source.expected(FMT, 0, len(got)))
    assert system.trace.count("glitch") == 0
    assert system.trace.count("violation") == 0


@pytest.mark.parametrize("capture", [False, True], ids=["render", "capture"])
def test_pause_and_resume_keep_every_byte(capture: bool) -> None:
    """RUN->PAUSE freezes the device (the timer is cancelled) and ->RUN resumes there: the data stays exact."""
    topology, pin = virtual(capture=capture)
    system = topology.system
    system.run_for(333 * MS)
    system.call(pin, "SetState", {"State": "KSSTATE_PAUSE"})
    system.run_for(77 * MS)
    system.call(pin, "SetState", {"State": "KSSTATE_RUN"})
    system.run_for(500 * MS)
    client = topology.clients[0]
    miniport = miniport_of(topology)
    if capture:
        got = client.received.data
        assert len(got) >= FMT.bytes_for(800 * MS)
        assert np.array_equal(got, miniport.source.expected(FMT, 0, len(got)))
    else:
        sink = miniport.sink
        assert sink.length >= FMT.bytes_for(820 * MS)
        assert np.array_equal(sink.data, client.expected(0, sink.length))
    assert system.trace.count("glitch") == 0
    assert system.trace.count("violation") == 0


# --- counts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("capture", [False, True], ids=["render", "capture"])
def test_2s_at_10ms_gives_exactly_200_timer_dpcs_and_notifications(capture: bool) -> None:
    """The timer expires every 10 ms from RUN: at 2 s + 5 ms, 200 DPCs and 200 Notify calls."""
    topology, pin = virtual(capture=capture)
    system = topology.system
    system.run_for(2 * S + 5 * MS)
    stream = pin.stream  # type: ignore[attr-defined]
    assert stream.ticks == 200
    runs = [r.t_ns for r in system.trace.of_kind("dpc") if r.name == stream.timer_name and r.action == "run"]
    latency = system.kernel.dpc_latency_ns
    assert runs == [k * 10 * MS + latency for k in range(1, 201)]
    notify = [r for r in system.trace.of_kind("call") if isinstance(r, CallRecord) and r.method == "Notify"]
    assert len(notify) == 200
    assert all(r.caller == stream.object_id and r.context == f"dpc:{stream.timer_name}" for r in notify)
    assert system.trace.count("call", object="pin", method="RequestService") == 200
    assert system.trace.count("interrupt") == 0  # no hardware, no interrupts


# --- contract facts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("capture", [False, True], ids=["render", "capture"])
def test_portcls_contract_fact18_port_calls_only_six_dma_channel_methods(capture: bool) -> None:
    """portcls-contract fact 18: the WaveCyclic port calls only AllocatedBufferSize, BufferSize, CopyFrom,
    CopyTo, SetBufferSize and SystemAddress on the stream's IDmaChannel."""
    topology, pin = virtual(capture=capture)
    system = topology.system
    system.run_for(300 * MS)
    system.call(pin, "SetState", {"State": "KSSTATE_PAUSE"})
    system.call(pin, "SetState", {"State": "KSSTATE_RUN"})
    system.run_for(100 * MS)
    system.call(pin, "SetState", {"State": "KSSTATE_STOP"})
    stream = pin.stream  # type: ignore[attr-defined]
    on_channel = [
        r
        for r in system.trace.of_kind("call")
        if isinstance(r, CallRecord) and r.object == stream.object_id and r.interface == "IDmaChannel"
    ]
    pin_id = pin.object_id  # type: ignore[attr-defined]
    by_pin = {r.method for r in on_channel if r.caller == pin_id}
    assert by_pin <= PORT_CALLS
    assert by_pin == {"BufferSize", "SystemAddress", "CopyFrom" if capture else "CopyTo"}
    # Counting the client too covers calls made while the pin is created, whoever is named for them.
    port_side = (pin_id, topology.clients[0].object_id)
    assert {r.method for r in on_channel if r.caller in port_side} <= PORT_CALLS
    # Everything else on the channel came from the miniport itself.
    others = {r.method for r in on_channel if r.caller not in port_side}
    assert others == {"AllocateBuffer"}
    assert system.trace.count("violation") == 0


def test_portcls_contract_fact23_position_is_buffer_relative_and_wraps() -> None:
    """portcls-contract fact 23: GetPosition is an offset into the cyclic buffer, wraps, never reaches its size."""
    topology, _ = virtual()
    system = topology.system
    seen = []
    for _ in range(250):
        system.run_for(3 * MS + 700_000)  # 925 ms in all: the 469 ms buffer wraps once
        seen.append(position(topology))
    assert all(0 <= p < DMA_BUFFER_SIZE for p in seen)
    assert any(b < a for a, b in pairwise(seen))
    assert seen[-1] == FMT.bytes_for(250 * 3_700_000) % DMA_BUFFER_SIZE  # the position is time x rate
    assert system.trace.count("violation") == 0


def test_portcls_contract_fact25_stop_resets_pause_freezes_run_resumes() -> None:
    """portcls-contract fact 25: ->STOP position 0; RUN->PAUSE freezes; ->RUN resumes from there."""
    topology, pin = virtual()
    system = topology.system
    stream = pin.stream  # type: ignore[attr-defined]
    system.run_for(505 * MS)
    p = position(topology)
    assert p == FMT.bytes_for(505 * MS) % DMA_BUFFER_SIZE
    assert system.call(pin, "SetState", {"State": "KSSTATE_PAUSE"}).status == NTSTATUS.STATUS_SUCCESS
    assert system.kernel.timers.get(stream.timer_name) is None  # the timer is cancelled
    system.run_for(50 * MS)
    assert position(topology) == p
    assert system.call(pin, "SetState", {"State": "KSSTATE_ACQUIRE"}).status == NTSTATUS.STATUS_SUCCESS
    system.run_for(50 * MS)
    assert position(topology) == p
    assert system.call(pin, "SetState", {"State": "KSSTATE_RUN"}).status == NTSTATUS.STATUS_SUCCESS
    system.run_for(20 * MS)
    assert position(topology) == (p + FMT.bytes_for(20 * MS)) % DMA_BUFFER_SIZE
    assert system.call(pin, "SetState", {"State": "KSSTATE_STOP"}).status == NTSTATUS.STATUS_SUCCESS
    assert position(topology) == 0
    system.run_for(50 * MS)
    assert position(topology) == 0
    assert system.call(pin, "SetState", {"State": "KSSTATE_RUN"}).status == NTSTATUS.STATUS_SUCCESS
    system.run_for(20 * MS)
    assert position(topology) == FMT.bytes_for(20 * MS)
    assert system.trace.count("violation") == 0


# --- the IDmaChannel it implements ---------------------------------------------------------------------


def test_dma_channel_answers_like_msvad_where_the_contract_is_silent() -> None:
    topology, pin = virtual(run=False)
    system = topology.system
    stream = pin.stream  # type: ignore[attr-defined]

    def value(method: str) -> object:
        return system.call(stream, method).value

    assert value("AllocatedBufferSize") == value("BufferSize") == DMA_BUFFER_SIZE
    assert value("MaximumBufferSize") == DMA_BUFFER_SIZE
    assert value("TransferCount") == DMA_BUFFER_SIZE  # msvad: the buffer size
    assert value("GetAdapterObject") is None  # no DMA hardware behind it
    va, pa = value("SystemAddress"), value("PhysicalAddress")
    assert system.kernel.address_space.to_physical(va) == pa  # a real physical address
    allocation = system.machine.memory.allocation_at(pa)
    assert allocation is not None and allocation.contiguous and allocation.owner.name == "COMMON_BUFFER"
    # An enlarging SetBufferSize is refused and the old size kept (msvad); a smaller one is taken.
    system.call(stream, "SetBufferSize", {"BufferSize": DMA_BUFFER_SIZE + 4})
    assert value("BufferSize") == DMA_BUFFER_SIZE
    assert [v.rule for v in system.trace.of_kind("violation")] == ["buffer-size"]
    system.call(stream, "SetBufferSize", {"BufferSize": 0x4000})
    assert value("BufferSize") == 0x4000 and value("AllocatedBufferSize") == DMA_BUFFER_SIZE
    assert system.trace.count("violation") == 1
    # A second AllocateBuffer is refused (contract fact 1).
    again = system.call(stream, "AllocateBuffer", {"BufferSize": 0x1000})
    assert again.status == NTSTATUS.STATUS_UNSUCCESSFUL
    assert system.trace.of_kind("violation")[-1].rule == "allocate-twice"


def test_smaller_buffer_size_takes_effect_at_the_next_run_and_data_stays_exact() -> None:
    topology, pin = virtual(run=False)
    system = topology.system
    system.call("stream", "SetBufferSize", {"BufferSize": 9600})
    assert system.call(pin, "SetState", {"State": "KSSTATE_RUN"}).status == NTSTATUS.STATUS_SUCCESS
    seen = []
    for _ in range(100):
        system.run_for(7 * MS)
        seen.append(position(topology))
    assert max(seen) < 9600 and any(b < a for a, b in pairwise(seen))
    sink = miniport_of(topology).sink
    assert np.array_equal(sink.data, topology.clients[0].expected(0, sink.length))
    assert system.trace.count("violation") == 0


def test_new_stream_refuses_a_second_render_stream() -> None:
    topology, _ = virtual(run=False)
    result = topology.system.call("miniport", "NewStream", {"Capture": False})
    assert result.status == NTSTATUS.STATUS_INVALID_DEVICE_REQUEST
    result = topology.system.call("miniport", "NewStream", {"Capture": True})
    assert result.status == NTSTATUS.STATUS_SUCCESS


# --- state --------------------------------------------------------------------------------------------


def test_snapshot_restore_mid_stream_replays_to_the_same_digest() -> None:
    topology, _ = virtual()
    system = topology.system
    system.run_for(1 * S + 3 * MS)
    snap = system.snapshot()
    at_snapshot = system.state_digest()
    system.run_for(500 * MS)
    later = system.state_digest()
    played = miniport_of(topology).sink.data.copy()
    system.restore(snap)
    assert system.state_digest() == at_snapshot
    system.run_for(500 * MS)
    assert system.state_digest() == later
    miniport = system.get("miniport")
    assert isinstance(miniport, MiniportWaveCyclicVirtual)
    assert np.array_equal(miniport.sink.data, played)
    assert system.trace.count("violation") == 0
