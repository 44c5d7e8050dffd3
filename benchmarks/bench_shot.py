"""How long `dmaviz shot` takes, compared with the least a Qt picture can cost.

Three commands, each in a fresh process, timed from outside (wall time, median of --runs):

* `dmaviz shot sb16_underrun --view buffer`: one panel;
* `dmaviz shot sb16_render --view window`: the whole window;
* a minimal script that only imports PySide6 and pyqtgraph, draws an empty PlotWidget
  offscreen and saves it as a PNG: the floor for any picture made with our libraries.

The target: a shot takes at most twice the minimal script. With --profile, one extra run of
each shot under cProfile says where the time goes (imports, scenario, window, drawing).

    .venv/bin/python benchmarks/bench_shot.py [--runs 5] [--profile]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 2.0

MINIMAL = """\
import sys
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
plot = pg.PlotWidget()
plot.resize(960, 420)
plot.grab().save(sys.argv[1])
"""

SHOT = "import sys; from cli.main import main; sys.exit(main(sys.argv[1:]))"


def wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {result.stderr.strip()}")
    return elapsed


def medians(commands: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, float]:
    """Median wall time per command; the commands take turns, so a busy moment of the machine hits all alike."""
    for argv in commands.values():
        wall(argv, env)  # warm the file cache and write the bytecode cache first
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(wall(argv, env))
    return {name: statistics.median(values) for name, values in times.items()}


def profile(argv: list[str], env: dict[str, str], out: Path) -> None:
    """Where one shot spends its time: the biggest cumulative entries of cProfile."""
    import pstats

    script, stats = out / "shot_script.py", out / "shot.prof"
    script.write_text(SHOT.replace("; ", "\n"), encoding="utf-8")
    command = [sys.executable, "-m", "cProfile", "-o", str(stats), str(script), *argv[3:]]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    pstats.Stats(str(stats)).sort_stats("cumulative").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile one run of each shot")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dmaviz-bench-shot-") as scratch:
        out = Path(scratch)
        # Compiled bytecode as an installed dmaviz has it (kept out of the source tree), whatever the shell says.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(out / "pycache")
        env["QT_QPA_PLATFORM"] = os.environ.get("QT_QPA_PLATFORM", "offscreen")
        minimal_script = out / "minimal.py"
        minimal_script.write_text(MINIMAL, encoding="utf-8")
        shot = [sys.executable, "-c", SHOT, "shot"]
        commands = {
            "minimal script (PySide6 + pyqtgraph, empty PlotWidget)": [
                sys.executable,
                str(minimal_script),
                str(out / "minimal.png"),
            ],
            "dmaviz shot, one panel (buffer)": [
                *shot,
                *("sb16_underrun", "--at", "285ms", "--view", "buffer", "--out", str(out / "panel.png")),
            ],
            "dmaviz shot, whole window": [
                *shot,
                *("sb16_render", "--at", "95ms", "--view", "window", "--out", str(out / "window.png")),
            ],
        }
        times = medians(commands, env, args.runs)
        floor = next(iter(times.values()))
        print(f"median wall time of {args.runs} runs, each a fresh process:")
        for name, seconds in times.items():
            print(f"  {name:<56} {seconds * 1000:7.0f} ms   ratio {seconds / floor:4.2f}")
        worst = max(times.values()) / floor
        verdict = "meets" if worst <= TARGET_RATIO else "misses"
        print(f"worst ratio {worst:.2f}: {verdict} the target of {TARGET_RATIO:g}")
        if args.profile:
            for name, argv in list(commands.items())[1:]:
                print(f"\n--- {name}")
                profile(argv, env, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
