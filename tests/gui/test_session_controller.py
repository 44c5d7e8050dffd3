"""The controller: one path for step and run, repaints coalesced to 60 per second with a trailing one,
the GUI thread never blocked for more than a frame, histories that follow jumps."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from gui.session_controller import SessionController
from gui.view_models.counter import CounterHistory, MarkerHistory
from model.scenario import load, make_session
from model.units import MS


@pytest.fixture
def controller(qapp: Any) -> Any:
    c = SessionController(make_session(load("sb16_render")))
    yield c
    c.shutdown()
    c.deleteLater()


def test_repaints_are_coalesced_with_a_trailing_one(controller: Any, qtbot: Any) -> None:
    frames: list[Any] = []
    controller.frame.connect(frames.append)
    controller.repaint_now()
    frames.clear()
    for _ in range(50):
        controller.step()
    assert frames == []  # nothing is painted per step
    qtbot.waitUntil(lambda: len(frames) >= 1, timeout=1000)
    time.sleep(0.05)
    qtbot.wait(30)
    assert len(frames) == 1
    assert frames[-1].step_index == controller.session.step_index == 50  # the trailing paint shows the end


def test_step_and_run_share_one_path(controller: Any) -> None:
    controller.run_for(5 * MS)
    before = controller.counter.count
    controller.step()
    assert controller.counter.count == before + 1  # a step samples the counter
    assert controller.counter.last_time == controller.session.now_ns
    controller.run_for(20 * MS)
    assert controller.counter.count > before + 20  # a run samples it between events too
    times, values = controller.counter.arrays()
    assert np.all(np.diff(times) > 0)
    assert values.max() <= 0x4000


def test_running_paints_at_most_60_times_a_second_and_never_blocks(controller: Any, qtbot: Any) -> None:
    frames: list[Any] = []
    controller.frame.connect(frames.append)
    ticks: list[float] = []
    original = controller._tick

    def timed_tick() -> None:
        start = time.perf_counter()
        original()
        ticks.append(time.perf_counter() - start)

    controller._frame_timer.timeout.disconnect(controller._tick)
    controller._frame_timer.timeout.connect(timed_tick)
    controller.set_speed(None)  # as fast as possible: the deadline is all that stops each frame
    start = time.perf_counter()
    controller.run()
    qtbot.wait(600)
    controller.pause()
    elapsed = time.perf_counter() - start
    assert controller.session.now_ns > 100 * MS
    assert len(frames) <= elapsed * 60 + 3
    assert ticks and max(ticks) < 0.05, f"a frame took {max(ticks) * 1000:.1f} ms"
    assert np.median(ticks) < 0.02


def test_real_time_speed_follows_the_wall_clock(controller: Any, qtbot: Any) -> None:
    controller.set_speed(0.1)
    start = time.perf_counter()
    controller.run()
    qtbot.wait(400)
    controller.pause()
    wall = time.perf_counter() - start
    simulated = controller.session.now_ns / 1e9
    assert 0.3 * wall * 0.1 < simulated < 1.5 * wall * 0.1


def test_a_jump_back_truncates_the_histories(controller: Any) -> None:
    controller.run_for(60 * MS)
    step = controller.session.step_index
    controller.run_for(60 * MS)
    epoch = controller.epoch
    controller.goto_step(step)
    assert controller.epoch == epoch + 1
    times, _ = controller.counter.arrays()
    assert times[-1] <= controller.session.now_ns
    controller.repaint_now()
    assert controller.markers.end == len(controller.session.system.trace.records)
    controller.restart()
    assert controller.counter.count <= 1


def test_counter_history_ring() -> None:
    ring = CounterHistory(capacity=8)
    for i in range(20):
        ring.append(float(i), float(i * 10))
    t, v = ring.arrays()
    assert list(t) == [float(i) for i in range(12, 20)]
    assert list(v) == [float(i * 10) for i in range(12, 20)]
    ring.append(19.0, 5.0)  # the same instant: the newest reading replaces the last
    assert ring.arrays()[1][-1] == 5.0 and ring.count == 8
    ring.truncate_after(15.5)
    assert list(ring.arrays()[0]) == [12.0, 13.0, 14.0, 15.0]
    ring.append(30.0, 1.0)
    assert list(ring.arrays()[0]) == [12.0, 13.0, 14.0, 15.0, 30.0]


def test_marker_history_follows_the_trace() -> None:
    session = make_session(load("sb16_render"))
    session.run(until_ns=100 * MS)
    markers = MarkerHistory(window_ns=50 * MS)
    markers.update(session.system.trace.records, session.now_ns)
    assert all(50 * MS <= t <= 100 * MS for lane in markers.lanes for t in lane)
    assert markers.lanes[1] and markers.lanes[2] and markers.lanes[3]  # interrupts, DPCs, copies
    count = sum(len(lane) for lane in markers.lanes)
    session.run(until_ns=120 * MS)
    markers.update(session.system.trace.records, session.now_ns)
    assert sum(len(lane) for lane in markers.lanes) >= count - 6
    assert all(t >= 70 * MS for lane in markers.lanes for t in lane)
