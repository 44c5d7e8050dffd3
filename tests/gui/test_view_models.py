"""The view models: what each panel shows, extracted from the model without Qt (and without side effects)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from gui.view_models.buffer import (
    BAND_SILENCE,
    BAND_UNALLOCATED,
    BAND_UNUSED,
    BAND_VALID,
    BufferView,
    band_codes,
    buffer_view,
    read_samples,
    ring_pieces,
)
from gui.view_models.event_log import LogFilter, record_row
from gui.view_models.memory import DAMAGED, STREAM_CLIENT, STREAM_COMMON, memory_view
from gui.view_models.method_call import check, parse_input, result_view
from gui.view_models.objects import object_tree
from gui.view_models.registers import registers_view
from gui.view_models.stream import counter_value, find_pins, locate_hardware
from model.interfaces.declarations import INTERFACES
from model.scenario import load, make_session
from model.units import MS

ROOT = Path(__file__).resolve().parents[2]


def _session(name: str = "sb16_render", ms: int = 30) -> object:
    session = make_session(load(name))
    session.run(until_ns=ms * MS)
    return session


def test_view_models_know_nothing_of_qt() -> None:
    """Like the model, the view models are plain Python: they can be tested and reused without a display."""
    offenders = []
    for path in sorted((ROOT / "gui" / "view_models").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6")
            ]
    assert offenders == []


def test_reading_views_has_no_side_effects() -> None:
    session = _session()
    system = session.system
    digest, records = system.state_digest(), len(system.trace.records)
    pin = find_pins(system)[0]
    hw = locate_hardware(system, pin)
    view = buffer_view(system, pin, hw)
    read_samples(system, view)
    registers_view(system, hw)
    memory_view(system, pin)
    object_tree(system)
    counter_value(system, hw, pin)
    assert system.state_digest() == digest
    assert len(system.trace.records) == records


def test_ring_pieces_split_at_the_wrap() -> None:
    assert ring_pieces(0x3000, 0x2000, 0x4000) == [(0x3000, 0x4000), (0, 0x1000)]
    assert ring_pieces(0x1000, 0x800, 0x4000) == [(0x1000, 0x1800)]
    assert ring_pieces(0, 0, 0x4000) == []
    assert ring_pieces(5, 99999, 0x10) == [(5, 0x10), (0, 5)]


def test_band_codes_show_the_three_sizes() -> None:
    view = BufferView("cyclic", allocated=0x3000, buffer_size=0x2000, maximum=0x4000, port_size=0x2000)
    view.valid = [(0x1000, 0x1800)]
    view.silence = [(0x1800, 0x1A00)]
    codes = band_codes(view, 64)  # 0x100 bytes per column
    assert codes[0x1100 // 0x100] == BAND_VALID
    assert codes[0x1900 // 0x100] == BAND_SILENCE
    assert codes[0x2100 // 0x100] == BAND_UNUSED
    assert codes[0x3100 // 0x100] == BAND_UNALLOCATED


def test_buffer_view_of_a_running_stream() -> None:
    session = _session()
    system = session.system
    pin = find_pins(system)[0]
    view = buffer_view(system, pin, locate_hardware(system, pin))
    assert (view.allocated, view.buffer_size, view.maximum) == (0x4000, 0x4000, 0x4000)
    assert view.dma_position is not None and 0 <= view.dma_position < 0x4000
    assert view.ahead > 0
    assert view.valid and view.valid[0][0] == view.dma_position
    samples = read_samples(system, view)
    raw = system.machine.memory.read(view.buffer_physical, 4).view("<i2")
    assert len(samples) == 0x4000 // 4 and samples[0] == np.float32(raw[0] / 32768)


def test_memory_view_marks_the_stream_pages_and_damage() -> None:
    session = _session()
    system = session.system
    pin = find_pins(system)[0]
    system.machine.memory.mark_damaged(0x900000, 10)
    view = memory_view(system, pin)
    flat = view.codes.reshape(-1)
    assert flat[pin.dma.buffer_physical // 4096] == STREAM_COMMON
    assert (flat == STREAM_CLIENT).sum() == len(view.client_pages) > 0
    assert flat[0x900000 // 4096] == DAMAGED
    assert view.isa_row == 16  # one row per MiB


def test_registers_view_of_the_8237_channel() -> None:
    session = _session()
    system = session.system
    hw = locate_hardware(system, find_pins(system)[0])
    assert hw.kind == "8237" and hw.channel == 5
    rows = {r.name: r for r in registers_view(system, hw).rows}
    channel = system.machine.dma.channel(5)
    assert rows["Current count"].text == f"0x{channel.current_count:04X}"
    assert rows["Physical address"].value == channel.physical_address()
    assert "auto-init" in rows["Mode"].meaning


def test_registers_view_of_a_bus_master_has_its_bdl() -> None:
    session = _session("ac97_revoke")
    system = session.system
    hw = locate_hardware(system, find_pins(system)[0])
    assert hw.kind == "ac97"
    view = registers_view(system, hw)
    assert len(view.bdl) == 32
    assert sum(r.current for r in view.bdl) == 1 and sum(r.last_valid for r in view.bdl) == 1


def test_object_tree_goes_from_the_driver_to_the_controller_channel() -> None:
    session = _session()
    roots = object_tree(session.system)
    driver = roots[0]
    assert driver.object_id == "driver"
    labels = [n.label for n in driver.walk()]
    assert any(label.startswith("8237 channel 5") for label in labels)
    assert any(label == "dma16 (dma)" for label in labels)


def test_log_rows_and_filter() -> None:
    session = _session()
    records = session.records()
    calls = [r for r in records if r.kind == "call"]
    row = record_row(calls[0])
    assert row[0] == str(calls[0].seq) and row[2] == "call" and "::" in row[4]
    only_copies = LogFilter(frozenset({"call"}), "", "copyto")
    assert all(r.method == "CopyTo" for r in records if only_copies.matches(r))
    assert any(only_copies.matches(r) for r in records)


def test_method_inputs_are_parsed_and_checked_by_the_model() -> None:
    session = _session()
    system = session.system
    alloc = INTERFACES["IDmaChannel"].methods[0]
    size = alloc.param("BufferSize")
    assert parse_input(size, "0x1_000") == 0x1000
    assert check(system, size, parse_input(size, "0x1FFFFFFFF")) is not None
    assert check(system, size, 0x2000) is None
    result = session.call("dma", "AllocateBuffer", {"BufferSize": "lots"})
    view = result_view(result)
    assert view.headline.startswith("refused") and view.seq == result.record.seq
    assert [v[0] for v in view.violations] == ["bad-argument"]


def test_an_object_argument_that_names_nothing_is_questioned_before_the_call() -> None:
    """A typo in an object id would be refused by the model; the form says so as you type, and
    says how to pass NULL on purpose."""
    system = _session().system
    notify = INTERFACES["IPortWaveCyclic"].methods
    group = next(m for m in notify if m.name == "Notify").param("ServiceGroup")
    assert group is not None
    assert check(system, group, "sg") is None
    assert check(system, group, "NULL") is None
    message = check(system, group, "gs")
    assert message is not None and "'gs'" in message and '"NULL"' in message
