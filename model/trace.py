"""The trace: typed records of everything of interest, in order, with time.

Every record has ``seq`` (0, 1, 2, ...), ``t_ns`` (non-decreasing) and a ``kind``. Records
are appended by the simulator (which stamps time) and never modified afterwards, except a
call record whose outcome is filled in when the call returns. Observers subscribe with a
callback; the trace is append-only, so a snapshot only needs its length.

The hardware writes most records (a register read, an interrupt edge, a terminal count)
many times a second and nobody may ever look at most of them, so these may be stored in a
*compact* form: a tuple ``(type code, t_ns, field values...)`` that holds only plain values
(a tuple of strings and numbers costs a tenth of a record object and is invisible to the
garbage collector). The record object is built the first time anyone reads it; from
outside, the trace only ever hands out record objects.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

object_new = object.__new__


@dataclass(slots=True, kw_only=True)
class Record:
    """Base of every trace record."""

    kind: ClassVar[str] = "record"
    code: ClassVar[int] = -1  # index in RECORD_TYPES: the compact form's first item
    value_fields: ClassVar[tuple[str, ...]] = ()  # the compact form's values, in order
    seq: int = -1
    t_ns: int = 0

    @classmethod
    def from_compact(cls, seq: int, entry: tuple[Any, ...]) -> Record:
        """The record a compact entry ``(code, t_ns, values...)`` stands for."""
        return cls(seq=seq, t_ns=entry[1], **dict(zip(cls.value_fields, entry[2:], strict=False)))

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
    if hasattr(value, "object_id"):
        return value.object_id
    # Never str(): an object's default text holds its address, and traces must be identical run to run.
    return f"<{type(value).__name__}>"


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

    @classmethod
    def begin(
        cls,
        object: str,
        interface: str,
        method: str,
        args: dict[str, Any],
        context: str,
        irql: Any,
        caller: str,
        processor: int,
        depth: int,
        duration_ns: int,
    ) -> CallRecord:
        """A record of a call about to run, outcome not yet known.

        The same as the keyword constructor, at a third of its cost: every interface call
        the port and the miniports make writes one.
        """
        record = object_new(cls)
        record.seq = -1
        record.t_ns = 0
        record.object = object
        record.interface = interface
        record.method = method
        record.args = args
        record.context = context
        record.irql = irql
        record.caller = caller
        record.processor = processor
        record.depth = depth
        record.status = None
        record.value = None
        record.out = None
        record.duration_ns = duration_ns
        return record


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
for _code, _type in enumerate(RECORD_TYPES):
    _type.code = _code
    _type.value_fields = tuple(f.name for f in dataclasses.fields(_type) if f.name not in ("seq", "t_ns"))

Subscriber = Callable[[Record], None]


class Trace:
    """The records, in order, with subscribers; also what was recorded past the present.

    A rollback (a snapshot restored) only moves the live length back: the records past it
    stay as the recorded future, and replay, which is deterministic, writes the same records
    over them one by one. So going back costs nothing however long the trace is, and the
    GUI's log still shows what comes later. ``forget_future`` drops them when history forks.

    Holds no reference into the model graph, so a snapshot of the model keeps the same
    Trace object and only remembers its lengths.
    """

    snapshot_persistent: ClassVar[bool] = True

    def __init__(self) -> None:
        self._records: list[Record | tuple[Any, ...]] = []  # objects, or compact entries
        self._live = 0
        self._built = 0  # every entry below this index is a record object
        self.entries_built = 0  # compact entries looked at to build record objects, ever
        self._steps: list[int] = []  # the live record count when step k began
        self._live_steps = 0
        self._subscribers: list[Subscriber] = []

    # --- the present ---------------------------------------------------------------------
    @property
    def records(self) -> list[Record]:
        """The records up to the present (the list itself, or a copy when a future is kept)."""
        self._build(self._live)
        return self._records if self._live == len(self._records) else self._records[: self._live]  # type: ignore[return-value]

    @property
    def step_starts(self) -> list[int]:
        return self._steps if self._live_steps == len(self._steps) else self._steps[: self._live_steps]

    @property
    def observed(self) -> bool:
        """Whether someone is told of each record as it comes (so it must be an object at once)."""
        return bool(self._subscribers)

    def since(self, first: int) -> list[Record]:
        """Live records from index ``first`` on."""
        self._build(self._live, first)
        return self._records[first : self._live]  # type: ignore[return-value]

    def append(self, record: Record) -> Record:
        live = self._live
        record.seq = live
        records = self._records
        if live < len(records):
            records[live] = record  # replay: the same record again
        else:
            records.append(record)
            if self._built == live:
                self._built = live + 1
        self._live = live + 1
        for subscriber in self._subscribers:
            subscriber(record)
        return record

    def add(self, entry: tuple[Any, ...]) -> None:
        """Append a record in compact form ``(type code, t_ns, values...)``.

        Only when nobody subscribes: ``Simulator.record`` decides.
        """
        live = self._live
        records = self._records
        if live < len(records):
            records[live] = entry
            if live < self._built:
                self._built = live
        else:
            records.append(entry)
        self._live = live + 1

    def _build(self, end: int, start: int = 0) -> None:
        """Turn the compact entries from ``start`` up to ``end`` into record objects.

        Only that range is built (a jump in a long session reads a few records near the
        present, not the hundreds of thousands before them); the mark below which every
        entry is built moves only when the range reaches down to it.
        """
        built = self._built
        if built >= end:
            return
        records = self._records
        types = RECORD_TYPES
        self.entries_built += end - max(start, built)
        for i in range(max(start, built), end):
            entry = records[i]
            if type(entry) is tuple:
                records[i] = types[entry[0]].from_compact(i, entry)
        if start <= built:
            self._built = end

    def mark_step(self) -> None:
        """A simulator step begins now."""
        if self._live_steps < len(self._steps):
            self._steps[self._live_steps] = self._live
        else:
            self._steps.append(self._live)
        self._live_steps += 1

    # --- the recorded history --------------------------------------------------------------
    def history(self) -> list[Record]:
        """Every record, including those recorded past the present."""
        self._build(len(self._records))
        return self._records  # type: ignore[return-value]

    def history_steps(self) -> list[int]:
        return self._steps

    def forget_future(self) -> None:
        """History forks here: what was recorded past the present no longer happens."""
        del self._records[self._live :]
        del self._steps[self._live_steps :]
        self._built = min(self._built, self._live)

    # --- subscribers -------------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    # --- reading -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._live

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __getitem__(self, index: int) -> Record:
        if index < 0:
            index += self._live
        if not 0 <= index < self._live:
            raise IndexError(index)
        entry = self._records[index]
        if type(entry) is tuple:
            entry = self._records[index] = RECORD_TYPES[entry[0]].from_compact(index, entry)
        return entry

    def of_kind(self, kind: str) -> list[Record]:
        return [r for r in self if r.kind == kind]

    def count(self, kind: str, **match: Any) -> int:
        return sum(1 for r in self if r.kind == kind and all(getattr(r, k, None) == v for k, v in match.items()))

    def __repr__(self) -> str:
        return f"Trace({self._live} records, {len(self._records) - self._live} recorded past the present)"

    # --- snapshot protocol (see model.snapshot) -----------------------------------------------------
    def checkpoint(self) -> tuple[int, int]:
        return self._live, self._live_steps

    def rollback(self, state: tuple[int, int]) -> None:
        records, steps = state
        if records > len(self._records) or steps > len(self._steps):
            raise ValueError("cannot restore records that were forgotten")
        self._live, self._live_steps = records, steps

    def digest_bytes(self) -> bytes:
        return f"{self._live}/{self._live_steps}".encode()

    def write_jsonl(self, path: Any) -> None:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            for record in self:
                fh.write(to_json_line(record))
                fh.write("\n")


def to_json_line(record: Record) -> str:
    return json.dumps(record.to_json_dict(), separators=(",", ":"), ensure_ascii=False)
