"""Every interface method dmaviz models, declared once.

Names, parameter names and types are the WDK's; descriptions are ours. The GUI's method
forms, the scenario schema, the trace's argument names and the contract checks (IRQL,
argument ranges) are all generated from this table. A test checks that every declared
method is implemented with exactly these parameter names, and that nothing else is.

The first parameter of the DMA_OPERATIONS routines (the adapter itself) and the COM
``this`` pointer are implicit: they are the object the call is made on.
"""

from __future__ import annotations

from model.interfaces.types import (
    ANY,
    DISPATCH,
    PASSIVE,
    UP_TO_DISPATCH,
    FromTarget,
    Interface,
    IrqlRule,
    Method,
    Param,
)

LEARN = "https://learn.microsoft.com/en-us/windows-hardware/drivers/"
PORTCLS = LEARN + "ddi/portcls/"
WDM = LEARN + "ddi/wdm/"


def _interface(
    name: str,
    iid: str | None,
    base: str | None,
    description: str,
    page: str,
    *methods: tuple[str, str, IrqlRule, str, str, tuple[Param, ...], dict[str, object]],
) -> Interface:
    built = tuple(
        Method(name, mname, params, returns, irql, desc, mpage, **extra)  # type: ignore[arg-type]
        for mname, returns, irql, desc, mpage, params, extra in methods
    )
    return Interface(name, iid, base, description, page, built)


def _m(
    name: str, returns: str, irql: IrqlRule, description: str, page: str, *params: Param, **extra: object
) -> tuple[str, str, IrqlRule, str, str, tuple[Param, ...], dict[str, object]]:
    return (name, returns, irql, description, page, params, extra)


P = Param
_FORMAT_DEFAULT = {"SamplesPerSec": 48000, "BitsPerSample": 16, "Channels": 2}

IUNKNOWN = _interface(
    "IUnknown",
    "{00000000-0000-0000-C000-000000000046}",
    None,
    "Reference counting and interface discovery, the base of every COM object.",
    "https://learn.microsoft.com/en-us/windows/win32/api/unknwn/nn-unknwn-iunknown",
    _m(
        "QueryInterface",
        "NTSTATUS",
        PASSIVE,
        "Asks the object for another of its interfaces; on success the object is AddRef'd.",
        "https://learn.microsoft.com/en-us/windows/win32/api/unknwn/nf-unknwn-iunknown-queryinterface(refiid_void)",
        P("InterfaceId", "REFIID", "IID (or interface name) being asked for.", default="IUnknown"),
        P("Interface", "PUNKNOWN", "Receives the object, AddRef'd.", direction="out"),
    ),
    _m(
        "AddRef",
        "ULONG",
        ANY,
        "Adds a reference; returns the new count.",
        "https://learn.microsoft.com/en-us/windows/win32/api/unknwn/nf-unknwn-iunknown-addref",
        mutates=True,
    ),
    _m(
        "Release",
        "ULONG",
        ANY,
        "Drops a reference; at zero the object is destroyed.",
        "https://learn.microsoft.com/en-us/windows/win32/api/unknwn/nf-unknwn-iunknown-release",
        mutates=True,
    ),
)

IDMACHANNEL = _interface(
    "IDmaChannel",
    "{22C6AC61-851B-11D0-9A7F-00AA0038ACFE}",
    "IUnknown",
    "One DMA channel with one common buffer, shared by port and miniport; does no locking.",
    PORTCLS + "nn-portcls-idmachannel",
    _m(
        "AllocateBuffer",
        "NTSTATUS",
        PASSIVE,
        "Allocates the channel's physically contiguous common buffer (once, unless freed first).",
        PORTCLS + "nf-portcls-idmachannel-allocatebuffer",
        P("BufferSize", "ULONG", "Bytes to allocate.", default=0x4000, minimum=0),
        P(
            "PhysicalAddressConstraint",
            "PHYSICAL_ADDRESS",
            "Bits that may differ between the first and last byte (0xFFFF: do not cross 64 KiB).",
            optional=True,
        ),
        mutates=True,
        cost_ns=20_000,
    ),
    _m(
        "FreeBuffer",
        "void",
        PASSIVE,
        "Frees the common buffer (also done when the channel is destroyed).",
        PORTCLS + "nf-portcls-idmachannel-freebuffer",
        mutates=True,
        cost_ns=5_000,
    ),
    _m(
        "TransferCount",
        "ULONG",
        ANY,
        "Size of the transfer the last Start set up (slave channels).",
        PORTCLS + "nf-portcls-idmachannel-transfercount",
    ),
    _m(
        "MaximumBufferSize",
        "ULONG",
        ANY,
        "The largest buffer this channel is configured for.",
        PORTCLS + "nf-portcls-idmachannel-maximumbuffersize",
    ),
    _m(
        "AllocatedBufferSize",
        "ULONG",
        ANY,
        "The size asked for in AllocateBuffer.",
        PORTCLS + "nf-portcls-idmachannel-allocatedbuffersize",
    ),
    _m(
        "BufferSize",
        "ULONG",
        ANY,
        "The size last set with SetBufferSize (the allocated size until then).",
        PORTCLS + "nf-portcls-idmachannel-buffersize",
    ),
    _m(
        "SetBufferSize",
        "void",
        ANY,
        "Records the size of buffer port and miniport will use; the channel itself never acts on it.",
        PORTCLS + "nf-portcls-idmachannel-setbuffersize",
        P(
            "BufferSize",
            "ULONG",
            "New logical buffer size in bytes.",
            default=FromTarget("AllocatedBufferSize"),
        ),
        mutates=True,
    ),
    _m(
        "SystemAddress",
        "PVOID",
        ANY,
        "Kernel virtual address of the common buffer.",
        PORTCLS + "nf-portcls-idmachannel-systemaddress",
    ),
    _m(
        "PhysicalAddress",
        "PHYSICAL_ADDRESS",
        ANY,
        "Physical address of the common buffer.",
        PORTCLS + "nf-portcls-idmachannel-physicaladdress",
    ),
    _m(
        "GetAdapterObject",
        "PADAPTER_OBJECT",
        ANY,
        "The DMA adapter object behind the channel.",
        PORTCLS + "nf-portcls-idmachannel-getadapterobject",
    ),
    _m(
        "CopyTo",
        "void",
        ANY,
        "Copies data into the common buffer; Destination must lie inside it, the caller splits at its end.",
        PORTCLS + "nf-portcls-idmachannel-copyto",
        P(
            "Destination",
            "PVOID",
            "Kernel address inside the common buffer.",
            default=FromTarget("SystemAddress"),
        ),
        P("Source", "PVOID", "Kernel address to copy from.", default=FromTarget("SystemAddress")),
        P("ByteCount", "ULONG", "Bytes to copy.", default=0x100),
        mutates=True,
    ),
    _m(
        "CopyFrom",
        "void",
        ANY,
        "Copies data out of the common buffer; Source must lie inside it.",
        PORTCLS + "nf-portcls-idmachannel-copyfrom",
        P("Destination", "PVOID", "Kernel address to copy to.", default=FromTarget("SystemAddress")),
        P("Source", "PVOID", "Kernel address inside the common buffer.", default=FromTarget("SystemAddress")),
        P("ByteCount", "ULONG", "Bytes to copy.", default=0x100),
        mutates=True,
    ),
)

IDMACHANNELSLAVE = _interface(
    "IDmaChannelSlave",
    "{22C6AC62-851B-11D0-9A7F-00AA0038ACFE}",
    "IDmaChannel",
    "A DMA channel on the system (8237) DMA controller, for subordinate ISA devices.",
    PORTCLS + "nn-portcls-idmachannelslave",
    _m(
        "Start",
        "NTSTATUS",
        PASSIVE,
        "Maps the first MapSize bytes of the buffer and starts the (auto-initialize) transfer.",
        PORTCLS + "nf-portcls-idmachannelslave-start",
        P(
            "MapSize",
            "ULONG",
            "Bytes to transfer; at most the allocated size.",
            default=FromTarget("BufferSize"),
        ),
        P(
            "WriteToDevice",
            "BOOLEAN",
            "TRUE: memory to device (render); FALSE: device to memory.",
            default=True,
        ),
        mutates=True,
        cost_ns=5_000,
    ),
    _m(
        "Stop",
        "NTSTATUS",
        UP_TO_DISPATCH,
        "Stops the transfer and flushes the adapter's buffers.",
        PORTCLS + "nf-portcls-idmachannelslave-stop",
        mutates=True,
        cost_ns=2_000,
    ),
    _m(
        "ReadCounter",
        "ULONG",
        UP_TO_DISPATCH,
        "Bytes left in the current pass: MapSize after Start, counting down, then MapSize again.",
        PORTCLS + "nf-portcls-idmachannelslave-readcounter",
        cost_ns=1_000,
    ),
    _m(
        "WaitForTC",
        "NTSTATUS",
        PASSIVE,
        "Busy-waits for terminal count; Timeout in microseconds, rounded down to 10 µs.",
        PORTCLS + "nf-portcls-idmachannelslave-waitfortc",
        P("Timeout", "ULONG", "Longest wait in microseconds.", default=10_000),
    ),
)

# IPort::Init, which both port interfaces inherit from IPort.
_IPORT_INIT = _m(
    "Init",
    "NTSTATUS",
    PASSIVE,
    "Binds the port to its miniport and adapter (IPort::Init).",
    PORTCLS + "nf-portcls-iport-init",
    P("DeviceObject", "PDEVICE_OBJECT", "The adapter's device object.", default="device"),
    P("Irp", "PIRP", "The IRP_MN_START_DEVICE request.", optional=True),
    P("UnknownMiniport", "PUNKNOWN", "The miniport to bind.", default="miniport"),
    P("UnknownAdapter", "PUNKNOWN", "The adapter's common object.", optional=True),
    P("ResourceList", "PRESOURCELIST", "The device's resources.", default="resources"),
    mutates=True,
)

IPORTWAVECYCLIC = _interface(
    "IPortWaveCyclic",
    "{B4C90A26-5791-11D0-86F9-00A0C911B544}",
    "IUnknown",
    "The WaveCyclic port driver: copies between the client and the cyclic common buffer.",
    PORTCLS + "nn-portcls-iportwavecyclic",
    _IPORT_INIT,
    _m(
        "NewMasterDmaChannel",
        "NTSTATUS",
        PASSIVE,
        "Creates a DMA channel for a bus-master device (no buffer yet).",
        PORTCLS + "nf-portcls-iportwavecyclic-newmasterdmachannel",
        P("DmaChannel", "PDMACHANNEL", "Receives the new channel.", direction="out"),
        P("OuterUnknown", "PUNKNOWN", "Aggregation; normally NULL.", optional=True),
        P("ResourceList", "PRESOURCELIST", "Unused by the port.", optional=True),
        P("MaximumLength", "ULONG", "Largest cyclic buffer in bytes.", default=0x10000, minimum=1),
        P("Dma32BitAddresses", "BOOLEAN", "Device addresses all of 32-bit memory.", default=True),
        P("Dma64BitAddresses", "BOOLEAN", "Device addresses 64-bit memory.", default=False),
        P("DmaWidth", "DMA_WIDTH", "Unused; documented as -1.", default="Width32Bits"),
        P("DmaSpeed", "DMA_SPEED", "Unused; documented as -1.", default="MaximumDmaSpeed"),
        mutates=True,
        cost_ns=10_000,
    ),
    _m(
        "NewSlaveDmaChannel",
        "NTSTATUS",
        PASSIVE,
        "Creates an auto-initialize channel on the system DMA controller for the resource DmaIndex.",
        PORTCLS + "nf-portcls-iportwavecyclic-newslavedmachannel",
        P("DmaChannel", "PDMACHANNELSLAVE", "Receives the new channel.", direction="out"),
        P("OuterUnknown", "PUNKNOWN", "Aggregation; normally NULL.", optional=True),
        P("ResourceList", "PRESOURCELIST", "Resources holding the DMA channel numbers.", default="resources"),
        P("DmaIndex", "ULONG", "Which DMA resource (0 = first).", default=0, maximum=7),
        P("MaximumLength", "ULONG", "Largest buffer in bytes.", default=0x4000, minimum=1),
        P("DemandMode", "BOOLEAN", "Use the controller's demand mode.", default=False),
        P("DmaSpeed", "DMA_SPEED", "ISA DMA timing.", default="Compatible"),
        mutates=True,
        cost_ns=10_000,
    ),
    _m(
        "Notify",
        "void",
        ANY,
        "Called by the miniport's ISR: queue the service group's DPC to service the stream.",
        PORTCLS + "nf-portcls-iportwavecyclic-notify",
        P("ServiceGroup", "PSERVICEGROUP", "The group the miniport gave for the stream.", default="sg"),
    ),
)

IPORTWAVEPCI = _interface(
    "IPortWavePci",
    "{B4C90A50-5791-11D0-86F9-00A0C911B544}",
    "IUnknown",
    "The WavePci port driver: hands the miniport the client's own pages as mappings.",
    PORTCLS + "nn-portcls-iportwavepci",
    _IPORT_INIT,
    _m(
        "NewMasterDmaChannel",
        "NTSTATUS",
        PASSIVE,
        "Creates a scatter/gather bus-master channel (the port never uses it itself).",
        PORTCLS + "nf-portcls-iportwavepci-newmasterdmachannel",
        P("DmaChannel", "PDMACHANNEL", "Receives the new channel.", direction="out"),
        P("OuterUnknown", "PUNKNOWN", "Aggregation; normally NULL.", optional=True),
        P("PoolType", "POOL_TYPE", "Must be non-paged.", default="NonPagedPool"),
        P("ResourceList", "PRESOURCELIST", "Unused.", optional=True),
        P("ScatterGather", "BOOLEAN", "Always TRUE.", default=True),
        P("Dma32BitAddresses", "BOOLEAN", "Device addresses 32-bit memory.", default=True),
        P("Dma64BitAddresses", "BOOLEAN", "Device addresses 64-bit memory.", default=False),
        P("IgnoreCount", "BOOLEAN", "The platform's transfer counter is unreliable.", default=False),
        P("DmaWidth", "DMA_WIDTH", "Unused.", default="Width32Bits"),
        P("DmaSpeed", "DMA_SPEED", "Unused.", default="MaximumDmaSpeed"),
        P("MaximumLength", "ULONG", "Largest transfer in bytes.", default=0x1FFFE, minimum=1),
        P("DmaPort", "ULONG", "Unused; must be 0.", default=0),
        mutates=True,
        cost_ns=10_000,
    ),
    _m(
        "Notify",
        "void",
        ANY,
        "Queues the service group's DPC (from the ISR or a timer DPC).",
        PORTCLS + "nf-portcls-iportwavepci-notify",
        P("ServiceGroup", "PSERVICEGROUP", "The group to service.", default="sg"),
    ),
)

IPORTWAVEPCISTREAM = _interface(
    "IPortWavePciStream",
    "{B4C90A51-5791-11D0-86F9-00A0C911B544}",
    "IUnknown",
    "The port side of a WavePci stream: mappings of the client's locked pages.",
    PORTCLS + "nn-portcls-iportwavepcistream",
    _m(
        "GetMapping",
        "NTSTATUS",
        UP_TO_DISPATCH,
        "Hands out the next physically contiguous piece of the client's buffer, tagged by the miniport.",
        PORTCLS + "nf-portcls-iportwavepcistream-getmapping",
        P("Tag", "PVOID", "Miniport's opaque tag for the mapping.", default=FromTarget("next_tag")),
        P("PhysicalAddress", "PHYSICAL_ADDRESS", "Receives the mapping's physical address.", direction="out"),
        P("VirtualAddress", "PVOID", "Receives its kernel virtual address.", direction="out"),
        P("ByteCount", "ULONG", "Receives its length in bytes.", direction="out"),
        P("Flags", "ULONG", "Receives nonzero for the last mapping of an I/O packet.", direction="out"),
        mutates=True,
        cost_ns=1_000,
    ),
    _m(
        "ReleaseMapping",
        "NTSTATUS",
        UP_TO_DISPATCH,
        "Gives a mapping back; mappings must come back in the order they were handed out.",
        PORTCLS + "nf-portcls-iportwavepcistream-releasemapping",
        P("Tag", "PVOID", "Tag of the mapping being released.", default=FromTarget("oldest_tag")),
        mutates=True,
        cost_ns=1_000,
    ),
    _m(
        "TerminatePacket",
        "NTSTATUS",
        UP_TO_DISPATCH,
        "Completes a partly filled capture packet now.",
        PORTCLS + "nf-portcls-iportwavepcistream-terminatepacket",
        mutates=True,
    ),
)

ISERVICESINK = _interface(
    "IServiceSink",
    "{22C6AC64-851B-11D0-9A7F-00AA0038ACFE}",
    "IUnknown",
    "Something that can be asked to do its periodic work.",
    PORTCLS + "nn-portcls-iservicesink",
    _m(
        "RequestService",
        "void",
        ANY,
        "Do the periodic work now (called from the group's DPC).",
        PORTCLS + "nf-portcls-iservicesink-requestservice",
        mutates=True,
    ),
)

ISERVICEGROUP = _interface(
    "IServiceGroup",
    "{22C6AC65-851B-11D0-9A7F-00AA0038ACFE}",
    "IServiceSink",
    "A list of sinks serviced together from one DPC when the group is notified.",
    PORTCLS + "nn-portcls-iservicegroup",
    _m(
        "AddMember",
        "NTSTATUS",
        PASSIVE,
        "Adds a sink to the group (AddRefs it).",
        PORTCLS + "nf-portcls-iservicegroup-addmember",
        P("pServiceSink", "PSERVICESINK", "The sink to add.", default="pin"),
        mutates=True,
    ),
    _m(
        "RemoveMember",
        "void",
        PASSIVE,
        "Removes a sink from the group (Releases it).",
        PORTCLS + "nf-portcls-iservicegroup-removemember",
        P("pServiceSink", "PSERVICESINK", "The sink to remove.", default="pin"),
        mutates=True,
    ),
    _m(
        "SupportDelayedService",
        "void",
        UP_TO_DISPATCH,
        "Prepares the group's timer for delayed service.",
        PORTCLS + "nf-portcls-iservicegroup-supportdelayedservice",
        mutates=True,
    ),
    _m(
        "RequestDelayedService",
        "void",
        UP_TO_DISPATCH,
        "Services the group after ullDelay (100-ns units; negative means relative).",
        PORTCLS + "nf-portcls-iservicegroup-requestdelayedservice",
        P("ullDelay", "LONGLONG", "Delay in 100-ns units (negative = relative).", default=-100_000),
        mutates=True,
    ),
    _m(
        "CancelDelayedService",
        "void",
        UP_TO_DISPATCH,
        "Cancels a pending delayed service.",
        PORTCLS + "nf-portcls-iservicegroup-canceldelayedservice",
        mutates=True,
    ),
)

IMINIPORTWAVECYCLIC = _interface(
    "IMiniportWaveCyclic",
    "{B4C90A27-5791-11D0-86F9-00A0C911B544}",
    "IUnknown",
    "The device-specific half of a WaveCyclic filter.",
    PORTCLS + "nn-portcls-iminiportwavecyclic",
    _m(
        "Init",
        "NTSTATUS",
        PASSIVE,
        "Sets up the miniport with its resources and port.",
        PORTCLS + "nf-portcls-iminiportwavecyclic-init",
        P("UnknownAdapter", "PUNKNOWN", "The adapter's common object.", optional=True),
        P("ResourceList", "PRESOURCELIST", "The device's resources.", default="resources"),
        P("Port", "PPORTWAVECYCLIC", "The port driver.", default="port"),
        mutates=True,
    ),
    _m(
        "NewStream",
        "NTSTATUS",
        PASSIVE,
        "Creates a stream on a pin, with the DMA channel and service group the port will use.",
        PORTCLS + "nf-portcls-iminiportwavecyclic-newstream",
        P("Stream", "PMINIPORTWAVECYCLICSTREAM", "Receives the stream.", direction="out"),
        P("OuterUnknown", "PUNKNOWN", "Aggregation; normally NULL.", optional=True),
        P("PoolType", "POOL_TYPE", "Pool for the stream object.", default="NonPagedPool"),
        P("Pin", "ULONG", "Pin number.", default=0, maximum=15),
        P("Capture", "BOOLEAN", "TRUE for a capture stream.", default=False),
        P("DataFormat", "PKSDATAFORMAT", "The stream's format.", default=_FORMAT_DEFAULT),
        P("DmaChannel", "PDMACHANNEL", "Receives the DMA channel (AddRef'd).", direction="out"),
        P("ServiceGroup", "PSERVICEGROUP", "Receives the service group (AddRef'd).", direction="out"),
        mutates=True,
        cost_ns=20_000,
    ),
)

IMINIPORTWAVECYCLICSTREAM = _interface(
    "IMiniportWaveCyclicStream",
    "{B4C90A28-5791-11D0-86F9-00A0C911B544}",
    "IUnknown",
    "One WaveCyclic stream: state, position and notification rate.",
    PORTCLS + "nn-portcls-iminiportwavecyclicstream",
    _m(
        "SetFormat",
        "NTSTATUS",
        PASSIVE,
        "Changes the stream's data format.",
        PORTCLS + "nf-portcls-iminiportwavecyclicstream-setformat",
        P("DataFormat", "PKSDATAFORMAT", "The new format.", default=_FORMAT_DEFAULT),
        mutates=True,
    ),
    _m(
        "SetNotificationFreq",
        "ULONG",
        PASSIVE,
        "Sets the interval between notification interrupts; returns the interval, which the port ignores.",
        PORTCLS + "nf-portcls-iminiportwavecyclicstream-setnotificationfreq",
        P("Interval", "ULONG", "Milliseconds between notifications.", default=10, minimum=1, maximum=1000),
        P("FrameSize", "ULONG", "Receives the bytes that move in one interval.", direction="out"),
        mutates=True,
    ),
    _m(
        "SetState",
        "NTSTATUS",
        PASSIVE,
        "Moves the stream one step STOP↔ACQUIRE↔PAUSE↔RUN.",
        PORTCLS + "nf-portcls-iminiportwavecyclicstream-setstate",
        P("State", "KSSTATE", "The new state.", default="KSSTATE_RUN"),
        mutates=True,
        cost_ns=10_000,
    ),
    _m(
        "GetPosition",
        "NTSTATUS",
        UP_TO_DISPATCH,
        "Byte offset in the cyclic buffer of the sample at the DAC/ADC (wraps at the buffer size).",
        PORTCLS + "nf-portcls-iminiportwavecyclicstream-getposition",
        P("Position", "ULONG", "Receives the offset.", direction="out"),
    ),
    _m(
        "NormalizePhysicalPosition",
        "NTSTATUS",
        ANY,
        "Converts a byte position to 100-ns units, in place.",
        PORTCLS + "nf-portcls-iminiportwavecyclicstream-normalizephysicalposition",
        P("PhysicalPosition", "LONGLONG", "Bytes in, 100-ns units out.", direction="inout", default=19200),
    ),
    _m(
        "Silence",
        "void",
        ANY,
        "Fills a buffer with silence (0x80 for 8-bit, 0 for 16-bit PCM).",
        PORTCLS + "nf-portcls-iminiportwavecyclicstream-silence",
        P("Buffer", "PVOID", "Kernel address to fill.", default=FromTarget("buffer_address")),
        P("ByteCount", "ULONG", "Bytes to fill.", default=0x100),
        mutates=True,
    ),
)

IMINIPORTWAVEPCI = _interface(
    "IMiniportWavePci",
    "{B4C90A52-5791-11D0-86F9-00A0C911B544}",
    "IUnknown",
    "The device-specific half of a WavePci filter.",
    PORTCLS + "nn-portcls-iminiportwavepci",
    _m(
        "Init",
        "NTSTATUS",
        PASSIVE,
        "Sets up the miniport; may output a miniport-wide service group.",
        PORTCLS + "nf-portcls-iminiportwavepci-init",
        P("UnknownAdapter", "PUNKNOWN", "The adapter's common object.", optional=True),
        P("ResourceList", "PRESOURCELIST", "The device's resources.", default="resources"),
        P("Port", "PPORTWAVEPCI", "The port driver.", default="port"),
        P(
            "ServiceGroup",
            "PSERVICEGROUP",
            "Receives the miniport's service group, or NULL.",
            direction="out",
        ),
        mutates=True,
    ),
    _m(
        "NewStream",
        "NTSTATUS",
        PASSIVE,
        "Creates a stream on a pin.",
        PORTCLS + "nf-portcls-iminiportwavepci-newstream",
        P("Stream", "PMINIPORTWAVEPCISTREAM", "Receives the stream.", direction="out"),
        P("OuterUnknown", "PUNKNOWN", "Aggregation; normally NULL.", optional=True),
        P("PoolType", "POOL_TYPE", "Pool for the stream object.", default="NonPagedPool"),
        P("PortStream", "PPORTWAVEPCISTREAM", "The port's side of the stream.", default="port_stream"),
        P("Pin", "ULONG", "Pin number.", default=0, maximum=15),
        P("Capture", "BOOLEAN", "TRUE for a capture stream.", default=False),
        P("DataFormat", "PKSDATAFORMAT", "The stream's format.", default=_FORMAT_DEFAULT),
        P("DmaChannel", "PDMACHANNEL", "Receives a channel the port never uses.", direction="out"),
        P("ServiceGroup", "PSERVICEGROUP", "Receives the stream's service group, or NULL.", direction="out"),
        mutates=True,
        cost_ns=20_000,
    ),
    _m(
        "Service",
        "void",
        DISPATCH,
        "Miniport-wide periodic work, from the group's DPC.",
        PORTCLS + "nf-portcls-iminiportwavepci-service",
        mutates=True,
    ),
)

IMINIPORTWAVEPCISTREAM = _interface(
    "IMiniportWavePciStream",
    "{B4C90A53-5791-11D0-86F9-00A0C911B544}",
    "IUnknown",
    "One WavePci stream: state, stream-relative position, mappings.",
    PORTCLS + "nn-portcls-iminiportwavepcistream",
    _m(
        "SetFormat",
        "NTSTATUS",
        PASSIVE,
        "Changes the stream's data format.",
        PORTCLS + "nf-portcls-iminiportwavepcistream-setformat",
        P("DataFormat", "PKSDATAFORMAT", "The new format.", default=_FORMAT_DEFAULT),
        mutates=True,
    ),
    _m(
        "SetState",
        "NTSTATUS",
        PASSIVE,
        "Moves the stream one step STOP↔ACQUIRE↔PAUSE↔RUN.",
        PORTCLS + "nf-portcls-iminiportwavepcistream-setstate",
        P("State", "KSSTATE", "The new state.", default="KSSTATE_RUN"),
        mutates=True,
        cost_ns=10_000,
    ),
    _m(
        "GetPosition",
        "NTSTATUS",
        PASSIVE,
        "Stream-relative byte position of the sample at the DAC/ADC (never wraps).",
        PORTCLS + "nf-portcls-iminiportwavepcistream-getposition",
        P("Position", "ULONGLONG", "Receives the position.", direction="out"),
    ),
    _m(
        "NormalizePhysicalPosition",
        "NTSTATUS",
        ANY,
        "Converts a byte position to 100-ns units, in place.",
        PORTCLS + "nf-portcls-iminiportwavepcistream-normalizephysicalposition",
        P("PhysicalPosition", "LONGLONG", "Bytes in, 100-ns units out.", direction="inout", default=19200),
    ),
    _m(
        "GetAllocatorFraming",
        "NTSTATUS",
        PASSIVE,
        "The miniport's preferred packet framing.",
        PORTCLS + "nf-portcls-iminiportwavepcistream-getallocatorframing",
        P("AllocatorFraming", "PKSALLOCATOR_FRAMING", "Receives the framing.", direction="out"),
    ),
    _m(
        "RevokeMappings",
        "NTSTATUS",
        DISPATCH,
        "The port takes back mappings FirstTag..LastTag; reports how many were still held.",
        PORTCLS + "nf-portcls-iminiportwavepcistream-revokemappings",
        P("FirstTag", "PVOID", "First tag of the run.", default=FromTarget("oldest_tag")),
        P("LastTag", "PVOID", "Last tag of the run.", default=FromTarget("newest_tag")),
        P("MappingsRevoked", "ULONG", "Receives the number removed.", direction="out"),
        mutates=True,
        cost_ns=2_000,
    ),
    _m(
        "MappingAvailable",
        "void",
        UP_TO_DISPATCH,
        "New mappings can be had (after a refused GetMapping).",
        PORTCLS + "nf-portcls-iminiportwavepcistream-mappingavailable",
        mutates=True,
    ),
    _m(
        "Service",
        "void",
        DISPATCH,
        "Releases finished mappings and takes new ones (from the DPC).",
        PORTCLS + "nf-portcls-iminiportwavepcistream-service",
        mutates=True,
    ),
)

PORTCLS_FUNCTIONS = _interface(
    "PortCls",
    None,
    None,
    "Functions exported by portcls.sys.",
    PORTCLS,
    _m(
        "PcNewDmaChannel",
        "NTSTATUS",
        PASSIVE,
        "Obsolete: creates a DMA channel from a full DEVICE_DESCRIPTION.",
        PORTCLS + "nf-portcls-pcnewdmachannel",
        P("OutDmaChannel", "PDMACHANNEL", "Receives the channel.", direction="out"),
        P("OuterUnknown", "PUNKNOWN", "Aggregation; normally NULL.", optional=True),
        P("PoolType", "POOL_TYPE", "Must be non-paged.", default="NonPagedPool"),
        P(
            "DeviceDescription",
            "PDEVICE_DESCRIPTION",
            "The DMA requirements.",
            default={
                "Version": 1,
                "Master": True,
                "ScatterGather": True,
                "Dma32BitAddresses": True,
                "InterfaceType": "PCIBus",
                "DmaWidth": "Width32Bits",
                "MaximumLength": 0x10000,
            },
        ),
        P("DeviceObject", "PDEVICE_OBJECT", "The adapter's device object.", default="device"),
        mutates=True,
        cost_ns=10_000,
    ),
    _m(
        "PcNewServiceGroup",
        "NTSTATUS",
        PASSIVE,
        "Creates an empty service group.",
        PORTCLS + "nf-portcls-pcnewservicegroup",
        P("OutServiceGroup", "PSERVICEGROUP", "Receives the group.", direction="out"),
        P("OuterUnknown", "PUNKNOWN", "Aggregation; normally NULL.", optional=True),
        mutates=True,
    ),
)

KERNEL_FUNCTIONS = _interface(
    "Kernel",
    None,
    None,
    "I/O manager routines the DMA path uses.",
    WDM,
    _m(
        "IoGetDmaAdapter",
        "PDMA_ADAPTER",
        PASSIVE,
        "Returns the adapter object for a DEVICE_DESCRIPTION and how many map registers it grants.",
        WDM + "nf-wdm-iogetdmaadapter",
        P("PhysicalDeviceObject", "PDEVICE_OBJECT", "The device's PDO.", default="device"),
        P(
            "DeviceDescription",
            "PDEVICE_DESCRIPTION",
            "The DMA requirements.",
            default={
                "Version": 1,
                "DmaChannel": 1,
                "InterfaceType": "Isa",
                "DmaWidth": "Width8Bits",
                "AutoInitialize": True,
                "MaximumLength": 0x4000,
            },
        ),
        P("NumberOfMapRegisters", "ULONG", "Receives the map registers granted.", direction="out"),
        mutates=True,
        cost_ns=10_000,
    ),
)

DMA_OPERATIONS = _interface(
    "DMA_OPERATIONS",
    None,
    None,
    "The routines of a DMA adapter object (DMA_ADAPTER.DmaOperations).",
    WDM + "ns-wdm-_dma_operations",
    _m(
        "PutDmaAdapter",
        "void",
        UP_TO_DISPATCH,
        "Gives the adapter object back.",
        WDM + "nc-wdm-pput_dma_adapter",
        mutates=True,
    ),
    _m(
        "AllocateCommonBuffer",
        "PVOID",
        PASSIVE,
        "Allocates memory both CPU and device can reach (at least one page); NULL on failure.",
        WDM + "nc-wdm-pallocate_common_buffer",
        P("Length", "ULONG", "Bytes wanted.", default=0x1000),
        P(
            "LogicalAddress",
            "PHYSICAL_ADDRESS",
            "Receives the device's address of the buffer.",
            direction="out",
        ),
        P("CacheEnabled", "BOOLEAN", "Cached memory (ignored on x86).", default=False),
        mutates=True,
        cost_ns=20_000,
    ),
    _m(
        "FreeCommonBuffer",
        "void",
        PASSIVE,
        "Frees a common buffer; every argument must match the allocation.",
        WDM + "nc-wdm-pfree_common_buffer",
        P("Length", "ULONG", "Bytes, as allocated.", default=0x1000),
        P("LogicalAddress", "PHYSICAL_ADDRESS", "As returned by AllocateCommonBuffer.", default=0),
        P("VirtualAddress", "PVOID", "As returned by AllocateCommonBuffer.", default=0),
        P("CacheEnabled", "BOOLEAN", "As given to AllocateCommonBuffer.", default=False),
        mutates=True,
        cost_ns=5_000,
    ),
    _m(
        "AllocateAdapterChannel",
        "NTSTATUS",
        DISPATCH,
        "Reserves the DMA channel and map registers, then calls ExecutionRoutine (now or when free).",
        WDM + "nc-wdm-pallocate_adapter_channel",
        P("DeviceObject", "PDEVICE_OBJECT", "The device asking.", default="device"),
        P("NumberOfMapRegisters", "ULONG", "Map registers needed.", default=1),
        P("ExecutionRoutine", "PDRIVER_CONTROL", "Routine to call when the channel is ours.", default="dma"),
        P("Context", "PVOID", "Passed to ExecutionRoutine.", default=0),
        mutates=True,
        cost_ns=1_000,
    ),
    _m(
        "FlushAdapterBuffers",
        "BOOLEAN",
        UP_TO_DISPATCH,
        "Finishes a transfer: masks a system DMA channel, copies back bounce buffers.",
        WDM + "nc-wdm-pflush_adapter_buffers",
        P("Mdl", "PMDL", "The transfer's MDL.", default="dma.mdl"),
        P("MapRegisterBase", "PVOID", "From the execution routine.", default=0),
        P("CurrentVa", "PVOID", "As given to MapTransfer.", default=0),
        P("Length", "ULONG", "Bytes transferred.", default=0x1000),
        P("WriteToDevice", "BOOLEAN", "Direction, as given to MapTransfer.", default=True),
        mutates=True,
        cost_ns=1_000,
    ),
    _m(
        "FreeAdapterChannel",
        "void",
        DISPATCH,
        "Releases the DMA channel and its map registers.",
        WDM + "nc-wdm-pfree_adapter_channel",
        mutates=True,
    ),
    _m(
        "FreeMapRegisters",
        "void",
        DISPATCH,
        "Releases map registers kept after DeallocateObjectKeepRegisters.",
        WDM + "nc-wdm-pfree_map_registers",
        P("MapRegisterBase", "PVOID", "From the execution routine.", default=0),
        P("NumberOfMapRegisters", "ULONG", "How many.", default=1),
        mutates=True,
    ),
    _m(
        "MapTransfer",
        "PHYSICAL_ADDRESS",
        UP_TO_DISPATCH,
        "Sets up map registers and, for system DMA, programs the 8237 for the transfer.",
        WDM + "nc-wdm-pmap_transfer",
        P("Mdl", "PMDL", "Describes the buffer.", default="dma.mdl"),
        P("MapRegisterBase", "PVOID", "From the execution routine.", default=0),
        P("CurrentVa", "PVOID", "Where in the MDL's buffer to start.", default=0),
        P("Length", "ULONG", "Bytes wanted; receives bytes mapped.", direction="inout", default=0x1000),
        P("WriteToDevice", "BOOLEAN", "TRUE: memory to device.", default=True),
        mutates=True,
        cost_ns=2_000,
    ),
    _m(
        "GetDmaAlignment",
        "ULONG",
        PASSIVE,
        "Buffer alignment the device needs.",
        WDM + "nc-wdm-pget_dma_alignment",
    ),
    _m(
        "ReadDmaCounter",
        "ULONG",
        UP_TO_DISPATCH,
        "Bytes left in the current system DMA transfer.",
        WDM + "nc-wdm-pread_dma_counter",
        cost_ns=800,
    ),
    _m(
        "GetScatterGatherList",
        "NTSTATUS",
        DISPATCH,
        "Builds the scatter/gather list of a buffer and calls ExecutionRoutine with it.",
        WDM + "nc-wdm-pget_scatter_gather_list",
        P("DeviceObject", "PDEVICE_OBJECT", "The device asking.", default="device"),
        P("Mdl", "PMDL", "Describes the buffer.", default="dma.mdl"),
        P("CurrentVa", "PVOID", "Where to start.", default=0),
        P("Length", "ULONG", "Bytes.", default=0x1000),
        P("ExecutionRoutine", "PDRIVER_LIST_CONTROL", "Routine given the list.", default="dma"),
        P("Context", "PVOID", "Passed to ExecutionRoutine.", default=0),
        P("WriteToDevice", "BOOLEAN", "Direction.", default=True),
        mutates=True,
        cost_ns=3_000,
    ),
    _m(
        "PutScatterGatherList",
        "void",
        DISPATCH,
        "Frees a scatter/gather list and its map registers.",
        WDM + "nc-wdm-pput_scatter_gather_list",
        P("ScatterGather", "PSCATTER_GATHER_LIST", "The list.", default="sglist"),
        P("WriteToDevice", "BOOLEAN", "Direction.", default=True),
        mutates=True,
    ),
)

KS_PIN = _interface(
    "KsPin",
    None,
    None,
    "What the audio client asks of a pin through KS properties (not a PortCls interface).",
    "https://learn.microsoft.com/en-us/windows-hardware/drivers/stream/ksproperty-connection-state",
    _m(
        "SetState",
        "NTSTATUS",
        PASSIVE,
        "KSPROPERTY_CONNECTION_STATE: the KS client steps the pin one state at a time to State.",
        "https://learn.microsoft.com/en-us/windows-hardware/drivers/stream/ksproperty-connection-state",
        P("State", "KSSTATE", "The target state.", default="KSSTATE_RUN"),
        mutates=True,
        cost_ns=10_000,
    ),
    _m(
        "GetPosition",
        "NTSTATUS",
        PASSIVE,
        "KSPROPERTY_AUDIO_POSITION: the play (or record) and write (or read) offsets.",
        "https://learn.microsoft.com/en-us/windows-hardware/drivers/audio/ksproperty-audio-position",
        P("PlayOffset", "ULONGLONG", "Receives the play/record offset.", direction="out"),
        P("WriteOffset", "ULONGLONG", "Receives the write/read offset.", direction="out"),
    ),
)

FAULTS = _interface(
    "FaultInjection",
    None,
    None,
    "dmaviz's own: faults to inject into a running system (not a Windows interface). Calls, so a "
    "session records them and a saved scenario replays them.",
    "https://learn.microsoft.com/en-us/windows-hardware/drivers/audio/wavecyclic-latency",
    _m(
        "StarveClient",
        "NTSTATUS",
        ANY,
        "The client submits no packets from now on for Milliseconds (an application that stalls).",
        "https://learn.microsoft.com/en-us/windows-hardware/drivers/audio/wavecyclic-latency",
        P("Client", "PCLIENT", "The client that stalls.", default="client"),
        P("Milliseconds", "ULONG", "How long it submits nothing.", default=120, minimum=1, maximum=60_000),
    ),
    _m(
        "DelayDpcs",
        "NTSTATUS",
        ANY,
        "Every DPC queued from now on for Milliseconds waits ExtraMicroseconds longer (a DPC latency spike).",
        "https://learn.microsoft.com/en-us/windows-hardware/drivers/kernel/introduction-to-dpc-objects",
        P("Milliseconds", "ULONG", "How long the spike lasts.", default=50, minimum=1, maximum=60_000),
        P("ExtraMicroseconds", "ULONG", "Added latency.", default=35_000, minimum=1, maximum=10_000_000),
    ),
    _m(
        "TakeMemory",
        "NTSTATUS",
        ANY,
        "Other system use takes free physical pages now (seeded), so later allocations find less.",
        "https://learn.microsoft.com/en-us/windows-hardware/drivers/kernel/allocating-system-space-memory",
        P("Percent", "ULONG", "Share of the free pages taken at random.", default=30, maximum=100),
        P("Seed", "ULONG", "Seed of the choice.", default=1),
        P("LargestFreeRunPages", "ULONG", "Then break free runs longer than this (0: do not).", default=0),
    ),
)

INTERFACES: dict[str, Interface] = {
    i.name: i
    for i in (
        IUNKNOWN,
        IDMACHANNEL,
        IDMACHANNELSLAVE,
        IPORTWAVECYCLIC,
        IPORTWAVEPCI,
        IPORTWAVEPCISTREAM,
        ISERVICESINK,
        ISERVICEGROUP,
        IMINIPORTWAVECYCLIC,
        IMINIPORTWAVECYCLICSTREAM,
        IMINIPORTWAVEPCI,
        IMINIPORTWAVEPCISTREAM,
        PORTCLS_FUNCTIONS,
        KERNEL_FUNCTIONS,
        DMA_OPERATIONS,
        KS_PIN,
        FAULTS,
    )
}

IIDS: dict[str, str] = {i.iid: i.name for i in INTERFACES.values() if i.iid}


def interface_chain(name: str) -> list[Interface]:
    """The interface and its bases, most derived first."""
    chain: list[Interface] = []
    current: str | None = name
    while current is not None:
        interface = INTERFACES[current]
        chain.append(interface)
        current = interface.base
    return chain


def methods_of(interface_names: tuple[str, ...]) -> dict[str, Method]:
    """Every method an object implementing ``interface_names`` answers, by name.

    Where a derived interface redeclares a name (Init, SetState), the most derived wins.
    """
    found: dict[str, Method] = {}
    for name in interface_names:
        for interface in reversed(interface_chain(name)):
            for method in interface.methods:
                found[method.name] = method
    return found


def all_methods() -> list[Method]:
    return [m for i in INTERFACES.values() for m in i.methods]
