"""How long the window takes to update all its panels for one frame while a stream runs, and to start.

A render stream through the HD Audio miniport runs at real-time speed (one 60 Hz frame of
simulated time per frame). For each frame the simulation step is not timed; what is timed
is the update: the controller's frame signal (every panel reads its view model and moves
or re-plots its items) and the repaint of the whole window, offscreen. Run with a 4 KiB
and with a 1 MiB common buffer (the miniport's buffer size is set for the benchmark): the
1 MiB figure should stay within twice the 4 KiB one, because panels redraw only what
changed and the waveform is downsampled by peak.

Start-up: a fresh process, from its first line to the first painted window on the
default scenario (plus the interpreter's own start, measured from outside).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui_frame.py [--frames N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.main_window import MainWindow  # noqa: E402
from gui.theme import ThemeManager  # noqa: E402
from model.portcls.miniports import hda_wavecyclic  # noqa: E402
from model.session.session import Session  # noqa: E402
from model.topology import StreamSpec, Topology  # noqa: E402
from model.units import S  # noqa: E402

FRAME_NS = S // 60
TARGET_MS = 4.0


def hda_session(buffer_bytes: int) -> Session:
    """An HDA render stream whose cyclic buffer is ``buffer_bytes`` (the miniport's size, set for this run)."""
    hda_wavecyclic.BUFFER_BYTES = buffer_bytes
    hda_wavecyclic.MAXIMUM_LENGTH = max(buffer_bytes, 0x10000)

    def factory() -> Topology:
        topology = Topology("hda")
        topology.install()
        pin = topology.open_stream(StreamSpec())
        topology.system.call(pin, "SetState", {"State": "KSSTATE_RUN"})
        return topology

    return Session(factory)


def measure_frames(app: QApplication, window: MainWindow, buffer_bytes: int, frames: int) -> dict[str, float]:
    controller = window.controller
    controller.set_session(hda_session(buffer_bytes))
    view = None
    update: list[float] = []
    paint: list[float] = []
    full: list[float] = []
    # Frames of a running stream, as the frame timer makes them (the timer itself is not started:
    # its wall-clock pacing would only add noise here).
    controller._running = True
    for i in range(frames + 20):
        controller._run_chunks(controller.session.now_ns + FRAME_NS, None)  # the simulation: not timed
        t0 = time.perf_counter()
        controller.repaint_now()  # every panel updates from the model
        t1 = time.perf_counter()
        app.processEvents()  # Qt paints what the update made dirty, as after every frame
        t2 = time.perf_counter()
        if i >= 20:  # warm-up: first plots, caches, layouts
            update.append(t1 - t0)
            paint.append(t2 - t1)
        if i % 10 == 0:
            t3 = time.perf_counter()
            window.repaint()  # every pixel of the window, for comparison (a resize or an export costs this)
            full.append(time.perf_counter() - t3)
        view = window.panels["buffer"].view
    controller._running = False
    assert view is not None and view.allocated == buffer_bytes, (view, buffer_bytes)
    total = [u + p for u, p in zip(update, paint, strict=True)]
    return {
        "update_ms": statistics.median(update) * 1000,
        "paint_ms": statistics.median(paint) * 1000,
        "total_ms": statistics.median(total) * 1000,
        "p95_ms": sorted(total)[int(len(total) * 0.95)] * 1000,
        "full_repaint_ms": statistics.median(full) * 1000,
    }


STARTUP_SCRIPT = r"""
import time
t0 = time.perf_counter()
import os, sys, tempfile
sys.path.insert(0, {root!r})
from PySide6.QtCore import QEvent, QObject, QSettings
from PySide6.QtWidgets import QApplication
import pyqtgraph as pg
pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
app = QApplication([])
from gui.main_window import MainWindow
from gui.theme import ThemeManager
painted = []
class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not painted:
            painted.append(time.perf_counter())
        return False
ini = os.path.join(tempfile.mkdtemp(), "s.ini")
window = MainWindow(ThemeManager(app, "light"), QSettings(ini, QSettings.Format.IniFormat))
first = FirstPaint()
window.panels["buffer"].graphics.viewport().installEventFilter(first)
window.load(None)
window.show()
while not painted:
    app.processEvents()
print(f"{{painted[0] - t0:.4f}}")
window.close()
"""


def measure_startup(runs: int = 3) -> tuple[float, float]:
    """(in-process seconds to the first paint, wall seconds from spawning the process), best of ``runs``."""
    inside, outside = [], []
    script = STARTUP_SCRIPT.format(root=str(ROOT))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        outside.append(time.perf_counter() - start)
        inside.append(float(out.stdout.split()[-1]))
    return min(inside), min(outside)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    scratch = tempfile.TemporaryDirectory()
    window = MainWindow(
        ThemeManager(app, "light"), QSettings(str(Path(scratch.name) / "b.ini"), QSettings.Format.IniFormat)
    )
    window.load(None)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    results = {}
    for label, size in (("4 KiB", 4096), ("1 MiB", 1 << 20)):
        results[label] = measure_frames(app, window, size, args.frames)
        r = results[label]
        print(
            f"{label:>6} buffer: frame update {r['update_ms']:.2f} ms + paint {r['paint_ms']:.2f} ms "
            f"= {r['total_ms']:.2f} ms median (p95 {r['p95_ms']:.2f} ms); "
            f"repainting every pixel of the window: {r['full_repaint_ms']:.1f} ms"
        )
    window.close()
    small, big = results["4 KiB"]["update_ms"], results["1 MiB"]["update_ms"]
    ratio = big / small
    inside, outside = measure_startup()
    print(f"panel update, 1 MiB / 4 KiB: {ratio:.2f} (target: <= 2, each median <= {TARGET_MS} ms)")
    print(f"start-up to the first painted window: {inside * 1000:.0f} ms in-process, {outside * 1000:.0f} ms wall")
    ok = small <= TARGET_MS and big <= TARGET_MS and ratio <= 2
    print("OK" if ok else "MISSED A TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
