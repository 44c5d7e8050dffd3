"""The interface declarations are the one source of truth: implementations match them exactly."""

from __future__ import annotations

import inspect

import pytest

from model.interfaces.declarations import INTERFACES, all_methods, interface_chain
from model.interfaces.types import TYPES, FromTarget, Kind
from model.objects import ModelObject
from model.topology import DEVICE_KINDS, StreamSpec, Topology


def implementing_classes() -> list[type[ModelObject]]:
    """Every model class that declares interfaces (loaded by building each device kind)."""
    for device in ("sb16", "hda", "ac97", "virtual"):
        topology = Topology(device)
        topology.install()
        topology.open_stream(StreamSpec())
    seen: set[type[ModelObject]] = set()
    stack = list(ModelObject.__subclasses__())
    while stack:
        cls = stack.pop()
        seen.add(cls)
        stack.extend(cls.__subclasses__())
    return sorted((c for c in seen if c.interfaces), key=lambda c: c.__qualname__)


CLASSES = implementing_classes()


def test_all_four_device_kinds_are_registered() -> None:
    assert set(DEVICE_KINDS) == {"sb16", "hda", "ac97", "virtual"}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
def test_every_declared_method_is_implemented_with_its_wdk_parameter_names(cls: type[ModelObject]) -> None:
    for method in cls.method_table().values():
        implementation = getattr(cls, method.name, None)
        assert callable(implementation), f"{cls.__qualname__} lacks {method.qualified}"
        names = [p for p in inspect.signature(implementation).parameters if p != "self"]
        assert names == [p.name for p in method.inputs], f"{cls.__qualname__}.{method.name}"


def test_every_interface_is_implemented_by_some_class() -> None:
    implemented = {i.name for cls in CLASSES for name in cls.interfaces for i in interface_chain(name)}
    assert set(INTERFACES) <= implemented


def test_declarations_are_complete_and_well_formed() -> None:
    for method in all_methods():
        assert method.description and method.page.startswith("https://learn.microsoft.com/")
        for param in method.params:
            assert param.type in TYPES, f"{method.qualified}.{param.name}: unknown type {param.type}"
            assert param.direction in ("in", "out", "inout")
            if param.is_input and param.default is not None and not isinstance(param.default, FromTarget):
                kind = param.ptype.kind
                expected = {
                    Kind.INT: int,
                    Kind.BOOL: bool,
                    Kind.ENUM: str,
                    Kind.OBJECT: str,
                    Kind.STRUCT: dict,
                    Kind.IID: str,
                }[kind]
                assert isinstance(param.default, expected), f"{method.qualified}.{param.name} default"
    names = {(m.interface, m.name) for m in all_methods()}
    assert len(names) == len(all_methods())


def test_the_issue_lists_every_portcls_interface() -> None:
    wanted = {
        "IUnknown",
        "IDmaChannel",
        "IDmaChannelSlave",
        "IPortWaveCyclic",
        "IPortWavePci",
        "IPortWavePciStream",
        "IServiceGroup",
        "IServiceSink",
        "IMiniportWaveCyclic",
        "IMiniportWaveCyclicStream",
        "IMiniportWavePci",
        "IMiniportWavePciStream",
        "PortCls",
        "DMA_OPERATIONS",
    }
    assert wanted <= set(INTERFACES)
    assert len(INTERFACES["IDmaChannel"].methods) == 12
    assert [m.name for m in INTERFACES["IDmaChannelSlave"].methods] == ["Start", "Stop", "ReadCounter", "WaitForTC"]
    assert {m.name for m in INTERFACES["PortCls"].methods} == {"PcNewDmaChannel", "PcNewServiceGroup"}
