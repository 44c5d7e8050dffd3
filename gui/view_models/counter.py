"""The transfer counter over simulated time: a ring buffer of samples, and event markers from the trace."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from model.trace import Record

# Marker lanes, bottom to top above the sawtooth (the panel gives each a symbol and colour).
LANES = ("terminal count / IOC", "interrupt", "DPC", "CopyTo / CopyFrom", "glitch", "violation")


class CounterHistory:
    """Fixed-capacity ring of (time, value) samples that hands out the latest samples as contiguous views.

    Every sample is written twice, at i and i + capacity, so the newest ``count`` samples
    are always one slice: no copy and no allocation per frame.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._t = np.zeros(2 * capacity, dtype=np.float64)
        self._v = np.zeros(2 * capacity, dtype=np.float64)
        self._head = 0
        self.count = 0
        self.version = 0  # bumps on every change, so the panel re-plots only when needed

    def clear(self) -> None:
        self._head = 0
        self.count = 0
        self.version += 1

    @property
    def last_time(self) -> float | None:
        return float(self._t[(self._head - 1) % self.capacity]) if self.count else None

    def append(self, t_ns: float, value: float) -> None:
        if self.count and t_ns <= self._t[(self._head - 1) % self.capacity]:
            if t_ns < self._t[(self._head - 1) % self.capacity]:
                self.truncate_after(t_ns)
            else:
                # Same instant (a step that moved no time): keep the newest reading only.
                self._head = (self._head - 1) % self.capacity
                self.count -= 1
        i = self._head
        self._t[i] = self._t[i + self.capacity] = t_ns
        self._v[i] = self._v[i + self.capacity] = value
        self._head = (i + 1) % self.capacity
        self.count = min(self.count + 1, self.capacity)
        self.version += 1

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(times in ns, values), oldest first; views into the ring, valid until the next append."""
        start = (self._head - self.count) % self.capacity
        return self._t[start : start + self.count], self._v[start : start + self.count]

    def truncate_after(self, t_ns: float) -> None:
        """Forget samples later than ``t_ns`` (after going back in time they belong to a future not yet re-run)."""
        times, _ = self.arrays()
        keep = int(np.searchsorted(times, t_ns, side="right"))
        if keep == self.count:
            return
        start = (self._head - self.count) % self.capacity
        self.count = keep
        self._head = (start + keep) % self.capacity
        self.version += 1


def lane_of(record: Record) -> int | None:
    """Which marker lane a record goes in, or None."""
    kind = record.kind
    if kind in ("terminal_count", "ioc"):
        return 0
    if kind == "interrupt":
        return 1 if getattr(record, "action", "") == "raise" else None
    if kind == "dpc":
        return 2 if getattr(record, "action", "") == "run" else None
    if kind == "call":
        return 3 if getattr(record, "method", "") in ("CopyTo", "CopyFrom") else None
    if kind == "glitch":
        return 4
    if kind == "violation":
        return 5
    return None


def marker_time(record: Record) -> int:
    """A glitch is drawn where it began; everything else where it was recorded."""
    if record.kind == "glitch":
        return int(getattr(record, "start_ns", record.t_ns))
    return record.t_ns


@dataclass
class MarkerHistory:
    """Marker times per lane for the records of the last ``window_ns``, kept up to date incrementally."""

    window_ns: int = 100_000_000
    lanes: list[list[float]] = field(default_factory=lambda: [[] for _ in LANES])
    seqs: list[list[int]] = field(default_factory=lambda: [[] for _ in LANES])
    end: int = 0  # records up to here are in the lanes
    version: int = 0

    def reset(self) -> None:
        self.lanes = [[] for _ in LANES]
        self.seqs = [[] for _ in LANES]
        self.end = -1
        self.version += 1

    def update(self, records: list[Record], now_ns: int) -> None:
        """Take in the records added since the last update (all of them from the window after a reset)."""
        present = len(records)
        oldest = now_ns - self.window_ns
        if self.end < 0 or self.end > present:
            self.lanes = [[] for _ in LANES]
            self.seqs = [[] for _ in LANES]
            self.end = bisect.bisect_left(records, oldest, key=lambda r: r.t_ns)
            self.version += 1
        if self.end < present:
            for record in records[self.end : present]:
                lane = lane_of(record)
                if lane is not None:
                    self.lanes[lane].append(marker_time(record))
                    self.seqs[lane].append(record.seq)
            self.end = present
            self.version += 1
        for i, times in enumerate(self.lanes):
            drop = bisect.bisect_left(times, oldest)
            if drop:
                del times[:drop]
                del self.seqs[i][:drop]
                self.version += 1
