"""PLACEHOLDER: AC'97 controller (being written)."""

from __future__ import annotations

from typing import Any


class Ac97Controller:
    def __init__(
        self, sim: Any, memory: Any, interrupts: Any, *, nam_base: int, nabm_base: int, irq: int
    ) -> None:
        self.name = "AC97"

    def ports(self) -> list[int]:
        return []

    def io_read(self, port: int) -> int:
        return 0xFF

    def io_write(self, port: int, value: int) -> None:
        pass

    def port_name(self, port: int) -> str:
        return ""

    def sync(self, now_ns: int) -> None:
        pass
