"""Progress of a continuously running transfer as a function of time.

A device that moves one unit per sample period does not tick: it keeps an *origin*
(time and units done at that time) and a rate, and the number of units due at any time
is origin_units + floor((t - origin) x rate). When the rate or the flow changes (start,
pause, a masked channel) the origin moves to the present.

A device's clocks share a ``ClockGroup`` that counts how many of them run, so the
simulator can skip the device's sync hook while none does.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.units import S


@dataclass(slots=True)
class ClockGroup:
    """How many of one device's clocks are running."""

    running: int = 0


@dataclass(slots=True)
class UnitClock:
    rate: int = 0  # units per second
    origin_ns: int = 0
    origin_units: int = 0
    running: bool = False
    group: ClockGroup | None = None

    def start(self, now_ns: int, units_done: int, rate: int) -> None:
        self.rate = rate
        self.origin_ns = now_ns
        self.origin_units = units_done
        self._set_running(rate > 0)

    def stop(self, now_ns: int, units_done: int) -> None:
        self.origin_ns = now_ns
        self.origin_units = units_done
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        if running != self.running:
            self.running = running
            if self.group is not None:
                self.group.running += 1 if running else -1

    def due(self, now_ns: int) -> int:
        """Units that should have completed by ``now_ns`` (counting from the stream start)."""
        if not self.running:
            return self.origin_units
        return self.origin_units + (now_ns - self.origin_ns) * self.rate // S

    def time_of(self, units: int) -> int:
        """Earliest time at which ``units`` units will have completed (must be running)."""
        k = units - self.origin_units
        if k <= 0:
            return self.origin_ns
        return self.origin_ns + -((-k * S) // self.rate)
