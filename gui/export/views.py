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
        View("registers", "Hardware registers", (720, 720), "the DMA engine's registers (and the BDL)"),
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
# The most device pixels a PNG may have: 8192 x 8192, the largest side at scale 1. Drawn as 32-bit pixels that
# is 256 MiB, held twice while the picture is drawn and encoded (under 1 GB for the whole command), and it is
# the most Qt's image reader opens by default (QImageReader.allocationLimit). It is far more than print needs:
# an A2 page at 300 dpi is 35 million pixels, an 8K screen 33 million. Each side and the scale are checked
# alone above; without this, 8192x8192 at scale 8 asked for 4.3 billion pixels (17 GiB) and crashed.
MAX_PIXELS = MAX_SIDE * MAX_SIDE


def device_pixels(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """The pixels of a PNG of ``size`` logical pixels at ``scale`` (as the renderer rounds them)."""
    return round(size[0] * scale), round(size[1] * scale)


def check_pixels(size: tuple[int, int], scale: float, advice: str = "give a smaller --size or --scale") -> None:
    """ValueError with a one-line reason when a PNG of ``size`` at ``scale`` would have more than MAX_PIXELS."""
    width, height = device_pixels(size, scale)
    if width * height > MAX_PIXELS:
        raise ValueError(
            f"{size[0]}x{size[1]} at scale {scale:g} is a picture of {width}x{height} = "
            f"{width * height / 1e6:,.0f} million pixels; the most is {MAX_PIXELS / 1e6:.0f} million "
            f"({MAX_SIDE}x{MAX_SIDE}): {advice}"
        )


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
