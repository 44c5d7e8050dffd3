"""What several miniports share."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.kernel.virtual_memory import PageFault

if TYPE_CHECKING:
    from model.system import System


def fill_silence(system: System, va: int, count: int, value: int) -> None:
    """IMiniportWaveCyclicStream::Silence: write ``value`` over ``count`` bytes at kernel address ``va``."""
    if count <= 0:
        return
    try:
        system.kernel.address_space.write(va, np.full(count, value, dtype=np.uint8))
    except PageFault as fault:
        system.violation("page-fault", f"Silence writes to {fault.va:#x}, where nothing is mapped")
