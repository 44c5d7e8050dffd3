"""Time to jump back to an arbitrary earlier event in a 10-minute session.

Builds a session of SB16 render (the default stack), runs 10 simulated minutes, then jumps
to 100 seeded-random earlier steps and reports the median and worst jump time. Target:
at most 50 ms worst case.

    python benchmarks/bench_reverse.py [--minutes M] [--targets N] [--every K]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from model.session.session import Session
from model.topology import StreamSpec, Topology
from model.units import S


def build() -> Topology:
    topology = Topology("sb16")
    topology.install()
    pin = topology.open_stream(StreamSpec())
    topology.system.call(pin, "SetState", {"State": "KSSTATE_RUN"})
    return topology


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--every", type=int, default=128, help="steps between snapshots")
    args = parser.parse_args()

    session = Session(build, snapshot_every=args.every)
    t0 = time.perf_counter()
    session.run(until_ns=int(args.minutes * 60 * S))
    build_s = time.perf_counter() - t0
    steps = session.step_index
    print(
        f"session: {args.minutes:g} simulated minutes, {steps} steps, {len(session.records())} records, "
        f"{len(session._snapshots)} snapshots, built in {build_s:.1f} s"
    )

    rng = random.Random(1)
    targets = [rng.randrange(0, steps) for _ in range(args.targets)]

    # (a) The measure: from the end of the session back to an earlier event.
    back = []
    for target in targets:
        session.goto_step(steps)  # back to the end first (not timed)
        t = time.perf_counter()
        session.goto_step(target)
        back.append((time.perf_counter() - t) * 1000)
        assert session.step_index == target
    print(
        f"from the end back to {args.targets} random earlier events: "
        f"median {statistics.median(back):.1f} ms, worst {max(back):.1f} ms"
    )

    # (b) Between random events from wherever the last jump left off (forward jumps included).
    anywhere = []
    for _ in targets:
        target = rng.randrange(0, steps)
        t = time.perf_counter()
        session.goto_step(target)
        anywhere.append((time.perf_counter() - t) * 1000)
        assert session.step_index == target
    print(
        f"between {args.targets} random events, either direction: "
        f"median {statistics.median(anywhere):.1f} ms, worst {max(anywhere):.1f} ms"
    )


if __name__ == "__main__":
    main()
