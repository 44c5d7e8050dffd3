"""The ``dmaviz`` command: the window, and headless runs of scenario files.

Each subcommand lives in a module of its own that provides ``register(subparsers)``; the
modules are listed in COMMAND_MODULES and one that is not installed is skipped. A command
module must not import Qt at import time (``dmaviz run`` must stay Qt-free), only inside
the function that needs it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES = ("cli.open_cmd", "cli.run_cmd", "cli.check_cmd", "cli.scenarios_cmd", "cli.shot")

EPILOG = """\
examples:
  dmaviz                              open the window on the default scenario (SB16 render)
  dmaviz open my_bug.toml             open a scenario file in the window
  dmaviz scenarios                    list the built-in scenarios
  dmaviz run sb16_underrun            run a built-in scenario headless and check it
  dmaviz run my_bug.toml --until 2s --trace out.jsonl
  dmaviz check my_bug.toml            validate a scenario file only
  dmaviz shot sb16_underrun --out underrun.png   a picture of its most telling moment, offscreen

exit status: 0 = every expectation holds, 1 = an expectation failed,
             2 = invalid input (unreadable file, schema error, unknown name)
"""


class _Parser(argparse.ArgumentParser):
    """argparse with our exit status for usage errors (2) and one-line messages."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dmaviz",
        description="See how Windows audio drivers move sound through DMA: a deterministic simulator "
        "of PortCls, the 8237, the SB16, HD Audio and AC'97, with a visualiser.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that command is not part of this installation
            raise
        module.register(subparsers)
    return parser


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    """The long options of ``parser`` and its subcommands that take one value."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _value_options(sub)
        elif action.nargs is None and action.option_strings and not isinstance(action, argparse._StoreConstAction):
            found.update(option for option in action.option_strings if option.startswith("--"))
    return found


def _attach_negative_values(argv: list[str], options: set[str]) -> list[str]:
    """``--at -5ms`` as ``--at=-5ms``: argparse takes a value that starts with '-' and is not a plain number for an
    option, and would only say "expected one argument"; attached, the option's own check says what is wrong."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            return out + argv[i:]  # the rest are positional arguments
        following = argv[i + 1] if i + 1 < len(argv) else ""
        if token in options and following[:1] == "-" and (following[1:2].isdigit() or following[1:2] == "."):
            out.append(f"{token}={following}")
            i += 2
            continue
        out.append(token)
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args_list = _attach_negative_values(list(sys.argv[1:] if argv is None else argv), _value_options(parser))
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, or a usage error already reported
        return exc.code if isinstance(exc.code, int) else 2
    handler = getattr(args, "handler", None)
    if handler is None:
        from cli.open_cmd import open_window

        return open_window(None)
    return int(handler(args))


if __name__ == "__main__":
    sys.exit(main())
