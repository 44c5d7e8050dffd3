"""Execution contexts: who is running, at which IRQL, on which of the two processors.

Calls take simulated CPU time (a nominal cost per method) without the clock moving during
an event; each context keeps a cursor so the calls of one DPC are laid end to end. Two
contexts whose calls on the same object overlap in that time, with no lock in common,
race (PortCls' IDmaChannel does no locking of its own).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from model.kernel.types import Irql


class ContextKind(enum.StrEnum):
    THREAD = "thread"  # a system thread at PASSIVE_LEVEL
    DPC = "dpc"  # a deferred procedure call at DISPATCH_LEVEL
    ISR = "isr"  # an interrupt service routine at DIRQL


@dataclass
class ExecutionContext:
    name: str
    kind: ContextKind
    irql: Irql
    processor: int
    busy_until_ns: int = 0
    locks: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.name} ({self.irql.name}, CPU {self.processor})"


# The contexts a call from the GUI or a scenario may name. The user's thread runs on CPU 1,
# the device's ISR and DPCs on CPU 0, so a user call can overlap a DPC in time.
USER_CONTEXTS: dict[str, tuple[ContextKind, Irql, int]] = {
    "passive": (ContextKind.THREAD, Irql.PASSIVE_LEVEL, 1),
    "dispatch": (ContextKind.DPC, Irql.DISPATCH_LEVEL, 1),
    "isr": (ContextKind.ISR, Irql.DIRQL, 0),
}


def default_context_name(irql: Irql) -> str:
    """The user context that runs at ``irql``."""
    return {Irql.PASSIVE_LEVEL: "passive", Irql.APC_LEVEL: "passive", Irql.DISPATCH_LEVEL: "dispatch"}.get(irql, "isr")


T = TypeVar("T")


class Pushed(Generic[T]):
    """``with Pushed(stack, item):`` keeps ``item`` on top of ``stack`` for the block.

    What the kernel's running contexts and the system's acting callers need, as a plain
    class: an ISR or a DPC enters a few of these per simulated interrupt, and a generator
    based context manager costs several times more.
    """

    __slots__ = ("item", "stack")

    def __init__(self, stack: list[T], item: T) -> None:
        self.stack = stack
        self.item = item

    def __enter__(self) -> T:
        self.stack.append(self.item)
        return self.item

    def __exit__(self, *exc: Any) -> None:
        self.stack.pop()
