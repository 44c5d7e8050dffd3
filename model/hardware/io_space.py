"""The x86 I/O port space: which device answers each 8-bit port."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class PortDevice(Protocol):
    """A device that decodes I/O ports."""

    name: str

    def io_read(self, port: int) -> int: ...

    def io_write(self, port: int, value: int) -> None: ...

    def port_name(self, port: int) -> str: ...


@dataclass
class IoSpace:
    """Port number -> device. Unclaimed ports read 0xFF (a floating ISA bus) and ignore writes."""

    _ports: dict[int, PortDevice] = field(default_factory=dict)
    _names: dict[int, tuple[str, str]] = field(default_factory=dict)  # port names never change

    def claim(self, device: PortDevice, ports: range | list[int] | tuple[int, ...]) -> None:
        for port in ports:
            owner = self._ports.get(port)
            if owner is not None and owner is not device:
                raise ValueError(f"port 0x{port:X} already belongs to {owner.name}")
            self._ports[port] = device
            self._names.pop(port, None)

    def device_at(self, port: int) -> PortDevice | None:
        return self._ports.get(port)

    def read(self, port: int) -> int:
        device = self._ports.get(port)
        return 0xFF if device is None else device.io_read(port) & 0xFF

    def write(self, port: int, value: int) -> None:
        device = self._ports.get(port)
        if device is not None:
            device.io_write(port, value & 0xFF)

    def describe(self, port: int) -> tuple[str, str]:
        """(device name, register name) of a port, for the trace."""
        names = self._names.get(port)
        if names is None:
            device = self._ports.get(port)
            names = ("unclaimed", f"port 0x{port:X}") if device is None else (device.name, device.port_name(port))
            self._names[port] = names
        return names
