"""The WavePci port driver (IPortWavePci) and its pin, which is also the IPortWavePciStream.

No copying: the miniport's bus master reads (render) or writes (capture) the client's own
locked pages. The pin cuts every client packet (IRP) into *mappings*, physically
contiguous pieces, and hands them out one at a time through GetMapping, tagged by the
miniport; the miniport gives them back, in order, with ReleaseMapping when its hardware is
done (portcls-contract.md §1.6, §4.1). Choices where the reference is silent:

* A mapping ends at the end of the packet, where the next physical page is not adjacent
  to the last, or when it would touch a 17th page (fact 34: never more than 16 pages).
  ReactOS never crosses a page at all (fact 61); Microsoft allows adjacent pages, so we
  merge them. The HAL decides contiguity: each mapping is the result of the master
  adapter's MapTransfer (S/G bus masters on PCI need no map registers, so
  MapRegisterBase is NULL), and FlushAdapterBuffers runs before a packet is completed.
* The packet is one allocator frame: the framing the miniport prefers (GetAllocatorFraming)
  is a preference SysAudio may override, and the client sizes its packets itself, so the
  pin does not cut packets at frame boundaries as well.
* Packets complete in the order they were submitted, once every mapping of the packet has
  been released. An out-of-order ReleaseMapping is reported ("release-order") and still
  accepted, as ReactOS tolerates it; the mapping it names is the one released.
* MappingAvailable is owed after a refused GetMapping (fact 31) and paid when the next
  packet arrives. When the packet arrives inside a call from the miniport (a render
  packet resubmitted from ReleaseMapping's completion), the call is deferred, not made
  re-entrantly: to the end of the service pass when it happens in one (after the
  stream's Service returns), otherwise to a DPC; and it is skipped if the miniport has
  meanwhile taken a mapping anyway.
* KSSTATE_STOP: the client stops submitting, the miniport's SetState(STOP) runs, then the
  pin revokes every outstanding mapping with RevokeMappings(FirstTag, LastTag), one call
  per run of outstanding tags in acquisition order (fact 35), holding its lock at
  DISPATCH_LEVEL as the method requires. Render packets still held are cancelled back to
  the client; a capture packet with data in it is completed with what it has (a RUN→STOP
  terminates the current packet), the rest are cancelled. Positions go back to 0.
* If NewStream returned no service group, the pin runs its own periodic 20 ms kernel
  timer while in RUN (fact 36); its DPC services the stream like a group's DPC would.
* The DmaChannel NewStream returns is stored and never touched (fact 37); mappings use
  the adapter of the channel the port itself made in NewMasterDmaChannel.
* Glitches: the port cannot hear the DAC. Like the WaveCyclic pin, the pin reports them
  as the simulator's observer: on every service and when it leaves RUN it asks the
  miniport stream's model-only ``device_xruns()`` hook (not a PortCls method) for the
  stretches its DMA engine starved (render) or overflowed (capture), and reports each
  finished one once, with its start time and length. ``offset`` is the stream offset
  the pin had got back (released) when it first saw the stretch, which for a miniport
  that releases the last entry only after the engine halted on it (the AC'97 sample
  does) is exactly where the glitch sits in the stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from model.client.audio_client import AudioClient, Packet
from model.kernel.dma_adapter import pci_bus_master_table
from model.kernel.types import DMA_SPEED, DMA_WIDTH, KSSTATE, NTSTATUS, PAGE_SIZE, POOL_TYPE
from model.objects import ComObject, Out, implements, object_name
from model.portcls.port_wavecyclic import format_table, ks_path
from model.portcls.resources import make_channel, master_description
from model.trace import GlitchRecord, NoteRecord, StateRecord
from model.units import MS

if TYPE_CHECKING:
    from model.system import System

MAX_MAPPING_PAGES = 16  # fact 34
PORT_TIMER_PERIOD_NS = 20 * MS  # fact 36
_NOT_FOUND_OUT = {"PhysicalAddress": 0, "VirtualAddress": 0, "ByteCount": 0, "Flags": 0}


class PortWavePci(ComObject):
    """IPortWavePci; also the service sink of the miniport-wide service group, as in ReactOS."""

    interfaces: ClassVar[tuple[str, ...]] = ("IPortWavePci", "IServiceSink")
    kind: ClassVar[str] = "WavePci port"

    def __init__(self, system: System, base_id: str = "port") -> None:
        super().__init__(system, base_id)
        self.miniport: Any = None
        self.device: Any = None
        self.resources: Any = None
        self.service_group: Any = None  # the miniport-wide group from IMiniportWavePci::Init
        self.channels: list[Any] = []  # channels made by NewMasterDmaChannel, oldest first
        self.pins: list[WavePciPin] = []

    # --- IPortWavePci ------------------------------------------------------------------------
    def Init(
        self, DeviceObject: Any, Irp: Any, UnknownMiniport: Any, UnknownAdapter: Any, ResourceList: Any
    ) -> NTSTATUS:
        system = self.system
        if UnknownMiniport is None or DeviceObject is None:
            system.violation("null-object", "IPort::Init needs a device object and a miniport")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        if not implements(UnknownMiniport, "IMiniportWavePci"):
            system.violation("wrong-interface", f"{object_name(UnknownMiniport)} is not an IMiniportWavePci")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        self.device, self.miniport, self.resources = DeviceObject, UnknownMiniport, ResourceList
        result = system.call(
            UnknownMiniport,
            "Init",
            {"UnknownAdapter": UnknownAdapter, "ResourceList": ResourceList, "Port": self},
        )
        if result.status != NTSTATUS.STATUS_SUCCESS:
            return result.ntstatus
        group = result.out.get("ServiceGroup")
        if group is not None:
            # A miniport-wide group: its DPC reaches IMiniportWavePci::Service through us.
            self.service_group = group
            system.call(group, "AddMember", {"pServiceSink": self})
        return NTSTATUS.STATUS_SUCCESS

    def NewMasterDmaChannel(
        self,
        OuterUnknown: Any,
        PoolType: POOL_TYPE,
        ResourceList: Any,
        ScatterGather: bool,
        Dma32BitAddresses: bool,
        Dma64BitAddresses: bool,
        IgnoreCount: bool,
        DmaWidth: DMA_WIDTH,
        DmaSpeed: DMA_SPEED,
        MaximumLength: int,
        DmaPort: int,
    ) -> Out:
        system = self.system
        if PoolType == POOL_TYPE.PagedPool:
            system.violation(
                "non-paged-pool",
                "IPortWavePci::NewMasterDmaChannel with PagedPool: the channel is used at DISPATCH_LEVEL",
            )
        if not ScatterGather:
            system.violation(
                "bad-argument",
                "IPortWavePci::NewMasterDmaChannel with ScatterGather = FALSE; WavePci devices are "
                "scatter/gather bus masters and must pass TRUE (portcls-contract fact 22)",
            )
        if DmaPort != 0:
            system.violation(
                "bad-argument",
                f"IPortWavePci::NewMasterDmaChannel with DmaPort = {DmaPort}; it is unused and must be 0 "
                "(portcls-contract fact 22)",
            )
        # ResourceList, DmaWidth, DmaSpeed and DmaPort are unused; the rest is the description.
        desc = master_description(
            MaximumLength,
            Dma32BitAddresses,
            Dma64BitAddresses,
            scatter_gather=ScatterGather,
            ignore_count=IgnoreCount,
        )
        status, channel = make_channel(system, desc, self.device)
        if channel is not None:
            self.channels.append(channel)
        return Out(status, {"DmaChannel": channel})

    def Notify(self, ServiceGroup: Any) -> None:
        if ServiceGroup is None:
            self.system.violation("null-object", "Notify(NULL): the miniport has no service group for this stream")
            return
        if not implements(ServiceGroup, "IServiceGroup"):
            self.system.violation("wrong-interface", f"Notify({object_name(ServiceGroup)}): not an IServiceGroup")
            return
        self.system.call(ServiceGroup, "RequestService")

    # --- IServiceSink (the miniport-wide group) ---------------------------------------------
    def RequestService(self) -> None:
        if self.miniport is not None:
            self.system.call(self.miniport, "Service")

    # --- pins (KS pin creation, not a PortCls method) --------------------------------------------
    def create_pin(self, client: AudioClient, pin_id: int = 0, base_id: str = "pin") -> WavePciPin | None:
        pin = WavePciPin(self, client, pin_id, base_id)
        if not pin.open():
            return None
        self.pins.append(pin)
        return pin

    def master_adapter(self) -> Any:
        """The adapter of the newest channel this port made (None if the miniport made none)."""
        return self.channels[-1].adapter if self.channels else None

    def describe(self) -> dict[str, Any]:
        return {
            "miniport": getattr(self.miniport, "object_id", None),
            "miniport service group": getattr(self.service_group, "object_id", None),
            "channels": [c.object_id for c in self.channels],
            "pins": len(self.pins),
            "refcount": self.refcount,
        }

    def children(self) -> list[Any]:
        return [x for x in (self.miniport, *self.pins) if x is not None]


@dataclass
class _Irp:
    """One client packet as the pin tracks it."""

    packet: Packet
    mapped: int = 0  # bytes handed out as mappings
    released: int = 0  # bytes of mappings given back
    outstanding: int = 0  # mappings handed out and not released
    done: bool = False  # completed, terminated or cancelled


@dataclass
class _Mapping:
    """One mapping handed to the miniport: a physically contiguous piece of one packet."""

    tag: int
    irp: _Irp
    va: int
    physical: int
    length: int
    last: bool  # Flags != 0: the last mapping of its packet
    stream_offset: int  # where its first byte sits in the stream


@dataclass
class _XrunSeen:
    """A device xrun stretch the pin has seen but not yet reported."""

    offset: int
    reported: bool = False


class WavePciPin(ComObject):
    """A WavePci stream: the pin (KsPin), the port stream (IPortWavePciStream) and its service sink."""

    interfaces: ClassVar[tuple[str, ...]] = ("IPortWavePciStream", "IServiceSink", "KsPin")
    kind: ClassVar[str] = "WavePci pin"

    def __init__(self, port: PortWavePci, client: AudioClient, pin_id: int, base_id: str) -> None:
        super().__init__(port.system, base_id)
        # The pin is the IPortWavePciStream the miniport was given: both names reach it.
        suffix = base_id[len("pin") :] if base_id.startswith("pin") else ""
        port.system.alias("port_stream" + suffix, self)
        self.port = port
        self.client = client
        self.pin_id = pin_id
        self.capture = client.capture
        self.format = client.format
        self.stream: Any = None
        self.dma: Any = None  # what NewStream returned: kept, never used, never released (fact 37)
        self.service_group: Any = None
        self.adapter: Any = None  # the master adapter MapTransfer runs on
        self.framing: dict[str, Any] = {}
        self.state = KSSTATE.KSSTATE_STOP
        self.irps: list[_Irp] = []  # submitted and not yet completed, in order
        self.mappings: list[_Mapping] = []  # outstanding (acquired, not released), in acquisition order
        self.bytes_mapped = 0  # stream offset just past the last mapping handed out
        self.bytes_released = 0  # bytes of mappings given back
        self.refused = False  # the last GetMapping was refused and no MappingAvailable followed yet
        self.mapping_available_due = False  # a deferred MappingAvailable is waiting for its DPC
        self.completing = False  # inside client callbacks (a resubmitted packet must not re-enter)
        self.in_service = False  # inside the stream's Service, called from our RequestService
        self.timer_name = f"{self.object_id}.timer"
        self.timer_running = False
        self.xruns_seen: list[_XrunSeen] = []
        self.glitches = 0
        self.services = 0
        self.timer_ticks = 0
        self.last_service_ns = 0
        self.tags_handed_out = 0

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
                "PortStream": self,
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
        if self.stream is None:
            system.violation("null-object", "NewStream succeeded but returned no stream")
            return False
        if self.service_group is not None:
            system.call(self.service_group, "AddMember", {"pServiceSink": self})
        framing = system.call(self.stream, "GetAllocatorFraming")
        self.framing = dict(framing.out.get("AllocatorFraming") or {})
        self.adapter = self.port.master_adapter() or self._own_adapter()
        self.client.connect(self)
        return True

    def _own_adapter(self) -> Any:
        """A miniport that made no master channel: the port asks the I/O manager itself."""
        io = self.system.objects.get("io")
        if io is None:
            return None
        desc = pci_bus_master_table(MAX_MAPPING_PAGES * PAGE_SIZE)
        result = self.system.call(
            io, "IoGetDmaAdapter", {"PhysicalDeviceObject": self.port.device, "DeviceDescription": desc}
        )
        return result.value

    # --- packets (IOCTL_KS_WRITE_STREAM / READ_STREAM) -----------------------------------------------
    def submit(self, packet: Packet) -> None:
        """Queue a packet; if the miniport was refused a mapping, tell it one is available."""
        self.irps.append(_Irp(packet))
        if not self.refused or self.state == KSSTATE.KSSTATE_STOP:
            return
        self.refused = False
        if self.completing:
            # We are inside a call from the miniport (its ReleaseMapping completed the packet
            # this one replaces): call back later, not re-entrantly. In a service pass that is
            # when the miniport's Service returns; otherwise from a DPC of our own.
            self.mapping_available_due = True
            if not self.in_service:
                self.system.kernel.queue_dpc(f"{self.object_id}.MappingAvailable", self._mapping_available_dpc)
            return
        with self.system.acting_as(self.object_id):
            self.system.call(self.stream, "MappingAvailable")

    def _mapping_available_dpc(self) -> None:
        self._pay_mapping_available()

    def _pay_mapping_available(self) -> None:
        """The deferred MappingAvailable, unless the miniport took a mapping in the meantime."""
        if not self.mapping_available_due or self.state == KSSTATE.KSSTATE_STOP:
            return
        self.mapping_available_due = False
        with self.system.acting_as(self.object_id):
            self.system.call(self.stream, "MappingAvailable")

    def cancel(self, packet: Packet) -> bool:
        """The client cancels one packet (IRP cancel): revoke its outstanding mappings, give it back."""
        irp = next((i for i in self.irps if i.packet is packet and not i.done), None)
        if irp is None:
            return False
        with self.system.acting_as(self.object_id):
            self._revoke([m for m in self.mappings if m.irp is irp])
        irp.done = True
        self.irps.remove(irp)
        self.client.packets_cancelled([packet], reason="a cancelled IRP")
        self._complete_ready()
        return True

    # --- IPortWavePciStream ---------------------------------------------------------------------------
    def GetMapping(self, Tag: int) -> Out:
        system = self.system
        irp = next((i for i in self.irps if not i.done and i.mapped < i.packet.length), None)
        if irp is None or self.adapter is None:
            self.refused = True
            return Out(NTSTATUS.STATUS_NOT_FOUND, dict(_NOT_FOUND_OUT))
        if any(m.tag == Tag for m in self.mappings):
            system.violation(
                "bad-argument", f"GetMapping with Tag {Tag:#x}, which already names an outstanding mapping"
            )
        packet = irp.packet
        va = packet.va + irp.mapped
        # Never touch more than 16 pages; MapTransfer cuts further where the pages stop being adjacent.
        wanted = min(packet.length - irp.mapped, MAX_MAPPING_PAGES * PAGE_SIZE - (va & (PAGE_SIZE - 1)))
        result = system.call(
            self.adapter,
            "MapTransfer",
            {
                "Mdl": packet.mdl,
                "MapRegisterBase": 0,
                "CurrentVa": va,
                "Length": wanted,
                "WriteToDevice": not self.capture,
            },
        )
        length = int(result.out.get("Length", 0) or 0)
        if not result.executed or length <= 0:
            self.refused = True
            return Out(NTSTATUS.STATUS_NOT_FOUND, dict(_NOT_FOUND_OUT))
        physical = int(result.value or 0)
        irp.mapped += length
        irp.outstanding += 1
        last = irp.mapped >= packet.length
        self.mappings.append(_Mapping(Tag, irp, va, physical, length, last, self.bytes_mapped))
        self.bytes_mapped += length
        self.tags_handed_out += 1
        self.refused = False
        self.mapping_available_due = False  # the miniport took a mapping: nothing more is owed
        return Out(
            NTSTATUS.STATUS_SUCCESS,
            {"PhysicalAddress": physical, "VirtualAddress": va, "ByteCount": length, "Flags": 1 if last else 0},
        )

    def ReleaseMapping(self, Tag: int) -> NTSTATUS:
        index = next((i for i, m in enumerate(self.mappings) if m.tag == Tag), None)
        if index is None:
            self.system.violation("unknown-tag", f"ReleaseMapping({Tag:#x}): no outstanding mapping has this tag")
            return NTSTATUS.STATUS_INVALID_PARAMETER
        if index != 0:
            self.system.violation(
                "release-order",
                f"ReleaseMapping({Tag:#x}) before {self.mappings[0].tag:#x}, which was acquired earlier "
                "(portcls-contract fact 33); accepted, as ReactOS accepts it",
            )
        mapping = self.mappings.pop(index)
        irp = mapping.irp
        irp.outstanding -= 1
        irp.released += mapping.length
        self.bytes_released += mapping.length
        self._complete_ready()
        return NTSTATUS.STATUS_SUCCESS

    def TerminatePacket(self) -> NTSTATUS:
        """Capture: complete the current partly filled packet now. Render: nothing to do (SUCCESS)."""
        if not self.capture:
            return NTSTATUS.STATUS_SUCCESS
        irp = next((i for i in self.irps if not i.done), None)
        if irp is None or irp.released == 0:
            return NTSTATUS.STATUS_SUCCESS  # nothing recorded into it yet
        # Its unmapped rest is skipped; mappings still out for it are released into a closed packet.
        irp.mapped = irp.packet.length
        self._finish(irp, irp.released)
        self._complete_ready()
        return NTSTATUS.STATUS_SUCCESS

    # --- completion -------------------------------------------------------------------------------------
    def _complete_ready(self) -> None:
        """Complete, in submission order, every packet whose mappings have all come back."""
        while self.irps:
            irp = self.irps[0]
            if irp.done:
                self.irps.pop(0)
                continue
            if irp.mapped < irp.packet.length or irp.outstanding:
                break
            self._finish(irp, irp.packet.length)

    def _finish(self, irp: _Irp, used: int) -> None:
        packet = irp.packet
        irp.done = True
        self.irps.remove(irp)
        if self.adapter is not None:
            self.system.call(
                self.adapter,
                "FlushAdapterBuffers",
                {
                    "Mdl": packet.mdl,
                    "MapRegisterBase": 0,
                    "CurrentVa": packet.va,
                    "Length": used,
                    "WriteToDevice": not self.capture,
                },
            )
        packet.used = used
        self.completing = True
        try:
            self.client.packet_completed(packet)
        finally:
            self.completing = False

    # --- revocation --------------------------------------------------------------------------------------
    def _revoke(self, mappings: list[_Mapping]) -> None:
        """RevokeMappings for each run of the given outstanding mappings (acquisition order)."""
        if not mappings:
            return
        wanted = {id(m) for m in mappings}
        runs: list[list[_Mapping]] = []
        current: list[_Mapping] = []
        for m in self.mappings:
            if id(m) in wanted:
                current.append(m)
            elif current:
                runs.append(current)
                current = []
        if current:
            runs.append(current)
        system = self.system
        # RevokeMappings is a DISPATCH_LEVEL call: the port holds its IRP-queue lock around it.
        with system.kernel.spin_lock(f"{self.object_id}.irp_lock"):
            for run in runs:
                result = system.call(self.stream, "RevokeMappings", {"FirstTag": run[0].tag, "LastTag": run[-1].tag})
                held = int(result.out.get("MappingsRevoked", 0) or 0)
                system.sim.emit(
                    NoteRecord(
                        text=f"RevokeMappings({run[0].tag:#x}..{run[-1].tag:#x}): {len(run)} outstanding, "
                        f"the miniport still held {held}",
                        source=self.object_id,
                    )
                )
        for m in mappings:
            self.mappings.remove(m)
            m.irp.outstanding -= 1

    # --- IServiceSink ------------------------------------------------------------------------------------
    def RequestService(self) -> None:
        self.services += 1
        self.last_service_ns = self.system.now_ns
        if self.state == KSSTATE.KSSTATE_RUN:
            self.in_service = True
            try:
                self.system.call(self.stream, "Service")
            finally:
                self.in_service = False
            self._pay_mapping_available()
        self._check_glitches()

    def _timer_dpc(self) -> None:
        """The port's own 20 ms timer, for a stream without a service group (fact 36)."""
        self.timer_ticks += 1
        with self.system.acting_as(self.object_id):
            self.system.call(self, "RequestService")

    # --- glitches ----------------------------------------------------------------------------------------
    def _check_glitches(self) -> None:
        hook = getattr(self.stream, "device_xruns", None)
        if not callable(hook):
            return
        stretches = hook()
        for i, stretch in enumerate(stretches):
            if i >= len(self.xruns_seen):
                self.xruns_seen.append(_XrunSeen(self.bytes_released))
            seen = self.xruns_seen[i]
            if seen.reported or stretch.end_ns is None:
                continue
            seen.reported = True
            self.glitches += 1
            self.system.sim.emit(
                GlitchRecord(
                    stream=self.object_id,
                    cause=stretch.kind,
                    start_ns=stretch.start_ns,
                    length_ns=stretch.end_ns - stretch.start_ns,
                    bytes=2 * stretch.samples,
                    offset=seen.offset,
                )
            )

    # --- KS state (KsPin) --------------------------------------------------------------------------------
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
        if new == KSSTATE.KSSTATE_STOP:
            self.client.stop()  # the client stops submitting before it asks for STOP
        status = system.call(self.stream, "SetState", {"State": new}).ntstatus
        if status != NTSTATUS.STATUS_SUCCESS:
            return status
        self.state = new
        system.sim.emit(StateRecord(object=self.object_id, what="KSSTATE", old=old, new=new))
        if new == KSSTATE.KSSTATE_ACQUIRE and old == KSSTATE.KSSTATE_STOP:
            self.client.start()  # the client queues its first packets before RUN
        if new == KSSTATE.KSSTATE_RUN and self.service_group is None:
            system.kernel.set_timer(self.timer_name, PORT_TIMER_PERIOD_NS, PORT_TIMER_PERIOD_NS, self._timer_dpc)
            self.timer_running = True
        elif old == KSSTATE.KSSTATE_RUN:
            if self.timer_running:
                system.kernel.cancel_timer(self.timer_name)
                self.timer_running = False
            self._check_glitches()  # pausing the engine closed any open stretch
        if new == KSSTATE.KSSTATE_STOP:
            self._reset()
        return NTSTATUS.STATUS_SUCCESS

    def _reset(self) -> None:
        """STOP: revoke what the miniport holds, give the packets back, positions to 0."""
        self._revoke(list(self.mappings))
        self._check_glitches()
        pending = [irp for irp in self.irps if not irp.done]
        if self.capture and pending and pending[0].released:
            # RUN→STOP terminates the current capture packet: the client gets what was recorded.
            first = pending.pop(0)
            first.mapped = first.packet.length
            self._finish(first, first.released)
        for irp in pending:
            irp.done = True
        self.irps = []
        self.client.packets_cancelled([irp.packet for irp in pending])
        self.mappings = []
        self.bytes_mapped = self.bytes_released = 0
        self.refused = self.mapping_available_due = False
        self.xruns_seen = [_XrunSeen(0, reported=True) for _ in self.xruns_seen]

    def GetPosition(self) -> Out:
        """KSPROPERTY_AUDIO_POSITION: the miniport's stream position, and the write (render) or read offset.

        Render's write position is the end of the last mapping handed out; capture's read
        position advances with each ReleaseMapping (portcls-contract.md §4.1).
        """
        play = 0
        if self.state != KSSTATE.KSSTATE_STOP:
            play = int(self.system.call(self.stream, "GetPosition").out.get("Position", 0) or 0)
        other = self.bytes_released if self.capture else self.bytes_mapped
        return Out(NTSTATUS.STATUS_SUCCESS, {"PlayOffset": play, "WriteOffset": other})

    # --- defaults for GUI calls (FromTarget) --------------------------------------------------------------
    def next_tag(self) -> int:
        """A tag no outstanding mapping uses."""
        return max((m.tag for m in self.mappings), default=-1) + 1

    def oldest_tag(self) -> int:
        return self.mappings[0].tag if self.mappings else 0

    def newest_tag(self) -> int:
        return self.mappings[-1].tag if self.mappings else 0

    # --- views ------------------------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        return {
            "KSSTATE": self.state.name,
            "format": self.format.describe(),
            "direction": "capture" if self.capture else "render",
            "packets held": len(self.irps),
            "outstanding tags": [m.tag for m in self.mappings],
            "bytes mapped": self.bytes_mapped,
            "bytes released": self.bytes_released,
            "GetMapping refused": self.refused,
            "own 20 ms timer": self.timer_running,
            "glitches": self.glitches,
            "framing": self.framing,
            "refcount": self.refcount,
        }

    def children(self) -> list[Any]:
        return [x for x in (self.stream, self.service_group, self.client) if x is not None]
