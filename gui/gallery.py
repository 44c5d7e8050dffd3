"""``python -m gui.gallery``: the gallery of built-in scenarios, docs/gallery/*.png and docs/gallery.md.

One picture per built-in scenario, at the moment and in the view of its ``[shot]`` table, drawn
by the batch form of ``dmaviz shot``; the page lists them with the scenario's title and the
command that draws each one again. Run it after changing a scenario's ``[shot]`` table or
anything the pictures show; the result is the same bytes every time on one machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cli.main import main as dmaviz
from model.scenario import builtin_names, default_name, load
from model.units import format_ns

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
COMMAND = ".venv/bin/python -m gui.gallery"

HEAD = """\
# Gallery

Every built-in scenario at its most telling moment: the moment and the panel are the
`[shot]` table at the end of each scenario file (see [scenarios.md](scenarios.md#shot)). The
pictures are drawn offscreen by `dmaviz shot`, so each one can be drawn again, exactly, with
the command under it; the whole page is made by one command:

    {command}

It runs `dmaviz shot --all --out-dir docs/gallery` (one PNG per built-in scenario, named after
it) and writes this page. Options: `--scale 2` for pictures with twice the pixels each way,
`--theme dark`. Pictures for your own documents: [Pictures](#pictures) below.

"""

TAIL = """\
## Pictures

`dmaviz shot SCENARIO (--at DURATION | --event N) --out FILE` draws the window or one panel
at a simulated time or after a number of simulator events, with no display needed:

* `--out FILE`: a `.png` or `.svg` file. SVG keeps text, lines, curves and plot markers as
  vectors. Embedded images: the byte band and the page map, and the small pieces of Qt's style
  (toolbar icons, table header and scroll bar backgrounds, dock buttons) in window pictures.
* `--view VIEW`: the whole window or one panel, by the names in the table below. Default:
  the scenario's `[shot]` view, else `window`.
* `--at DURATION` or `--event N`: the moment; without either, the scenario's `[shot]` moment.
  `--event 0` is before the first event. A moment after the scenario's `run.until` is refused.
* `--size WxH`: the view's size in logical pixels (default: the table below).
* `--scale S`: device pixel ratio; a PNG has size × S pixels (2 for high-DPI screens and print),
  at most 8192 × 8192 = 67 million pixels in all (File → Export Picture has the same limit).
* `--theme light|dark` and `--presentation`: colours, and the projector mode's larger text
  and lines.
* `--caption TEXT`: a caption strip below the view (the picture grows by its height).
* `--all [SCENARIO_OR_DIR] --out-dir DIR [--format png|svg]`: a batch. Every `.toml` file in a
  directory, one scenario, or (nothing) every built-in one, each at its `[shot]` moment and
  view, written to `DIR/NAME.png`.

{views}

Bad arguments (an unknown view or scenario, a moment past the end, a size out of range, a
directory that cannot be written) end with exit status 2 and one line saying why.

The same arguments give the same PNG, byte for byte, on one machine: the pictures use Qt's
offscreen platform (set `QT_QPA_PLATFORM` to choose another) with Qt's screen scaling
variables left out, the default layout at a fixed size, scratch settings (your window's
layout and theme are not read), a fixed application font (DejaVu Sans, else Liberation Sans,
Segoe UI, Helvetica Neue or Arial, whichever is installed) and no clock or timestamp. Other
machines may have other fonts and draw text slightly differently.

In the window, **File → Export Picture…** (Ctrl+Shift+E) saves the whole window or one panel
as PNG or SVG at any size, scale and theme, drawn by the same code from a copy of the view (the
window on screen does not change); **File → Copy Picture** (Ctrl+Shift+C) puts the window, as
it is, on the clipboard. Hover lines and hover text are never in a picture.

How the pictures are tested, and how to approve new reference images after an intended
change: [testing.md](testing.md#pictures).
"""


def moment_text(at_ns: int | None, event: int | None) -> tuple[str, str]:
    """('at 95.000 ms', '--at 95ms') or ('after event 33', '--event 33')."""
    if at_ns is not None:
        return f"at {format_ns(at_ns)}", f"--at {_duration_arg(at_ns)}"
    return f"after event {event}", f"--event {event}"


def _duration_arg(ns: int) -> str:
    for unit, size in (("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)):
        if ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


def page(out_dir: Path, docs: Path) -> str:
    """The Markdown of docs/gallery.md for the pictures in ``out_dir``."""
    from gui.export.views import VIEWS

    rows = [f"| `{name}` | {v.title} | {v.what} | {v.size[0]}x{v.size[1]} |" for name, v in VIEWS.items()]
    views = "\n".join(["| `--view` | Panel | What it shows | Default size |", "|---|---|---|---|", *rows])
    parts = [HEAD.format(command=COMMAND)]
    default = default_name()
    names = [name for name, _title in builtin_names()]
    # The default scenario first: its picture is the whole window, the way into all the others.
    for name in sorted(names, key=lambda n: (n != default, n)):
        scenario = load(name)
        shot = scenario.shot
        assert shot is not None, f"{name} has no [shot] table"
        view = shot.view or "window"
        when, arg = moment_text(shot.at_ns, shot.event)
        image = Path(os.path.relpath(out_dir / f"{name}.png", docs)).as_posix()
        what = VIEWS[view].title if view in VIEWS else view
        mark = " (the default scenario)" if name == default else ""
        parts.append(
            f"## {scenario.title}\n\n"
            f"![{scenario.title}: {what.lower()} {when}]({image})\n\n"
            f"`{name}`{mark}: {what.lower()} {when}. "
            f"`dmaviz shot {name} {arg} --view {view} --out {name}.png`\n\n"
        )
    parts.append(TAIL.format(views=views))
    return "".join(parts)


def build(out_dir: Path, markdown: Path, extra: Sequence[str] = ()) -> int:
    """Draw every built-in scenario into ``out_dir`` and write the page; the exit status."""
    out_dir.mkdir(parents=True, exist_ok=True)
    status = dmaviz(["shot", "--all", "--out-dir", str(out_dir), *extra])
    if status != 0:
        return status
    markdown.write_text(page(out_dir, markdown.parent), encoding="utf-8", newline="\n")
    print(markdown)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gui.gallery", description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DOCS / "gallery", help="where the pictures go")
    parser.add_argument("--markdown", type=Path, default=DOCS / "gallery.md", help="the page to write")
    parser.add_argument("--scale", default="1", help="device pixel ratio of the pictures (default 1)")
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    args = parser.parse_args(argv)
    return build(args.out_dir, args.markdown, ["--scale", args.scale, "--theme", args.theme])


if __name__ == "__main__":
    sys.exit(main())
