"""Where a device's sound goes (a sink) and where a capture device's sound comes from (a source)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from model.wave_format import Signal, WaveFormat


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
        self._buffer = np.zeros(1 << 16, dtype=np.uint8)
        self.length = 0
        self.marks = 0
        self._mark_times: list[int] = []
        self._mark_offsets: list[int] = []

    def append(self, data: np.ndarray, t_ns: int) -> None:
        n = len(data)
        if n == 0:
            return
        end = self.length + n
        if end > len(self._buffer):
            grown = np.zeros(max(end, 2 * len(self._buffer)), dtype=np.uint8)
            grown[: self.length] = self._buffer[: self.length]
            self._buffer = grown
        self._buffer[self.length : end] = data
        if self.marks < len(self._mark_times):
            self._mark_times[self.marks] = t_ns
            self._mark_offsets[self.marks] = self.length
        else:
            self._mark_times.append(t_ns)
            self._mark_offsets.append(self.length)
        self.marks += 1
        self.length = end

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
