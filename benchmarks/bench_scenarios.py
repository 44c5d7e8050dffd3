"""Wall time of `dmaviz run` for every built-in scenario, and for 10 simulated minutes of SB16 render.

Each run is a fresh process, as a user types it (so the times include starting Python and
importing the model); the in-process column is the run alone (build, simulate, check).

    .venv/bin/python benchmarks/bench_scenarios.py            # everything
    .venv/bin/python benchmarks/bench_scenarios.py --quick    # skip the 10-minute run
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.scenario import builtin_names, load, run_scenario  # noqa: E402
from model.units import format_ns  # noqa: E402

LONG = ("sb16_render", "600s")


def cli_seconds(*argv: str) -> tuple[float, int]:
    """Wall time and exit status of `dmaviz ARGV` in a fresh process."""
    code = "import sys; from cli.main import main; sys.exit(main(sys.argv[1:]))"
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, result.returncode


def in_process_seconds(name: str) -> tuple[float, int]:
    scenario = load(name)
    start = time.perf_counter()
    summary = run_scenario(scenario)
    return time.perf_counter() - start, summary.simulated_ns


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the 10-minute run")
    args = parser.parse_args()
    print(f"{'scenario':<26} {'simulated':>12} {'dmaviz run':>11} {'in-process':>11} {'exit':>5}")
    for name, _ in builtin_names():
        wall, status = cli_seconds("run", name)
        inner, simulated = in_process_seconds(name)
        print(f"{name:<26} {format_ns(simulated):>12} {wall:>10.2f}s {inner:>10.3f}s {status:>5}")
    if not args.quick:
        name, until = LONG
        wall, status = cli_seconds("run", name, "--until", until)
        print(f"{name + ' --until ' + until:<26} {'600 s':>12} {wall:>10.2f}s {'':>11} {status:>5}")
        print(f"  = {600 / wall:.0f}x real time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
