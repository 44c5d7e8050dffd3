"""Breakpoints: on interface calls, hardware events, glitches, violations and simulated time.

A breakpoint is plain data (it is saved with the session and can be written in a scenario
file). The session evaluates breakpoints over the records each step produced, so a
breakpoint stops at exactly the step that produced the matching record.
"""

from __future__ import annotations

import enum
import operator
from dataclasses import dataclass, field
from typing import Any

from model.trace import CallRecord, Record

_OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class BreakKind(enum.StrEnum):
    CALL = "call"  # an interface call (object, method, conditions)
    TERMINAL_COUNT = "terminal_count"
    BLOCK_END = "block_end"
    IOC = "ioc"
    INTERRUPT = "interrupt"
    DPC = "dpc"
    POSITION = "position"  # a stream's play/record position crossing a byte offset
    GLITCH = "glitch"
    VIOLATION = "violation"
    TIME = "time"


@dataclass
class Condition:
    """``param op value`` on a call's argument (or on ``status`` / ``value``)."""

    param: str
    op: str
    value: Any

    def holds(self, actual: Any) -> bool:
        if actual is None:
            return False
        wanted = self.value
        if isinstance(actual, enum.Enum):
            actual = actual.name
        try:
            return bool(_OPS[self.op](actual, wanted))
        except TypeError:
            return False

    def describe(self) -> str:
        value = f"0x{self.value:X}" if isinstance(self.value, int) and not isinstance(self.value, bool) else self.value
        return f"{self.param} {self.op} {value}"


@dataclass
class Breakpoint:
    kind: BreakKind
    object: str | None = None  # call: object id or alias; glitch/position: the stream (pin)
    method: str | None = None
    conditions: list[Condition] = field(default_factory=list)
    status: str | None = None  # call: the NTSTATUS name it must return
    context: str | None = None  # call: the caller's context name (passive, dispatch, isr, dpc:sg ...)
    rule: str | None = None  # violation: only this rule
    channel: int | None = None  # terminal_count: only this DMA channel
    offset: int | None = None  # position: the byte offset in the buffer
    time_ns: int | None = None  # time
    enabled: bool = True
    hits: int = 0

    def describe(self) -> str:
        if self.kind == BreakKind.CALL:
            text = f"{self.object or '*'}.{self.method or '*'}"
            extra = [c.describe() for c in self.conditions]
            if self.status:
                extra.append(f"returns {self.status}")
            if self.context:
                extra.append(f"from {self.context}")
            return text + (f" if {' and '.join(extra)}" if extra else "")
        if self.kind == BreakKind.TIME:
            from model.units import format_ns

            return f"at {format_ns(self.time_ns or 0)}"
        if self.kind == BreakKind.POSITION:
            return f"{self.object or 'pin'} position crosses 0x{self.offset or 0:X}"
        if self.kind == BreakKind.VIOLATION:
            return f"violation{' ' + self.rule if self.rule else ''}"
        if self.kind == BreakKind.TERMINAL_COUNT and self.channel is not None:
            return f"terminal count on channel {self.channel}"
        return self.kind.value.replace("_", " ")

    def matches(self, record: Record, names: dict[str, str]) -> bool:
        """Does ``record`` trigger this breakpoint? ``names`` maps aliases to real ids."""
        kind = self.kind
        if kind == BreakKind.CALL:
            if not isinstance(record, CallRecord):
                return False
            if self.object and names.get(self.object, self.object) != record.object:
                return False
            if self.method and self.method != record.method:
                return False
            if self.context and self.context != record.context:
                return False
            if self.status and (record.status is None or record.status.name != self.status):
                return False
            for condition in self.conditions:
                if condition.param == "status":
                    actual: Any = record.status
                elif condition.param == "value":
                    actual = record.value
                else:
                    actual = record.args.get(condition.param, (record.out or {}).get(condition.param))
                if not condition.holds(actual):
                    return False
            return True
        if record.kind != kind.value:
            return False
        if kind == BreakKind.VIOLATION and self.rule and getattr(record, "rule", None) != self.rule:
            return False
        if (
            kind == BreakKind.TERMINAL_COUNT
            and self.channel is not None
            and getattr(record, "channel", None) != self.channel
        ):
            return False
        return not (
            kind == BreakKind.GLITCH
            and self.object
            and getattr(record, "stream", None) != names.get(self.object, self.object)
        )

    def to_table(self) -> dict[str, Any]:
        """The scenario-file form."""
        out: dict[str, Any] = {"kind": self.kind.value}
        for name in ("object", "method", "status", "context", "rule", "channel", "offset", "time_ns"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.conditions:
            out["conditions"] = [{"param": c.param, "op": c.op, "value": c.value} for c in self.conditions]
        if not self.enabled:
            out["enabled"] = False
        return out

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> Breakpoint:
        data = dict(table)
        conditions = [Condition(**c) for c in data.pop("conditions", [])]
        return cls(kind=BreakKind(data.pop("kind")), conditions=conditions, **data)


OPERATORS = tuple(_OPS)
