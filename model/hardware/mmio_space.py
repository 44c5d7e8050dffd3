"""Memory-mapped register ranges of PCI devices (above physical RAM)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class MmioDevice(Protocol):
    name: str

    def mmio_read(self, offset: int, size: int) -> int: ...

    def mmio_write(self, offset: int, value: int, size: int) -> None: ...

    def mmio_name(self, offset: int) -> str: ...


@dataclass
class MmioSpace:
    """(base, length, device) ranges. Unclaimed reads return all ones."""

    _ranges: list[tuple[int, int, MmioDevice]] = field(default_factory=list)

    def claim(self, device: MmioDevice, base: int, length: int) -> None:
        for b, n, d in self._ranges:
            if base < b + n and b < base + length:
                raise ValueError(f"MMIO 0x{base:X}+0x{length:X} overlaps {d.name}")
        self._ranges.append((base, length, device))

    def find(self, address: int) -> tuple[MmioDevice, int] | None:
        for base, length, device in self._ranges:
            if base <= address < base + length:
                return device, address - base
        return None

    def read(self, address: int, size: int) -> int:
        found = self.find(address)
        if found is None:
            return (1 << (8 * size)) - 1
        device, offset = found
        return device.mmio_read(offset, size) & ((1 << (8 * size)) - 1)

    def write(self, address: int, value: int, size: int) -> None:
        found = self.find(address)
        if found is not None:
            device, offset = found
            device.mmio_write(offset, value & ((1 << (8 * size)) - 1), size)

    def describe(self, address: int) -> tuple[str, str]:
        found = self.find(address)
        if found is None:
            return "unclaimed", f"MMIO 0x{address:X}"
        device, offset = found
        return device.name, device.mmio_name(offset)
