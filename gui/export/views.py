"""The views a picture can show, by the names `dmaviz shot --view` and the Export Picture dialog use.

Plain Python, no Qt: the command line checks a name before it starts Qt. Each panel's name is
its ``Panel.key`` (tests/gui/test_export.py checks that they agree).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class View:
    name: str
    title: str
    size: tuple[int, int]  # the default size, in logical pixels
    what: str


WINDOW = "window"

VIEWS: dict[str, View] = {
    view.name: view
    for view in (
        View(WINDOW, "Whole window", (1600, 1000), "every panel in the default layout, with menus and status bar"),
        View("buffer", "Common buffer", (960, 420), "the cyclic buffer: waveform, byte band, positions, sizes"),
        View("counter", "Transfer counter", (960, 380), "the DMA counter over simulated time, with event lanes"),
        View("positions", "Positions and sizes", (720, 250), "positions and buffer sizes as numbers with bars"),
        View("registers", "Hardware registers", (720, 600), "the DMA engine's registers (and the BDL)"),
        View("memory", "Physical memory", (860, 520), "the page map: owners, the stream's pages, 16 MiB line"),
        View("objects", "Objects", (640, 460), "the object tree with reference counts and states"),
        View("methods", "Methods", (640, 560), "the method form of the first object"),
        View("log", "Event log", (960, 420), "the trace, newest records at the bottom"),
        View("description", "Scenario", (640, 460), "the scenario's description"),
        View("timeline", "Timeline", (960, 260), "the session on one time axis: interrupts, calls, glitches, stops"),
        View("breakpoints", "Breakpoints", (640, 360), "the breakpoints, their conditions and hit counts"),
    )
}

PNG, SVG = "png", "svg"
FORMATS = (PNG, SVG)

# Limits that keep a mistyped option from asking for a picture of gigabytes.
MIN_SIDE, MAX_SIDE = 64, 8192
MIN_SCALE, MAX_SCALE = 0.25, 8.0


def view_names() -> list[str]:
    return list(VIEWS)


def picture_format(path: str) -> str | None:
    """'png' or 'svg' from a file name's ending (any case); None for anything else."""
    lower = path.lower()
    for fmt in FORMATS:
        if lower.endswith("." + fmt):
            return fmt
    return None


def parse_size(text: str) -> tuple[int, int]:
    """'1200x800' → (1200, 800); ValueError with a one-line reason otherwise."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a size; write WIDTHxHEIGHT in logical pixels, e.g. 1200x800")
    width, height = (int(p) for p in parts)
    for side in (width, height):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ValueError(f"{text!r}: each side must be from {MIN_SIDE} to {MAX_SIDE} pixels")
    return width, height


def parse_scale(text: str) -> float:
    """'2' → 2.0 (the device pixel ratio of the picture); ValueError with a one-line reason otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number; the scale is a device pixel ratio such as 1, 1.5 or 2") from None
    if not MIN_SCALE <= value <= MAX_SCALE:
        raise ValueError(f"{text!r}: the scale must be from {MIN_SCALE:g} to {MAX_SCALE:g}")
    return value
