"""docs/scripting.md's examples run as written, so the document cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "scripting.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks() -> list[str]:
    return _BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_the_document_has_a_complete_example() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 1
    assert any("from model import" in b and "Machine()" in b and "assert" in b for b in blocks)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_python_block_runs_and_its_assertions_hold(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    code = python_blocks()[index]
    namespace: dict[str, object] = {"__name__": f"scripting_md_block_{index}"}
    exec(compile(code, f"{DOC}:block{index}", "exec"), namespace)
    if index == 0:
        # The example's own assertions ran; check its end state here too.
        m = namespace["m"]
        isr = namespace["isr"]
        assert m.now_ns == 45_000_000  # type: ignore[attr-defined]
        assert len(isr.times) == 4  # type: ignore[attr-defined]
        assert "4 interrupts, 8640 bytes played by 45 ms" in capsys.readouterr().out


# --- port and MMIO arguments: masked as the CPU masks them, typed or refused ---------------


def _machine_and_mark():
    from model import Machine

    m = Machine()
    return m, len(m.trace)


def _register_records(m, first: int):
    from model.trace import RegisterRecord

    return [(r.address, r.access, r.value) for r in m.trace.since(first) if isinstance(r, RegisterRecord)]


@pytest.mark.parametrize(
    ("port", "value", "seen_port", "seen_value"),
    [
        (0x1000B, 0x159, 0x0B, 0x59),  # DMA1 mode: bit 16 of the port and bit 8 of the value dropped
        (-1, 0, 0xFFFF, 0),  # DX holds 0xFFFF for -1
        (0x10000, 0, 0x0000, 0),
        (0x0B, 300, 0x0B, 300 & 0xFF),
        (0x0B, -1, 0x0B, 0xFF),  # AL of -1 is 0xFF
    ],
    ids=["wide-port-and-value", "negative-port", "port-0x10000", "value-300", "negative-value"],
)
def test_io_write_keeps_the_low_16_port_bits_and_low_8_value_bits(
    port: int, value: int, seen_port: int, seen_value: int
) -> None:
    """docs/scripting.md: OUT uses DX's 16 bits and AL's 8; the trace and the device see the masked numbers."""
    m, first = _machine_and_mark()
    m.io_write(port, value)
    assert _register_records(m, first) == [(seen_port, "write", seen_value)]
    if seen_port == 0x0B:
        assert m.dma.channel(seen_value & 3).mode == seen_value  # the mode register really took it


def test_io_read_masks_the_port_so_a_device_still_answers() -> None:
    """docs/scripting.md: IN uses only DX's 16 bits, so 0x1022E is the SB16's port 0x22E."""
    m, first = _machine_and_mark()
    m.io_write(0x10226, 1)  # DSP reset through an over-wide port number
    m.io_write(0x226, 0)
    assert m.io_read(0x1022E) & 0x80
    assert m.io_read(0x7FFF022A) == 0xAA
    ports = [port for port, _, _ in _register_records(m, first)]
    assert ports == [0x226, 0x226, 0x22E, 0x22A]


def test_wide_port_accesses_mask_port_and_value() -> None:
    """docs/scripting.md: 16- and 32-bit accesses split into masked byte accesses; port + n wraps past 0xFFFF."""
    m, first = _machine_and_mark()
    m.io_write16(0x1_0300, 0x1_ABCD)
    m.io_write32(0xFFFE, 0x1_1223_3445)
    m.io_read16(0x1_0300)
    assert _register_records(m, first) == [
        (0x0300, "write", 0xCD),
        (0x0301, "write", 0xAB),
        (0xFFFE, "write", 0x45),
        (0xFFFF, "write", 0x34),
        (0x0000, "write", 0x23),
        (0x0001, "write", 0x12),
        (0x0300, "read", 0xFF),  # nothing decodes 0x300: a floating ISA bus
        (0x0301, "read", 0xFF),
    ]
    assert m.io_read32(0x1_0300) == 0xFFFFFFFF


def test_integer_like_arguments_are_accepted() -> None:
    """docs/scripting.md: IntEnum members and NumPy integers are integers; they are used as plain ints."""
    import enum

    import numpy as np

    class Port(enum.IntEnum):
        DMA1_MODE = 0x0B

    m, first = _machine_and_mark()
    m.io_write(Port.DMA1_MODE, np.uint8(0x59))
    m.io_read(np.int64(0x08))
    records = _register_records(m, first)
    assert records[0] == (0x0B, "write", 0x59) and records[1][:2] == (0x08, "read")
    assert all(type(port) is int and type(value) is int for port, _, value in records)


@pytest.mark.parametrize(
    ("method", "args", "name"),
    [
        ("io_write", ("x", 0), "port"),
        ("io_write", (1.0, 0), "port"),
        ("io_write", (None, 0), "port"),
        ("io_write", (True, 0), "port"),  # a bool is almost surely a slip, not port 1
        ("io_write", (0x0B, "1"), "value"),
        ("io_write", (0x0B, 2.5), "value"),
        ("io_read", ("0x22A",), "port"),
        ("io_write16", (b"\x00", 0), "port"),
        ("io_write16", (0x300, 1.5), "value"),
        ("io_read16", (None,), "port"),
        ("io_write32", (0x300, "1"), "value"),
        ("io_read32", (0.0,), "port"),
        ("mmio_write", ("0xFEBF0008", 1), "address"),
        ("mmio_write", (0xFEBF0008, 1.0), "value"),
        ("mmio_read", (None,), "address"),
    ],
)
def test_a_non_integer_port_address_or_value_raises_type_error_naming_it(
    method: str, args: tuple[object, ...], name: str
) -> None:
    """docs/scripting.md: TypeError names the parameter and what it expected; the access never happens."""
    m, first = _machine_and_mark()
    with pytest.raises(TypeError, match=rf"^{name} must be an int \("):
        getattr(m, method)(*args)
    assert _register_records(m, first) == []


def test_mmio_address_is_32_bits_and_the_value_is_cut_to_the_access_size() -> None:
    """docs/scripting.md: MMIO addresses keep 32 bits; a value wider than ``size`` bytes keeps its low bytes."""
    m, first = _machine_and_mark()
    gctl = m.config.hda_mmio_base + 0x08
    m.mmio_write((1 << 32) | gctl, 0x1_0000_0001)  # CRST set: HD Audio leaves reset
    assert m.mmio_read((5 << 32) | gctl) & 1 == 1
    m.mmio_write(gctl, 0x1FF, 1)
    assert _register_records(m, first) == [
        (gctl, "write", 1),
        (gctl, "read", 1),
        (gctl, "write", 0xFF),
    ]


@pytest.mark.parametrize("size", [0, 3, 8, -4, "4", 4.0, True, None])
def test_mmio_size_other_than_1_2_or_4_raises_value_error(size: object) -> None:
    """docs/scripting.md: an MMIO access is 1, 2 or 4 bytes; anything else is a ValueError saying so."""
    m, first = _machine_and_mark()
    address = m.config.hda_mmio_base + 0x08
    with pytest.raises(ValueError, match="size must be 1, 2 or 4"):
        m.mmio_write(address, 1, size)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="size must be 1, 2 or 4"):
        m.mmio_read(address, size)  # type: ignore[arg-type]
    assert _register_records(m, first) == []
