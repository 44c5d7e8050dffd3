"""The SB16 render stream through the whole stack: how fast it simulates.

Everything runs: the client's packets, the WaveCyclic port's copies on each 10 ms
notification, the miniport's GetPosition through ReadCounter and the HAL's port reads, the
SB16 and the 8237 moving data, interrupts, DPCs, the contract checks and the full trace.
Reports simulated seconds per wall second for 10 simulated minutes, then how the cost
scales with simulated time and with the DMA buffer's size.

Every figure is the median of ``--repeat`` runs (this machine's timings vary by a third
from run to run).

    python benchmarks/bench_stack.py [--minutes M] [--repeat R]
"""

from __future__ import annotations

import argparse
import time

from model.portcls.miniports.sb16_wavecyclic import MiniportWaveCyclicSB16
from model.topology import StreamSpec, Topology
from model.units import S


def run(seconds: float, buffer: int = 0x4000) -> tuple[float, int, int]:
    """Wall seconds, records and events for ``seconds`` of render with a ``buffer``-byte DMA buffer."""
    MiniportWaveCyclicSB16.max_buffer = buffer
    try:
        topology = Topology("sb16")
        topology.install()
        pin = topology.open_stream(StreamSpec())
        system = topology.system
        system.call(pin, "SetState", {"State": "KSSTATE_RUN"})
        start = time.perf_counter()
        system.run_for(int(seconds * S))
        wall = time.perf_counter() - start
        assert system.trace.count("glitch") == 0 and system.get("dma").AllocatedBufferSize() == buffer
        return wall, len(system.trace), system.sim.steps
    finally:
        MiniportWaveCyclicSB16.max_buffer = 0x4000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    def median_wall(seconds: float, buffer: int = 0x4000) -> tuple[float, int, int]:
        runs = sorted(run(seconds, buffer) for _ in range(args.repeat))
        return runs[len(runs) // 2]

    seconds = args.minutes * 60
    wall, records, events = median_wall(seconds)
    print(f"{args.minutes:g} simulated minutes of 16-bit 48 kHz stereo SB16 render, 16 KiB buffer:")
    print(f"  {wall:.2f} s wall, {seconds / wall:.0f}x real time, {events} events, {records} records")
    print(f"  {wall / (seconds * 100) * 1e6:.0f} us of wall time per 10 ms notification period")

    print("\nscaling with simulated time (16 KiB buffer):")
    for length in (15, 30, 60, 120):
        w, _, _ = median_wall(length)
        print(f"  {length:4d} s simulated: {w:6.2f} s wall, {length / w:5.0f}x, {w / length * 1000:.2f} ms per second")

    print("\nscaling with the DMA buffer (60 s simulated):")
    for size in (0x1000, 0x4000, 0x10000):
        w, _, _ = median_wall(60, size)
        print(f"  {size:#7x} bytes: {w:6.2f} s wall, {60 / w:5.0f}x")


if __name__ == "__main__":
    main()
