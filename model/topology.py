"""Assembling a system: which device and miniport, the port driver, and the client streams.

``Topology`` does what the adapter driver's StartDevice and the audio stack do, in order:
create the port and miniport, IPort::Init (which runs the miniport's Init, where buffers
are allocated), then open one pin per client stream. A scenario can act between the
steps (memory pressure before AllocateBuffer, for example).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from model.client.audio_client import AudioClient
from model.faults import FaultInjector
from model.hardware.machine import MachineConfig
from model.kernel.dma_adapter import IoManager
from model.kernel.types import NTSTATUS
from model.objects import ModelObject
from model.portcls.functions import PortClsFunctions
from model.portcls.port_wavecyclic import WaveCyclicPin
from model.portcls.resources import DeviceObject, ResourceList, Resources
from model.system import System
from model.units import MS
from model.wave_format import Signal, WaveFormat


@dataclass(frozen=True)
class DeviceKind:
    """A device dmaviz can simulate, with the miniport and port that drive it."""

    name: str
    title: str
    port: str  # "wavecyclic" or "wavepci"
    miniport: Callable[[System], ModelObject]
    resources: Callable[[MachineConfig], Resources]


DEVICE_KINDS: dict[str, DeviceKind] = {}


def register_device(kind: DeviceKind) -> None:
    DEVICE_KINDS[kind.name] = kind


@dataclass
class StreamSpec:
    """One client stream."""

    capture: bool = False
    format: WaveFormat = field(default_factory=WaveFormat)
    signal: Signal = field(default_factory=Signal)
    packet_ms: int = 10
    packets_in_flight: int = 4
    jitter_ns: int = 0
    seed: int = 1
    # The WaveCyclic port's copy policy (portcls-contract.md fact 30): how far ahead of the
    # DMA it writes, and below how much real data ahead it pads with silence. WavePci has none.
    write_ahead_ns: int = 40 * MS
    silence_threshold_ns: int = 30 * MS


class AdapterDriver(ModelObject):
    """The adapter driver: root of the object tree (its device object, resources and port)."""

    kind: ClassVar[str] = "adapter driver"

    def __init__(self, system: System, title: str) -> None:
        super().__init__(system, "driver")
        self.title = title
        self.port: Any = None
        self.device: Any = None
        self.resource_list: Any = None

    def describe(self) -> dict[str, Any]:
        return {"device": self.title}

    def children(self) -> list[Any]:
        return [x for x in (self.port, self.device, self.resource_list) if x is not None]


class Topology:
    """Builds a System for one device kind and keeps handles to the pieces."""

    def __init__(self, device: str, config: MachineConfig | None = None) -> None:
        _load_device_kinds()
        if device not in DEVICE_KINDS:
            raise ValueError(f"unknown device {device!r}; known: {', '.join(sorted(DEVICE_KINDS))}")
        self.kind = DEVICE_KINDS[device]
        config = config or MachineConfig()
        self.system = System(config)
        system = self.system
        self.io = IoManager(system)
        self.portcls = PortClsFunctions(system)
        self.faults = FaultInjector(system)
        self.driver = AdapterDriver(system, self.kind.title)
        self.device = DeviceObject(system, self.kind.title)
        self.resource_list = ResourceList(system, self.kind.resources(config))
        self.port: Any = None
        self.miniport: Any = None
        self.pins: list[Any] = []
        self.clients: list[AudioClient] = []

    def install(self) -> NTSTATUS:
        """StartDevice: create port and miniport and bind them with IPort::Init."""
        system = self.system
        if self.kind.port == "wavecyclic":
            from model.portcls.port_wavecyclic import PortWaveCyclic

            self.port = PortWaveCyclic(system)
        else:
            from model.portcls.port_wavepci import PortWavePci

            self.port = PortWavePci(system)
        self.miniport = self.kind.miniport(system)
        self.driver.port, self.driver.device, self.driver.resource_list = self.port, self.device, self.resource_list
        with system.acting_as(self.driver.object_id):
            result = system.call(
                self.port,
                "Init",
                {
                    "DeviceObject": self.device,
                    "Irp": None,
                    "UnknownMiniport": self.miniport,
                    "UnknownAdapter": None,
                    "ResourceList": self.resource_list,
                },
            )
        return result.ntstatus

    def open_stream(self, spec: StreamSpec) -> Any:
        """Open a pin for a new client stream; returns the pin, or None if the miniport refused."""
        system = self.system
        n = len(self.clients)
        suffix = "" if n == 0 else str(n + 1)
        client = AudioClient(
            system,
            capture=spec.capture,
            fmt=spec.format,
            signal=spec.signal,
            packet_ms=spec.packet_ms,
            packets_in_flight=spec.packets_in_flight,
            seed=spec.seed,
            jitter_ns=spec.jitter_ns,
            base_id=f"client{suffix}",
        )
        if not client.allocate_buffers():
            return None
        with system.acting_as(client.object_id):
            pin = self.port.create_pin(client, pin_id=1 if spec.capture else 0, base_id=f"pin{suffix}")
        if pin is None:
            return None
        if isinstance(pin, WaveCyclicPin):
            pin.write_ahead_ns = spec.write_ahead_ns
            pin.silence_threshold_ns = spec.silence_threshold_ns
        self.clients.append(client)
        self.pins.append(pin)
        self._name_stream(pin, suffix)
        return pin

    def _name_stream(self, pin: Any, suffix: str) -> None:
        """Stable names for the stream's objects, the same for every device kind."""
        system = self.system
        for name, obj in (
            ("stream", getattr(pin, "stream", None)),
            ("dma", getattr(pin, "dma", None)),
            ("sg", getattr(pin, "service_group", None)),
            ("dma_adapter", getattr(getattr(pin, "dma", None), "adapter", None)),
        ):
            if isinstance(obj, ModelObject):
                system.alias(name + suffix, obj)


def _load_device_kinds() -> None:
    """Import the miniport modules; each registers its device kind."""
    import model.portcls.miniports  # noqa: F401  (registration happens on import)
