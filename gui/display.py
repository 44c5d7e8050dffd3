"""Can a window open here? Checked before Qt starts, because Qt aborts the process when it cannot.

On Windows and macOS there is always a screen. On X11 and Wayland systems Qt needs a
display it can reach, and (Qt 6.5 and later, on X11) the xcb-cursor library; without them
Qt prints a hint and aborts with SIGABRT, which loses nothing but explains little. So the
checks here are cheap, side-effect-free and return a message for the user, or None.
"""

from __future__ import annotations

import ctypes.util
import os
import re
import socket
import sys
from pathlib import Path

HEADLESS_ADVICE = """\
  * On a machine without a screen, run the window under a virtual X server:
        xvfb-run dmaviz open [SCENARIO]
  * Or use the headless commands:
        dmaviz run SCENARIO      run a scenario and write its trace
        dmaviz shot SCENARIO     render a picture of the window or a panel
  * To force a Qt platform, set QT_QPA_PLATFORM (for example QT_QPA_PLATFORM=offscreen).
"""

X11_SOCKETS = Path("/tmp/.X11-unix")


def display_problem() -> str | None:
    """Why no window can open here (a message for the user), or None when one can."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if sys.platform.startswith(("win", "darwin")):
        return None
    if platform and not platform.startswith("xcb"):
        return None  # offscreen, wayland, vnc…: Qt's own business
    if not platform and os.environ.get("WAYLAND_DISPLAY"):
        return None
    display = os.environ.get("DISPLAY", "")
    if not display:
        return "dmaviz: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set).\n\n" + (
            HEADLESS_ADVICE
        )
    if not x_display_reachable(display):
        return (
            f"dmaviz: cannot reach the X display DISPLAY={display} (no X server answers there;"
            " a stale DISPLAY from an old ssh session, or the server has stopped).\n\n" + HEADLESS_ADVICE
        )
    if ctypes.util.find_library("xcb-cursor") is None:
        return (
            "dmaviz: Qt needs the X11 library xcb-cursor to open a window, and it is not installed.\n"
            "  * Debian/Ubuntu: sudo apt install libxcb-cursor0 (and Qt's other xcb libraries, see README).\n\n"
            + HEADLESS_ADVICE
        )
    return None


def x_display_reachable(display: str, timeout_s: float = 1.0) -> bool:
    """Does an X server accept connections at ``display`` (``[host]:number[.screen]``)?

    Only the connection is tried, no X protocol: enough to tell a live display from a stale one.
    """
    match = re.fullmatch(r"(?P<host>[^:]*):(?P<number>\d+)(\.\d+)?", display)
    if match is None:
        return False
    host, number = match["host"], int(match["number"])
    if host in ("", "unix"):
        path = X11_SOCKETS / f"X{number}"
        # Linux X servers also listen on an abstract socket of the same name.
        for address in (str(path), "\0" + str(path)):
            if _connects(socket.AF_UNIX, address, timeout_s):
                return True
        if host == "unix":
            return False
        host = "localhost"
    return _connects(socket.AF_INET, (host, 6000 + number), timeout_s)


def _connects(family: int, address: str | tuple[str, int], timeout_s: float) -> bool:
    unix_path = family == getattr(socket, "AF_UNIX", None) and isinstance(address, str) and address[:1] != "\0"
    if unix_path and not Path(str(address)).exists():
        return False
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(address)
        return True
    except (OSError, ValueError):
        return False
