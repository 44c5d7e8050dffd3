"""PLACEHOLDER: HD Audio controller (being written)."""

from __future__ import annotations

from typing import Any


class HdaController:
    MMIO_SIZE = 0x4000

    def __init__(self, sim: Any, memory: Any, interrupts: Any, *, irq: int = 11) -> None:
        self.name = "HDA"

    def mmio_read(self, offset: int, size: int) -> int:
        return 0

    def mmio_write(self, offset: int, value: int, size: int) -> None:
        pass

    def mmio_name(self, offset: int) -> str:
        return f"+0x{offset:X}"

    def sync(self, now_ns: int) -> None:
        pass
