"""The one wake-up a clock-driven device keeps at its next real event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from model.simulator import Event, Simulator


@dataclass
class WakeUp:
    """A device's single scheduled event, moved whenever the device's next boundary moves.

    The event itself does nothing: the simulator syncs every device before running it, and
    that sync does the work and normally moves the wake-up on. ``rearm`` (the device's own
    scheduling method) runs only if it did not.
    """

    sim: Simulator
    source: str
    rearm: Callable[[], None]
    event: Event | None = None
    time_ns: int = -1

    def set(self, target_ns: int, name: str) -> None:
        """Wake at ``target_ns`` (-1: not at all)."""
        if target_ns == self.time_ns:
            return
        if self.event is not None:
            self.event.cancelled = True
        self.event, self.time_ns = None, target_ns
        if target_ns >= 0:
            self.event = self.sim.schedule_at(target_ns, self._fire, name=name, source=self.source)

    def _fire(self) -> None:
        if self.time_ns <= self.sim.now_ns:
            self.event, self.time_ns = None, -1
            self.rearm()
