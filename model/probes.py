"""Side-effect-free readings of the model for views and breakpoints.

Reading a register through the I/O space has effects (the 8237 flip-flop toggles, a status
read clears TC bits) and is traced, so views never do that: they read the state directly.
"""

from __future__ import annotations

from typing import Any

from model.system import System


def buffer_position(pin: Any) -> int | None:
    """The DMA position as the hardware holds it now, in bytes.

    For a WaveCyclic stream, the offset in its cyclic buffer; for a WavePci stream, which has
    no cyclic buffer, the byte position in the stream (what GetPosition would return).
    """
    stream = getattr(pin, "stream", None)
    probe = getattr(stream, "probe_position", None)
    if callable(probe):
        return probe()
    return getattr(pin, "last_position", None)


def stream_positions(system: System) -> dict[str, int]:
    """The DMA position (see ``buffer_position``) of every open pin, by the pin's id."""
    system.sim.sync()
    out: dict[str, int] = {}
    for object_id, obj in system.objects.items():
        if hasattr(obj, "client") and hasattr(obj, "stream"):
            position = buffer_position(obj)
            if position is not None:
                out[object_id] = position
    return out
