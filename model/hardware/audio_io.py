"""Where a device's sound goes (a sink) and where a capture device's sound comes from (a source)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.wave_format import Signal, WaveFormat

if TYPE_CHECKING:
    from model.hardware.memory import PhysicalMemory

_FIRST_SIZE = 1 << 16


class AudioSink:
    """Everything a playback device fetched and played, in order, as bytes.

    Append-only with a growing numpy buffer; ``marks`` keeps (time, byte offset) at each
    append so a byte can be placed in time. A snapshot only remembers the lengths, and a
    rollback only shortens them: what lies beyond stays, so restoring a later snapshot
    (after a jump back, replay writes the same bytes again) finds it intact.
    """

    snapshot_persistent: ClassVar[bool] = True

    def __init__(self, name: str) -> None:
        self.name = name
        self._buffer = np.empty(_FIRST_SIZE, dtype=np.uint8)
        self.length = 0
        self.marks = 0
        self._mark_times: list[int] = []
        self._mark_offsets: list[int] = []

    def append(self, data: np.ndarray, t_ns: int) -> None:
        n = len(data)
        if n:
            self._room(n, t_ns)[:] = data

    def append_from(self, memory: PhysicalMemory, address: int, n: int, t_ns: int) -> None:
        """Append ``n`` bytes read straight out of physical memory at ``address``."""
        if n:
            memory.read_into(address, self._room(n, t_ns))

    def _room(self, n: int, t_ns: int) -> np.ndarray:
        """The next ``n`` bytes of the buffer, counted as played at ``t_ns``, for the caller to fill."""
        start = self.length
        end = start + n
        if end > len(self._buffer):
            # np.empty, not zeros: numpy asks for huge pages for large empty arrays, and a
            # 10-minute stream's 100 MiB then costs a few dozen page faults, not 25 000.
            grown = np.empty(max(end, 2 * len(self._buffer)), dtype=np.uint8)
            grown[:start] = self._buffer[:start]
            self._buffer = grown
        marks = self.marks
        if marks < len(self._mark_times):
            self._mark_times[marks] = t_ns
            self._mark_offsets[marks] = start
        else:
            self._mark_times.append(t_ns)
            self._mark_offsets.append(start)
        self.marks = marks + 1
        self.length = end
        return self._buffer[start:end]

    @property
    def data(self) -> np.ndarray:
        """Read-only view of the bytes played so far."""
        view = self._buffer[: self.length]
        view.flags.writeable = False
        return view

    @property
    def mark_times(self) -> list[int]:
        return self._mark_times[: self.marks]

    @property
    def mark_offsets(self) -> list[int]:
        return self._mark_offsets[: self.marks]

    def checkpoint(self) -> tuple[int, int]:
        return self.length, self.marks

    def rollback(self, state: tuple[int, int]) -> None:
        self.length, self.marks = state

    def digest_bytes(self) -> bytes:
        return hashlib.sha256(self._buffer[: self.length].tobytes()).digest()


@dataclass
class AudioSource:
    """A capture device's input: a signal, read in order from byte 0 on, in the device's format."""

    signal: Signal = field(default_factory=Signal)
    position: int = 0

    def take(self, fmt: WaveFormat, n_bytes: int) -> np.ndarray:
        data = self.signal.bytes_at(fmt, self.position, n_bytes)
        self.position += n_bytes
        return data

    def expected(self, fmt: WaveFormat, offset: int, n_bytes: int) -> np.ndarray:
        return self.signal.bytes_at(fmt, offset, n_bytes)

    def describe(self) -> dict[str, Any]:
        return {"signal": self.signal.kind.value, "position": self.position}
