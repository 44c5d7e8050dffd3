"""PCM wave formats (the WAVEFORMATEX fields the model uses) and test signals.

Signals are functions of the byte offset in the stream, so any stretch of a stream can be
generated on demand and a client never needs to keep what it wrote: to check what the
device played, the expected bytes are generated again.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

import numpy as np

from model.units import S


@dataclass(frozen=True, slots=True)
class WaveFormat:
    """PCM format: 8-bit samples are unsigned, 16-bit samples signed little-endian."""

    sample_rate: int = 48_000
    bits_per_sample: int = 16
    channels: int = 2

    def __post_init__(self) -> None:
        if self.bits_per_sample not in (8, 16):
            raise ValueError(f"bits_per_sample must be 8 or 16, got {self.bits_per_sample}")
        if self.channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {self.channels}")
        if not 5_000 <= self.sample_rate <= 48_000:
            raise ValueError(f"sample_rate must be 5000..48000 Hz, got {self.sample_rate}")

    @property
    def sample_bytes(self) -> int:
        return self.bits_per_sample // 8

    @property
    def block_align(self) -> int:
        return self.sample_bytes * self.channels

    @property
    def bytes_per_second(self) -> int:
        return self.block_align * self.sample_rate

    @property
    def silence_byte(self) -> int:
        return 0x80 if self.bits_per_sample == 8 else 0x00

    def bytes_for(self, duration_ns: int) -> int:
        """Whole frames' worth of bytes played in ``duration_ns`` (floored)."""
        frames = duration_ns * self.sample_rate // S
        return frames * self.block_align

    def duration_of(self, n_bytes: int) -> int:
        """Nanoseconds it takes to play ``n_bytes`` (floored)."""
        return n_bytes * S // self.bytes_per_second

    def describe(self) -> str:
        return f"{self.bits_per_sample}-bit {'stereo' if self.channels == 2 else 'mono'} {self.sample_rate} Hz"


class SignalKind(enum.StrEnum):
    SILENCE = "silence"
    SINE = "sine"
    RAMP = "ramp"  # sample n of the stream has value n (wrapping): every sample identifiable
    NOISE = "noise"  # seeded pseudo-random: no two stretches alike


@dataclass(frozen=True, slots=True)
class Signal:
    kind: SignalKind = SignalKind.RAMP
    frequency_hz: float = 440.0
    amplitude: float = 0.5
    seed: int = 1

    def bytes_at(self, fmt: WaveFormat, offset: int, length: int) -> np.ndarray:
        """Bytes ``offset`` .. ``offset+length`` of this signal in format ``fmt``."""
        if length <= 0:
            return np.empty(0, dtype=np.uint8)
        if self.kind in _PERIODIC and length <= _PERIOD_BYTES:
            start = offset % _PERIOD_BYTES
            return _period_table(self.kind, fmt.bits_per_sample)[start : start + length].copy()
        return self._compute(fmt, offset, length)

    def _compute(self, fmt: WaveFormat, offset: int, length: int) -> np.ndarray:
        sb = fmt.sample_bytes
        first_sample = offset // sb
        last_sample = (offset + length - 1) // sb
        n = np.arange(first_sample, last_sample + 1, dtype=np.int64)
        samples = self._samples(fmt, n)
        raw = samples.astype(np.uint8) if sb == 1 else samples.astype("<i2").view(np.uint8)
        start = offset - first_sample * sb
        return np.ascontiguousarray(raw[start : start + length])

    def _samples(self, fmt: WaveFormat, n: np.ndarray) -> np.ndarray:
        """Sample values for sample indices ``n`` (interleaved channels)."""
        eight = fmt.bits_per_sample == 8
        if self.kind == SignalKind.SILENCE:
            return np.full(len(n), 128 if eight else 0, dtype=np.int64)
        if self.kind == SignalKind.RAMP:
            return n & 0xFF if eight else ((n & 0xFFFF) ^ 0x8000) - 0x8000
        if self.kind == SignalKind.NOISE:
            # A stateless integer hash of the sample index (splitmix-like), seeded.
            # The seed's offset in Python integers: numpy scalar arithmetic would warn on the
            # (intended) 64-bit wrap for any seed above 1.
            offset = np.uint64((self.seed * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
            x = n.astype(np.uint64) + offset
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            x = x ^ (x >> np.uint64(31))
            v = (x >> np.uint64(48)).astype(np.int64)
            return v >> 8 if eight else v - 0x8000
        frame = n // fmt.channels
        phase = 2 * np.pi * self.frequency_hz * frame / fmt.sample_rate
        wave = np.sin(phase) * self.amplitude
        if eight:
            return np.round(wave * 127 + 128).astype(np.int64)
        return np.round(wave * 32767).astype(np.int64)


# Signals whose bytes repeat with a period dividing _PERIOD_BYTES whatever the format: a ramp
# repeats every 2^bits samples (256 bytes at 8 bits, 128 KiB at 16), silence every sample.
_PERIODIC = frozenset({SignalKind.RAMP, SignalKind.SILENCE})
_PERIOD_BYTES = 1 << 17


@functools.cache
def _period_table(kind: SignalKind, bits: int) -> np.ndarray:
    """Two periods of a periodic signal, so that any stretch up to a period long is one slice."""
    table = Signal(kind)._compute(WaveFormat(48_000, bits, 1), 0, 2 * _PERIOD_BYTES)
    table.flags.writeable = False
    return table
