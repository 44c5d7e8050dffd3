"""Where a stream's sound goes or comes from on each device: its sink (render) and source (capture)."""

from __future__ import annotations

from typing import Any

from model.hardware.audio_io import AudioSink, AudioSource


def device_io(topology: Any, pin: Any) -> tuple[AudioSink | None, AudioSource | None]:
    """(sink, source) of the device end of ``pin``'s stream.

    A miniport stream or miniport that keeps its own sink/source (the virtual device) is
    asked first; otherwise the hardware device behind the topology's device kind.
    """
    stream = getattr(pin, "stream", None)
    for holder in (stream, getattr(stream, "miniport", None)):
        sink = getattr(holder, "sink", None)
        source = getattr(holder, "source", None)
        if isinstance(sink, AudioSink) or isinstance(source, AudioSource):
            return _typed(sink, AudioSink), _typed(source, AudioSource)
    machine = topology.system.machine
    kind = topology.kind.name
    if kind == "sb16":
        return machine.sb16.sink, machine.sb16.source
    if kind == "hda":
        descriptor = getattr(stream, "descriptor", None)
        if descriptor is not None and 0 <= descriptor < len(machine.hda.streams):
            hw = machine.hda.streams[descriptor]
            return _typed(getattr(hw, "sink", None), AudioSink), _typed(getattr(hw, "source", None), AudioSource)
    if kind == "ac97":
        boxes = machine.ac97.boxes
        out = boxes.get("PO")
        inp = boxes.get("PI")
        return _typed(getattr(out, "sink", None), AudioSink), _typed(getattr(inp, "source", None), AudioSource)
    return None, None


def _typed(value: Any, cls: type) -> Any:
    return value if isinstance(value, cls) else None


def device_bytes(topology: Any) -> int:
    """Bytes the devices moved by DMA: everything played into sinks plus everything recorded from sources."""
    seen: set[int] = set()
    total = 0
    for pin in topology.pins:
        for io in device_io(topology, pin):
            if io is None or id(io) in seen:
                continue
            seen.add(id(io))
            total += io.length if isinstance(io, AudioSink) else io.position
    return total
