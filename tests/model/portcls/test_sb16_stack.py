"""The SB16 WaveCyclic stack end to end: bytes, counts, glitches against ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from model.kernel.kernel import LatencySpike
from model.units import MS, S, time_of_unit
from model.wave_format import Signal, SignalKind, WaveFormat
from tests.model.portcls.stacks import sb16, violations


def unexplained_render_bytes(topology) -> int:
    """Bytes the device played that are neither the client's data nor inside a reported glitch.

    The device's output starts when the DMA starts, at stream offset 0. Each underrun glitch
    covers [offset, offset+bytes) of what the device played; the client's data resumes after
    it, delayed by the glitch's length (nothing the client wrote is dropped).
    """
    system = topology.system
    played = system.machine.sb16.sink.data
    client = topology.clients[0]
    end = min(len(played), topology.pins[0].data_end)
    glitches = sorted(system.trace.of_kind("glitch"), key=lambda g: g.offset)
    bad = 0
    device_at, client_at = 0, 0
    for glitch in [*glitches, None]:
        stop = end if glitch is None else min(end, glitch.offset)
        if stop > device_at:
            expected = client.expected(client_at, stop - device_at)
            bad += int(np.count_nonzero(played[device_at:stop] != expected))
            client_at += stop - device_at
        if glitch is None:
            break
        device_at = glitch.offset + glitch.bytes
    return bad


@pytest.mark.parametrize("fmt", [WaveFormat(48000, 16, 2), WaveFormat(22050, 8, 1), WaveFormat(44100, 16, 1)])
def test_render_two_seconds_is_byte_exact_with_exact_counts(fmt: WaveFormat) -> None:
    """2 s of render: every byte played is the client's, in order; one IRQ and one Notify per 10 ms block."""
    topology, pin = sb16(fmt)
    system = topology.system
    system.run_for(2 * S)
    played = system.machine.sb16.sink.data
    n = pin.data_end
    assert len(played) >= fmt.bytes_for(2 * S) - fmt.block_align
    assert np.array_equal(played[: min(n, len(played))], topology.clients[0].expected(0, min(n, len(played))))
    # The block is 10 ms of frames (rounded down), one interrupt per block; the ISR runs 2 µs later.
    units_per_block = fmt.sample_rate * 10 // 1000 * fmt.channels
    ends = [time_of_unit(k * units_per_block, fmt.sample_rate * fmt.channels) for k in range(1, 400)]
    assert system.trace.count("interrupt", action="raise") == sum(t <= 2 * S for t in ends)
    assert system.trace.count("call", method="Notify") == sum(t + 2_000 <= 2 * S for t in ends)
    assert system.trace.count("glitch") == 0
    assert not violations(system)


@pytest.mark.parametrize("fmt", [WaveFormat(48000, 16, 2), WaveFormat(22050, 8, 1)])
def test_capture_two_seconds_is_byte_exact_with_exact_counts(fmt: WaveFormat) -> None:
    """2 s of capture: the client receives exactly what the device recorded, in order; one IRQ
    and one Notify per 10 ms block, as in render."""
    topology, _ = sb16(fmt, capture=True)
    system = topology.system
    system.run_for(2 * S)
    received = topology.clients[0].received.data
    recorded = system.machine.sb16.source
    assert len(received) > fmt.bytes_for(2 * S) - fmt.bytes_for(60 * MS)
    assert np.array_equal(received, recorded.expected(fmt, 0, len(received)))
    units_per_block = fmt.sample_rate * 10 // 1000 * fmt.channels
    ends = [time_of_unit(k * units_per_block, fmt.sample_rate * fmt.channels) for k in range(1, 400)]
    assert system.trace.count("interrupt", action="raise") == sum(t <= 2 * S for t in ends)
    assert system.trace.count("call", method="Notify") == sum(t + 2_000 <= 2 * S for t in ends)
    assert system.trace.count("glitch") == 0
    assert system.trace.count("call", method="CopyFrom") > 0
    assert not violations(system)


def unexplained_capture_bytes(topology) -> int:
    """Bytes the client received that are not what the device recorded once the reported
    overruns are taken out. Overrun glitches are in device-stream offsets: the client's data
    skips [offset, offset+bytes) of what the device recorded."""
    system = topology.system
    fmt = topology.pins[0].format
    received = topology.clients[0].received.data
    source = system.machine.sb16.source
    device_at, client_at, bad = 0, 0, 0
    for glitch in [*sorted(system.trace.of_kind("glitch"), key=lambda g: g.offset), None]:
        stop = len(received) if glitch is None else client_at + glitch.offset - device_at
        n = min(stop, len(received)) - client_at
        if n > 0:
            bad += int(np.count_nonzero(received[client_at : client_at + n] != source.expected(fmt, device_at, n)))
        if glitch is None:
            break
        client_at += max(0, n)
        device_at = glitch.offset + glitch.bytes
    return bad


def test_capture_starvation_is_one_overrun_per_stretch_and_accounts_for_every_byte() -> None:
    """A client that gives no packets loses what the device records meanwhile: each stretch of
    loss is one overrun (not one per DPC), and what the client receives is exactly the
    recording with the reported stretches taken out."""
    topology, _ = sb16(capture=True)
    system = topology.system
    client = topology.clients[0]
    client.starve(400 * MS, 550 * MS)
    client.starve(900 * MS, 1080 * MS)
    client.starve(1300 * MS, 1400 * MS)  # packets in flight and the buffer hold 125 ms: no loss
    system.run_for(2 * S)
    glitches = system.trace.of_kind("glitch")
    assert [g.cause for g in glitches] == ["overrun", "overrun"]
    assert 400 * MS < glitches[0].start_ns < 550 * MS < 900 * MS < glitches[1].start_ns < 1080 * MS
    fmt = topology.pins[0].format
    for glitch in glitches:
        assert glitch.bytes > 0 and glitch.bytes % fmt.block_align == 0
        assert glitch.length_ns == fmt.duration_of(glitch.bytes)
    assert unexplained_capture_bytes(topology) == 0
    lost = sum(g.bytes for g in glitches)
    assert len(client.received.data) + lost <= system.machine.sb16.source.position


@pytest.mark.parametrize(("start_ms", "length_ms"), [(300, 25), (500, 80), (700, 200)])
def test_starvation_glitches_are_all_reported(start_ms: int, length_ms: int) -> None:
    """Client starvation: each underrun is a glitch with time and length, and none goes unreported."""
    topology, _ = sb16()
    system = topology.system
    topology.clients[0].starve(start_ms * MS, (start_ms + length_ms) * MS)
    system.run_for(2 * S)
    glitches = system.trace.of_kind("glitch")
    if length_ms < 40:
        assert glitches == []  # 40 ms of packets in flight cover a short starvation
    else:
        assert len(glitches) == 1
        glitch = glitches[0]
        assert glitch.cause == "underrun" and glitch.bytes > 0
        fmt = topology.pins[0].format
        assert glitch.length_ns == fmt.duration_of(glitch.bytes)
        assert start_ms * MS < glitch.start_ns < (start_ms + length_ms) * MS
    assert unexplained_render_bytes(topology) == 0


@pytest.mark.parametrize(("extra_ms", "glitch"), [(29, False), (31, True)])
def test_dpc_latency_glitches_only_past_the_data_ahead(extra_ms: int, glitch: bool) -> None:
    """A DPC late by more than the ~30 ms ahead of the DMA position when it was queued glitches; less does not."""
    topology, _ = sb16()
    system = topology.system
    system.run_for(500 * MS)  # a block ends at exactly 500 ms; its ISR queues the DPC 2 µs later
    system.kernel.spikes.append(LatencySpike(system.now_ns, system.now_ns + 1 * MS, extra_ms * MS))
    system.run_for(1 * S)
    assert (system.trace.count("glitch") > 0) == glitch
    assert unexplained_render_bytes(topology) == 0


def test_noise_signal_catches_any_reordering() -> None:
    """With a seeded noise signal no two stretches are alike: a clean run still matches exactly."""
    from model.topology import StreamSpec, Topology

    topology = Topology("sb16")
    topology.system.strict = True
    topology.install()
    pin = topology.open_stream(StreamSpec(signal=Signal(SignalKind.NOISE, seed=7)))
    topology.system.call(pin, "SetState", {"State": "KSSTATE_RUN"})
    topology.system.run_for(1 * S)
    assert unexplained_render_bytes(topology) == 0
    assert topology.system.machine.sb16.sink.length > 190_000
