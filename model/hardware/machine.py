"""The simulated PC: clock, memory, port and MMIO space, interrupts, the 8237 pair and the sound devices.

This is the scripting surface of the hardware layer. A DOS-style program drives it with
``io_write``/``io_read`` exactly as real code would, advances time with ``run_for``, and
inspects memory with ``phys_read``. Every access from outside first brings running
devices up to the present, so what it sees is what the hardware would show at that time.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from model import snapshot
from model.hardware.ac97 import Ac97Controller
from model.hardware.dma_controller import DmaControllerPair
from model.hardware.hda import HdaController
from model.hardware.interrupts import InterruptController
from model.hardware.io_space import IoSpace
from model.hardware.memory import PhysicalMemory
from model.hardware.mmio_space import MmioSpace
from model.hardware.sb16 import SoundBlaster16
from model.simulator import Event, Simulator
from model.trace import RegisterRecord, Trace

MiB = 1024 * 1024


@dataclass(frozen=True)
class MachineConfig:
    """What the PC is built with. Defaults: 64 MiB, SB16 at 0x220/IRQ 5/DMA 1 and 5."""

    memory_size: int = 64 * MiB
    isr_latency_ns: int = 2_000
    sb16_base: int = 0x220
    sb16_irq: int = 5
    sb16_dma8: int = 1
    sb16_dma16: int = 5
    hda_mmio_base: int = 0xFEBF0000
    hda_irq: int = 11
    ac97_nam_base: int = 0xD000
    ac97_nabm_base: int = 0xD100
    ac97_irq: int = 10
    record_register_reads: bool = True


@dataclass
class Machine:
    """A PC/AT-style machine with an SB16, an HD Audio controller and an AC'97 controller."""

    config: MachineConfig = field(default_factory=MachineConfig)
    sim: Simulator = field(init=False)
    memory: PhysicalMemory = field(init=False)
    io: IoSpace = field(init=False)
    mmio: MmioSpace = field(init=False)
    interrupts: InterruptController = field(init=False)
    dma: DmaControllerPair = field(init=False)
    sb16: SoundBlaster16 = field(init=False)
    hda: HdaController = field(init=False)
    ac97: Ac97Controller = field(init=False)

    def __post_init__(self) -> None:
        cfg = self.config
        self.sim = Simulator()
        self.memory = PhysicalMemory(cfg.memory_size)
        self.io = IoSpace()
        self.mmio = MmioSpace()
        self.interrupts = InterruptController(self.sim, cfg.isr_latency_ns)
        self.dma = DmaControllerPair(self.sim, self.memory)
        self.io.claim(self.dma, self.dma.ports())
        self.dma.power_on()
        self.sb16 = SoundBlaster16(
            self.sim,
            self.dma,
            self.interrupts,
            base=cfg.sb16_base,
            irq=cfg.sb16_irq,
            dma8=cfg.sb16_dma8,
            dma16=cfg.sb16_dma16,
        )
        self.io.claim(self.sb16, self.sb16.ports())
        self.hda = HdaController(self.sim, self.memory, self.interrupts, irq=cfg.hda_irq)
        self.mmio.claim(self.hda, cfg.hda_mmio_base, self.hda.MMIO_SIZE)
        self.ac97 = Ac97Controller(
            self.sim,
            self.memory,
            self.interrupts,
            nam_base=cfg.ac97_nam_base,
            nabm_base=cfg.ac97_nabm_base,
            irq=cfg.ac97_irq,
        )
        self.io.claim(self.ac97, self.ac97.ports())
        for device in (self.sb16, self.hda, self.ac97):
            self.sim.add_sync_hook(device.sync, device.clocks)

    # --- time -----------------------------------------------------------------------
    @property
    def now_ns(self) -> int:
        return self.sim.now_ns

    @property
    def trace(self) -> Trace:
        return self.sim.trace

    def step(self) -> Event | None:
        return self.sim.step()

    def run_until(self, t_ns: int) -> int:
        return self.sim.run_until(t_ns)

    def run_for(self, duration_ns: int) -> int:
        return self.sim.run_for(duration_ns)

    # --- ports and registers ------------------------------------------------------------
    # The CPU decodes only the low 16 bits of DX for a port and drives only AL (AX, EAX) for
    # the data, so higher bits are dropped here exactly as they are by IN and OUT; an MMIO
    # address is 32 bits wide. Checks start with ``type(x) is int``: these run several times
    # per simulated interrupt, and a plain int is what every caller in the model passes.
    def io_write(self, port: int, value: int) -> None:
        """Write an 8-bit value to an I/O port, as OUT would (port & 0xFFFF, value & 0xFF)."""
        if type(port) is not int:
            port = _integer(port, "port", "an I/O port number")
        if type(value) is not int:
            value = _integer(value, "value", "a byte value")
        port &= 0xFFFF
        value &= 0xFF
        sim = self.sim
        sim.sync()
        device, register = self.io.describe(port)
        sim.record(RegisterRecord, device, port, register, "write", value)
        self.io.write(port, value)

    def io_read(self, port: int) -> int:
        """Read an 8-bit value from an I/O port, as IN would (port & 0xFFFF)."""
        if type(port) is not int:
            port = _integer(port, "port", "an I/O port number")
        port &= 0xFFFF
        sim = self.sim
        sim.sync()
        value = self.io.read(port)
        if self.config.record_register_reads:
            device, register = self.io.describe(port)
            sim.record(RegisterRecord, device, port, register, "read", value)
        return value

    def io_write16(self, port: int, value: int) -> None:
        """16-bit OUT: the low byte to ``port``, the high byte to ``port + 1`` (wrapping at 0xFFFF)."""
        if type(port) is not int:
            port = _integer(port, "port", "an I/O port number")
        if type(value) is not int:
            value = _integer(value, "value", "a 16-bit value")
        self.io_write(port, value & 0xFF)
        self.io_write(port + 1, (value >> 8) & 0xFF)

    def io_read16(self, port: int) -> int:
        if type(port) is not int:
            port = _integer(port, "port", "an I/O port number")
        return self.io_read(port) | (self.io_read(port + 1) << 8)

    def io_write32(self, port: int, value: int) -> None:
        if type(port) is not int:
            port = _integer(port, "port", "an I/O port number")
        if type(value) is not int:
            value = _integer(value, "value", "a 32-bit value")
        for i in range(4):
            self.io_write(port + i, (value >> (8 * i)) & 0xFF)

    def io_read32(self, port: int) -> int:
        if type(port) is not int:
            port = _integer(port, "port", "an I/O port number")
        return sum(self.io_read(port + i) << (8 * i) for i in range(4))

    def mmio_write(self, address: int, value: int, size: int = 4) -> None:
        """Write ``size`` bytes (1, 2 or 4) at a 32-bit MMIO address; the value is cut to ``size`` bytes."""
        if type(address) is not int:
            address = _integer(address, "address", "an MMIO address")
        if type(value) is not int:
            value = _integer(value, "value", "a register value")
        size = _access_size(size)
        address &= 0xFFFFFFFF
        value &= (1 << (8 * size)) - 1
        sim = self.sim
        sim.sync()
        device, register = self.mmio.describe(address)
        sim.record(RegisterRecord, device, address, register, "write", value, "mmio", 8 * size)
        self.mmio.write(address, value, size)

    def mmio_read(self, address: int, size: int = 4) -> int:
        """Read ``size`` bytes (1, 2 or 4) at a 32-bit MMIO address."""
        if type(address) is not int:
            address = _integer(address, "address", "an MMIO address")
        size = _access_size(size)
        address &= 0xFFFFFFFF
        sim = self.sim
        sim.sync()
        value = self.mmio.read(address, size)
        if self.config.record_register_reads:
            device, register = self.mmio.describe(address)
            sim.record(RegisterRecord, device, address, register, "read", value, "mmio", 8 * size)
        return value

    # --- memory -------------------------------------------------------------------------
    def phys_read(self, address: int, length: int) -> np.ndarray:
        self.sim.sync()
        return self.memory.read(address, length)

    def phys_write(self, address: int, data: np.ndarray | bytes | bytearray) -> None:
        self.sim.sync()
        self.memory.write(address, data)

    def predict_terminal_count(self, channel: int) -> int | None:
        """When the device pulling on system DMA ``channel`` will bring it to terminal count."""
        self.sim.sync()
        return self.sb16.predict_terminal_count(channel)

    # --- interrupts -------------------------------------------------------------------------
    def connect_interrupt(self, irq: int, handler: Callable[[int], None] | None) -> None:
        """Install a service routine for ``irq`` (a bound method if the machine is to be snapshotted)."""
        self.interrupts.connect(irq, handler)

    # --- state ------------------------------------------------------------------------------
    def snapshot(self) -> snapshot.Snapshot:
        return snapshot.take(self)

    def restore(self, snap: snapshot.Snapshot) -> None:
        snapshot.restore(self, snap)

    def state_digest(self) -> str:
        return snapshot.digest(self)


def _integer(value: object, name: str, what: str) -> int:
    """The slow path of the argument checks: integer-like values (IntEnum, NumPy) pass as plain ints.

    A bool is refused although Python counts it as an int: ``io_write(port, True)`` is
    almost certainly a mistake, not the value 1.
    """
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError(f"{name} must be an int ({what}), not {type(value).__name__} {value!r}")
    return operator.index(value)


def _access_size(size: object) -> int:
    if type(size) is not int and not isinstance(size, bool) and hasattr(type(size), "__index__"):
        size = operator.index(size)
    if type(size) is not int or size not in (1, 2, 4):
        raise ValueError(f"size must be 1, 2 or 4 (bytes), not {size!r}")
    return size
