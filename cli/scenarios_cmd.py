"""``dmaviz scenarios``: the built-in scenarios."""

from __future__ import annotations

import argparse
from typing import Any

EPILOG = """\
examples:
  dmaviz scenarios
  dmaviz run $(dmaviz scenarios --names | head -1)
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scenarios",
        help="list the built-in scenarios",
        description="List the built-in scenarios: their names (for run, check and open) and titles.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--names", action="store_true", help="print the names only, one per line")
    parser.set_defaults(handler=list_scenarios)


def list_scenarios(args: argparse.Namespace) -> int:
    from model.scenario import builtin_names, default_name

    entries = builtin_names()
    if args.names:
        for name, _ in entries:
            print(name)
        return 0
    width = max((len(name) for name, _ in entries), default=0)
    default = default_name()
    for name, title in entries:
        mark = "  (default)" if name == default else ""
        print(f"{name:<{width}}  {title}{mark}")
    return 0
