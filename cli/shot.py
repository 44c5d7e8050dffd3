"""``dmaviz shot``: a picture of the window or one panel at a moment of a scenario, drawn offscreen.

Qt is imported only inside the command (``dmaviz run`` must stay Qt-free, and this module is
imported whenever the parser is built). The drawing itself is gui/export/renderer.py, which
File → Export Picture and the gallery share.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.common import EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, SCENARIO_HELP, duration, error, load_scenario

# The names of gui/export/views.py VIEWS, for the help text (tests/cli/test_shot.py keeps them equal).
VIEW_NAMES = (
    "window",
    "buffer",
    "counter",
    "positions",
    "registers",
    "memory",
    "objects",
    "methods",
    "log",
    "description",
    "timeline",
    "breakpoints",
)

EPILOG = """\
examples:
  dmaviz shot sb16_underrun --at 285ms --view buffer --out underrun.png
  dmaviz shot sb16_render --event 40 --out window.svg
  dmaviz shot hda_render --at 95ms --view counter --size 1200x500 --scale 2 --theme dark --out counter@2x.png
  dmaviz shot sb16_data_race --out race.png          the moment and view of the scenario's [shot] table
  dmaviz shot --all --out-dir gallery                every built-in scenario at its [shot] moment
  dmaviz shot --all my_scenarios/ --out-dir pictures --format svg

VIEW is `window` (every panel, default layout) or one panel: buffer, counter, positions,
registers, memory, objects, methods, log, description, timeline, breakpoints. --size is the
view's size in logical pixels; --scale is the device pixel ratio, so a PNG has size × scale
pixels. A caption adds a strip below the view. The same arguments give the same PNG, byte
for byte, on one machine.
exit status: 0 = written, 2 = invalid input (unknown view or scenario, a moment past the end
             of the scenario, a bad size, an unwritable path), 3 = dmaviz itself failed
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "shot",
        help="take a picture (PNG or SVG) of the window or a panel at a moment, offscreen",
        description="Draw the window or one panel at a simulated time or after an event, without a display, "
        "into a PNG or SVG file: reproducible pictures for documentation and slides.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("scenario", metavar="SCENARIO", nargs="?", help=SCENARIO_HELP)
    when = parser.add_mutually_exclusive_group()
    when.add_argument(
        "--at",
        metavar="DURATION",
        type=duration,
        help="the simulated time of the picture, e.g. 95ms (default: the scenario's [shot] moment)",
    )
    when.add_argument(
        "--event", metavar="N", type=_event, help="or the moment after N simulator events (0: before the first)"
    )
    parser.add_argument("--out", metavar="FILE", help="the picture to write: a .png or .svg file")
    parser.add_argument(
        "--view",
        metavar="VIEW",
        help=f"what to draw: {', '.join(VIEW_NAMES)} (default: the scenario's [shot] view, else window)",
    )
    parser.add_argument("--size", metavar="WxH", type=_size, help="the view's size in logical pixels (1200x800)")
    parser.add_argument(
        "--scale", metavar="S", type=_scale, default=1.0, help="device pixel ratio: 2 for high-DPI (default 1)"
    )
    parser.add_argument("--theme", choices=("light", "dark"), default="light", help="colours (default light)")
    parser.add_argument("--presentation", action="store_true", help="presentation mode: larger text and lines")
    parser.add_argument("--caption", metavar="TEXT", default="", help="a caption strip below the picture")
    parser.add_argument(
        "--all",
        metavar="SCENARIO_OR_DIR",
        nargs="?",
        const="",
        default=None,
        help="a batch: every scenario file in a directory (or one scenario; nothing: every built-in one), "
        "each at the moment and view of its [shot] table",
    )
    parser.add_argument("--out-dir", metavar="DIR", type=Path, help="where --all writes SCENARIO.png (or .svg)")
    parser.add_argument(
        "--format", choices=("png", "svg"), default="png", help="the file type --all writes (default png)"
    )
    parser.set_defaults(handler=shot)


def _event(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of events") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the number of events must be 0 or more")
    return value


def _size(text: str) -> tuple[int, int]:
    from gui.export.views import parse_size  # plain Python, no Qt

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _scale(text: str) -> float:
    from gui.export.views import parse_scale

    try:
        return parse_scale(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _Invalid(Exception):
    """Invalid input found before or while drawing: one line for the user, exit status 2."""


@dataclass
class _Job:
    scenario: Any  # model.scenario.Scenario
    at_ns: int | None
    event: int | None
    view: str
    out: Path


def _check_view(view: str, where: str) -> str:
    from gui.export.views import VIEWS

    if view in VIEWS:
        return view
    close = difflib.get_close_matches(view, list(VIEWS), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise _Invalid(f"{where}unknown view {view!r}{hint}; the views are: {', '.join(VIEWS)}")


def _check_out(path: Path) -> Path:
    """Refuse a file that cannot be written before any simulation is run."""
    from gui.export.views import picture_format

    if picture_format(path.name) is None:
        raise _Invalid(f"{path}: the picture must be a .png or .svg file")
    if path.is_dir():
        raise _Invalid(f"{path}: is a directory; give a file name ending in .png or .svg")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise _Invalid(f"{path}: cannot write the picture: {parent} is a file, not a directory")
    if not parent.is_dir():
        raise _Invalid(f"{path}: cannot write the picture: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise _Invalid(f"{path}: cannot write the picture: permission denied")
    return path


def _moment(
    scenario: Any, at_ns: int | None, event: int | None, view: str | None, batch: bool = False
) -> tuple[int | None, int | None, str]:
    """The moment and view asked for, completed from the scenario's [shot] table."""
    shot = scenario.shot
    if at_ns is None and event is None:
        if shot is None and batch:
            raise _Invalid(
                f"{scenario.label}: has no [shot] table, and --all takes each scenario's moment from it; add one "
                "(docs/scenarios.md#shot) or draw this scenario alone: dmaviz shot SCENARIO --at DURATION --out FILE"
            )
        if shot is None:
            raise _Invalid(f"{scenario.label}: has no [shot] table; give the moment with --at DURATION or --event N")
        at_ns, event = shot.at_ns, shot.event
    if at_ns is not None and at_ns > scenario.run_until_ns:
        from model.units import format_ns

        raise _Invalid(
            f"{scenario.label}: the moment {format_ns(at_ns)} is past the end of the scenario "
            f"(run.until = {format_ns(scenario.run_until_ns)})"
        )
    if view is None:
        view = (shot.view if shot is not None else None) or "window"
        return at_ns, event, _check_view(view, f"{scenario.label}: [shot] view: ")
    return at_ns, event, view


def _jobs(args: argparse.Namespace) -> list[_Job]:
    from gui.export.views import picture_format

    view = _check_view(args.view, "--view: ") if args.view is not None else None
    if args.all is None:
        if args.out_dir is not None:
            raise _Invalid("--out-dir goes with --all; give one picture's file with --out FILE")
        if args.scenario is None:
            raise _Invalid("which scenario? give SCENARIO (a file or a built-in name), or --all for a batch")
        if args.out is None:
            raise _Invalid("where to? give the picture's file with --out FILE (.png or .svg)")
        out = _check_out(Path(args.out))
        scenario = load_scenario(args.scenario)
        if scenario is None:
            raise _Invalid("")  # already reported
        at_ns, event, chosen = _moment(scenario, args.at, args.event, view)
        job = _Job(scenario, at_ns, event, chosen, out)
        _check_pixels(job, args)
        return [job]
    if args.scenario is not None:
        raise _Invalid("--all takes the scenario or directory itself: dmaviz shot --all SCENARIO_OR_DIR --out-dir DIR")
    if args.out is not None:
        raise _Invalid("--all names its files after the scenarios; give a directory with --out-dir DIR, not --out")
    if args.out_dir is None:
        raise _Invalid("--all needs --out-dir DIR")
    if args.at is not None or args.event is not None:
        raise _Invalid("--all uses each scenario's own [shot] moment; --at and --event are for one picture")
    try:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _Invalid(f"{args.out_dir}: cannot create the directory: {exc.strerror or exc}") from None
    if not os.access(args.out_dir, os.W_OK):
        raise _Invalid(f"{args.out_dir}: cannot write pictures there: permission denied")
    jobs = []
    for source in _batch_sources(args.all):
        scenario = load_scenario(source)
        if scenario is None:
            raise _Invalid("")
        at_ns, event, chosen = _moment(scenario, None, None, view, batch=True)
        out = args.out_dir / f"{scenario.name}.{args.format}"
        assert picture_format(out.name) == args.format
        jobs.append(_Job(scenario, at_ns, event, chosen, out))
    for job in jobs:
        _check_pixels(job, args)
    return jobs


def _check_pixels(job: _Job, args: argparse.Namespace) -> None:
    """Refuse a PNG of more pixels than views.MAX_PIXELS before anything is simulated (SVG has no pixels)."""
    from gui.export.views import PNG, VIEWS, check_pixels, picture_format

    if picture_format(job.out.name) != PNG:
        return
    size = args.size if args.size is not None else VIEWS[job.view].size
    try:
        check_pixels(size, args.scale)
    except ValueError as exc:
        raise _Invalid(str(exc)) from None


def _batch_sources(what: str) -> list[str]:
    """The scenarios of a batch: a directory's .toml files, one scenario, or (nothing) every built-in one."""
    if what == "":
        from model.scenario import builtin_names

        return [name for name, _title in builtin_names()]
    path = Path(what)
    if path.is_dir():
        files = sorted(path.glob("*.toml"))
        if not files:
            raise _Invalid(f"{path}: no scenario files (*.toml) in this directory")
        return [str(f) for f in files]
    return [what]


def shot(args: argparse.Namespace) -> int:
    try:
        jobs = _jobs(args)
    except _Invalid as exc:
        return error(str(exc)) if str(exc) else EXIT_INVALID
    from gui.export.renderer import Moment, PictureError, PictureOptions, Scene, write_picture
    from gui.export.views import picture_format

    for job in jobs:
        options = PictureOptions(
            view=job.view,
            size=args.size,
            scale=args.scale,
            theme=args.theme,
            presentation=args.presentation,
            caption=args.caption,
        )
        fmt = picture_format(job.out.name) or "png"
        scene = None
        try:
            scene = Scene(job.scenario, Moment(job.at_ns, job.event), options)
            data = scene.render(fmt)
            write_picture(job.out, data)
        except PictureError as exc:
            return error(str(exc))
        except Exception as exc:  # a bug in dmaviz: one line, not a traceback
            print(
                f"dmaviz: internal error while drawing {job.scenario.label}: {type(exc).__name__}: {exc} "
                "(a bug in dmaviz; please report it with the command line)",
                file=sys.stderr,
            )
            return EXIT_INTERNAL
        finally:
            if scene is not None:
                scene.close()
        print(job.out)
    return EXIT_OK
