"""How fast the machine layer simulates SB16 playback, and whether buffer size matters.

Ten minutes of 16-bit 48 kHz stereo auto-init playback with a 10 ms block interrupt,
programmed entirely through I/O ports like a DOS program, with a service routine that
acknowledges the DSP. Run twice: with a one-block DMA buffer (1920 bytes) and with a
buffer 64 times larger (122 880 bytes, inside channel 5's 128 KiB window). The cost
should be the same: data moves per block, never per byte.

Each configuration runs ``--repeat`` times in fresh machines; the table gives the median
run (this machine's timings vary by a third from run to run) and the fastest.

    .venv/bin/python benchmarks/bench_machine.py [--seconds N] [--repeat R]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model import Machine, S

SB = 0x220
RATE = 48_000
BLOCK_SAMPLES = RATE * 2 * 10 // 1000  # 10 ms of stereo = 960 16-bit samples
BLOCK_BYTES = 2 * BLOCK_SAMPLES  # 1920
BUFFER_BASE = 0x040000  # 128 KiB aligned


class Isr:
    """The DOS program's IRQ 5 handler: acknowledge the 16-bit DMA interrupt."""

    def __init__(self, m: Machine) -> None:
        self.m = m
        self.calls = 0

    def service(self, irq: int) -> None:
        self.calls += 1
        self.m.io_read(SB + 0xF)


def dsp_write(m: Machine, value: int) -> None:
    while m.io_read(SB + 0xC) & 0x80:
        m.run_for(1_000)
    m.io_write(SB + 0xC, value)


def start(m: Machine, buffer_bytes: int) -> Isr:
    """Reset the DSP, program 8237 channel 5 and start 0xB6 playback with 10 ms blocks."""
    isr = Isr(m)
    m.connect_interrupt(5, isr.service)
    m.phys_write(BUFFER_BASE, np.random.default_rng(1).integers(0, 256, buffer_bytes, dtype=np.uint8))
    m.io_write(SB + 0x6, 1)
    m.io_write(SB + 0x6, 0)
    assert m.io_read(SB + 0xA) == 0xAA
    words = buffer_bytes // 2
    address = (BUFFER_BASE >> 1) & 0xFFFF
    m.io_write(0xD4, 0x05)  # mask channel 5
    m.io_write(0xD8, 0)
    m.io_write(0xD6, 0x59)  # single, auto-init, read, channel 5
    m.io_write(0xC4, address & 0xFF)
    m.io_write(0xC4, address >> 8)
    m.io_write(0x8B, BUFFER_BASE >> 16)
    m.io_write(0xD8, 0)
    m.io_write(0xC6, (words - 1) & 0xFF)
    m.io_write(0xC6, (words - 1) >> 8)
    m.io_write(0xD4, 0x01)  # unmask
    for byte in (
        0x41,
        RATE >> 8,
        RATE & 0xFF,
        0xB6,
        0x30,
        (BLOCK_SAMPLES - 1) & 0xFF,
        (BLOCK_SAMPLES - 1) >> 8,
    ):
        dsp_write(m, byte)
    return isr


@dataclass
class Result:
    label: str
    buffer_bytes: int
    simulated_s: float
    wall_s: float
    events: int
    records: int
    interrupts: int
    played_bytes: int

    @property
    def speed(self) -> float:
        return self.simulated_s / self.wall_s


def run(label: str, buffer_bytes: int, seconds: int) -> Result:
    m = Machine()
    isr = start(m, buffer_bytes)
    t0 = time.perf_counter()
    # In one-second slices, as a front end would drive it; the slicing itself costs nothing.
    events = sum(m.run_for(S) for _ in range(seconds))
    wall = time.perf_counter() - t0
    expected = seconds * RATE * 2 * 2
    assert m.sb16.sink.length == expected, (m.sb16.sink.length, expected)
    assert isr.calls == seconds * 100 - 1 or isr.calls == seconds * 100  # the last may be pending
    return Result(label, buffer_bytes, seconds, wall, events, len(m.trace), isr.calls, m.sb16.sink.length)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600, help="simulated seconds per run (default 600)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per buffer size (default 3)")
    args = parser.parse_args(argv)
    results = []
    for label, size in (("1 block", BLOCK_BYTES), ("64 blocks", 64 * BLOCK_BYTES)):
        runs = sorted((run(label, size, args.seconds) for _ in range(args.repeat)), key=lambda r: r.wall_s)
        results.append((runs[len(runs) // 2], runs[0]))
    print(f"SB16 16-bit 48 kHz stereo auto-init playback, 10 ms block IRQ, {args.seconds} s simulated per run")
    print(f"median and fastest of {args.repeat} runs")
    header = (
        f"{'buffer':>10} {'bytes':>8} {'wall s':>8} {'sim s / wall s':>15} {'fastest':>8} "
        f"{'us/period':>10} {'events':>8} {'records':>9} {'IRQs':>7}"
    )
    print(header)
    print("-" * len(header))
    for r, best in results:
        print(
            f"{r.label:>10} {r.buffer_bytes:>8} {r.wall_s:>8.2f} {r.speed:>15.1f} {best.speed:>8.1f} "
            f"{r.wall_s / (r.simulated_s * 100) * 1e6:>10.2f} {r.events:>8} {r.records:>9} {r.interrupts:>7}"
        )
    ratio = results[1][0].wall_s / results[0][0].wall_s
    print(f"cost ratio 64x buffer / 1x buffer: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
