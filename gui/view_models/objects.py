"""The object tree: adapter driver → port → miniport → stream → DMA channel → adapter object → controller channel."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from model.system import System

# describe() keys worth showing in the tree's State column, in this order.
_STATE_KEYS = (
    "KSSTATE",
    "started",
    "refcount",
    "BufferSize",
    "channel held by",
    "DPCs run",
    "interrupts",
    "in flight",
    "glitches",
)


@dataclass
class ObjectNode:
    object_id: str  # "" for hardware nodes (not callable)
    names: list[str]  # id and aliases
    kind: str
    state: str
    details: dict[str, str]
    alive: bool = True
    children: list[ObjectNode] = field(default_factory=list)

    @property
    def label(self) -> str:
        if len(self.names) > 1:
            return f"{self.names[0]} ({', '.join(self.names[1:])})"
        return self.names[0] if self.names else self.kind

    def walk(self) -> list[ObjectNode]:
        out = [self]
        for child in self.children:
            out += child.walk()
        return out


def show(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and value > 9:
        return f"0x{value:X}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {show(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value)
    if value is None:
        return "—"
    return str(value)


def _node(system: System, obj: Any, seen: set[int]) -> ObjectNode:
    seen.add(id(obj))
    try:
        described = obj.describe()
    except Exception as exc:  # a view never breaks on a half-built object
        described = {"describe() failed": f"{type(exc).__name__}: {exc}"}
    details = {str(k): show(v) for k, v in described.items()}
    state = "; ".join(f"{k} {details[k]}" if k != "KSSTATE" else details[k] for k in _STATE_KEYS if k in details)
    node = ObjectNode(
        obj.object_id,
        system.names_of(obj),
        str(getattr(obj, "kind", type(obj).__name__)),
        state if getattr(obj, "alive", True) else "destroyed",
        details,
        alive=bool(getattr(obj, "alive", True)),
    )
    for child in obj.children():
        if id(child) not in seen and hasattr(child, "object_id"):
            node.children.append(_node(system, child, seen))
    hardware = _controller_channel(system, obj)
    if hardware is not None:
        node.children.append(hardware)
    return node


def _controller_channel(system: System, obj: Any) -> ObjectNode | None:
    """Under a DMA adapter object, the hardware it programs (not a model object: nothing to call)."""
    if getattr(obj, "kind", "") != "DMA adapter":
        return None
    if getattr(obj, "slave", False) and obj.channel is not None:
        ch = system.machine.dma.channel(obj.channel)
        details = {
            "current address": f"0x{ch.current_address:04X}",
            "current count": f"0x{ch.current_count:04X}",
            "page": f"0x{ch.page:02X}",
            "mode": ch.mode_byte.describe(),
            "masked": show(ch.masked),
            "terminal counts": str(ch.terminal_counts),
        }
        state = f"{'masked' if ch.masked else 'unmasked'}; count 0x{ch.current_count:04X}"
        return ObjectNode("", [f"8237 channel {obj.channel}"], "controller channel", state, details)
    return None


def object_tree(system: System) -> list[ObjectNode]:
    """Top-level nodes: the adapter driver's tree, then objects it does not reach (I/O manager, portcls...)."""
    seen: set[int] = set()
    roots: list[ObjectNode] = []
    driver = system.get("driver")
    if driver is not None:
        roots.append(_node(system, driver, seen))
    for obj in system.objects.values():
        if id(obj) not in seen:
            roots.append(_node(system, obj, seen))
    return roots
