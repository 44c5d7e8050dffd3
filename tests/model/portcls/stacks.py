"""Builders of ready-made stacks for PortCls tests."""

from __future__ import annotations

from typing import Any

from model.kernel.dma_adapter import pci_bus_master_table
from model.system import System
from model.topology import StreamSpec, Topology
from model.wave_format import WaveFormat


def sb16(fmt: WaveFormat | None = None, *, run: bool = True, capture: bool = False) -> tuple[Topology, Any]:
    """An installed SB16 stack with one stream (running unless ``run`` is False)."""
    return live_stack("sb16", fmt, run=run, capture=capture)


def bare_system() -> System:
    """A system with the I/O manager, portcls functions and a device object, and nothing else."""
    topology = Topology("sb16")
    topology.system.strict = True
    return topology.system


def new_channel(system: System, **fields: Any) -> Any:
    """A channel made with PcNewDmaChannel from DEVICE_DESCRIPTION ``fields`` (a bus master by default)."""
    table = pci_bus_master_table(0x10000)
    table.update(fields)
    result = system.call("portcls", "PcNewDmaChannel", {"DeviceDescription": table, "DeviceObject": "device"})
    assert result.status == 0, result.summary()
    return result.out["OutDmaChannel"]


def slave_channel(system: System, channel: int = 1, *, auto_init: bool = True, maximum: int = 0x4000) -> Any:
    return new_channel(
        system,
        Master=False,
        ScatterGather=False,
        Dma32BitAddresses=False,
        DmaChannel=channel,
        InterfaceType="Isa",
        DmaWidth="Width16Bits" if channel >= 4 else "Width8Bits",
        AutoInitialize=auto_init,
        MaximumLength=maximum,
    )


def violations(system: System, rule: str | None = None) -> list[Any]:
    return [r for r in system.trace.of_kind("violation") if rule is None or r.rule == rule]


def run_to_service(system: System) -> None:
    """Run until a service-group DPC has run (the port has just copied)."""
    while True:
        first = len(system.trace)
        assert system.step() is not None
        if any(r.kind == "dpc" and r.action == "run" for r in system.trace.records[first:]):
            return


DEVICES = ("sb16", "hda", "ac97", "virtual")  # SB16 and HDA WaveCyclic, AC'97 WavePci, the virtual miniport


def live_stack(
    device: str, fmt: WaveFormat | None = None, *, run: bool = True, capture: bool = False
) -> tuple[Topology, Any]:
    """An installed stack of any device kind (``DEVICES``) with one stream (running unless ``run`` is False)."""
    topology = Topology(device)
    topology.system.strict = True
    assert topology.install() == 0
    pin = topology.open_stream(StreamSpec(capture=capture, format=fmt or WaveFormat()))
    assert pin is not None
    if run:
        assert topology.system.call(pin, "SetState", {"State": "KSSTATE_RUN"}).status == 0
    return topology, pin
