"""The common buffer of the followed stream: sizes, positions, regions, sample data (or a WavePci stream's mappings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gui.view_models.stream import HardwareRef, buffer_position, clock_position
from model.hardware.memory import PAGE_SIZE
from model.system import System
from model.trace import CallRecord

# Codes of the byte/ownership band under the waveform (the panel's colour table follows this order).
BAND_UNALLOCATED = 0  # inside MaximumBufferSize but not allocated
BAND_UNUSED = 1  # allocated, beyond BufferSize: the DMA never goes there
BAND_STALE = 2  # inside the buffer, already played (render) or already copied out (capture)
BAND_VALID = 3  # render: written, not yet played; capture: recorded, not yet copied out
BAND_SILENCE = 4  # render: silence the port wrote after the real data
BAND_NAMES = ("not allocated", "allocated, unused", "played / free", "valid data", "silence padding")


@dataclass(frozen=True)
class MappingView:
    """One WavePci mapping: a physically contiguous piece of a client packet handed to the miniport."""

    tag: int
    address: int  # physical
    length: int
    released: bool
    stream_offset: int | None = None
    last: bool = False  # the last mapping of its packet

    @property
    def pages(self) -> str:
        first = self.address // PAGE_SIZE
        last = (self.address + max(self.length, 1) - 1) // PAGE_SIZE
        return f"{first:#x}" if first == last else f"{first:#x}-{last:#x}"


@dataclass
class BufferView:
    kind: str  # "cyclic", "mappings" or "none"
    pin_id: str = ""
    capture: bool = False
    format_text: str = ""
    sample_bits: int = 16
    channels: int = 2
    buffer_va: int = 0
    buffer_physical: int = 0
    allocated: int = 0  # AllocatedBufferSize
    buffer_size: int = 0  # BufferSize (the channel's)
    maximum: int = 0  # MaximumBufferSize
    port_size: int = 0  # the size the port read at RUN (the wrap point it uses)
    dma_position: int | None = None
    port_offset: int | None = None  # port's write (render) or read (capture) offset in the buffer
    ahead: int = 0  # bytes between the DMA position and the port's offset (negative: underrun)
    valid: list[tuple[int, int]] = field(default_factory=list)  # (start, end) in buffer bytes
    silence: list[tuple[int, int]] = field(default_factory=list)
    mappings: list[MappingView] = field(default_factory=list)
    memory_version: int = -1

    @property
    def wrap(self) -> int:
        """Where the DMA goes back to offset 0."""
        return self.port_size or self.buffer_size

    @property
    def extent(self) -> int:
        """The x range that shows every size at once."""
        return max(self.maximum, self.allocated, self.buffer_size, self.port_size, 1)

    def geometry_key(self) -> tuple[int, ...]:
        """Changes only when the axes or the size markers must move."""
        return (self.extent, self.allocated, self.buffer_size, self.maximum, self.port_size, self.buffer_physical)


def ring_pieces(start: int, length: int, size: int) -> list[tuple[int, int]]:
    """A region of ``length`` bytes from ``start`` in a ring of ``size`` bytes, as at most two (start, end) pieces."""
    if size <= 0 or length <= 0:
        return []
    length = min(length, size)
    start %= size
    end = start + length
    if end <= size:
        return [(start, end)]
    return [(start, size), (0, end - size)]


def buffer_view(system: System, pin: Any | None, hw: HardwareRef | None = None) -> BufferView:
    """What the buffer panel draws for ``pin`` now (``hw``: the engine that moves its data, for the live position)."""
    if pin is None:
        return BufferView("none", memory_version=system.machine.memory.version)
    mappings = _mappings(pin, system)
    dma = getattr(pin, "dma", None)
    fmt = getattr(pin, "format", None)
    view = BufferView(
        "mappings" if mappings is not None else "cyclic",
        pin_id=pin.object_id,
        capture=bool(getattr(pin, "capture", False)),
        format_text=fmt.describe() if fmt is not None else "",
        sample_bits=getattr(fmt, "bits_per_sample", 16),
        channels=getattr(fmt, "channels", 2),
        memory_version=system.machine.memory.version,
    )
    if mappings is not None:
        view.mappings = mappings
    if dma is not None:
        view.buffer_va = int(getattr(dma, "buffer_va", 0))
        view.buffer_physical = int(getattr(dma, "buffer_physical", 0))
        view.allocated = int(getattr(dma, "allocated", 0))
        view.buffer_size = int(getattr(dma, "buffer_size", 0))
        maximum = getattr(dma, "MaximumBufferSize", None)
        view.maximum = int(maximum()) if callable(maximum) else 0
    view.port_size = int(getattr(pin, "buffer_size", 0) or 0)
    if view.kind == "cyclic":
        _positions(view, pin, _live_position(system, pin, hw))
    return view


def _live_position(system: System, pin: Any, hw: HardwareRef | None) -> int | None:
    """The DMA position now: the miniport's side-effect-free probe, else the engine's own register."""
    stream = getattr(pin, "stream", None)
    if callable(getattr(stream, "probe_position", None)):
        return buffer_position(pin)
    if hw is not None and hw.kind == "hda" and hw.index is not None:
        return int(system.machine.hda.streams[hw.index].lpib)
    if hw is not None and hw.kind == "clock":
        return clock_position(system, stream)
    return buffer_position(pin)  # the port's last reading: the best there is without a probe


def _positions(view: BufferView, pin: Any, position: int | None) -> None:
    size = view.wrap
    view.dma_position = None if position is None else position % size if size else 0
    if not size or getattr(pin, "write_offset", None) is None:
        return
    view.port_offset = int(pin.write_offset) % size
    play_now = stream_play_position(pin, view.dma_position)
    if view.capture:
        waiting = play_now - int(getattr(pin, "read", 0))
        view.ahead = waiting
        view.valid = ring_pieces(view.port_offset, waiting, size)
    else:
        data_end = int(getattr(pin, "data_end", 0))
        silence_end = int(getattr(pin, "silence_end", data_end))
        view.ahead = data_end - play_now
        if view.ahead > 0 and view.dma_position is not None:
            view.valid = ring_pieces(view.dma_position, view.ahead, size)
        padding = silence_end - max(data_end, play_now)
        if padding > 0:
            start = view.port_offset + max(0, play_now - data_end)
            view.silence = ring_pieces(start, padding, size)


def stream_play_position(pin: Any, dma_position: int | None) -> int:
    """Bytes played (recorded) since RUN as of now.

    That is the port's count at its last service plus what the DMA has moved since.
    """
    play = int(getattr(pin, "play", 0))
    size = int(getattr(pin, "buffer_size", 0) or 0)
    state = getattr(getattr(pin, "state", None), "name", "")
    if dma_position is None or not size or state != "KSSTATE_RUN":
        return play
    last = int(getattr(pin, "last_position", 0))
    return play + (dma_position - last) % size


def band_codes(view: BufferView, columns: int) -> np.ndarray:
    """One band code per column across ``view.extent`` bytes (uint8, for an ImageItem with a colour table)."""
    centers = (np.arange(columns, dtype=np.float64) + 0.5) * (view.extent / columns)
    codes = np.full(columns, BAND_STALE, dtype=np.uint8)
    codes[centers >= view.wrap] = BAND_UNUSED
    codes[centers >= view.allocated] = BAND_UNALLOCATED
    for regions, code in ((view.silence, BAND_SILENCE), (view.valid, BAND_VALID)):
        for start, end in regions:
            codes[(centers >= start) & (centers < end)] = code
    return codes


def read_samples(system: System, view: BufferView) -> np.ndarray:
    """The first channel of the common buffer's samples, scaled to -1..1 (float32; empty without a buffer)."""
    memory = system.machine.memory
    length = view.allocated
    if not view.buffer_physical or length <= 0 or view.buffer_physical + length > memory.size:
        return np.empty(0, dtype=np.float32)
    raw = memory.read(view.buffer_physical, length)
    if view.sample_bits == 16:
        usable = length - length % 2
        samples = raw[:usable].view("<i2")[:: max(1, view.channels)]
        return samples.astype(np.float32) * np.float32(1 / 32768)
    samples = raw[:: max(1, view.channels)]
    return (samples.astype(np.float32) - np.float32(128)) * np.float32(1 / 128)


def sample_offsets(view: BufferView, count: int) -> np.ndarray:
    """Byte offset in the buffer of each value ``read_samples`` returns."""
    frame = max(1, view.channels) * (2 if view.sample_bits == 16 else 1)
    return np.arange(count, dtype=np.float64) * frame


RECENT_MAPPINGS = 48  # released mappings shown after the outstanding ones
_SCAN_RECORDS = 6000  # how far back the trace is searched for released mappings


def _mappings(pin: Any, system: System) -> list[MappingView] | None:
    """A WavePci stream's mappings (outstanding first, then the latest released), or None for a cyclic stream."""
    outstanding_list = getattr(pin, "mappings", None)
    if outstanding_list is None or not hasattr(pin, "bytes_mapped"):
        return None
    out = [
        MappingView(
            tag=int(_first(m, ("tag",), 0)),
            address=int(_first(m, ("physical", "address"), 0)),
            length=int(_first(m, ("length",), 0)),
            released=False,
            stream_offset=_first(m, ("stream_offset",), None),
            last=bool(_first(m, ("last",), False)),
        )
        for m in outstanding_list
    ]
    # The pin forgets a mapping once it is released; the trace still has the GetMapping that handed it out.
    outstanding = {(m.tag, m.address) for m in out}
    records = system.trace.records
    released: list[MappingView] = []
    for record in reversed(records[-_SCAN_RECORDS:]):
        if len(released) >= RECENT_MAPPINGS:
            break
        if not isinstance(record, CallRecord) or record.method != "GetMapping" or record.object != pin.object_id:
            continue
        values = record.out or {}
        if getattr(record.status, "name", "") != "STATUS_SUCCESS":
            continue
        tag = int(record.args.get("Tag", 0) or 0)
        address = int(values.get("PhysicalAddress", 0) or 0)
        if (tag, address) in outstanding:
            continue
        released.append(
            MappingView(tag, address, int(values.get("ByteCount", 0) or 0), True, last=bool(values.get("Flags")))
        )
    return out + released


def _first(obj: Any, names: tuple[str, ...], default: Any) -> Any:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


ENVELOPE_COLUMNS = 2048


class Envelope:
    """The waveform to draw: the samples themselves for a small buffer, else min/max per column ("peak").

    For a large buffer only the columns whose bytes changed are recomputed, so a frame costs
    the same for a 4 KiB and a 1 MiB buffer: the changed ranges come from the trace (CopyTo,
    Silence) and, while capturing, from the DMA position's progress.
    """

    def __init__(self, columns: int = ENVELOPE_COLUMNS) -> None:
        self.columns = columns
        self.key: tuple[int, ...] | None = None
        self.x = np.empty(0, dtype=np.float64)
        self.y = np.empty(0, dtype=np.float32)
        self._edges = np.zeros(1, dtype=np.int64)  # frame index where each column starts (+ the end)
        self._frame = 4
        self.raw = True
        self.version = 0

    def rebuild(self, system: System, view: BufferView) -> None:
        """Recompute everything (new buffer, jump, paused)."""
        self.key = (view.buffer_physical, view.allocated, view.sample_bits, view.channels)
        self._frame = max(1, view.channels) * (2 if view.sample_bits == 16 else 1)
        samples = read_samples(system, view)
        n = len(samples)
        self.raw = n <= 2 * self.columns
        if self.raw:
            self.x = sample_offsets(view, n)
            self.y = samples
        else:
            self._edges = np.linspace(0, n, self.columns + 1).astype(np.int64)
            starts = self._edges[:-1] * self._frame
            self.x = np.repeat(starts.astype(np.float64), 2)
            self.y = np.empty(2 * self.columns, dtype=np.float32)
            self._reduce(samples, 0, self.columns, 0)
        self.version += 1

    def _reduce(self, samples: np.ndarray, c0: int, c1: int, first_frame: int) -> None:
        """Min and max of ``samples`` (which start at frame ``first_frame``) into columns c0..c1."""
        local = self._edges[c0:c1] - first_frame
        self.y[2 * c0 : 2 * c1 : 2] = np.minimum.reduceat(samples, local)
        self.y[2 * c0 + 1 : 2 * c1 : 2] = np.maximum.reduceat(samples, local)

    def update(self, system: System, view: BufferView, changed: list[tuple[int, int]]) -> None:
        """Recompute the columns that hold the changed byte ranges."""
        key = (view.buffer_physical, view.allocated, view.sample_bits, view.channels)
        if key != self.key or self.raw:
            self.rebuild(system, view)
            return
        if not changed:
            return
        n_frames = int(self._edges[-1])
        for lo, hi in changed:
            f0, f1 = max(0, lo // self._frame), min(n_frames, -(-hi // self._frame))
            if f1 <= f0:
                continue
            c0 = max(0, int(np.searchsorted(self._edges, f0, side="right")) - 1)
            c1 = min(self.columns, int(np.searchsorted(self._edges, f1, side="left")))
            if c1 <= c0:
                continue
            part = BufferView(
                "cyclic",
                buffer_physical=view.buffer_physical + int(self._edges[c0]) * self._frame,
                allocated=int(self._edges[c1] - self._edges[c0]) * self._frame,
                sample_bits=view.sample_bits,
                channels=view.channels,
            )
            self._reduce(read_samples(system, part), c0, c1, int(self._edges[c0]))
        self.version += 1


def buffer_writes(records: list[Any], view: BufferView) -> list[tuple[int, int]]:
    """Byte ranges of the buffer that the calls in ``records`` wrote (CopyTo, Silence), clipped to the buffer."""
    lo_va, size = view.buffer_va, view.allocated
    out = []
    for record in records:
        if not isinstance(record, CallRecord):
            continue
        if record.method == "CopyTo":
            start, count = record.args.get("Destination"), record.args.get("ByteCount")
        elif record.method == "Silence":
            start, count = record.args.get("Buffer"), record.args.get("ByteCount")
        else:
            continue
        if not isinstance(start, int) or not isinstance(count, int):
            continue
        a, b = max(start - lo_va, 0), min(start - lo_va + count, size)
        if a < b:
            out.append((a, b))
    return out
