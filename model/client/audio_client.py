"""The audio client: the application (and KMixer/SysAudio above the port) that feeds or drains a stream.

It owns a small pool of packet buffers in scattered physical pages (its locked I/O
buffers), fills them with a signal at a cadence and keeps a number of packets in flight
(render), or hands empty packets to the pin and collects what comes back (capture).
Starvation (no packets for an interval) and cadence jitter (seeded) are the faults it
can inject. The signal is a function of the stream offset, so what the device should have
played is always known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.hardware.audio_io import AudioSink
from model.hardware.memory import PageOwner
from model.kernel.virtual_memory import Mdl
from model.objects import ModelObject
from model.trace import MemoryRecord, NoteRecord
from model.wave_format import Signal, WaveFormat

if TYPE_CHECKING:
    from model.system import System


@dataclass
class Packet:
    """One I/O request (IRP) with its data buffer: KSSTREAM_HEADER.Data / FrameExtent."""

    number: int  # submission order
    buffer: int  # index of the client buffer it uses
    va: int
    length: int
    mdl: Mdl
    stream_offset: int  # where its first byte sits in the client's stream
    used: int = 0  # bytes the port consumed (render) or filled (capture)


@dataclass
class Starvation:
    start_ns: int
    end_ns: int


class AudioClient(ModelObject):
    """One client stream (render or capture)."""

    interfaces: ClassVar[tuple[str, ...]] = ()
    kind: ClassVar[str] = "audio client"

    def __init__(
        self,
        system: System,
        *,
        capture: bool,
        fmt: WaveFormat,
        signal: Signal | None = None,
        packet_ms: int = 10,
        packets_in_flight: int = 4,
        seed: int = 1,
        jitter_ns: int = 0,
        base_id: str = "client",
    ) -> None:
        super().__init__(system, base_id)
        self.capture = capture
        self.format = fmt
        self.signal = signal or Signal()
        self.packet_bytes = max(fmt.block_align, fmt.bytes_for(packet_ms * 1_000_000))
        self.cadence_ns = packet_ms * 1_000_000
        self.packets_in_flight = packets_in_flight
        self.jitter_ns = jitter_ns
        self.rng_state = seed & 0xFFFFFFFF or 1
        self.starvations: list[Starvation] = []
        self.pin: Any = None
        self.buffers: list[tuple[int, Mdl]] = []  # (va, mdl) per pooled buffer
        self.free_buffers: list[int] = []
        self.outstanding: list[Packet] = []
        self.submitted_bytes = 0  # render: stream bytes handed to the port
        self.completed_bytes = 0
        self.packets_submitted = 0
        self.packets_completed = 0
        self.received = AudioSink(f"{base_id} received")  # capture: what came back
        self.running = False
        self._tick_event: Any = None

    # --- setup -------------------------------------------------------------------------------
    def allocate_buffers(self) -> bool:
        """Lock a pool of packet buffers in scattered pages and map them (like a locked user buffer)."""
        system = self.system
        count = self.packets_in_flight + 2
        for i in range(count):
            allocation = system.machine.memory.allocate_scattered(
                self.packet_bytes,
                seed=self.rng_state + i,
                owner=PageOwner.CLIENT_BUFFER,
                label=f"{self.object_id} buffer {i}",
            )
            if allocation is None:
                return False
            mapping = system.kernel.address_space.map(allocation)
            mdl = system.kernel.address_space.mdl_for(f"{self.object_id}.buffer{i}", mapping.va, self.packet_bytes)
            self.buffers.append((mapping.va, mdl))
            self.free_buffers.append(i)
            system.sim.emit(
                MemoryRecord(
                    action="allocate",
                    address=allocation.base,
                    length=self.packet_bytes,
                    owner="CLIENT_BUFFER",
                    label=allocation.label,
                )
            )
        return True

    def connect(self, pin: Any) -> None:
        self.pin = pin

    # --- running ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Fill the pipeline now and keep it topped up every cadence."""
        if self.running:
            return
        self.running = True
        self._top_up()
        self._schedule_tick()

    def stop(self) -> None:
        self.running = False
        self.system.sim.cancel(self._tick_event)
        self._tick_event = None

    def starve(self, start_ns: int, end_ns: int) -> None:
        """Submit nothing between the two times (a fault injection)."""
        self.starvations.append(Starvation(start_ns, end_ns))

    def starving(self, t_ns: int) -> bool:
        return bool(self.starvations) and any(s.start_ns <= t_ns < s.end_ns for s in self.starvations)

    def _next_random(self) -> int:
        # xorshift32: deterministic, seeded, stored in the model state.
        x = self.rng_state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.rng_state = x
        return x

    def _schedule_tick(self) -> None:
        delay = self.cadence_ns
        if self.jitter_ns:
            delay += self._next_random() % (2 * self.jitter_ns + 1) - self.jitter_ns
        self._tick_event = self.system.sim.schedule_in(
            max(1, delay), self._tick, name="client packet", source=self.object_id
        )

    def _tick(self) -> None:
        self._tick_event = None
        if not self.running:
            return
        self._top_up()
        self._schedule_tick()

    def _top_up(self) -> None:
        if self.pin is None or self.starving(self.system.now_ns):
            return
        while len(self.outstanding) < self.packets_in_flight and self.free_buffers:
            self._submit()

    def _submit(self) -> None:
        system = self.system
        index = self.free_buffers.pop(0)
        va, mdl = self.buffers[index]
        packet = Packet(self.packets_submitted, index, va, self.packet_bytes, mdl, self.submitted_bytes)
        if not self.capture:
            data = self.signal.bytes_at(self.format, self.submitted_bytes, self.packet_bytes)
            system.kernel.address_space.write(va, data)
        self.submitted_bytes += self.packet_bytes
        self.packets_submitted += 1
        self.outstanding.append(packet)
        self.pin.submit(packet)

    def packet_completed(self, packet: Packet) -> None:
        """The port is done with a packet: render consumed it, capture filled it."""
        if packet not in self.outstanding:
            return  # completed twice, or not ours: never hand its buffer out twice
        self.outstanding.remove(packet)
        self.packets_completed += 1
        self.completed_bytes += packet.used
        if self.capture and packet.used:
            data = self.system.kernel.address_space.read(packet.va, packet.used)
            self.received.append(data, self.system.now_ns)
        self.free_buffers.append(packet.buffer)
        if self.running and not self.starving(self.system.now_ns):
            self._top_up()

    def packets_cancelled(self, packets: list[Packet], reason: str = "KSSTATE_STOP") -> None:
        """The port gave packets back unfinished (a STOP, a cancelled IRP); their buffers are free again."""
        mine = [p for p in packets if p in self.outstanding]
        for packet in mine:
            self.outstanding.remove(packet)
            self.free_buffers.append(packet.buffer)
        if mine:
            self.system.sim.emit(NoteRecord(text=f"{len(mine)} packets cancelled by {reason}", source=self.object_id))

    # --- checking ------------------------------------------------------------------------------------
    def expected(self, offset: int, length: int) -> np.ndarray:
        return self.signal.bytes_at(self.format, offset, length)

    def describe(self) -> dict[str, Any]:
        return {
            "direction": "capture" if self.capture else "render",
            "format": self.format.describe(),
            "signal": self.signal.kind.value,
            "packet bytes": self.packet_bytes,
            "in flight": len(self.outstanding),
            "submitted bytes": self.submitted_bytes,
            "completed bytes": self.completed_bytes,
        }
