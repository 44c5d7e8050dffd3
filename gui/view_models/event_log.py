"""Trace records as table rows, and the log's filter."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from model.trace import RECORD_KINDS, Record
from model.units import format_ns

COLUMNS = ("#", "time", "kind", "object", "what", "details")
KINDS = tuple(RECORD_KINDS)


def _v(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) and value > 9:
        return f"0x{value:X}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_v(v)}" for k, v in value.items()) + "}"
    if hasattr(value, "to_json_value"):
        return str(value.to_json_value())  # an MDL, an S/G list: by name, not by repr
    return str(value)


def _args(args: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={_v(v)}" for k, v in (args or {}).items())


def record_source(r: Any) -> str:
    """The column the object filter looks at."""
    kind = r.kind
    if kind in ("call", "state", "violation"):
        return str(r.object)
    if kind in ("register", "interrupt", "block_end", "ioc"):
        return str(r.device)
    if kind == "terminal_count":
        return f"8237 ch{r.channel}"
    if kind == "dpc":
        return str(r.name)
    if kind == "glitch":
        return str(r.stream)
    if kind == "memory":
        return str(r.label or r.owner)
    if kind in ("note", "event"):
        return str(r.source)
    return ""


def record_what(r: Any) -> str:
    """The column the method filter looks at."""
    kind = r.kind
    if kind == "call":
        return f"{r.interface}::{r.method}"
    if kind == "register":
        return f"{r.access} {r.register}"
    if kind == "interrupt":
        return f"IRQ {r.irq} {r.action}"
    if kind == "dpc":
        return f"DPC {r.action}"
    if kind == "terminal_count":
        return "terminal count"
    if kind == "block_end":
        return "block end"
    if kind == "ioc":
        return f"IOC, entry {r.index}"
    if kind == "state":
        return str(r.what)
    if kind == "glitch":
        return f"glitch: {r.cause}"
    if kind == "violation":
        return f"violation: {r.rule}" + (f" in {r.method}" if r.method else "")
    if kind == "memory":
        return str(r.action)
    if kind == "note":
        return "note"
    if kind == "event":
        return str(r.name)
    return kind


def record_details(r: Any) -> str:
    kind = r.kind
    if kind == "call":
        outcome = []
        if r.status is not None:
            outcome.append(_v(r.status))
        if r.value is not None:
            outcome.append(f"returned {_v(r.value)}")
        if r.out:
            outcome.append(_args(r.out))
        result = f" → {'; '.join(outcome)}" if outcome else ""
        return f"({_args(r.args)}){result}   [{r.context}, {_v(r.irql)}, from {r.caller}]"
    if kind == "register":
        return f"port/address 0x{r.address:X} = 0x{r.value:X}"
    if kind == "terminal_count":
        return f"{'auto-init: reloaded' if r.auto_init else 'single-cycle'}{', masked' if r.masked else ''}"
    if kind == "block_end":
        return f"{r.bytes} bytes, channel {r.channel}{', auto-init' if r.auto_init else ''}"
    if kind == "ioc":
        return f"stream {r.stream}{', last valid entry' if r.last_valid else ''}"
    if kind == "state":
        return f"{_v(r.old)} → {_v(r.new)}"
    if kind == "glitch":
        return f"{format_ns(r.length_ns)} ({r.bytes} bytes) from {format_ns(r.start_ns)}, stream offset 0x{r.offset:X}"
    if kind == "violation":
        return f"{r.message} — Windows: {r.windows}"
    if kind == "memory":
        return f"0x{r.address:X} + 0x{r.length:X} ({r.owner})"
    if kind == "note":
        return str(r.text)
    if kind == "event":
        return f"step {r.step}"
    if kind == "dpc":
        return f"CPU {r.processor}"
    return ""


def record_row(r: Record) -> tuple[str, str, str, str, str, str]:
    return (str(r.seq), format_ns(r.t_ns), r.kind, record_source(r), record_what(r), record_details(r))


@dataclass(frozen=True)
class LogFilter:
    """Which records the log shows: kinds (empty: all), and text the object and method columns must contain."""

    kinds: frozenset[str] = frozenset()
    object_text: str = ""
    method_text: str = ""

    @property
    def everything(self) -> bool:
        return not self.kinds and not self.object_text and not self.method_text

    def matches(self, r: Record) -> bool:
        if self.kinds and r.kind not in self.kinds:
            return False
        if self.object_text and self.object_text.lower() not in record_source(r).lower():
            return False
        return not (self.method_text and self.method_text.lower() not in record_what(r).lower())
