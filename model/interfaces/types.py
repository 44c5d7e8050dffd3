"""The vocabulary of interface declarations: parameter types, IRQL rules, methods, interfaces."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from model.kernel.types import ENUM_TYPES, Irql


class Kind(enum.StrEnum):
    """How a WDK parameter type is represented in the model, the scenario file and the GUI."""

    INT = "int"  # numbers and addresses (ints in JSON/TOML)
    BOOL = "bool"
    ENUM = "enum"  # written by WDK name, e.g. KSSTATE_RUN
    OBJECT = "object"  # a reference to a model object, by its id (NULL = omitted)
    STRUCT = "struct"  # a small table of named fields (KSDATAFORMAT, DEVICE_DESCRIPTION)
    IID = "iid"  # an interface id: the GUID or the interface name


@dataclass(frozen=True, slots=True)
class ParamType:
    name: str
    kind: Kind
    minimum: int | None = None
    maximum: int | None = None
    interface: str | None = None  # for OBJECT: what the object must implement
    fields: tuple[str, ...] = ()  # for STRUCT

    @property
    def enum(self) -> type[enum.IntEnum] | None:
        return ENUM_TYPES.get(self.name)


U32 = 0xFFFFFFFF
U64 = 0xFFFFFFFFFFFFFFFF

TYPES: dict[str, ParamType] = {
    t.name: t
    for t in (
        ParamType("ULONG", Kind.INT, 0, U32),
        ParamType("ULONGLONG", Kind.INT, 0, U64),
        ParamType("LONGLONG", Kind.INT, -(1 << 63), (1 << 63) - 1),
        ParamType("BOOLEAN", Kind.BOOL),
        ParamType("PVOID", Kind.INT, 0, U32),  # 32-bit kernel virtual address
        ParamType("PHYSICAL_ADDRESS", Kind.INT, 0, U64),
        ParamType("KSSTATE", Kind.ENUM),
        ParamType("DMA_WIDTH", Kind.ENUM),
        ParamType("DMA_SPEED", Kind.ENUM),
        ParamType("POOL_TYPE", Kind.ENUM),
        ParamType("IO_ALLOCATION_ACTION", Kind.ENUM),
        ParamType("REFIID", Kind.IID),
        ParamType("PUNKNOWN", Kind.OBJECT, interface="IUnknown"),
        ParamType("PDMACHANNEL", Kind.OBJECT, interface="IDmaChannel"),
        ParamType("PDMACHANNELSLAVE", Kind.OBJECT, interface="IDmaChannelSlave"),
        ParamType("PSERVICEGROUP", Kind.OBJECT, interface="IServiceGroup"),
        ParamType("PSERVICESINK", Kind.OBJECT, interface="IServiceSink"),
        ParamType("PPORTWAVECYCLIC", Kind.OBJECT, interface="IPortWaveCyclic"),
        ParamType("PPORTWAVEPCI", Kind.OBJECT, interface="IPortWavePci"),
        ParamType("PPORTWAVEPCISTREAM", Kind.OBJECT, interface="IPortWavePciStream"),
        ParamType("PMINIPORTWAVECYCLICSTREAM", Kind.OBJECT, interface="IMiniportWaveCyclicStream"),
        ParamType("PMINIPORTWAVEPCISTREAM", Kind.OBJECT, interface="IMiniportWavePciStream"),
        ParamType("PRESOURCELIST", Kind.OBJECT, interface="ResourceList"),
        ParamType("PDEVICE_OBJECT", Kind.OBJECT, interface="DeviceObject"),
        ParamType("PIRP", Kind.OBJECT, interface="Irp"),
        ParamType("PMDL", Kind.OBJECT, interface="Mdl"),
        ParamType("PDMA_ADAPTER", Kind.OBJECT, interface="DMA_OPERATIONS"),
        ParamType("PADAPTER_OBJECT", Kind.OBJECT, interface="DMA_OPERATIONS"),
        ParamType("PDRIVER_CONTROL", Kind.OBJECT, interface="AdapterControl"),
        ParamType("PDRIVER_LIST_CONTROL", Kind.OBJECT, interface="AdapterListControl"),
        ParamType("PSCATTER_GATHER_LIST", Kind.OBJECT, interface="ScatterGatherList"),
        ParamType("PCLIENT", Kind.OBJECT, interface="AudioClient"),  # dmaviz's own: an audio client
        ParamType("PKSDATAFORMAT", Kind.STRUCT, fields=("SamplesPerSec", "BitsPerSample", "Channels")),
        ParamType(
            "PDEVICE_DESCRIPTION",
            Kind.STRUCT,
            fields=(
                "Version",
                "Master",
                "ScatterGather",
                "DemandMode",
                "AutoInitialize",
                "Dma32BitAddresses",
                "IgnoreCount",
                "Dma64BitAddresses",
                "BusNumber",
                "DmaChannel",
                "InterfaceType",
                "DmaWidth",
                "DmaSpeed",
                "MaximumLength",
                "DmaPort",
            ),
        ),
        ParamType(
            "PKSALLOCATOR_FRAMING",
            Kind.STRUCT,
            fields=("Frames", "FrameSize", "FileAlignment", "PoolType", "RequirementsFlags"),
        ),
    )
}


@dataclass(frozen=True, slots=True)
class FromTarget:
    """A default computed from the target object at call time (e.g. MapSize = BufferSize())."""

    getter: str
    offset: int = 0

    def describe(self) -> str:
        return f"{self.getter}()" + (f" + {self.offset:#x}" if self.offset else "")


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str
    description: str
    direction: str = "in"  # "in", "out", "inout"
    optional: bool = False  # NULL allowed
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None

    @property
    def ptype(self) -> ParamType:
        return TYPES[self.type]

    @property
    def is_input(self) -> bool:
        return self.direction in ("in", "inout")

    @property
    def is_output(self) -> bool:
        return self.direction in ("out", "inout")

    def bounds(self) -> tuple[int | None, int | None]:
        lo = self.minimum if self.minimum is not None else self.ptype.minimum
        hi = self.maximum if self.maximum is not None else self.ptype.maximum
        return lo, hi


@dataclass(frozen=True, slots=True)
class IrqlRule:
    """At which IRQL a method may be called: exactly ``level``, or at most ``level``."""

    level: Irql
    exact: bool = False
    any_level: bool = False

    def allows(self, irql: Irql) -> bool:
        if self.any_level:
            return True
        return irql == self.level if self.exact else irql <= self.level

    @property
    def default_level(self) -> Irql:
        """The level a call from the GUI or a scenario runs at unless it names a context."""
        if self.exact:
            return self.level
        return Irql.PASSIVE_LEVEL

    def describe(self) -> str:
        if self.any_level:
            return "any IRQL"
        return self.level.name if self.exact else f"<= {self.level.name}"


PASSIVE = IrqlRule(Irql.PASSIVE_LEVEL, exact=True)
DISPATCH = IrqlRule(Irql.DISPATCH_LEVEL, exact=True)
UP_TO_DISPATCH = IrqlRule(Irql.DISPATCH_LEVEL)
ANY = IrqlRule(Irql.DIRQL, any_level=True)


@dataclass(frozen=True, slots=True)
class Method:
    interface: str
    name: str
    params: tuple[Param, ...]
    returns: str  # "NTSTATUS", "void", or a value type such as "ULONG"
    irql: IrqlRule
    description: str
    page: str  # Microsoft Learn page
    mutates: bool = False  # writes the object's state (matters for data races)
    cost_ns: int = 200  # nominal CPU time, for overlap (race) analysis

    @property
    def qualified(self) -> str:
        return f"{self.interface}::{self.name}"

    @property
    def inputs(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.is_input)

    @property
    def outputs(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.is_output)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    iid: str | None
    base: str | None
    description: str
    page: str
    methods: tuple[Method, ...] = field(default_factory=tuple)
