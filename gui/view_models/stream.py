"""Which stream the window follows, and which piece of hardware moves its data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.system import System


def find_pins(system: System) -> list[Any]:
    """Every open pin (a port's stream object with a client), in id order."""
    pins = [obj for obj in system.objects.values() if hasattr(obj, "client") and hasattr(obj, "stream")]
    return sorted(pins, key=lambda p: p.object_id)


def pick_pin(system: System, pin_id: str | None) -> Any | None:
    """The pin called ``pin_id``, else the first one."""
    pins = find_pins(system)
    for pin in pins:
        if pin.object_id == pin_id:
            return pin
    return pins[0] if pins else None


def pin_format(pin: Any) -> Any:
    return getattr(pin, "format", None)


@dataclass(frozen=True)
class HardwareRef:
    """Where a stream's DMA happens: an 8237 channel, an HDA stream descriptor or an AC'97 box."""

    kind: str  # "8237", "hda", "ac97", "clock" (a device without DMA: position from time) or "none"
    channel: int | None = None  # 8237 channel number
    index: int | None = None  # HDA stream descriptor index
    box: str | None = None  # AC'97 box name (PO, PI, MC)

    @property
    def label(self) -> str:
        if self.kind == "8237":
            return f"8237 channel {self.channel}"
        if self.kind == "hda":
            return f"HD Audio stream {self.index}"
        if self.kind == "ac97":
            return f"AC'97 {self.box} bus master"
        if self.kind == "clock":
            return "the device's clock (no DMA engine: the miniport computes the position from time)"
        return "no DMA hardware"

    @property
    def unit(self) -> str:
        """The counter's unit, short enough for an axis label."""
        return {"8237": "bytes left", "ac97": "samples left"}.get(self.kind, "bytes")

    @property
    def counter_name(self) -> str:
        names = {
            "8237": "ReadCounter (bytes left)",
            "hda": "LPIB (bytes)",
            "ac97": "PICB (samples left)",
            "clock": "position (bytes)",
        }
        return names.get(self.kind, "counter")


NO_HARDWARE = HardwareRef("none")


def locate_hardware(system: System, pin: Any | None) -> HardwareRef:
    """The DMA engine that serves ``pin`` (its slave channel, else the bus master in use)."""
    machine = system.machine
    capture = bool(getattr(pin, "capture", False))
    dma = getattr(pin, "dma", None)
    adapter = getattr(dma, "adapter", None)
    if adapter is not None and getattr(adapter, "slave", False) and adapter.channel is not None:
        return HardwareRef("8237", channel=int(adapter.channel))
    hda = machine.hda
    candidates = [s for s in hda.streams if s.output != capture]
    for s in candidates:
        if s.bdl_address or s.cbl:
            return HardwareRef("hda", index=s.index)
    box = machine.ac97.box("PI" if capture else "PO")
    if box.bdbar:
        return HardwareRef("ac97", box=box.name)
    stream = getattr(pin, "stream", None)
    if stream is not None and dma is stream and hasattr(stream, "run_start_ns"):
        return HardwareRef("clock")
    return NO_HARDWARE


def clock_position(system: System, stream: Any) -> int:
    """A timer-driven virtual device's position in its buffer now, from its clock (as it computes it itself)."""
    cycle = int(getattr(stream, "cycle", 0) or getattr(stream, "buffer_size", 0) or 0)
    if not cycle:
        return 0
    moved = int(getattr(stream, "moved", 0))
    if getattr(getattr(stream, "state", None), "name", "") == "KSSTATE_RUN":
        elapsed = system.now_ns - int(getattr(stream, "run_start_ns", 0))
        moved = int(getattr(stream, "run_base", 0)) + stream.format.bytes_for(max(0, elapsed))
    return moved % cycle


def counter_value(system: System, hw: HardwareRef, pin: Any | None = None) -> int:
    """The transfer counter as the hardware holds it now (no port reads, no side effects)."""
    machine = system.machine
    if hw.kind == "clock":
        return clock_position(system, getattr(pin, "stream", None))
    if hw.kind == "8237" and hw.channel is not None:
        ch = machine.dma.channel(hw.channel)
        return ((ch.current_count + 1) & 0xFFFF) * ch.unit_bytes
    if hw.kind == "hda" and hw.index is not None:
        return int(machine.hda.streams[hw.index].lpib)
    if hw.kind == "ac97" and hw.box is not None:
        return int(machine.ac97.box(hw.box).picb)
    return 0


def counter_maximum(system: System, hw: HardwareRef, pin: Any | None = None) -> int:
    """The top of the counter's fixed axis."""
    machine = system.machine
    if hw.kind == "clock":
        stream = getattr(pin, "stream", None)
        return int(getattr(stream, "cycle", 0) or getattr(stream, "buffer_size", 0) or 1)
    if hw.kind == "8237" and hw.channel is not None:
        ch = machine.dma.channel(hw.channel)
        return ((ch.base_count + 1) & 0xFFFF or 0x10000) * ch.unit_bytes
    if hw.kind == "hda" and hw.index is not None:
        return int(machine.hda.streams[hw.index].cbl) or 1
    if hw.kind == "ac97" and hw.box is not None:
        box = machine.ac97.box(hw.box)
        return max(int(box.entry_samples), 1) if box.loaded else max(_ac97_largest_entry(system, box.bdbar), 1)
    return 1


def _ac97_largest_entry(system: System, bdbar: int) -> int:
    from model.hardware.ac97 import BD_ENTRY_BYTES, N_ENTRIES

    memory = system.machine.memory
    if not bdbar or bdbar + N_ENTRIES * BD_ENTRY_BYTES > memory.size:
        return 0
    raw = memory.read(bdbar, N_ENTRIES * BD_ENTRY_BYTES).view("<u4").reshape(N_ENTRIES, 2)
    return int((raw[:, 1] & 0xFFFF).max())


def buffer_position(pin: Any) -> int | None:
    """The DMA position in the pin's cyclic buffer (bytes), read from registers, not through calls."""
    from model.probes import buffer_position as probe

    try:
        return probe(pin)
    except Exception:  # a half-built stream (no channel yet) has no position
        return None
