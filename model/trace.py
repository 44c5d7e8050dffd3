"""The trace: typed records of everything of interest, in order, with time.

Every record has ``seq`` (0, 1, 2, ...), ``t_ns`` (non-decreasing) and a ``kind``. Records
are appended by the simulator (which stamps time) and never modified afterwards, except a
call record whose outcome is filled in when the call returns. Observers subscribe with a
callback; the trace is append-only, so a snapshot only needs its length.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(slots=True, kw_only=True)
class Record:
    """Base of every trace record."""

    kind: ClassVar[str] = "record"
    seq: int = -1
    t_ns: int = 0

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "t_ns": self.t_ns, "kind": self.kind}
        for f in dataclasses.fields(self):
            if f.name in ("seq", "t_ns"):
                continue
            value = getattr(self, f.name)
            if value is None and f.metadata.get("omit_none", True):
                continue
            out[f.name] = json_value(value)
        return out


def json_value(value: Any) -> Any:
    """Convert a model value to its JSON form: enums by WDK name, numbers as integers."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if hasattr(value, "to_json_value"):
        return value.to_json_value()
    return str(value)


@dataclass(slots=True, kw_only=True)
class EventRecord(Record):
    """A scheduled event of the virtual machine ran (one simulator step)."""

    kind: ClassVar[str] = "event"
    step: int
    name: str
    source: str


@dataclass(slots=True, kw_only=True)
class CallRecord(Record):
    """An interface method call, with its outcome filled in when it returns."""

    kind: ClassVar[str] = "call"
    object: str
    interface: str
    method: str
    args: dict[str, Any]
    context: str
    irql: Any
    caller: str
    processor: int = 0
    depth: int = 0
    status: Any = None
    value: Any = None
    out: dict[str, Any] | None = None
    duration_ns: int = 0


@dataclass(slots=True, kw_only=True)
class RegisterRecord(Record):
    """A register access of interest: an I/O port or MMIO read or write."""

    kind: ClassVar[str] = "register"
    device: str
    address: int
    register: str
    access: str  # "read" or "write"
    value: int
    space: str = "io"  # "io" or "mmio"
    width: int = 8


@dataclass(slots=True, kw_only=True)
class InterruptRecord(Record):
    """An interrupt line raised, acknowledged, or its service routine entered."""

    kind: ClassVar[str] = "interrupt"
    device: str
    irq: int
    action: str  # "raise", "ack", "isr"


@dataclass(slots=True, kw_only=True)
class DpcRecord(Record):
    """A deferred procedure call queued or run."""

    kind: ClassVar[str] = "dpc"
    name: str
    action: str  # "queued", "run"
    processor: int = 0


@dataclass(slots=True, kw_only=True)
class TerminalCountRecord(Record):
    """A system DMA channel reached terminal count."""

    kind: ClassVar[str] = "terminal_count"
    channel: int
    auto_init: bool
    masked: bool


@dataclass(slots=True, kw_only=True)
class BlockEndRecord(Record):
    """A device finished a block (SB16 block-end IRQ source)."""

    kind: ClassVar[str] = "block_end"
    device: str
    channel: int
    bytes: int
    auto_init: bool


@dataclass(slots=True, kw_only=True)
class IocRecord(Record):
    """A bus master finished a descriptor whose interrupt-on-completion bit was set."""

    kind: ClassVar[str] = "ioc"
    device: str
    stream: str
    index: int
    last_valid: bool = False


@dataclass(slots=True, kw_only=True)
class StateRecord(Record):
    """An object changed state (KS state, started/stopped, and so on)."""

    kind: ClassVar[str] = "state"
    object: str
    what: str
    old: Any
    new: Any


@dataclass(slots=True, kw_only=True)
class GlitchRecord(Record):
    """The device played (or recorded) data that was not the client's: an audible glitch."""

    kind: ClassVar[str] = "glitch"
    stream: str
    cause: str  # "underrun", "overrun", ...
    start_ns: int
    length_ns: int
    bytes: int
    offset: int = 0  # byte offset in the stream as the device played (or recorded) it


@dataclass(slots=True, kw_only=True)
class ViolationRecord(Record):
    """A contract violation: the rule, why, and what Windows would do."""

    kind: ClassVar[str] = "violation"
    rule: str
    message: str
    windows: str
    object: str = ""
    method: str = ""
    call_seq: int | None = None
    other_seq: int | None = None


@dataclass(slots=True, kw_only=True)
class MemoryRecord(Record):
    """Physical memory changed hands or was damaged."""

    kind: ClassVar[str] = "memory"
    action: str  # "allocate", "free", "damage", "pressure"
    address: int
    length: int
    owner: str
    label: str = ""


@dataclass(slots=True, kw_only=True)
class NoteRecord(Record):
    """Free text from a scenario or the user (markers, fault injections)."""

    kind: ClassVar[str] = "note"
    text: str
    source: str = "scenario"


RECORD_TYPES: tuple[type[Record], ...] = (
    EventRecord,
    CallRecord,
    RegisterRecord,
    InterruptRecord,
    DpcRecord,
    TerminalCountRecord,
    BlockEndRecord,
    IocRecord,
    StateRecord,
    GlitchRecord,
    ViolationRecord,
    MemoryRecord,
    NoteRecord,
)
RECORD_KINDS: dict[str, type[Record]] = {t.kind: t for t in RECORD_TYPES}

Subscriber = Callable[[Record], None]


@dataclass
class Trace:
    """Append-only list of records with subscribers.

    Holds no reference into the model graph, so a snapshot of the model keeps the same
    Trace object and only remembers its length.
    """

    records: list[Record] = field(default_factory=list)
    step_starts: list[int] = field(default_factory=list)  # len(records) when step k began
    _subscribers: list[Subscriber] = field(default_factory=list, repr=False)

    snapshot_persistent: ClassVar[bool] = True

    def append(self, record: Record) -> Record:
        record.seq = len(self.records)
        self.records.append(record)
        for subscriber in self._subscribers:
            subscriber(record)
        return record

    def subscribe(self, callback: Subscriber) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __getitem__(self, index: int) -> Record:
        return self.records[index]

    def of_kind(self, kind: str) -> list[Record]:
        return [r for r in self.records if r.kind == kind]

    def count(self, kind: str, **match: Any) -> int:
        return sum(
            1 for r in self.records if r.kind == kind and all(getattr(r, k, None) == v for k, v in match.items())
        )

    # Snapshot protocol (see model.snapshot).
    def checkpoint(self) -> tuple[int, int]:
        return len(self.records), len(self.step_starts)

    def rollback(self, state: tuple[int, int]) -> None:
        del self.records[state[0] :]
        del self.step_starts[state[1] :]

    def digest_bytes(self) -> bytes:
        return f"{len(self.records)}/{len(self.step_starts)}".encode()

    def write_jsonl(self, path: Any) -> None:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            for record in self.records:
                fh.write(to_json_line(record))
                fh.write("\n")


def to_json_line(record: Record) -> str:
    return json.dumps(record.to_json_dict(), separators=(",", ":"), ensure_ascii=False)
