"""The floor: what the machine benchmark's work costs in CPython with no model around it.

Per 10 ms period the machine layer must run two events (the block end and, 2 us later, the
interrupt service routine), write six trace records (terminal count, block end, IRQ raised,
ISR entered, IRQ acknowledged, the acknowledging port read), copy 1920 bytes of playback
into the sink, and call the DOS program's ISR, which reads one port. This script does
exactly that in the leanest CPython it can: one heap, tuples for records, one function per
event, nothing else: no devices, no registers, no checks. Its speed is an upper bound for
any pure-Python design of the machine layer on this machine, and so tells how far
`bench_machine.py`'s target is from what the interpreter allows.

    .venv/bin/python benchmarks/bench_floor.py [--seconds N] [--repeat R]
"""

from __future__ import annotations

import argparse
import heapq
import sys
import time

import numpy as np

BLOCK_BYTES = 1920
PERIOD_NS = 10_000_000
ISR_LATENCY_NS = 2_000


class Floor:
    def __init__(self) -> None:
        self.queue: list[tuple[int, int, object]] = []
        self.order = 0
        self.records: list[tuple[object, ...]] = []
        self.memory = np.zeros(1 << 20, dtype=np.uint8)
        self.sink = np.empty(1 << 16, dtype=np.uint8)
        self.played = 0
        self.pending = False

    def push(self, t: int, fn: object) -> None:
        self.order += 1
        heapq.heappush(self.queue, (t, self.order, fn))

    def block_end(self, t: int) -> None:
        end = self.played + BLOCK_BYTES
        if end > len(self.sink):
            grown = np.empty(2 * len(self.sink), dtype=np.uint8)
            grown[: self.played] = self.sink[: self.played]
            self.sink = grown
        memoryview(self.sink)[self.played : end] = memoryview(self.memory)[0x4000 : 0x4000 + BLOCK_BYTES]
        self.played = end
        records = self.records
        records.append((0, t, 5, True, False))
        records.append((1, t, "SB16", 5, BLOCK_BYTES, True))
        records.append((2, t, "SB16", 5, "raise"))
        self.pending = True
        self.push(t + ISR_LATENCY_NS, self.isr)
        self.push(t + PERIOD_NS, self.block_end)

    def isr(self, t: int) -> None:
        self.records.append((2, t, "SB16", 5, "isr"))
        self.port_read(t, 0x22F)

    def port_read(self, t: int, port: int) -> int:
        self.pending = False
        self.records.append((2, t, "SB16", 5, "ack"))
        self.records.append((3, t, "SB16", port, "16-bit IRQ ack", "read", 0xFF))
        return 0xFF

    def run(self, until: int) -> int:
        queue, pop = self.queue, heapq.heappop
        events = 0
        while queue and queue[0][0] <= until:
            t, _, fn = pop(queue)
            fn(t)  # type: ignore[operator]
            events += 1
        return events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    walls = []
    for _ in range(args.repeat):
        floor = Floor()
        floor.push(PERIOD_NS, floor.block_end)
        start = time.perf_counter()
        events = sum(floor.run(s * 1_000_000_000) for s in range(1, args.seconds + 1))
        walls.append(time.perf_counter() - start)
        assert (
            floor.played == args.seconds * 100 * BLOCK_BYTES and len(floor.records) == 6 * args.seconds * 100 - 3
        )  # the last ISR is 2 us away
    wall = sorted(walls)[len(walls) // 2]
    print(f"{args.seconds} s simulated, the machine benchmark's work with no model: median of {args.repeat} runs")
    print(
        f"  {wall:.2f} s wall, {args.seconds / wall:.0f}x real time, {wall / (args.seconds * 100) * 1e6:.2f} us/period"
    )
    print(f"  {events} events, {len(floor.records)} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
