"""The HD Audio WaveCyclic miniport end to end: port, master channel, BDL, LPIB, ISR.

Render and capture for 2 s with every byte checked, exact interrupt and notification
counts, portcls-contract facts 23 and 25, the BDL it builds, SetBufferSize taking effect at
the next RUN, NewStream's refusals, a clean run without violations and snapshot/restore
mid-stream.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from model.kernel.types import NTSTATUS
from model.portcls.miniports.hda_wavecyclic import BUFFER_BYTES, MiniportWaveCyclicHDA, sd_format
from model.topology import StreamSpec, Topology
from model.trace import CallRecord
from model.units import MS, S
from model.wave_format import WaveFormat

FMT = WaveFormat()  # 48 kHz 16-bit stereo: 1920 bytes per 10 ms
FRAME_10MS = 1920
BAR = 0xFEBF0000


def hda(*, capture: bool = False, run: bool = True) -> tuple[Topology, object]:
    topology = Topology("hda")
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


def lpib(topology: Topology, pin: object) -> int:
    stream = pin.stream  # type: ignore[attr-defined]
    return topology.system.machine.mmio_read(BAR + stream.sd + 0x04)


def calls(topology: Topology, method: str) -> list[CallRecord]:
    return [r for r in topology.system.trace.of_kind("call") if isinstance(r, CallRecord) and r.method == method]


# --- data integrity -----------------------------------------------------------------------------


def test_render_2s_every_byte_played_once_in_order() -> None:
    topology, pin = hda()
    system = topology.system
    system.run_for(2 * S)
    sink = pin.stream.sink  # type: ignore[attr-defined]
    assert sink is system.machine.hda.sink  # the first render stream takes output descriptor 0
    assert sink.length == FMT.bytes_for(2 * S)  # the engine moved exactly 2 s of frames
    n = min(sink.length, pin.data_end)  # type: ignore[attr-defined]
    assert n == sink.length
    assert np.array_equal(sink.data[:n], topology.clients[0].expected(0, n))  # a ramp: no loss, repeat or swap
    assert system.trace.count("glitch") == 0
    assert system.trace.count("violation") == 0


def test_capture_2s_every_byte_received_once_in_order() -> None:
    topology, pin = hda(capture=True)
    system = topology.system
    system.run_for(2 * S)
    client = topology.clients[0]
    got = client.received.data
    assert len(got) >= FMT.bytes_for(2 * S) - 2 * client.packet_bytes
    source = pin.stream.source  # type: ignore[attr-defined]
    assert source is system.machine.hda.source  # input descriptor 0
    assert np.array_equal(got, source.expected(FMT, 0, len(got)))
    assert system.trace.count("glitch") == 0
    assert system.trace.count("violation") == 0


@pytest.mark.parametrize("capture", [False, True], ids=["render", "capture"])
def test_pause_and_resume_keep_every_byte(capture: bool) -> None:
    """RUN->PAUSE halts the engine where it is and ->RUN resumes there: the data stays exact."""
    topology, pin = hda(capture=capture)
    system = topology.system
    system.run_for(333 * MS)
    system.call(pin, "SetState", {"State": "KSSTATE_PAUSE"})
    system.run_for(77 * MS)
    system.call(pin, "SetState", {"State": "KSSTATE_RUN"})
    system.run_for(500 * MS)
    client = topology.clients[0]
    if capture:
        got = client.received.data
        assert len(got) >= FMT.bytes_for(800 * MS)
        assert np.array_equal(got, system.machine.hda.source.expected(FMT, 0, len(got)))
    else:
        sink = system.machine.hda.sink
        assert sink.length == FMT.bytes_for(833 * MS)  # nothing moved while paused
        assert np.array_equal(sink.data, client.expected(0, sink.length))
    assert system.trace.count("glitch") == 0
    assert system.trace.count("violation") == 0


# --- counts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("capture", [False, True], ids=["render", "capture"])
def test_2s_at_10ms_gives_exactly_200_iocs_interrupts_and_notifications(capture: bool) -> None:
    """An IOC every 10.000 ms from RUN: at 2 s + 5 ms, 200 of everything (the 201st is at 2.010 s)."""
    topology, _ = hda(capture=capture)
    system = topology.system
    system.run_for(2 * S + 5 * MS)
    miniport = topology.miniport
    assert isinstance(miniport, MiniportWaveCyclicHDA)
    assert system.trace.count("ioc") == 200
    assert system.trace.count("interrupt", action="isr", irq=11) == 200
    assert miniport.interrupts == 200
    assert len(calls(topology, "Notify")) == 200
    assert all(r.caller == miniport.object_id for r in calls(topology, "Notify"))
    assert system.trace.count("call", object="pin", method="RequestService") == 200
    iocs = [r.t_ns for r in system.trace.of_kind("ioc")]
    assert iocs == [k * 10 * MS for k in range(1, 201)]


# --- contract facts ----------------------------------------------------------------------------------


def test_portcls_contract_fact23_position_is_buffer_relative_and_wraps() -> None:
    """portcls-contract fact 23: GetPosition is an offset into the cyclic buffer, wraps, never reaches its size."""
    topology, pin = hda()
    system = topology.system
    seen = []
    for _ in range(120):
        system.run_for(3 * MS + 700_000)  # 3.7 ms steps: not in step with the 10 ms pieces
        p = position(topology)
        assert p == lpib(topology, pin)
        seen.append(p)
    assert all(0 <= p < BUFFER_BYTES for p in seen)
    assert any(b < a for a, b in pairwise(seen))  # it wrapped (444 ms > 100 ms of buffer)
    assert system.trace.count("violation") == 0


def test_portcls_contract_fact25_stop_resets_pause_freezes_run_resumes() -> None:
    """portcls-contract fact 25: ->STOP position 0; RUN->PAUSE freezes; ->RUN resumes from there."""
    topology, pin = hda()
    system = topology.system
    assert position(topology) == 0  # fact 19: a new stream starts at 0
    system.run_for(505 * MS)
    p = position(topology)
    assert p == FMT.bytes_for(505 * MS) % BUFFER_BYTES
    assert system.call(pin, "SetState", {"State": "KSSTATE_PAUSE"}).status == NTSTATUS.STATUS_SUCCESS
    system.run_for(50 * MS)
    assert position(topology) == p  # frozen
    assert system.call(pin, "SetState", {"State": "KSSTATE_ACQUIRE"}).status == NTSTATUS.STATUS_SUCCESS
    system.run_for(50 * MS)
    assert position(topology) == p  # ACQUIRE freezes too
    assert system.call(pin, "SetState", {"State": "KSSTATE_RUN"}).status == NTSTATUS.STATUS_SUCCESS
    system.run_for(20 * MS)
    assert position(topology) == (p + FMT.bytes_for(20 * MS)) % BUFFER_BYTES  # resumed where it was
    assert system.call(pin, "SetState", {"State": "KSSTATE_STOP"}).status == NTSTATUS.STATUS_SUCCESS
    assert position(topology) == 0
    system.run_for(50 * MS)
    assert position(topology) == 0
    assert system.call(pin, "SetState", {"State": "KSSTATE_RUN"}).status == NTSTATUS.STATUS_SUCCESS
    system.run_for(20 * MS)
    assert position(topology) == FMT.bytes_for(20 * MS)  # from the start of the buffer again
    assert system.trace.count("violation") == 0


# --- what the miniport programs ---------------------------------------------------------------------


def test_bdl_cuts_the_buffer_into_10ms_pieces_with_ioc_and_registers_match() -> None:
    topology, pin = hda()
    system = topology.system
    stream = pin.stream  # type: ignore[attr-defined]
    channel = pin.dma  # type: ignore[attr-defined]
    assert channel.AllocatedBufferSize() == BUFFER_BYTES
    raw = system.machine.phys_read(stream.bdl_physical, 16 * 10).view("<u4").reshape(10, 4)
    base = channel.PhysicalAddress()
    for i, (lo, hi, length, flags) in enumerate(raw.tolist()):
        assert (hi << 32 | lo, length, flags) == (base + i * FRAME_10MS, FRAME_10MS, 1)
    sd = system.machine.hda.stream_descriptor(stream.descriptor)
    assert stream.descriptor == 4 and sd.name == "out0"
    assert (sd.cbl, sd.lvi, sd.fmt) == (BUFFER_BYTES, 9, sd_format(FMT))
    assert sd.bdl_address == stream.bdl_physical and stream.bdl_physical % 128 == 0
    assert sd.stream_tag == 1 and sd.run
    assert system.machine.hda.intctl == (1 << 31) | (1 << 4)
    freq = [r for r in calls(topology, "SetNotificationFreq") if r.object == stream.object_id]
    assert [(r.args["Interval"], r.value, r.out["FrameSize"]) for r in freq] == [(10, 10, FRAME_10MS)]


def test_set_buffer_size_takes_effect_at_the_next_run() -> None:
    """A smaller BufferSize while stopped: the next RUN programs CBL and the BDL for it; data stays exact."""
    topology, pin = hda(run=False)
    system = topology.system
    system.call("dma", "SetBufferSize", {"BufferSize": 9600})
    sd = system.machine.hda.stream_descriptor(pin.stream.descriptor)  # type: ignore[attr-defined]
    assert sd.cbl == 0  # nothing programmed before RUN
    assert system.call(pin, "SetState", {"State": "KSSTATE_RUN"}).status == NTSTATUS.STATUS_SUCCESS
    assert (sd.cbl, sd.lvi) == (9600, 4)
    assert pin.buffer_size == 9600  # type: ignore[attr-defined]  # the port read it at RUN as well
    seen = []
    for _ in range(100):
        system.run_for(7 * MS)
        seen.append(position(topology))
    assert max(seen) < 9600
    sink = system.machine.hda.sink
    assert np.array_equal(sink.data, topology.clients[0].expected(0, sink.length))
    assert system.trace.count("violation") == 0


def test_new_stream_refuses_a_rate_the_controller_cannot_clock_and_a_fifth_render_stream() -> None:
    topology = Topology("hda")
    system = topology.system
    system.strict = True
    assert topology.install() == NTSTATUS.STATUS_SUCCESS
    odd = {"SamplesPerSec": 11_000, "BitsPerSample": 16, "Channels": 2}  # no 48000/44100 x mult / div
    result = system.call("miniport", "NewStream", {"Capture": False, "DataFormat": odd})
    assert result.status == NTSTATUS.STATUS_INVALID_PARAMETER
    assert result.out["Stream"] is None
    for n in range(4):
        result = system.call("miniport", "NewStream", {"Capture": False})
        assert result.status == NTSTATUS.STATUS_SUCCESS
        assert result.out["Stream"].descriptor == 4 + n
    result = system.call("miniport", "NewStream", {"Capture": False})
    assert result.status == NTSTATUS.STATUS_INVALID_DEVICE_REQUEST  # out0..out3 all busy
    result = system.call("miniport", "NewStream", {"Capture": True})
    assert result.status == NTSTATUS.STATUS_SUCCESS and result.out["Stream"].descriptor == 0
    assert system.trace.count("violation") == 0


def test_sd_format_encodes_base_mult_div_bits_channels() -> None:
    assert sd_format(WaveFormat(48_000, 16, 2)) == 0x0011
    assert sd_format(WaveFormat(44_100, 16, 2)) == 0x4011
    assert sd_format(WaveFormat(22_050, 8, 1)) == 0x4100  # 44.1 kHz / 2, 8-bit mono
    assert sd_format(WaveFormat(32_000, 16, 2)) == 0x0A11  # 48 kHz x 2 / 3
    assert sd_format(WaveFormat(11_000, 16, 2)) is None


# --- state --------------------------------------------------------------------------------------------


def test_snapshot_restore_mid_stream_replays_to_the_same_digest() -> None:
    topology, _ = hda()
    system = topology.system
    system.run_for(1 * S + 3 * MS)
    snap = system.snapshot()
    at_snapshot = system.state_digest()
    system.run_for(500 * MS)
    later = system.state_digest()
    played = system.machine.hda.sink.data.copy()
    system.restore(snap)
    assert system.state_digest() == at_snapshot
    system.run_for(500 * MS)
    assert system.state_digest() == later
    assert np.array_equal(system.machine.hda.sink.data, played)
    assert system.trace.count("violation") == 0
