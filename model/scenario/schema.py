"""The scenario file format as pydantic models: what every key means and what it may hold.

The parts about interface calls (which methods exist, their parameters, types and
ranges) are generated from the interface declarations (``methods.ARG_MODELS``); device
kinds, record kinds, contract rules, NTSTATUS and KSSTATE names come from the model's own
tables. Nothing here is evaluated: values are numbers, strings, booleans and tables.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    Tag,
    WrapValidator,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from model.contract.rules import RULES
from model.kernel.contexts import USER_CONTEXTS
from model.kernel.types import NTSTATUS
from model.scenario.errors import found, show, suggest
from model.scenario.methods import ARG_MODELS, METHOD_NAMES, LazyModels
from model.session.breakpoints import OPERATORS, BreakKind
from model.topology import DEVICE_KINDS, _load_device_kinds
from model.trace import RECORD_KINDS
from model.units import MS, US, DurationError, parse_duration
from model.wave_format import SignalKind

_load_device_kinds()

FORMAT_VERSION = 1
KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
PAGE = 4096


# --- scalar types ------------------------------------------------------------------------------------
def _duration(value: Any) -> int:
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except DurationError:
            pass
    raise PydanticCustomError(
        "duration",
        '{found}; expected a duration such as "12ms" (a number and one of the units ns, us, ms, s)',
        {"found": found(value)},
    )


def format_duration(ns: int) -> str:
    """The shortest exact way to write ``ns``: '12ms', '1500us', '3s'."""
    if ns == 0:
        return "0ms"
    for unit, scale in (("s", 1_000_000_000), ("ms", MS), ("us", US)):
        if ns % scale == 0:
            return f"{ns // scale}{unit}"
    return f"{ns}ns"


Duration = Annotated[int, PlainValidator(_duration), PlainSerializer(format_duration)]

_SIZE_RE = re.compile(r"^\s*(\d+)\s*(B|KiB|MiB|GiB)?\s*$")
_SIZE_UNITS = {None: 1, "B": 1, "KiB": KiB, "MiB": MiB, "GiB": GiB}


def _size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        match = _SIZE_RE.match(value)
        if match:
            return int(match.group(1)) * _SIZE_UNITS[match.group(2)]
    raise PydanticCustomError(
        "size",
        '{found}; expected a size in bytes: a whole number or a string such as "16KiB" or "64MiB"',
        {"found": found(value)},
    )


def format_size(n: int) -> str | int:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n and n % scale == 0:
            return f"{n // scale}{unit}"
    return n


Size = Annotated[int, PlainValidator(_size), PlainSerializer(format_size)]


def _scalar(value: Any) -> Any:
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise PydanticCustomError("scenario", "{found}; expected a number, a string or true/false", {"found": found(value)})


Scalar = Annotated[Any, PlainValidator(_scalar)]

ACTION_REF = re.compile(r"^action\[(\d+)\]$")


def _int_or_ref(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and ACTION_REF.match(value):
        return value
    raise PydanticCustomError(
        "scenario", '{found}; expected an integer or a reference such as "action[3]"', {"found": found(value)}
    )


IntOrRef = Annotated[Any, PlainValidator(_int_or_ref)]


def _identifier(value: Any) -> str:
    if isinstance(value, str) and re.match(r"^[A-Za-z_][A-Za-z0-9_.]*$", value):
        return value
    raise PydanticCustomError(
        "scenario", '{found}; expected an object id such as "dma" or "pin"', {"found": found(value)}
    )


ObjectId = Annotated[str, PlainValidator(_identifier)]

RecordKind = Literal[tuple(RECORD_KINDS)]  # type: ignore[valid-type]
MethodName = Literal[METHOD_NAMES]  # type: ignore[valid-type]
StatusName = Literal[tuple(NTSTATUS.__members__)]  # type: ignore[valid-type]
ContextName = Literal[tuple(USER_CONTEXTS)]  # type: ignore[valid-type]


def record_fields(kind: str) -> list[str]:
    """The fields a record of ``kind`` has besides seq, t_ns and kind (what ``where`` may test)."""
    cls = RECORD_KINDS[kind]
    return [f.name for f in dataclasses.fields(cls) if f.name not in ("seq", "t_ns")]


# --- the base of every table -------------------------------------------------------------------------
class Table(BaseModel):
    """A table of the file: strict types; an unknown key is an error that lists the known ones."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)
    what: ClassVar[str] = "this table"

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = [f.alias or name for name, f in cls.model_fields.items()]
            for key in data:
                if key not in allowed:
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key {key}{hint}; {what} may have: {allowed}",
                        {
                            "key": key,
                            "hint": suggest(str(key), allowed),
                            "what": cls.what,
                            "allowed": ", ".join(allowed),
                        },
                    )
        return data


def _exactly(data: Any, keys: tuple[str, ...], what: str) -> None:
    present = [k for k in keys if getattr(data, k) is not None]
    if len(present) != 1:
        names = ", ".join(keys[:-1]) + " or " + keys[-1]
        got = "none of them" if not present else " and ".join(present)
        raise PydanticCustomError(
            "scenario", "{what} needs exactly one of {names}; found {got}", {"what": what, "names": names, "got": got}
        )


# --- machine, device, streams ------------------------------------------------------------------------------
class Fragmentation(Table):
    """Occupy free memory at random (seeded), as a long-running system would."""

    what: ClassVar[str] = "a fragmentation table"
    fraction: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.0
    seed: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 1
    largest_free_run: Size | None = None  # bytes; longer free runs are broken up


class Machine(Table):
    what: ClassVar[str] = "[machine]"
    memory: Size = 64 * MiB
    isr_latency: Duration = 2 * US
    dpc_latency: Duration = 20 * US
    fragmentation: Fragmentation | None = None

    @model_validator(mode="after")
    def _memory_size(self) -> Machine:
        if self.memory % PAGE or not 4 * MiB <= self.memory <= 1 * GiB:
            raise PydanticCustomError(
                "scenario",
                "memory: found {value}; expected a whole number of 4 KiB pages from 4MiB to 1GiB",
                {"value": show(self.memory)},
            )
        return self


class Device(Table):
    what: ClassVar[str] = "[device]"
    kind: Literal[tuple(sorted(DEVICE_KINDS))]  # type: ignore[valid-type]


class Format(Table):
    """The stream's PCM format, with KSDATAFORMAT's WDK field names."""

    what: ClassVar[str] = "a format table"
    SamplesPerSec: Annotated[int, Field(ge=5000, le=48000)] = 48000
    BitsPerSample: Literal[8, 16] = 16
    Channels: Literal[1, 2] = 2


class SignalSpec(Table):
    what: ClassVar[str] = "a signal table"
    kind: Literal[tuple(k.value for k in SignalKind)] = "ramp"  # type: ignore[valid-type]
    frequency: Annotated[float, Field(gt=0, le=24000, allow_inf_nan=False)] = 440.0
    amplitude: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.5
    seed: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 1


def _signal_shorthand(value: Any) -> Any:
    return {"kind": value} if isinstance(value, str) else value


class Stream(Table):
    what: ClassVar[str] = "a [[stream]] table"
    direction: Literal["render", "capture"] = "render"
    format: Format = Format()
    signal: Annotated[SignalSpec, BeforeValidator(_signal_shorthand)] = SignalSpec()
    packet: Duration = 10 * MS
    in_flight: Annotated[int, Field(ge=1, le=32)] = 4
    jitter: Duration = 0
    seed: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 1
    write_ahead: Duration = 40 * MS
    silence_threshold: Duration = 30 * MS

    @model_validator(mode="after")
    def _check_durations(self) -> Stream:
        if self.packet % MS or not 1 * MS <= self.packet <= 1000 * MS:
            raise PydanticCustomError(
                "scenario",
                "packet: found {value}; expected a whole number of milliseconds from 1ms to 1000ms",
                {"value": format_duration(self.packet)},
            )
        if not 1 * MS <= self.write_ahead <= 1000 * MS:
            raise PydanticCustomError(
                "scenario",
                "write_ahead: found {value}; expected a duration from 1ms to 1000ms",
                {"value": format_duration(self.write_ahead)},
            )
        if self.silence_threshold > self.write_ahead:
            raise PydanticCustomError(
                "scenario",
                "silence_threshold: found {value}; expected at most write_ahead ({limit}): the port pads "
                "with silence when it has less than this ahead, and never writes past write_ahead",
                {"value": format_duration(self.silence_threshold), "limit": format_duration(self.write_ahead)},
            )
        return self


# --- triggers and actions ------------------------------------------------------------------------------------
_TRIGGER_RE = re.compile(
    r"^\s*(?:(?P<object>[A-Za-z_][A-Za-z0-9_]*)\.(?P<method>[A-Za-z_][A-Za-z0-9_]*)|(?P<kind>[a-z_]+))"
    r"\s*(?:#\s*(?P<nth>\d+))?\s*$"
)


def _trigger_shorthand(value: Any) -> Any:
    """'terminal_count#3' or 'dma.SetBufferSize#2' -> the table form."""
    if not isinstance(value, str):
        return value
    match = _TRIGGER_RE.match(value)
    if match is None:
        raise PydanticCustomError(
            "scenario",
            '{found}; expected "KIND#N" (a record kind such as "terminal_count#3") or "object.Method#N"',
            {"found": found(value)},
        )
    table: dict[str, Any] = {}
    if match.group("kind"):
        table["kind"] = match.group("kind")
    else:
        table.update(kind="call", object=match.group("object"), method=match.group("method"))
    if match.group("nth"):
        table["nth"] = int(match.group("nth"))
    return table


class Trigger(Table):
    """The event an ``after`` action waits for: the nth trace record of a kind (and matching fields)."""

    what: ClassVar[str] = "an after table"
    kind: RecordKind
    object: ObjectId | None = None  # call and state records: the object (an alias is fine)
    method: MethodName | None = None  # call records
    where: dict[str, Scalar] = {}
    nth: Annotated[int, Field(ge=1)] = 1

    def shorthand(self) -> str | None:
        if self.where:
            return None
        if self.kind == "call" and self.object and self.method:
            head = f"{self.object}.{self.method}"
        elif self.kind != "call" and not self.object and not self.method:
            head = self.kind
        else:
            return None
        return head if self.nth == 1 else f"{head}#{self.nth}"


class IoWrite(Table):
    """OUT to an I/O port: one byte or several in order (a DSP command and its arguments)."""

    what: ClassVar[str] = "an io table"
    port: Annotated[int, Field(ge=0, le=0xFFFF)]
    value: Annotated[
        list[Annotated[int, Field(ge=0, le=0xFF)]],
        BeforeValidator(lambda v: [v] if isinstance(v, int) and not isinstance(v, bool) else v),
        Field(min_length=1, max_length=64),
    ]


class ActionBase(Table):
    what: ClassVar[str] = "an [[action]] table"
    at: Duration | None = None
    after: Annotated[Trigger, BeforeValidator(_trigger_shorthand)] | None = None
    delay: Duration | None = None
    at_step: Annotated[int, Field(ge=0)] | None = None
    note: Annotated[str, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _timing(self) -> ActionBase:
        if self.at_step is not None:
            if self.after is not None:
                raise PydanticCustomError("scenario", "an action with at_step cannot also have after", {})
        elif (self.at is None) == (self.after is None):
            _exactly(self, ("at", "after", "at_step"), "an action")
        if self.delay is not None and self.after is None:
            raise PydanticCustomError("scenario", "delay only goes with after", {})
        return self


class CallActionBase(ActionBase):
    object: ObjectId
    context: ContextName | None = None  # passive, dispatch or isr; default: the method's IRQL


class IoAction(ActionBase):
    io: IoWrite

    @model_validator(mode="after")
    def _no_step(self) -> IoAction:
        if self.at_step is not None:
            raise PydanticCustomError("scenario", "at_step is for interface calls only (io actions use at)", {})
        return self


class NoteAction(ActionBase):
    note: Annotated[str, Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _no_step(self) -> NoteAction:
        if self.at_step is not None:
            raise PydanticCustomError("scenario", "at_step is for interface calls only (notes use at)", {})
        return self


def _call_action_model(name: str) -> type[CallActionBase]:
    return create_model(
        f"Call_{name}",
        __base__=CallActionBase,
        method=(Literal[name], ...),
        args=(ARG_MODELS[name], Field(default_factory=ARG_MODELS[name])),
    )


CALL_ACTIONS: Mapping[str, type[CallActionBase]] = LazyModels(METHOD_NAMES, _call_action_model)


def _unknown_method(value: Any) -> Any:
    if isinstance(value, str):
        hint = suggest(value, METHOD_NAMES)
        listing = "" if hint else "; methods: " + ", ".join(METHOD_NAMES)
        raise PydanticCustomError(
            "scenario",
            "no interface has a method {name}{hint}{listing}",
            {"name": show(value), "hint": hint, "listing": listing},
        )
    raise PydanticCustomError(
        "scenario", '{found}; expected a method name such as "SetBufferSize"', {"found": found(value)}
    )


class UnknownMethodAction(BaseModel):
    """Stands for an action whose method no interface declares: its only job is the error message."""

    model_config = ConfigDict(extra="allow")
    method: Annotated[Any, PlainValidator(_unknown_method)]


def _action_tag(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "tag:note"  # the note model reports "expected a table"
    if "method" in value:
        method = value["method"]
        return f"tag:call:{method}" if isinstance(method, str) and method in CALL_ACTIONS else "tag:call?"
    if "object" in value:
        return None  # an object without a method
    if "io" in value:
        return "tag:io"
    if "note" in value:
        return "tag:note"
    return None


def tagged_union(members: list[Any], tagger: Any, missing: str) -> Any:
    """A union chosen by ``tagger`` (never by trial), so an error names one member's problem."""
    return Annotated[
        Union[tuple(members)],  # noqa: UP007 (built from a runtime list)
        Discriminator(tagger, custom_error_type="scenario", custom_error_message=missing),
    ]


def _validate_action(value: Any, handler: Any) -> Any:
    """Choose the action's model by its keys (never by trial) and build a call's model on first use.

    A discriminated union of every method's model would be built at import, which is what
    made starting slow; a nested model's errors keep their path (``action[3].args.X``).
    """
    tag = _action_tag(value)
    if tag is None:
        raise PydanticCustomError(
            "scenario", "an action needs object and method (an interface call), io (a port write) or note", {}
        )
    if tag.startswith("tag:call:"):
        return CALL_ACTIONS[tag.removeprefix("tag:call:")].model_validate(value)
    model = {"tag:io": IoAction, "tag:note": NoteAction, "tag:call?": UnknownMethodAction}[tag]
    return model.model_validate(value)


Action = Annotated[Any, WrapValidator(_validate_action)]


# --- faults --------------------------------------------------------------------------------------------------
class Interval(Table):
    start: Duration
    end: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.end <= self.start:
            raise PydanticCustomError(
                "scenario",
                "end ({end}) must come after start ({start})",
                {"end": format_duration(self.end), "start": format_duration(self.start)},
            )
        return self


class Starve(Interval):
    """The client submits no packets from start to end."""

    what: ClassVar[str] = 'a fault of kind "starve"'
    kind: Literal["starve"]
    client: ObjectId = "client"


class DpcSpike(Interval):
    """Every DPC queued from start to end waits ``extra`` longer."""

    what: ClassVar[str] = 'a fault of kind "dpc_spike"'
    kind: Literal["dpc_spike"]
    extra: Duration


class Occupied(Table):
    what: ClassVar[str] = "an occupy table"
    address: Annotated[int, Field(ge=0, le=0xFFFFFFFF)]
    length: Size


class MemoryPressure(Table):
    """Memory taken before the driver starts (before AllocateBuffer): random pages and/or fixed ranges."""

    what: ClassVar[str] = 'a fault of kind "memory_pressure"'
    kind: Literal["memory_pressure"]
    fraction: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.0
    seed: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 1
    largest_free_run: Size | None = None
    occupy: list[Occupied] = []


FAULT_KINDS = ("starve", "dpc_spike", "memory_pressure")


def _unknown_fault(value: Any) -> Any:
    raise PydanticCustomError(
        "scenario",
        "{found}; expected one of {kinds}",
        {"found": found(value), "kinds": ", ".join(f'"{k}"' for k in FAULT_KINDS)},
    )


class UnknownFault(BaseModel):
    model_config = ConfigDict(extra="allow")
    kind: Annotated[Any, PlainValidator(_unknown_fault)]


def _fault_tag(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "tag:starve"  # reports "expected a table"
    if "kind" not in value:
        return None
    kind = value["kind"]
    return f"tag:{kind}" if isinstance(kind, str) and kind in FAULT_KINDS else "tag:?"


Fault = tagged_union(
    [
        Annotated[Starve, Tag("tag:starve")],
        Annotated[DpcSpike, Tag("tag:dpc_spike")],
        Annotated[MemoryPressure, Tag("tag:memory_pressure")],
        Annotated[UnknownFault, Tag("tag:?")],
    ],
    _fault_tag,
    "a fault needs kind: " + ", ".join(f'"{k}"' for k in FAULT_KINDS),
)


# --- breakpoints ---------------------------------------------------------------------------------------------
class ConditionSpec(Table):
    what: ClassVar[str] = "a condition table"
    param: Annotated[str, Field(min_length=1)]
    op: Literal[OPERATORS]  # type: ignore[valid-type]
    value: Scalar


class BreakpointSpec(Table):
    """A breakpoint, as model.session.breakpoints.Breakpoint.from_table reads it."""

    what: ClassVar[str] = "a [[breakpoint]] table"
    kind: Literal[tuple(k.value for k in BreakKind)]  # type: ignore[valid-type]
    object: ObjectId | None = None
    method: MethodName | None = None
    conditions: list[ConditionSpec] = []
    status: StatusName | None = None
    context: Annotated[str, Field(min_length=1)] | None = None
    rule: Literal[tuple(RULES)] | None = None  # type: ignore[valid-type]
    channel: Annotated[int, Field(ge=0, le=7)] | None = None
    offset: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] | None = None
    time: Duration | None = None
    time_ns: Annotated[int, Field(ge=0)] | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _fits_kind(self) -> BreakpointSpec:
        if self.time is not None and self.time_ns is not None:
            raise PydanticCustomError("scenario", "give time or time_ns, not both", {})
        needs = {
            "time": ("time", self.time if self.time is not None else self.time_ns),
            "position": ("offset", self.offset),
        }
        if self.kind in needs and needs[self.kind][1] is None:
            raise PydanticCustomError(
                "scenario", "a {kind} breakpoint needs {key}", {"kind": self.kind, "key": needs[self.kind][0]}
            )
        if self.conditions and self.kind != "call":
            raise PydanticCustomError("scenario", "conditions only go with call breakpoints", {})
        return self

    def time_value(self) -> int | None:
        return self.time if self.time is not None else self.time_ns


# --- expectations --------------------------------------------------------------------------------------------
class Check(Table):
    """A comparison; a bare value in the file means ``equals``."""

    what: ClassVar[str] = "a comparison table"
    equals: Scalar | None = None
    not_equals: Scalar | None = None
    at_least: IntOrRef | None = None
    at_most: IntOrRef | None = None
    multiple_of: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _something(self) -> Check:
        if all(getattr(self, k) is None for k in type(self).model_fields):
            raise PydanticCustomError(
                "scenario", "a comparison needs equals, not_equals, at_least, at_most or multiple_of", {}
            )
        return self


def _check_shorthand(value: Any) -> Any:
    return value if isinstance(value, dict) else {"equals": value}


CheckValue = Annotated[Check, BeforeValidator(_check_shorthand)]


class CallRef(Table):
    """Which call: an action of this file (its index), or the nth call of object.method in the trace."""

    what: ClassVar[str] = "a call table"
    action: Annotated[int, Field(ge=0)] | None = None
    object: ObjectId | None = None
    method: MethodName | None = None
    nth: int = 1  # 1 = the first; -1 = the last
    args: dict[str, Scalar] = {}

    @model_validator(mode="after")
    def _one_way(self) -> CallRef:
        if self.action is not None:
            if self.object is not None or self.method is not None or self.args:
                raise PydanticCustomError("scenario", "give either action, or object and method, not both", {})
        elif self.method is None:
            raise PydanticCustomError("scenario", "a call needs action (an index) or method (and object)", {})
        if self.nth == 0:
            raise PydanticCustomError("scenario", "nth counts from 1 (the first call; -1 is the last)", {})
        return self


class ExpectBase(Table):
    what: ClassVar[str] = "an [[expect]] table"
    label: Annotated[str, Field(max_length=200)] | None = None


class ExpectCall(ExpectBase):
    """The outcome of one call: its NTSTATUS, its return value, its out-parameters."""

    call: CallRef
    status: StatusName | None = None
    value: CheckValue | None = None
    out: dict[str, CheckValue] = {}
    executed: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> ExpectCall:
        if self.status is None and self.value is None and not self.out and self.executed is None:
            raise PydanticCustomError("scenario", "an expectation on a call needs status, value, out or executed", {})
        return self


class Window(Table):
    what: ClassVar[str] = "a window table"
    start: Duration = 0
    end: Duration | None = None


class ExpectCount(ExpectBase):
    """How many trace records of a kind (matching ``where``) there are, in a time window."""

    count: RecordKind
    where: dict[str, Scalar] = {}
    window: Window | None = None
    equals: Annotated[int, Field(ge=0)] | None = None
    at_least: Annotated[int, Field(ge=0)] | None = None
    at_most: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _bound(self) -> ExpectCount:
        if self.equals is None and self.at_least is None and self.at_most is None:
            raise PydanticCustomError("scenario", "a count needs equals, at_least or at_most", {})
        if self.equals is not None and (self.at_least is not None or self.at_most is not None):
            raise PydanticCustomError("scenario", "equals cannot be combined with at_least or at_most", {})
        return self


class ExpectAudio(ExpectBase):
    """The stream's data arrived intact: what the device played is what the client wrote (render),
    what the client received is what the device recorded (capture), outside reported glitches."""

    audio: ObjectId  # the pin, e.g. "pin"
    window: Window | None = None
    at_least_bytes: Annotated[int, Field(ge=1)] = 1


def _expect_tag(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "tag:call"
    for key in ("call", "count", "audio"):
        if key in value:
            return f"tag:{key}"
    return None


Expectation = tagged_union(
    [
        Annotated[ExpectCall, Tag("tag:call")],
        Annotated[ExpectCount, Tag("tag:count")],
        Annotated[ExpectAudio, Tag("tag:audio")],
    ],
    _expect_tag,
    "an expectation needs call (a call's outcome), count (records in the trace) or audio (data intact)",
)


# --- the rest --------------------------------------------------------------------------------------------------
class Shot(Table):
    """The scenario's most telling moment, for pictures (dmaviz shot)."""

    what: ClassVar[str] = "[shot]"
    at: Duration | None = None
    event: Annotated[int, Field(ge=0)] | None = None
    view: Annotated[str, Field(min_length=1, max_length=40)] | None = None

    @model_validator(mode="after")
    def _one(self) -> Shot:
        _exactly(self, ("at", "event"), "[shot]")
        return self


class Run(Table):
    what: ClassVar[str] = "[run]"
    until: Duration = 1_000 * MS

    @model_validator(mode="after")
    def _positive(self) -> Run:
        if not 0 < self.until <= 3600 * 1000 * MS:
            raise PydanticCustomError(
                "scenario",
                "until: found {value}; expected a duration from 1ns to 3600s",
                {"value": format_duration(self.until)},
            )
        return self


class ScenarioFile(Table):
    """A whole scenario file."""

    what: ClassVar[str] = "a scenario file"
    version: Literal[1] = FORMAT_VERSION
    title: Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[^\n\r]*$")]
    description: Annotated[str, Field(max_length=20_000)] = ""
    run: Run = Run()
    machine: Machine = Machine()
    device: Device
    stream: Annotated[list[Stream], Field(max_length=4)] = []
    action: Annotated[list[Action], Field(max_length=10_000)] = []
    fault: Annotated[list[Fault], Field(max_length=100)] = []
    breakpoint: Annotated[list[BreakpointSpec], Field(max_length=1000)] = []
    expect: Annotated[list[Expectation], Field(max_length=1000)] = []
    shot: Shot | None = None
