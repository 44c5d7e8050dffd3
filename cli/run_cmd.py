"""``dmaviz run SCENARIO``: run a scenario headless, print a summary, check its expectations.

Imports no Qt: this is what continuous integration and teachers' scripts call.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from cli.common import EXIT_FAILED, EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, SCENARIO_HELP, duration, error, load_scenario

EPILOG = """\
examples:
  dmaviz run sb16_render
  dmaviz run sb16_render --until 600s          10 simulated minutes
  dmaviz run my_bug.toml --trace my_bug.jsonl  every event, one JSON object per line
  dmaviz run sb16_underrun --json | jq .glitches

DURATION is a number with a unit: ns, us, ms or s (250ms, 1.5s).
exit status: 0 = every expectation holds, 1 = an expectation failed, 2 = invalid input,
             3 = dmaviz itself failed (a bug)
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a scenario headless and check its expectations",
        description="Run a scenario without the window, print what happened (simulated time, bytes moved, "
        "interrupts, notifications, glitches, violations) and whether its expectations hold.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("scenario", metavar="SCENARIO", help=SCENARIO_HELP)
    parser.add_argument(
        "--until", metavar="DURATION", type=duration, help="simulated time to run to (default: the scenario's)"
    )
    parser.add_argument("--trace", metavar="FILE.jsonl", type=Path, help="write the trace, one JSON object per line")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.set_defaults(handler=run)


class ProgressBar:
    """A bar on stderr, shown only when the run has taken over a second and stderr is a terminal."""

    def __init__(self, stream: TextIO, delay_s: float = 1.0) -> None:
        self.stream = stream
        self.delay_s = delay_s
        self.start = time.monotonic()
        self.shown = False
        self.last_draw = 0.0
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())

    def __call__(self, now_ns: int, until_ns: int) -> None:
        if not self.enabled:
            return
        wall = time.monotonic()
        if wall - self.start < self.delay_s or wall - self.last_draw < 0.1:
            return
        from model.units import format_ns

        self.last_draw = wall
        self.shown = True
        fraction = min(1.0, now_ns / until_ns) if until_ns else 1.0
        filled = int(fraction * 30)
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\r[{bar}] {fraction * 100:5.1f}%  {format_ns(now_ns)} of {format_ns(until_ns)} ")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 79 + "\r")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    from model.scenario import ScenarioError, build_world, run_world, summarize

    scenario = load_scenario(args.scenario)
    if scenario is None:
        return EXIT_INVALID
    trace_file = None
    if args.trace is not None:
        try:
            # Opened before the run, so a bad path is reported before minutes of simulation.
            trace_file = args.trace.open("w", encoding="utf-8", newline="\n")
        except OSError as exc:
            return error(f"{args.trace}: cannot write the trace: {exc.strerror or exc}")
    progress = ProgressBar(sys.stderr)
    world = None
    try:
        world = build_world(scenario)
        run_world(world, args.until, progress)
    except ScenarioError as exc:
        progress.close()
        if trace_file is not None:
            trace_file.close()
        return error(str(exc))
    except Exception as exc:  # a bug in dmaviz: one line, not a traceback
        progress.close()
        if trace_file is not None:
            trace_file.close()
        when = f" at {world.system.now_ns} ns" if world is not None else ""
        print(
            f"dmaviz: internal error while running {scenario.label}{when}: {type(exc).__name__}: {exc} "
            "(a bug in dmaviz; please report it with the scenario file)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    progress.close()
    if trace_file is not None:
        from model.trace import to_json_line

        with trace_file:
            for record in world.system.trace.records:
                trace_file.write(to_json_line(record))
                trace_file.write("\n")
    summary = summarize(world)
    print(summary.to_json() if args.json else summary.to_text())
    return EXIT_OK if summary.passed else EXIT_FAILED
