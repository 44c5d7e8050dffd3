"""Positions and sizes of the followed stream, as rows of numbers with bars."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gui.view_models.buffer import BufferView, stream_play_position
from model.units import MS, format_ns


@dataclass(frozen=True)
class PositionRow:
    key: str  # stable name (tests, exports)
    label: str
    value: int | None
    text: str
    fraction: float | None  # bar length 0..1, None: no bar
    tooltip: str
    warning: bool = False


def _bytes(n: int | None) -> str:
    if n is None:
        return "—"
    return f"0x{n:X} ({n:,} bytes)" if n >= 0 else f"-0x{-n:X} ({n:,} bytes)"


def _frac(value: int | None, whole: int) -> float | None:
    if value is None or whole <= 0:
        return None
    return max(0.0, min(1.0, value / whole))


def positions(view: BufferView, pin: Any | None) -> list[PositionRow]:
    """The rows of the positions panel."""
    if pin is None or view.kind == "none":
        return []
    if view.kind == "mappings":
        return _wavepci_rows(view, pin)
    fmt = getattr(pin, "format", None)
    rate = fmt.bytes_per_second if fmt is not None else 0
    capture = view.capture
    size = view.wrap
    rows: list[PositionRow] = []

    def ms(n: int) -> str:
        return f"{n * 1000 / rate:.3f} ms" if rate else "? ms"

    dma = view.dma_position
    rows.append(
        PositionRow(
            "dma_position",
            f"{'Record' if capture else 'Play'} position in buffer (DMA)",
            dma,
            _bytes(dma),
            _frac(dma, size),
            "Where the DMA engine is in the cyclic buffer now, read from the controller's registers.",
        )
    )
    rows.append(
        PositionRow(
            "port_offset",
            f"Port's {'read' if capture else 'write'} position in buffer",
            view.port_offset,
            _bytes(view.port_offset),
            _frac(view.port_offset, size),
            "The buffer offset where the port's next CopyTo writes (render) or CopyFrom reads (capture).",
        )
    )
    play = stream_play_position(pin, dma)
    rows.append(
        PositionRow(
            "stream_play",
            f"{'Record' if capture else 'Play'} position in stream",
            play,
            f"{_bytes(play)} = {ms(play)}",
            None,
            "Bytes the device has played (recorded) since the stream left STOP.",
        )
    )
    written = int(getattr(pin, "read" if capture else "data_end", 0))
    rows.append(
        PositionRow(
            "stream_write",
            f"{'Read' if capture else 'Write'} position in stream",
            written,
            f"{_bytes(written)} = {ms(written)}",
            None,
            "Render: the stream offset just past the last real byte copied in. "
            "Capture: the stream offset of the next byte to copy out.",
        )
    )
    target = int(getattr(pin, "write_ahead_ns", 40 * MS))
    target_bytes = fmt.bytes_for(target) if fmt is not None else size
    ahead = view.ahead
    rows.append(
        PositionRow(
            "ahead",
            "Recorded, not yet copied out" if capture else "Data ahead of the DMA position",
            ahead,
            f"{_bytes(ahead)} = {ms(ahead)}",
            _frac(ahead, size if capture else max(target_bytes, 1)),
            f"Render: real data between the play position and the port's write position; the port aims "
            f"for {format_ns(target)}. At 0 or below the device plays silence or stale bytes (an underrun). "
            "Capture: bytes waiting in the buffer; more than the buffer is an overrun.",
            warning=(ahead <= 0 and not capture and getattr(getattr(pin, "state", None), "name", "") == "KSSTATE_RUN")
            or (capture and ahead > size > 0),
        )
    )
    whole = view.extent
    for key, label, value, tip in (
        (
            "allocated",
            "AllocatedBufferSize",
            view.allocated,
            "What AllocateBuffer obtained: the physically contiguous common buffer.",
        ),
        (
            "buffer_size",
            "BufferSize",
            view.buffer_size,
            "The size last set with SetBufferSize (the allocated size until then); the DMA wraps here.",
        ),
        (
            "maximum",
            "MaximumBufferSize",
            view.maximum,
            "The largest buffer the channel is configured for (MaximumLength rounded to pages, capped by the device).",
        ),
        (
            "port_size",
            "Buffer size the port uses",
            view.port_size,
            "The port reads BufferSize when the stream goes to RUN; a later SetBufferSize changes nothing until then.",
        ),
    ):
        rows.append(PositionRow(key, label, value, _bytes(value), _frac(value, whole), tip))
    glitches = int(getattr(pin, "glitches", 0))
    rows.append(
        PositionRow(
            "glitches",
            "Glitches reported",
            glitches,
            str(glitches),
            None,
            "Underruns (render) or overruns (capture) the port has reported for this stream.",
            warning=glitches > 0,
        )
    )
    return rows


def _wavepci_rows(view: BufferView, pin: Any) -> list[PositionRow]:
    """A WavePci stream has no cyclic buffer: what the port has handed out and got back instead."""
    fmt = getattr(pin, "format", None)
    rate = fmt.bytes_per_second if fmt is not None else 0

    def ms(n: int) -> str:
        return f"{n * 1000 / rate:.3f} ms" if rate else "? ms"

    mapped = int(getattr(pin, "bytes_mapped", 0))
    released = int(getattr(pin, "bytes_released", 0))
    outstanding = [m for m in view.mappings if not m.released]
    held = sum(m.length for m in outstanding)
    glitches = int(getattr(pin, "glitches", 0))
    return [
        PositionRow(
            "mapped",
            "Mapped (handed to the miniport)",
            mapped,
            f"{_bytes(mapped)} = {ms(mapped)}",
            None,
            "Stream offset just past the last mapping GetMapping handed out.",
        ),
        PositionRow(
            "released",
            "Released (given back)",
            released,
            f"{_bytes(released)} = {ms(released)}",
            None,
            "Bytes of mappings the miniport gave back with ReleaseMapping: the hardware is done with them.",
        ),
        PositionRow(
            "outstanding",
            "Outstanding mappings",
            len(outstanding),
            f"{len(outstanding)} ({_bytes(held)} = {ms(held)})",
            _frac(held, max(1, rate // 10)),
            "Mappings the miniport holds now: data queued for its bus master. The bar is full at 100 ms.",
            warning=not outstanding and getattr(getattr(pin, "state", None), "name", "") == "KSSTATE_RUN",
        ),
        PositionRow(
            "glitches",
            "Glitches reported",
            glitches,
            str(glitches),
            None,
            "Underruns (render) or overruns (capture) the port has reported for this stream.",
            warning=glitches > 0,
        ),
    ]
