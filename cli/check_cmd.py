"""``dmaviz check SCENARIO``: validate a scenario file without running it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cli.common import EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, SCENARIO_HELP, error, load_scenario

EPILOG = """\
examples:
  dmaviz check my_bug.toml
  dmaviz check sb16_render

exit status: 0 = valid, 2 = invalid (the reason on stderr, one line)
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate a scenario file",
        description="Validate a scenario: the file, its schema, and its objects and methods against the "
        "world it builds. Nothing is run.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("scenario", metavar="SCENARIO", help=SCENARIO_HELP)
    parser.set_defaults(handler=check)


def check(args: argparse.Namespace) -> int:
    from model.scenario import ScenarioError, build_world

    scenario = load_scenario(args.scenario)
    if scenario is None:
        return EXIT_INVALID
    try:
        build_world(scenario)
    except ScenarioError as exc:
        return error(str(exc))
    except Exception as exc:  # a bug in dmaviz: one line, not a traceback
        print(
            f"dmaviz: internal error while building {scenario.label}: {type(exc).__name__}: {exc} "
            "(a bug in dmaviz; please report it with the scenario file)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    doc = scenario.doc
    print(
        f"{args.scenario}: ok: {scenario.title} ({scenario.device}, {len(doc.stream)} stream(s), "
        f"{len(doc.action)} action(s), {len(doc.expect)} expectation(s))"
    )
    return EXIT_OK
