"""The WaveCyclic port driver (IPortWaveCyclic) and its pin.

The pin moves data between the client's packets and the miniport's cyclic common buffer:
CopyTo for render, CopyFrom for capture, on every service-group DPC (portcls-contract.md
§3.1). Render keeps about 40 ms of data ahead of the play position and, when it has less
than about 30 ms of real data, writes silence after it so an underrun plays silence, not
stale data. Microsoft documents those figures but not the algorithm; ours is:

* positions come from the miniport's GetPosition; the bytes played since the last service
  are the difference modulo the buffer size, corrected by whole laps when the time since
  the last service says the DMA went round more than once (the port has the performance
  counter for that);
* when the play position has passed the end of the real data, the device is playing
  silence (or stale data): a glitch. The port re-anchors its write offset at the play
  position, and reports the glitch with its start time and length when real data resumes
  (or the stream stops);
* the buffer size and address are read from the DMA channel when the stream goes to RUN,
  so SetBufferSize changes nothing until the next RUN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from model.client.audio_client import AudioClient, Packet
from model.kernel.types import DMA_SPEED, DMA_WIDTH, KSSTATE, NTSTATUS, POOL_TYPE
from model.objects import ComObject, Out, implements, object_name
from model.portcls.resources import make_channel, master_description, slave_description
from model.trace import GlitchRecord, StateRecord
from model.units import MS
from model.wave_format import WaveFormat

if TYPE_CHECKING:
    from model.system import System

KS_ORDER = (KSSTATE.KSSTATE_STOP, KSSTATE.KSSTATE_ACQUIRE, KSSTATE.KSSTATE_PAUSE, KSSTATE.KSSTATE_RUN)


def ks_path(current: KSSTATE, target: KSSTATE) -> list[KSSTATE]:
    """The states a KS client steps through from ``current`` to ``target`` (excluding current)."""
    a, b = KS_ORDER.index(current), KS_ORDER.index(target)
    step = 1 if b > a else -1
    return [KS_ORDER[i] for i in range(a + step, b + step, step)] if a != b else []


def format_table(fmt: WaveFormat) -> dict[str, int]:
    return {"SamplesPerSec": fmt.sample_rate, "BitsPerSample": fmt.bits_per_sample, "Channels": fmt.channels}


def format_from_table(table: dict[str, Any] | WaveFormat) -> WaveFormat:
    """A KSDATAFORMAT table as a WaveFormat (ValueError/TypeError for what is not one)."""
    if isinstance(table, WaveFormat):
        return table
    if not isinstance(table, dict):
        raise TypeError(f"a data format is a table of SamplesPerSec, BitsPerSample, Channels, not {table!r}")
    return WaveFormat(
        int(table.get("SamplesPerSec", 48000)),
        int(table.get("BitsPerSample", 16)),
        int(table.get("Channels", 2)),
    )


class PortWaveCyclic(ComObject):
    interfaces: ClassVar[tuple[str, ...]] = ("IPortWaveCyclic",)
    kind: ClassVar[str] = "WaveCyclic port"

    def __init__(self, system: System, base_id: str = "port") -> None:
        super().__init__(system, base_id)
        self.miniport: Any = None
        self.device: Any = None
        self.resources: Any = None
        self.pins: list[WaveCyclicPin] = []

    # --- IPortWaveCyclic ---------------------------------------------------------------------
    def Init(
        self, DeviceObject: Any, Irp: Any, UnknownMiniport: Any, UnknownAdapter: Any, ResourceList: Any
    ) -> NTSTATUS:
        if UnknownMiniport is None or DeviceObject is None:
            self.system.violation("null-object", "IPort::Init needs a device object and a miniport")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        if not implements(UnknownMiniport, "IMiniportWaveCyclic"):
            # PortCls queries the miniport for IMiniportWaveCyclic and fails Init without it.
            self.system.violation("wrong-interface", f"{object_name(UnknownMiniport)} is not an IMiniportWaveCyclic")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        self.device, self.miniport, self.resources = DeviceObject, UnknownMiniport, ResourceList
        result = self.system.call(
            UnknownMiniport,
            "Init",
            {"UnknownAdapter": UnknownAdapter, "ResourceList": ResourceList, "Port": self},
        )
        return result.ntstatus

    def NewMasterDmaChannel(
        self,
        OuterUnknown: Any,
        ResourceList: Any,
        MaximumLength: int,
        Dma32BitAddresses: bool,
        Dma64BitAddresses: bool,
        DmaWidth: DMA_WIDTH,
        DmaSpeed: DMA_SPEED,
    ) -> Out:
        # ResourceList, DmaWidth and DmaSpeed are ignored, as documented.
        desc = master_description(MaximumLength, Dma32BitAddresses, Dma64BitAddresses)
        status, channel = make_channel(self.system, desc, self.device)
        return Out(status, {"DmaChannel": channel})

    def NewSlaveDmaChannel(
        self,
        OuterUnknown: Any,
        ResourceList: Any,
        DmaIndex: int,
        MaximumLength: int,
        DemandMode: bool,
        DmaSpeed: DMA_SPEED,
    ) -> Out:
        resources = ResourceList or self.resources
        channel_number = resources.dma_channel(DmaIndex) if resources is not None else None
        if channel_number is None:
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, {"DmaChannel": None})
        desc = slave_description(channel_number, MaximumLength, DemandMode, DmaSpeed)
        status, channel = make_channel(self.system, desc, self.device)
        return Out(status, {"DmaChannel": channel})

    def Notify(self, ServiceGroup: Any) -> None:
        if ServiceGroup is None:
            self.system.violation("null-object", "Notify(NULL): the miniport has no service group for this stream")
            return
        if not implements(ServiceGroup, "IServiceGroup"):
            self.system.violation("wrong-interface", f"Notify({object_name(ServiceGroup)}): not an IServiceGroup")
            return
        self.system.call(ServiceGroup, "RequestService")

    # --- pins (KS pin creation, not a PortCls method) --------------------------------------------
    def create_pin(self, client: AudioClient, pin_id: int = 0, base_id: str = "pin") -> WaveCyclicPin | None:
        pin = WaveCyclicPin(self, client, pin_id, base_id)
        if not pin.open():
            return None
        self.pins.append(pin)
        return pin

    def describe(self) -> dict[str, Any]:
        return {
            "miniport": getattr(self.miniport, "object_id", None),
            "pins": len(self.pins),
            "refcount": self.refcount,
        }

    def children(self) -> list[Any]:
        return [x for x in (self.miniport, *self.pins) if x is not None]


class WaveCyclicPin(ComObject):
    """A stream through the WaveCyclic port: the service sink the miniport's group calls."""

    interfaces: ClassVar[tuple[str, ...]] = ("IServiceSink", "KsPin")
    kind: ClassVar[str] = "WaveCyclic pin"

    def __init__(self, port: PortWaveCyclic, client: AudioClient, pin_id: int, base_id: str) -> None:
        super().__init__(port.system, base_id)
        self.port = port
        self.client = client
        self.pin_id = pin_id
        self.capture = client.capture
        self.format = client.format
        self.stream: Any = None
        self.dma: Any = None
        self.service_group: Any = None
        self.state = KSSTATE.KSSTATE_STOP
        self.frame_size = 0
        self.write_ahead_ns = 40 * MS
        self.silence_threshold_ns = 30 * MS
        self.buffer_va = 0
        self.buffer_size = 0
        self.queue: list[Packet] = []  # packets the client gave, in order
        self.last_position = 0  # buffer offset from the last GetPosition
        self.last_service_ns = 0
        self.play = 0  # bytes the device has played (recorded) since the stream left STOP
        self.data_end = 0  # render: stream offset just past the last real byte written
        self.silence_end = 0  # render: stream offset just past the silence written after it
        self.read = 0  # capture: stream offset of the next byte to copy out
        self.write_offset = 0  # buffer offset matching data_end (render) or read (capture)
        self.glitch_start: int | None = None  # stream offset where the current glitch began
        self.glitch_start_ns = 0
        self.glitches = 0
        self.bytes_copied = 0

    # --- open -------------------------------------------------------------------------------------
    def open(self) -> bool:
        with self.system.acting_as(self.object_id):
            return self._open()

    def _open(self) -> bool:
        system = self.system
        result = system.call(
            self.port.miniport,
            "NewStream",
            {
                "OuterUnknown": None,
                "PoolType": POOL_TYPE.NonPagedPool,
                "Pin": self.pin_id,
                "Capture": self.capture,
                "DataFormat": format_table(self.format),
            },
        )
        if result.status != NTSTATUS.STATUS_SUCCESS:
            return False
        self.stream = result.out.get("Stream")
        self.dma = result.out.get("DmaChannel")
        self.service_group = result.out.get("ServiceGroup")
        if self.service_group is not None:
            system.call(self.service_group, "AddMember", {"pServiceSink": self})
        freq = system.call(self.stream, "SetNotificationFreq", {"Interval": 10})
        self.frame_size = int(freq.out.get("FrameSize", 0))
        self._read_buffer()
        if self.buffer_va and self.buffer_size:
            system.call(self.stream, "Silence", {"Buffer": self.buffer_va, "ByteCount": self.buffer_size})
        self.client.connect(self)
        return True

    def _read_buffer(self) -> None:
        system = self.system
        self.buffer_size = int(system.call(self.dma, "BufferSize").value or 0)
        self.buffer_va = int(system.call(self.dma, "SystemAddress").value or 0)

    def submit(self, packet: Packet) -> None:
        """IOCTL_KS_WRITE_STREAM / READ_STREAM: queue a packet."""
        self.queue.append(packet)

    # --- IServiceSink --------------------------------------------------------------------------------
    def RequestService(self) -> None:
        if self.state != KSSTATE.KSSTATE_RUN or not self.buffer_size:
            return
        self._advance()
        if self.capture:
            self._drain()
        else:
            self._fill()

    def _position(self) -> int:
        result = self.system.call(self.stream, "GetPosition")
        return int(result.out.get("Position", 0)) % self.buffer_size if self.buffer_size else 0

    def _advance(self) -> None:
        """Account for what the device played (or recorded) since the last service."""
        now = self.system.now_ns
        pos = self._position()
        moved = (pos - self.last_position) % self.buffer_size
        expected = self.format.bytes_for(now - self.last_service_ns)
        if expected > self.buffer_size:
            # More than a lap went by unseen: add the whole laps the clock says we missed.
            moved += ((expected - moved) // self.buffer_size) * self.buffer_size
        self.last_position = pos
        self.last_service_ns = now
        self.play += moved

    # --- render ----------------------------------------------------------------------------------------
    def _fill(self) -> None:
        fmt = self.format
        if self.play > self.data_end:
            # The device ran past the real data: it is playing silence (or stale bytes).
            if self.glitch_start is None:
                self.glitch_start = self.data_end
                self.glitch_start_ns = self.system.now_ns - fmt.duration_of(self.play - self.data_end)
            self.write_offset = (self.write_offset + self.play - self.data_end) % self.buffer_size
            self.data_end = self.play
            self.silence_end = max(self.silence_end, self.data_end)
        target = min(self.play + fmt.bytes_for(self.write_ahead_ns), self.play + self.buffer_size - fmt.block_align)
        resume_at = self.data_end
        copied = self._copy_in(target - self.data_end)
        if copied and self.glitch_start is not None:
            self._report_glitch("underrun", resume_at)
        if self.data_end - self.play < fmt.bytes_for(self.silence_threshold_ns):
            self._pad_silence(target)

    def _copy_in(self, wanted: int) -> int:
        """CopyTo from the queued packets into the buffer at the write offset; returns bytes copied."""
        system = self.system
        done = 0
        while wanted - done >= self.format.block_align and self.queue:
            packet = self.queue[0]
            n = min(wanted - done, packet.length - packet.used, self.buffer_size - self.write_offset)
            n -= n % self.format.block_align
            if n <= 0:
                break
            system.call(
                self.dma,
                "CopyTo",
                {
                    "Destination": self.buffer_va + self.write_offset,
                    "Source": packet.va + packet.used,
                    "ByteCount": n,
                },
            )
            packet.used += n
            done += n
            self.write_offset = (self.write_offset + n) % self.buffer_size
            if packet.used >= packet.length:
                self.queue.pop(0)
                self.client.packet_completed(packet)
        self.data_end += done
        self.silence_end = max(self.silence_end, self.data_end)
        self.bytes_copied += done
        return done

    def _pad_silence(self, target: int) -> None:
        start = max(self.silence_end, self.data_end)
        if target <= start:
            return
        offset = (self.write_offset + start - self.data_end) % self.buffer_size
        left = target - start
        while left > 0:
            n = min(left, self.buffer_size - offset)
            self.system.call(self.stream, "Silence", {"Buffer": self.buffer_va + offset, "ByteCount": n})
            offset = (offset + n) % self.buffer_size
            left -= n
        self.silence_end = target

    def _report_glitch(self, cause: str, end: int) -> None:
        """Report the glitch that began at ``glitch_start`` and ends at stream offset ``end``."""
        start = self.glitch_start
        if start is None:
            return
        length = end - start
        self.glitch_start = None
        if length <= 0:
            return
        self.glitches += 1
        self.system.sim.emit(
            GlitchRecord(
                stream=self.object_id,
                cause=cause,
                start_ns=self.glitch_start_ns,
                length_ns=self.format.duration_of(length),
                bytes=length,
                offset=start,
            )
        )

    # --- capture -----------------------------------------------------------------------------------------
    def _drain(self) -> None:
        if self.play - self.read > self.buffer_size:
            # The device overwrote bytes nobody copied out: they are lost. While the client
            # gives no packets this happens at every service; it is one overrun, reported
            # once copying resumes (as an underrun is), from where the loss began.
            lost_from = self.read
            self.read = self.play - self.buffer_size + self.format.block_align
            self.read -= (self.read - lost_from) % self.format.block_align
            self.write_offset = (self.write_offset + self.read - lost_from) % self.buffer_size
            if self.glitch_start is None:
                self.glitch_start = lost_from
                self.glitch_start_ns = self.system.now_ns - self.format.duration_of(self.play - lost_from)
        resume_at = self.read
        system = self.system
        while self.play - self.read >= self.format.block_align and self.queue:
            packet = self.queue[0]
            n = min(self.play - self.read, packet.length - packet.used, self.buffer_size - self.write_offset)
            n -= n % self.format.block_align
            if n <= 0:
                break
            system.call(
                self.dma,
                "CopyFrom",
                {
                    "Destination": packet.va + packet.used,
                    "Source": self.buffer_va + self.write_offset,
                    "ByteCount": n,
                },
            )
            packet.used += n
            self.read += n
            self.bytes_copied += n
            self.write_offset = (self.write_offset + n) % self.buffer_size
            if self.glitch_start is not None:
                self._report_glitch("overrun", resume_at)
            if packet.used >= packet.length:
                self.queue.pop(0)
                self.client.packet_completed(packet)

    # --- KS state (KsPin) -----------------------------------------------------------------------------------
    def SetState(self, State: KSSTATE) -> NTSTATUS:
        """KSPROPERTY_CONNECTION_STATE: step through every state in between, as the KS client does."""
        for step in ks_path(self.state, State):
            status = self._step(step)
            if status != NTSTATUS.STATUS_SUCCESS:
                return status
        return NTSTATUS.STATUS_SUCCESS

    def _step(self, new: KSSTATE) -> NTSTATUS:
        system = self.system
        old = self.state
        frozen_at = self.last_position
        if new == KSSTATE.KSSTATE_RUN:
            self._read_buffer()
            self.last_service_ns = system.now_ns
            if not self.capture:
                self._fill()  # write ahead before the DMA starts
        status = system.call(self.stream, "SetState", {"State": new}).ntstatus
        if status != NTSTATUS.STATUS_SUCCESS:
            return status
        self.state = new
        system.sim.emit(StateRecord(object=self.object_id, what="KSSTATE", old=old, new=new))
        if new == KSSTATE.KSSTATE_ACQUIRE and old == KSSTATE.KSSTATE_STOP:
            self.client.start()  # the client queues its first packets before RUN
        if new == KSSTATE.KSSTATE_RUN:
            self.last_position = self._position()
            if self.last_position != frozen_at:
                self._discontinuity(frozen_at)
        elif old == KSSTATE.KSSTATE_RUN:
            self._advance()
            if self.glitch_start is not None:
                # A loss still open when the stream leaves RUN ends there: an underrun where
                # the device stopped playing, an overrun where reading would have resumed.
                if self.capture:
                    self._report_glitch("overrun", self.read)
                else:
                    self._report_glitch("underrun", max(self.play, self.data_end))
        if new == KSSTATE.KSSTATE_STOP:
            self._reset()
        return NTSTATUS.STATUS_SUCCESS

    def _discontinuity(self, frozen_at: int) -> None:
        """The position did not resume where it froze (the DMA restarted elsewhere on ->RUN).

        What the port had placed ahead of (render) or left behind (capture) the old position
        is no longer where the device is: it is lost. Report it, and carry on from the new
        position.
        """
        lost = self.data_end - self.play if not self.capture else self.play - self.read
        if lost > 0:
            self.glitches += 1
            self.system.sim.emit(
                GlitchRecord(
                    stream=self.object_id,
                    cause="discontinuity",
                    start_ns=self.system.now_ns,
                    length_ns=self.format.duration_of(lost),
                    bytes=lost,
                    offset=self.play,
                )
            )
        self.write_offset = self.last_position
        if self.capture:
            self.read = self.play
        else:
            self.data_end = self.silence_end = self.play
            self._fill()

    def _reset(self) -> None:
        """STOP: cancel the packets, silence the buffer, positions back to 0."""
        cancelled, self.queue = self.queue, []
        self.client.stop()
        self.client.packets_cancelled(cancelled)
        if self.buffer_va and self.buffer_size:
            self.system.call(self.stream, "Silence", {"Buffer": self.buffer_va, "ByteCount": self.buffer_size})
        self.play = self.data_end = self.silence_end = self.read = 0
        self.write_offset = self.last_position = 0
        self.glitch_start = None

    def GetPosition(self) -> Out:
        """KSPROPERTY_AUDIO_POSITION: render (play, write) or capture (record, read) offsets."""
        if self.capture:
            return Out(NTSTATUS.STATUS_SUCCESS, {"PlayOffset": self.play, "WriteOffset": self.read})
        return Out(NTSTATUS.STATUS_SUCCESS, {"PlayOffset": self.play, "WriteOffset": self.data_end})

    # --- views --------------------------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        fmt = self.format
        ahead = (self.data_end - self.play) if not self.capture else (self.play - self.read)
        return {
            "KSSTATE": self.state.name,
            "format": fmt.describe(),
            "buffer size (port's copy)": self.buffer_size,
            "play/record position": self.play,
            "write/read position": self.data_end if not self.capture else self.read,
            "ahead (ms)": round(fmt.duration_of(max(0, ahead)) / MS, 3),
            "glitches": self.glitches,
            "FrameSize": self.frame_size,
        }

    def children(self) -> list[Any]:
        return [x for x in (self.stream, self.service_group, self.client) if x is not None]
