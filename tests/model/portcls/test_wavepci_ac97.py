"""The WavePci port with the AC'97 miniport end to end, and the WavePci facts of portcls-contract.md.

Ground truth is the hardware: the AC'97 sink (what PCM out fetched), the capture source
(what PCM in recorded) and the box's underrun/overrun stretches.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import pytest

from model.client.audio_client import Packet
from model.hardware.memory import PAGE_SIZE, PageOwner
from model.kernel.types import KSSTATE, NTSTATUS, POOL_TYPE, Irql
from model.objects import Out
from model.portcls.miniports.ac97_wavepci import MAX_BDL_ENTRIES, MiniportWavePciAc97
from model.portcls.port_wavepci import MAX_MAPPING_PAGES
from model.topology import StreamSpec, Topology
from model.trace import CallRecord, GlitchRecord, RegisterRecord
from model.units import MS, S
from model.wave_format import WaveFormat

FMT = WaveFormat(48000, 16, 2)
SAMPLES_PER_S = 96_000  # 16-bit samples per second at 48 kHz stereo


def ac97(
    *,
    capture: bool = False,
    fmt: WaveFormat = FMT,
    run: bool = True,
    packet_ms: int = 10,
    service_group: bool = True,
) -> tuple[Topology, Any]:
    """An installed AC'97 WavePci stack with one stream (running unless ``run`` is False)."""
    topology = Topology("ac97")
    system = topology.system
    system.strict = True
    assert topology.install() == NTSTATUS.STATUS_SUCCESS
    topology.miniport.stream_service_group = service_group
    pin = topology.open_stream(StreamSpec(capture=capture, format=fmt, packet_ms=packet_ms))
    assert pin is not None
    if run:
        assert system.call(pin, "SetState", {"State": "KSSTATE_RUN"}).status == NTSTATUS.STATUS_SUCCESS
    return topology, pin


def calls(system: Any, method: str, **match: Any) -> list[CallRecord]:
    return [
        r
        for r in system.trace.of_kind("call")
        if r.method == method and all(getattr(r, k) == v for k, v in match.items())
    ]


def violations(system: Any, rule: str | None = None) -> list[Any]:
    return [r for r in system.trace.of_kind("violation") if rule is None or r.rule == rule]


def glitches(system: Any) -> list[GlitchRecord]:
    return [r for r in system.trace.of_kind("glitch") if isinstance(r, GlitchRecord)]


def contiguous_packet(system: Any, pages: int, offset: int = 0, name: str = "test.big") -> Packet:
    """A packet over physically contiguous pages, starting ``offset`` bytes into the first one."""
    allocation = system.machine.memory.allocate_contiguous(pages * PAGE_SIZE, owner=PageOwner.CLIENT_BUFFER, label=name)
    mapping = system.kernel.address_space.map(allocation)
    length = pages * PAGE_SIZE - offset
    mdl = system.kernel.address_space.mdl_for(name, mapping.va + offset, length)
    return Packet(number=1000, buffer=0, va=mapping.va + offset, length=length, mdl=mdl, stream_offset=0)


# --- end to end ---------------------------------------------------------------------------------


def test_render_two_seconds_plays_every_byte_once_in_order_with_exact_counts() -> None:
    """2 s of render: the sink holds the client's bytes, none lost, repeated or reordered; one IRQ per 10 ms."""
    topology, pin = ac97()
    system = topology.system
    system.run_for(2 * S + 5 * MS)
    played = system.machine.ac97.sink.data
    client = topology.clients[0]
    # The engine started at t = 0 with four packets queued and never ran dry.
    assert len(played) == FMT.bytes_for(2 * S + 5 * MS)
    assert np.array_equal(played, client.expected(0, len(played)))
    # One BDL entry per 10 ms packet, IOC on each (it is the packet's last mapping): entries
    # end at 10, 20, ..., 2000 ms, and each interrupt is one ISR, one Notify, one DPC, one Service.
    assert system.trace.count("ioc", stream="PO") == 200
    assert topology.miniport.interrupts == 200
    assert len(calls(system, "Notify", caller="miniport")) == 200
    assert pin.service_group.services == 200
    assert len(calls(system, "Service", object="stream")) == 200
    assert len(calls(system, "ReleaseMapping", caller="stream")) == 200
    assert client.packets_completed == 200
    # 4 packets before RUN + one resubmitted per completion, each one mapping (1920 bytes in a page).
    assert len(calls(system, "GetMapping", status=NTSTATUS.STATUS_SUCCESS)) == 204
    assert len(calls(system, "MapTransfer", caller="pin")) == 204
    assert len(calls(system, "FlushAdapterBuffers", caller="pin")) == 200
    assert not glitches(system)
    assert not violations(system)
    position = system.call(pin, "GetPosition").out
    assert position == {"PlayOffset": len(played), "WriteOffset": 204 * 1920}


def test_capture_two_seconds_delivers_exactly_what_the_device_recorded() -> None:
    """2 s of capture: the client receives the capture source's bytes, in order, with exact counts."""
    topology, pin = ac97(capture=True)
    system = topology.system
    system.run_for(2 * S + 5 * MS)
    client = topology.clients[0]
    received = client.received.data
    source = system.machine.ac97.source
    assert len(received) == 200 * 1920
    assert np.array_equal(received, source.expected(FMT, 0, len(received)))
    assert system.trace.count("ioc", stream="PI") == 200
    assert topology.miniport.interrupts == 200
    assert len(calls(system, "Notify", caller="miniport")) == 200
    assert client.packets_completed == 200
    assert not glitches(system)
    assert not violations(system)
    # Capture's read position advances with each ReleaseMapping.
    assert system.call(pin, "GetPosition").out["WriteOffset"] == 200 * 1920


def test_the_bdl_never_holds_more_than_31_mappings() -> None:
    """With far more data queued than the 32-entry BDL can describe, the miniport fills it to
    31 entries (one always stays free, as the sample does) and never more; playback stays exact."""
    topology = Topology("ac97")
    system = topology.system
    system.strict = True
    assert topology.install() == NTSTATUS.STATUS_SUCCESS
    pin = topology.open_stream(StreamSpec(format=FMT, packet_ms=10, packets_in_flight=40))
    assert system.call(pin, "SetState", {"State": "KSSTATE_RUN"}).status == NTSTATUS.STATUS_SUCCESS
    most = 0
    for _ in range(300):
        system.run_for(3 * MS)
        most = max(most, pin.stream.count)
        assert pin.stream.count <= MAX_BDL_ENTRIES - 1
    assert most == MAX_BDL_ENTRIES - 1
    sink = system.machine.ac97.sink
    assert np.array_equal(sink.data, topology.clients[0].expected(0, sink.length))
    assert not violations(system) and not glitches(system)


def test_render_at_44100_programs_the_codec_through_vra() -> None:
    """A 44.1 kHz stream enables VRA (NAM 0x2A bit 0), then writes 44100 to NAM 0x2C; it plays exactly."""
    fmt = WaveFormat(44100, 16, 2)
    topology, _pin = ac97(fmt=fmt)
    system = topology.system
    nam = system.machine.config.ac97_nam_base
    writes = [
        r.address - nam
        for r in system.trace.of_kind("register")
        if isinstance(r, RegisterRecord) and r.access == "write" and nam <= r.address < nam + 0x80
    ]
    assert 0x2A in writes and 0x2C in writes
    assert writes.index(0x2A) < writes.index(0x2C)
    assert system.machine.ac97.nam[0x2A] & 1 and system.machine.ac97.nam[0x2C] == 44100
    system.run_for(1 * S)
    played = system.machine.ac97.sink.data
    assert len(played) == fmt.bytes_for(1 * S)
    assert np.array_equal(played, topology.clients[0].expected(0, len(played)))
    assert not violations(system)


def test_48k_leaves_vra_off() -> None:
    """48 kHz needs no rate programming: the miniport never touches NAM 0x2A."""
    topology, _pin = ac97(run=False)
    system = topology.system
    nam = system.machine.config.ac97_nam_base
    assert not [r for r in system.trace.of_kind("register") if r.access == "write" and r.address == nam + 0x2A]
    assert system.machine.ac97.nam[0x2A] & 1 == 0


def test_allocator_framing_is_the_samples() -> None:
    """GetAllocatorFraming: 8 frames of 10 ms, long alignment, non-paged, system memory, preferences only."""
    _topology, pin = ac97(run=False)
    assert pin.framing == {
        "Frames": 8,
        "FrameSize": 4 * 480,
        "FileAlignment": 3,
        "PoolType": POOL_TYPE.NonPagedPool,
        "RequirementsFlags": 0x80000002,
    }


# --- contract facts -----------------------------------------------------------------------------


def test_new_stream_starts_stopped_at_position_zero() -> None:
    """portcls-contract fact 19: a new WavePci stream is in KSSTATE_STOP with position 0."""
    topology, pin = ac97(run=False)
    system = topology.system
    stream = pin.stream
    assert stream.state == KSSTATE.KSSTATE_STOP and pin.state == KSSTATE.KSSTATE_STOP
    assert system.call(stream, "GetPosition").out == {"Position": 0}
    assert system.call(pin, "GetPosition").out == {"PlayOffset": 0, "WriteOffset": 0}
    # And back to 0 after a run and a stop.
    system.call(pin, "SetState", {"State": "KSSTATE_RUN"})
    system.run_for(55 * MS)
    assert system.call(stream, "GetPosition").out["Position"] > 0
    system.call(pin, "SetState", {"State": "KSSTATE_STOP"})
    assert system.call(stream, "GetPosition").out == {"Position": 0}
    assert system.call(pin, "GetPosition").out == {"PlayOffset": 0, "WriteOffset": 0}
    assert not violations(system)


def test_master_channel_is_scatter_gather_with_dma_port_zero() -> None:
    """portcls-contract fact 22: ScatterGather = TRUE, DmaPort = 0; anything else is flagged."""
    topology, _pin = ac97(run=False)
    system = topology.system
    (made,) = calls(system, "NewMasterDmaChannel", caller="miniport")
    assert made.args["ScatterGather"] is True and made.args["DmaPort"] == 0
    assert made.args["Dma32BitAddresses"] is True and made.args["Dma64BitAddresses"] is False
    assert made.args["IgnoreCount"] is False and made.args["MaximumLength"] == 0x1FFFE
    assert made.args["DmaWidth"].name == "Width32Bits" and made.args["DmaSpeed"].name == "MaximumDmaSpeed"
    assert not violations(system)
    result = system.call("port", "NewMasterDmaChannel", {"ScatterGather": False})
    assert result.status == NTSTATUS.STATUS_SUCCESS and result.out["DmaChannel"] is not None
    assert [v.rule for v in result.violations] == ["bad-argument"] and "fact 22" in result.violations[0].message
    result = system.call("port", "NewMasterDmaChannel", {"DmaPort": 1})
    assert [v.rule for v in result.violations] == ["bad-argument"]
    result = system.call("port", "NewMasterDmaChannel", {"PoolType": "PagedPool"})
    assert [v.rule for v in result.violations] == ["non-paged-pool"]


def test_position_is_stream_relative_and_never_wraps() -> None:
    """portcls-contract fact 24: GetPosition is a stream-relative ULONGLONG offset, at PASSIVE_LEVEL."""
    topology, pin = ac97()
    system = topology.system
    stream = pin.stream
    sink = system.machine.ac97.sink
    ring = 31 * 1920  # the most the BDL can hold at once
    last = 0
    for t in (250 * MS, 500 * MS, 1 * S, 1500 * MS):
        system.run_until(t)
        position = system.call(stream, "GetPosition").out["Position"]
        assert position == sink.length  # exactly the bytes the engine fetched since the stream began
        assert position > last
        last = position
    assert last == FMT.bytes_for(1500 * MS) > ring
    decl = stream.method_table()["GetPosition"]
    assert decl.irql.level == Irql.PASSIVE_LEVEL and decl.irql.exact
    result = system.call(stream, "GetPosition", context="dispatch")
    assert [v.rule for v in result.violations] == ["irql"]


def test_normalize_physical_position_converts_bytes_to_100ns() -> None:
    """portcls-contract fact 28: NormalizePhysicalPosition turns a byte position into 100-ns units."""
    _topology, pin = ac97(run=False)
    system = _topology.system
    result = system.call(pin.stream, "NormalizePhysicalPosition", {"PhysicalPosition": FMT.bytes_per_second})
    assert result.out == {"PhysicalPosition": 10_000_000}
    result = system.call(pin.stream, "NormalizePhysicalPosition", {"PhysicalPosition": 1920})
    assert result.out == {"PhysicalPosition": 100_000}


def _mapping_available_follows_refusals(system: Any) -> None:
    """Every MappingAvailable has a refused GetMapping after the previous MappingAvailable."""
    refused_since = False
    seen = 0
    for record in system.trace.of_kind("call"):
        if record.method == "GetMapping" and record.status == NTSTATUS.STATUS_NOT_FOUND:
            refused_since = True
        elif record.method == "MappingAvailable":
            assert refused_since, f"MappingAvailable at seq {record.seq} without a refused GetMapping before it"
            assert record.caller == "pin"
            refused_since = False
            seen += 1
    assert seen


def test_get_mapping_not_found_then_mapping_available() -> None:
    """portcls-contract fact 31: STATUS_NOT_FOUND when no mapping is available; MappingAvailable follows."""
    topology, pin = ac97(run=False)
    system = topology.system
    result = system.call(pin, "GetMapping", {"Tag": 7})
    assert result.status == NTSTATUS.STATUS_NOT_FOUND
    assert result.out == {"PhysicalAddress": 0, "VirtualAddress": 0, "ByteCount": 0, "Flags": 0}
    assert not calls(system, "MappingAvailable")
    system.call(pin, "SetState", {"State": "KSSTATE_ACQUIRE"})  # the client queues its packets
    assert calls(system, "MappingAvailable")
    _mapping_available_follows_refusals(system)
    assert not violations(system)


def test_mapping_available_only_after_refusals_in_a_starving_run() -> None:
    """portcls-contract fact 31: over a run with a starving client, every MappingAvailable follows a refusal."""
    topology, _pin = ac97(run=False)
    system = topology.system
    topology.clients[0].starve(300 * MS, 420 * MS)
    system.call("pin", "SetState", {"State": "KSSTATE_RUN"})
    system.run_for(1 * S)
    late = [r for r in calls(system, "MappingAvailable") if r.t_ns >= 420 * MS]
    assert late and late[0].t_ns == 420 * MS  # the client's first packet after the starvation
    _mapping_available_follows_refusals(system)


def test_flags_mark_the_last_mapping_of_each_packet() -> None:
    """portcls-contract fact 32: Flags != 0 exactly on the last mapping of a packet; pieces are contiguous."""
    topology, pin = ac97(run=False, packet_ms=50)  # 9600-byte packets: three pages
    system = topology.system
    system.call(pin, "SetState", {"State": "KSSTATE_ACQUIRE"})
    client = topology.clients[0]
    packets = list(client.outstanding)
    assert len(packets) == 4
    tag = 0
    for packet in packets:
        got: list[tuple[int, int, int, int]] = []
        while not got or not got[-1][3]:
            result = system.call(pin, "GetMapping", {"Tag": tag})
            tag += 1
            assert result.status == NTSTATUS.STATUS_SUCCESS
            out = result.out
            got.append((out["VirtualAddress"], out["PhysicalAddress"], out["ByteCount"], out["Flags"]))
        assert sum(n for _, _, n, _ in got) == packet.length
        assert got[0][0] == packet.va
        for va, pa, n, _flags in got:
            assert pa == packet.mdl.physical_address(va)
            assert packet.mdl.contiguous_run(va, n) == n  # physically contiguous
        for (va, pa, n, _), (va2, pa2, _, _) in itertools.pairwise(got):
            assert va2 == va + n and pa2 != pa + n  # a cut only where the pages stop being adjacent
        assert [f != 0 for *_, f in got] == [False] * (len(got) - 1) + [True]
    assert system.call(pin, "GetMapping", {"Tag": tag}).status == NTSTATUS.STATUS_NOT_FOUND
    assert not violations(system)


def test_release_out_of_order_is_flagged_and_accepted() -> None:
    """portcls-contract fact 33: mappings must come back in acquisition order; an unknown tag is refused."""
    topology, pin = ac97(run=False)
    system = topology.system
    system.call(pin, "SetState", {"State": "KSSTATE_ACQUIRE"})
    client = topology.clients[0]
    for tag in (100, 101):
        assert system.call(pin, "GetMapping", {"Tag": tag}).out["Flags"] == 1  # one page: one mapping per packet
    result = system.call(pin, "ReleaseMapping", {"Tag": 101})
    assert result.status == NTSTATUS.STATUS_SUCCESS
    assert [v.rule for v in result.violations] == ["release-order"]
    assert client.packets_completed == 0  # packets complete in order: the first still has its mapping out
    result = system.call(pin, "ReleaseMapping", {"Tag": 100})
    assert result.status == NTSTATUS.STATUS_SUCCESS and not result.violations
    assert client.packets_completed == 2
    for tag in (555, 100):
        result = system.call(pin, "ReleaseMapping", {"Tag": tag})
        assert result.status == NTSTATUS.STATUS_INVALID_PARAMETER
        assert [v.rule for v in result.violations] == ["unknown-tag"]


def test_mappings_never_span_more_than_16_pages() -> None:
    """portcls-contract fact 34: adjacent pages merge into one mapping, but never beyond 16 pages."""
    topology, pin = ac97(run=False)
    system = topology.system
    big = contiguous_packet(system, 20)
    pin.submit(big)
    first = system.call(pin, "GetMapping", {"Tag": 1}).out
    second = system.call(pin, "GetMapping", {"Tag": 2}).out
    assert first["ByteCount"] == MAX_MAPPING_PAGES * PAGE_SIZE == 0x10000 and first["Flags"] == 0
    assert first["PhysicalAddress"] == big.mdl.physical_address(big.va)
    assert second["ByteCount"] == 4 * PAGE_SIZE and second["Flags"] == 1
    assert second["PhysicalAddress"] == first["PhysicalAddress"] + 0x10000
    # The HAL is asked for every mapping: MapTransfer, from the pin, on the master adapter.
    lengths = [r.args["Length"] for r in calls(system, "MapTransfer", caller="pin")]
    assert lengths == [0x10000, 0x4000]
    # Starting mid-page, a mapping stops short of a 17th page.
    skewed = contiguous_packet(system, 20, offset=0x800, name="test.skewed")
    pin.submit(skewed)
    out = system.call(pin, "GetMapping", {"Tag": 3}).out
    assert out["ByteCount"] == 0x10000 - 0x800
    assert not violations(system)


def test_stop_revokes_every_outstanding_mapping() -> None:
    """portcls-contract fact 35: on STOP the port revokes FirstTag..LastTag of what the miniport holds."""
    topology, pin = ac97()
    system = topology.system
    system.run_for(105 * MS)
    system.call(pin, "SetState", {"State": "KSSTATE_ACQUIRE"})
    held = pin.stream.held_tags()
    assert held and held == [m.tag for m in pin.mappings]
    system.call(pin, "SetState", {"State": "KSSTATE_STOP"})
    (revoke,) = calls(system, "RevokeMappings")
    assert revoke.caller == "pin" and revoke.irql == Irql.DISPATCH_LEVEL
    assert revoke.args == {"FirstTag": held[0], "LastTag": held[-1]}
    assert revoke.status == NTSTATUS.STATUS_SUCCESS and revoke.out == {"MappingsRevoked": len(held)}
    client = topology.clients[0]
    assert pin.stream.held_tags() == [] and pin.mappings == [] and pin.irps == []
    assert client.outstanding == []  # every packet came back to the client
    assert system.call(pin.stream, "GetPosition").out == {"Position": 0}
    assert not violations(system)


def test_revoke_counts_only_mappings_not_already_released() -> None:
    """portcls-contract fact 35: MappingsRevoked excludes mappings already released; unknown tags fail."""
    topology, pin = ac97()
    system = topology.system
    system.run_for(105 * MS)
    stream = pin.stream
    held = stream.held_tags()
    assert held[0] > 0  # tags 0 .. held[0]-1 were released already
    result = system.call(stream, "RevokeMappings", {"FirstTag": 10_000, "LastTag": 10_001})
    assert result.status == NTSTATUS.STATUS_UNSUCCESSFUL and result.out == {"MappingsRevoked": 0}
    assert stream.held_tags() == held
    result = system.call(stream, "RevokeMappings", {"FirstTag": 0, "LastTag": held[-1]})
    assert result.status == NTSTATUS.STATUS_SUCCESS
    assert result.out == {"MappingsRevoked": len(held)} and len(held) < held[-1] + 1
    assert stream.held_tags() == []
    # The port, unaware, revokes its own view on STOP: the miniport holds none of it any more.
    system.call(pin, "SetState", {"State": "KSSTATE_STOP"})
    last = calls(system, "RevokeMappings", caller="pin")[-1]
    assert last.status == NTSTATUS.STATUS_SUCCESS and last.out == {"MappingsRevoked": 0}
    assert not violations(system)


def test_cancelling_a_packet_revokes_its_mappings_and_the_stream_goes_on() -> None:
    """portcls-contract fact 35: an IRP cancel revokes that packet's mappings while the others play on."""
    topology, pin = ac97()
    system = topology.system
    client = topology.clients[0]
    system.run_for(105 * MS)
    victim = pin.mappings[-1].irp.packet  # queued in the BDL, not yet played
    tags = [m.tag for m in pin.mappings if m.irp.packet is victim]
    follower_offset = victim.stream_offset + victim.length
    assert pin.cancel(victim)
    (revoke,) = calls(system, "RevokeMappings")
    assert revoke.args == {"FirstTag": tags[0], "LastTag": tags[-1]} and revoke.out == {"MappingsRevoked": 1}
    assert victim not in client.outstanding
    iocs = system.trace.count("ioc")
    system.run_for(100 * MS)
    assert system.trace.count("ioc") > iocs + 5
    played = system.machine.ac97.sink.data.tobytes()
    # The ramp is unique over this stretch: the cancelled packet never plays, the one after it does.
    assert client.expected(victim.stream_offset, 64).tobytes() not in played
    assert client.expected(follower_offset, 64).tobytes() in played
    assert not violations(system)


def test_null_service_group_makes_the_port_run_its_own_20ms_timer() -> None:
    """portcls-contract fact 36: NewStream's NULL service group -> the port's 20 ms timer services the stream."""
    topology, pin = ac97(service_group=False)
    system = topology.system
    (new_stream,) = calls(system, "NewStream")
    assert new_stream.out["ServiceGroup"] is None and pin.service_group is None
    system.run_for(2 * S + 5 * MS)
    assert pin.timer_ticks == 100  # at 20, 40, ..., 2000 ms
    services = calls(system, "Service", object="stream")
    assert len(services) == 100 and {r.context for r in services} == {"dpc:pin.timer"}
    assert [r.t_ns for r in services] == [20 * MS * k + system.kernel.dpc_latency_ns for k in range(1, 101)]
    assert not calls(system, "Notify")
    played = system.machine.ac97.sink.data
    assert np.array_equal(played, topology.clients[0].expected(0, len(played)))
    assert len(played) == FMT.bytes_for(2 * S + 5 * MS) and not glitches(system)
    system.call(pin, "SetState", {"State": "KSSTATE_PAUSE"})
    system.run_for(100 * MS)
    assert pin.timer_ticks == 100  # the timer runs only in RUN
    assert not violations(system)


def test_port_never_uses_or_releases_the_new_stream_dma_channel() -> None:
    """portcls-contract fact 37: no call from the port or pin ever reaches NewStream's DmaChannel."""
    topology, pin = ac97()
    system = topology.system
    channel = pin.dma
    assert channel is not None and channel is topology.port.channels[0]  # ac97 hands back its master channel
    system.run_for(300 * MS)
    system.call(pin, "SetState", {"State": "KSSTATE_STOP"})
    mine = {topology.port.object_id, pin.object_id}
    on_channel = [r for r in system.trace.of_kind("call") if r.object == channel.object_id]
    assert [r for r in on_channel if r.caller in mine] == []
    assert channel.alive and channel.refcount == 1
    # The port does use the DMA operations of its own master adapter, for every mapping.
    assert calls(system, "MapTransfer", caller="pin", object=channel.adapter.object_id)


# --- glitches -----------------------------------------------------------------------------------


def test_starved_client_underrun_is_reported_with_time_and_length() -> None:
    """A starving client drains the BDL; the PO box underruns; one glitch record matches the stretch."""
    topology, pin = ac97()
    system = topology.system
    client = topology.clients[0]
    client.starve(500 * MS, 700 * MS)
    client.starve(1200 * MS, 1300 * MS)
    system.run_for(2 * S)
    system.call(pin, "SetState", {"State": "KSSTATE_STOP"})
    stretches = system.machine.ac97.box("PO").underruns
    reports = glitches(system)
    assert len(stretches) == 2 and len(reports) == 2  # none unreported, none twice
    missed = 0  # samples of earlier stretches: time went by, the stream offset did not move
    for stretch, report in zip(stretches, reports, strict=True):
        assert stretch.end_ns is not None
        assert report.cause == "underrun" and report.stream == "pin"
        assert report.start_ns == stretch.start_ns and report.length_ns == stretch.end_ns - stretch.start_ns
        assert report.bytes == 2 * stretch.samples
        # The engine halted one sample before the first missed request: the stream offset is
        # every sample period since t = 0 up to the halt, less the ones missed before.
        assert report.offset == 2 * (stretch.start_ns * SAMPLES_PER_S // S - 1 - missed)
        missed += stretch.samples
    # The buffered 40 ms ran out at 530 ms; data came back with the client's packet at 700 ms.
    assert 529 * MS < stretches[0].start_ns < 531 * MS and stretches[0].end_ns == 700 * MS
    # Nothing the client wrote was lost or repeated: the device only paused.
    played = system.machine.ac97.sink.data
    assert np.array_equal(played, client.expected(0, len(played)))
    assert not violations(system)


def test_starved_capture_overrun_loses_exactly_the_reported_bytes() -> None:
    """Capture without empty packets: the PI box overruns; the client's data skips exactly the glitch."""
    topology, pin = ac97(capture=True)
    system = topology.system
    client = topology.clients[0]
    client.starve(400 * MS, 550 * MS)
    system.run_for(1 * S)
    system.call(pin, "SetState", {"State": "KSSTATE_PAUSE"})
    (report,) = glitches(system)
    (stretch,) = system.machine.ac97.box("PI").overruns
    assert report.cause == "overrun" and report.start_ns == stretch.start_ns
    assert report.length_ns == stretch.end_ns - stretch.start_ns
    received = client.received.data
    source = system.machine.ac97.source
    before, lost = report.offset, report.bytes
    assert np.array_equal(received[:before], source.expected(FMT, 0, before))
    rest = len(received) - before
    assert rest > 0 and np.array_equal(received[before:], source.expected(FMT, before + lost, rest))
    assert not violations(system)


# --- port stream details ------------------------------------------------------------------------


def test_terminate_packet_completes_a_partly_filled_capture_packet() -> None:
    """TerminatePacket hands a capture packet back with what was recorded; render: a no-op."""
    topology, pin = ac97(capture=True, run=False, packet_ms=50)
    system = topology.system
    system.call(pin, "SetState", {"State": "KSSTATE_ACQUIRE"})
    client = topology.clients[0]
    first, second = client.outstanding[0], client.outstanding[1]
    a = system.call(pin, "GetMapping", {"Tag": 1}).out
    system.call(pin, "GetMapping", {"Tag": 2})
    assert a["Flags"] == 0
    system.call(pin, "ReleaseMapping", {"Tag": 1})
    assert client.packets_completed == 0
    assert system.call(pin, "TerminatePacket").status == NTSTATUS.STATUS_SUCCESS
    assert client.packets_completed == 1 and first.used == a["ByteCount"]
    assert len(client.received.data) == a["ByteCount"]
    # The mapping still out for it comes back quietly; the next mapping starts the next packet.
    assert system.call(pin, "ReleaseMapping", {"Tag": 2}).status == NTSTATUS.STATUS_SUCCESS
    assert system.call(pin, "GetMapping", {"Tag": 3}).out["VirtualAddress"] == second.va
    assert not violations(system)

    topology, pin = ac97(run=False)
    system = topology.system
    system.call(pin, "SetState", {"State": "KSSTATE_ACQUIRE"})
    system.call(pin, "GetMapping", {"Tag": 1})
    assert system.call(pin, "TerminatePacket").status == NTSTATUS.STATUS_SUCCESS
    assert topology.clients[0].packets_completed == 0


def test_odd_address_mapping_is_skipped_by_the_miniport() -> None:
    """The AC'97 bus master needs word-aligned buffers: an odd-address mapping becomes a 0-length entry."""
    topology, pin = ac97(run=False)
    system = topology.system
    client = topology.clients[0]
    odd = contiguous_packet(system, 1, offset=1, name="test.odd")
    pin.submit(odd)
    real_completed = client.packet_completed
    client.packet_completed = lambda p: None if p is odd else real_completed(p)  # type: ignore[method-assign]
    system.call(pin, "SetState", {"State": "KSSTATE_RUN"})
    entry = pin.stream.slots[0]
    assert entry is not None and entry["length"] == 0 and entry["physical"] & 1
    raw = system.kernel.address_space.read(pin.stream.bdl_va, 8).tobytes()
    assert int.from_bytes(raw[4:6], "little") == 0  # no samples
    system.run_for(100 * MS)
    played = system.machine.ac97.sink.data
    assert len(played) and np.array_equal(played, client.expected(0, len(played)))
    assert odd.used == odd.length  # released and completed like any other
    assert not violations(system)


class _MiniportWithGroup(MiniportWavePciAc97):
    """The AC'97 miniport, but with a miniport-wide service group out of Init."""

    def Init(self, UnknownAdapter: Any, ResourceList: Any, Port: Any) -> Out:
        result = super().Init(UnknownAdapter, ResourceList, Port)
        group = self.system.call("portcls", "PcNewServiceGroup", {"OuterUnknown": None}).out["OutServiceGroup"]
        return Out(result.result, {"ServiceGroup": group})


def test_miniport_wide_service_group_reaches_miniport_service() -> None:
    """IMiniportWavePci::Init's group: the port joins it, and its DPC calls IMiniportWavePci::Service."""
    topology = Topology("ac97")
    topology.kind = dataclasses.replace(topology.kind, miniport=_MiniportWithGroup)
    system = topology.system
    system.strict = True
    assert topology.install() == NTSTATUS.STATUS_SUCCESS
    port = topology.port
    group = port.service_group
    assert group is not None and group.members == [port]
    system.call(port, "Notify", {"ServiceGroup": group})
    system.run_for(1 * MS)
    (service,) = calls(system, "Service", object="miniport")
    assert service.caller == "port" and service.irql == Irql.DISPATCH_LEVEL
    assert not violations(system)


def test_port_init_refuses_a_wrong_miniport() -> None:
    """IPort::Init with something that is not an IMiniportWavePci: a violation and an error, no crash."""
    topology, _pin = ac97(run=False)
    system = topology.system
    group = system.call("portcls", "PcNewServiceGroup", {"OuterUnknown": None}).out["OutServiceGroup"]
    result = system.call("port", "Init", {"UnknownMiniport": group.object_id})
    assert result.status == NTSTATUS.STATUS_INVALID_PARAMETER
    assert [v.rule for v in result.violations] == ["wrong-interface"]


def test_notify_with_null_group_is_a_violation() -> None:
    """IPortWavePci::Notify(NULL) is refused as a null-object violation, not a crash."""
    topology, _pin = ac97(run=False)
    result = topology.system.call("port", "Notify", {"ServiceGroup": None})
    assert [v.rule for v in result.violations] == ["null-object"]


def test_pin_answers_to_both_names() -> None:
    """The pin is the IPortWavePciStream: 'pin' and 'port_stream' reach the same object."""
    topology, pin = ac97(run=False)
    system = topology.system
    assert system.get("port_stream") is pin and system.get("pin") is pin
    (new_stream,) = calls(system, "NewStream")
    assert new_stream.args["PortStream"] == "pin" and new_stream.caller == "pin"


@pytest.mark.parametrize("capture", [False, True])
def test_snapshot_restore_mid_stream_gives_the_same_state(capture: bool) -> None:
    """Restore mid-stream gives back the digest, and replay from there is identical."""
    topology, _pin = ac97(capture=capture)
    system = topology.system
    system.run_for(500 * MS + 123_457)
    digest = system.state_digest()
    snap = system.snapshot()
    system.run_for(300 * MS)
    after = system.state_digest()
    trace_len = len(system.trace)
    assert after != digest
    system.restore(snap)
    assert system.state_digest() == digest
    system.run_for(300 * MS)
    assert system.state_digest() == after and len(system.trace) == trace_len
    assert not violations(system)
