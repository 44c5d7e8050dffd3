"""``python -m gui [SCENARIO] [--at 95ms] [--theme dark] [--presentation] [--fresh]``: the window, for development."""

import argparse
import sys

from gui.app import run
from model.units import parse_duration

parser = argparse.ArgumentParser(prog="python -m gui", description="Open the dmaviz window.")
parser.add_argument("scenario", nargs="?", help="a scenario file or built-in name (default: the default scenario)")
parser.add_argument("--at", type=parse_duration, help="run to this simulated time first (e.g. 95ms)")
parser.add_argument("--theme", choices=("system", "light", "dark"), help="the theme (default: as last chosen)")
parser.add_argument("--presentation", action="store_true", default=None, help="presentation mode")
parser.add_argument("--fresh", action="store_true", help="default layout; do not read or save settings")
args = parser.parse_args()
sys.exit(run(args.scenario, at_ns=args.at, theme=args.theme, presentation=args.presentation, fresh=args.fresh))
