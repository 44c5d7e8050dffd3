"""``dmaviz open FILE`` (and plain ``dmaviz``): the window, on a scenario."""

from __future__ import annotations

import argparse
from typing import Any

from cli.common import EXIT_INVALID, SCENARIO_HELP, error, load_scenario

EPILOG = """\
examples:
  dmaviz open sb16_underrun           a built-in scenario
  dmaviz open ~/bugs/setbuffersize.toml
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "open",
        help="open a scenario in the window",
        description="Open a scenario in the dmaviz window (plain `dmaviz` opens the default scenario).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("scenario", metavar="SCENARIO", help=SCENARIO_HELP)
    parser.set_defaults(handler=lambda args: open_window(args.scenario))


def open_window(source: str | None) -> int:
    """Validate the scenario (a one-line message if it is broken), then hand it to the window."""
    if source is not None and load_scenario(source) is None:
        return EXIT_INVALID
    try:
        from gui.app import main as gui_main
    except ImportError as exc:
        return error(
            f"the dmaviz window is not available in this installation ({exc}); "
            "`dmaviz run SCENARIO` runs a scenario without it"
        )
    status = gui_main(source)
    return int(status or 0)
