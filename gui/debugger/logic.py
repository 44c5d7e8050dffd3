"""The debugger's logic without Qt: breakpoints from what the user points at, their text, value parsing.

F9 makes a breakpoint from the method chosen in the Methods panel or from a row of the
event log; toggling compares breakpoints by what they match, never by hit count or by
whether they are enabled. Objects are named by their stable alias where they have one
(``dma``, ``stream``), as the Methods panel calls them, so a saved session reads the same
for every device kind.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from model.contract.rules import RULES
from model.session.breakpoints import BreakKind, Breakpoint
from model.system import System
from model.trace import Record
from model.units import format_ns

# What the kinds are called in the window, in the order the editor offers them.
KIND_LABELS: dict[BreakKind, str] = {
    BreakKind.CALL: "interface call",
    BreakKind.TERMINAL_COUNT: "terminal count (8237)",
    BreakKind.BLOCK_END: "block-end interrupt (SB16)",
    BreakKind.IOC: "IOC (bus master)",
    BreakKind.INTERRUPT: "interrupt",
    BreakKind.DPC: "DPC",
    BreakKind.POSITION: "position crosses an offset",
    BreakKind.GLITCH: "glitch",
    BreakKind.VIOLATION: "contract violation",
    BreakKind.TIME: "simulated time",
}

# The kinds a record of the trace stands for (run to event, F9 on a log row).
RECORD_KINDS: tuple[BreakKind, ...] = tuple(k for k in BreakKind if k not in (BreakKind.POSITION, BreakKind.TIME))

MATCH_FIELDS = ("kind", "object", "method", "status", "context", "rule", "channel", "offset", "time_ns")


def describe(bp: Breakpoint) -> str:
    """A breakpoint in a few words (times as times, not as nanoseconds)."""
    if bp.kind == BreakKind.TIME and bp.time_ns is not None:
        return f"time reaches {format_ns(bp.time_ns)}"
    if bp.kind in (BreakKind.INTERRUPT, BreakKind.DPC, BreakKind.IOC, BreakKind.BLOCK_END):
        return KIND_LABELS[bp.kind]
    if bp.kind == BreakKind.GLITCH:
        return f"glitch on {bp.object}" if bp.object else "glitch"
    if bp.kind == BreakKind.VIOLATION and not bp.rule:
        return "any contract violation"
    return bp.describe()


def same_target(a: Breakpoint, b: Breakpoint) -> bool:
    """Do ``a`` and ``b`` stop at the same records? (Hits and enabled do not count.)"""
    if any(getattr(a, name) != getattr(b, name) for name in MATCH_FIELDS):
        return False
    return [(c.param, c.op, c.value) for c in a.conditions] == [(c.param, c.op, c.value) for c in b.conditions]


def find_same(breakpoints: Sequence[Breakpoint], bp: Breakpoint) -> Breakpoint | None:
    return next((b for b in breakpoints if same_target(b, bp)), None)


def stable_name(system: System, object_id: str) -> str:
    """The object's alias if it has one (what the Methods panel calls it by), else its id."""
    obj = system.get(object_id)
    if obj is None:
        return object_id
    names = system.names_of(obj)
    return names[1] if len(names) > 1 else names[0]


def breakpoint_for_method(system: System, object_id: str, method: str) -> Breakpoint:
    """F9 in the Methods panel: stop at every call of ``method`` on that object."""
    return Breakpoint(BreakKind.CALL, object=stable_name(system, object_id), method=method)


def breakpoint_for_record(system: System, record: Record) -> Breakpoint | None:
    """F9 on a log row: a breakpoint matching records like this one (None: no kind of breakpoint does)."""
    kind = record.kind
    if kind == "call":
        obj = str(getattr(record, "object", ""))
        return Breakpoint(BreakKind.CALL, object=stable_name(system, obj), method=str(getattr(record, "method", "")))
    if kind == "terminal_count":
        return Breakpoint(BreakKind.TERMINAL_COUNT, channel=int(getattr(record, "channel", 0)))
    if kind == "glitch":
        return Breakpoint(BreakKind.GLITCH, object=str(getattr(record, "stream", "")) or None)
    if kind == "violation":
        return Breakpoint(BreakKind.VIOLATION, rule=str(getattr(record, "rule", "")) or None)
    if kind in ("block_end", "ioc", "interrupt", "dpc"):
        return Breakpoint(BreakKind(kind))
    return None


def default_violation_breakpoint(breakpoints: Sequence[Breakpoint]) -> Breakpoint | None:
    """Break on violation is on by default: the breakpoint to add, unless one on violations is there already.

    Any violation breakpoint counts, a disabled one or one on a single rule too: the scenario's
    author (or a saved session whose user turned it off) has chosen already.
    """
    if any(bp.kind == BreakKind.VIOLATION for bp in breakpoints):
        return None
    return Breakpoint(BreakKind.VIOLATION)


def parse_value(text: str) -> Any:
    """A condition's value as typed: a number (0x1000, 4096), TRUE/FALSE, else the text (an enum name)."""
    t = text.strip()
    if t.upper() in ("TRUE", "FALSE"):
        return t.upper() == "TRUE"
    try:
        return int(t.replace("_", ""), 0)
    except ValueError:
        return t


def parse_offset(text: str) -> int:
    """A byte offset: decimal or 0x hex, not negative."""
    value = int(text.strip().replace("_", ""), 0)
    if value < 0:
        raise ValueError("an offset is not negative")
    return value


def show_value(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) and value > 9:
        return f"0x{value:X}"
    return str(value)


def rule_names() -> list[str]:
    return list(RULES)


def context_names(system: System) -> list[str]:
    """Contexts a call can come from: the user's, and every one the kernel has made (ISRs, DPCs)."""
    from model.kernel.contexts import USER_CONTEXTS

    names = list(USER_CONTEXTS)
    names += sorted(n for n in system.kernel.contexts if n not in names)
    return names


def stop_text(bp: Breakpoint, record: Record | None, index: int | None, temporary: bool) -> str:
    """The status bar's words when ``bp`` stopped a run (short: the status bar is shared)."""
    where = f" (#{record.seq})" if record is not None else ""
    if temporary:
        if bp.kind == BreakKind.TIME and bp.time_ns is not None:
            return f"ran to {format_ns(bp.time_ns)}"
        return f"ran to {describe(bp)}{where}"
    number = f" {index + 1}" if index is not None else ""
    return f"stopped at breakpoint{number}: {describe(bp)}{where}"
