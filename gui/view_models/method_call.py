"""The logic behind a method form: text to argument values, hints, checks, and the result of a call.

Everything comes from the interface declarations (``Method``/``Param``); nothing here knows
a particular method. Checks use ``System.convert_arg`` so the form says exactly what the
model would refuse.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from model.interfaces.declarations import INTERFACES
from model.interfaces.types import FromTarget, Kind, Method, Param
from model.kernel.contexts import USER_CONTEXTS, default_context_name
from model.kernel.types import ENUM_TYPES
from model.objects import ModelObject
from model.system import ArgumentError, CallResult, System

NULL = "NULL"


def show_value(value: Any) -> str:
    """A value as the form writes it (hex for numbers above 9, WDK names for enums)."""
    if isinstance(value, ModelObject):
        return value.object_id
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return f"0x{value:X}" if value > 9 else str(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={show_value(v)}" for k, v in value.items())
    if value is None:
        return NULL
    return str(value)


def _scalar(text: str) -> Any:
    """A word in a struct field or a number: int if it reads as one, TRUE/FALSE as bool, else the text."""
    t = text.strip()
    if t.upper() in ("TRUE", "FALSE"):
        return t.upper() == "TRUE"
    try:
        return int(t.replace("_", ""), 0)
    except ValueError:
        return t


def parse_input(param: Param, text: str) -> Any:
    """Turn what was typed into the value passed to the model; text that does not parse is passed as text,
    so the model's own refusal (and its trace record) is what the user sees."""
    kind = param.ptype.kind
    t = text.strip()
    if kind == Kind.INT:
        try:
            return int(t.replace("_", ""), 0)
        except ValueError:
            return t
    if kind == Kind.BOOL:
        if t.upper() in ("TRUE", "1", "YES"):
            return True
        if t.upper() in ("FALSE", "0", "NO"):
            return False
        return t
    if kind == Kind.OBJECT:
        return None if t in ("", NULL) else t
    if kind == Kind.STRUCT:
        if not t:
            return {}
        out: dict[str, Any] = {}
        for part in t.split(","):
            key, sep, value = part.partition("=")
            if not sep:
                return t  # not key=value: let the model say what it expects
            out[key.strip()] = _scalar(value)
        return out
    return t


def default_text(system: System, obj: ModelObject | None, param: Param) -> str:
    """The default as text for the field (computed from the target for FromTarget defaults)."""
    if param.default is None:
        return NULL if param.optional or param.ptype.kind == Kind.OBJECT else ""
    if isinstance(param.default, FromTarget):
        if obj is None:
            return ""
        try:
            return show_value(system.default_arg(obj, param))
        except Exception:
            return ""
    return show_value(param.default)


def choices(system: System, param: Param) -> list[str]:
    """Values offered in a drop-down: enum names, TRUE/FALSE, object ids, interface names."""
    kind = param.ptype.kind
    if kind == Kind.ENUM:
        return list(ENUM_TYPES[param.type].__members__)
    if kind == Kind.BOOL:
        return ["TRUE", "FALSE"]
    if kind == Kind.OBJECT:
        return [NULL, *sorted(system.objects), *sorted(system.aliases)]
    if kind == Kind.IID:
        return sorted(INTERFACES)
    return []


def param_hint(system: System, obj: ModelObject | None, param: Param) -> str:
    """Type, range and default, for the hint under (and the tooltip of) a field."""
    parts = [param.type]
    kind = param.ptype.kind
    if kind == Kind.INT:
        lo, hi = param.bounds()
        if lo is not None and hi is not None:
            parts.append(f"{show_value(lo)} … {show_value(hi)}")
    if kind == Kind.STRUCT:
        parts.append("fields: " + ", ".join(param.ptype.fields))
    if isinstance(param.default, FromTarget):
        parts.append(f"default {param.default.describe()} = {default_text(system, obj, param) or '?'}")
    elif param.default is not None:
        parts.append(f"default {show_value(param.default)}")
    if param.optional:
        parts.append("NULL allowed")
    return " · ".join(parts)


def check(system: System, param: Param, value: Any) -> str | None:
    """The model's objection to ``value`` for ``param``, or None if it would accept it."""
    if param.ptype.kind == Kind.OBJECT and isinstance(value, str):
        # Object ids are checked by the model at call time too, but a typo deserves a word now.
        if not system.names_something(value):
            return f'there is no object or item {value!r} (write "NULL" for a NULL pointer)'
        return None
    try:
        system.convert_arg(param, value)
    except ArgumentError as exc:
        return exc.message
    return None


@dataclass(frozen=True)
class ContextChoice:
    name: str
    label: str


def contexts() -> list[ContextChoice]:
    """The calling contexts a user call may run in, with their IRQL."""
    return [ContextChoice(name, f"{name} ({irql.name}, CPU {cpu})") for name, (_k, irql, cpu) in USER_CONTEXTS.items()]


def default_context(method: Method) -> str:
    return default_context_name(method.irql.default_level)


@dataclass
class ResultView:
    """What the method panel shows after Call: taken from the CallResult and its CallRecord."""

    headline: str
    executed: bool
    status: str | None = None
    value: str | None = None
    out: list[tuple[str, str]] = field(default_factory=list)
    violations: list[tuple[str, str, str]] = field(default_factory=list)  # (rule, message, what Windows does)
    seq: int | None = None
    context: str = ""
    irql: str = ""

    def text_lines(self) -> list[str]:
        lines = [self.headline]
        lines += [f"{name} = {value}" for name, value in self.out]
        lines += [f"violation {rule}: {message} (Windows: {windows})" for rule, message, windows in self.violations]
        return lines


def result_view(result: CallResult) -> ResultView:
    record = result.record
    view = ResultView(
        headline="",
        executed=result.executed,
        seq=record.seq if record is not None else None,
        context=record.context if record is not None else "",
        irql=show_value(record.irql) if record is not None else "",
    )
    if record is not None:
        if record.status is not None:
            view.status = show_value(record.status)
        if record.value is not None:
            view.value = show_value(record.value)
        view.out = [(k, show_value(v)) for k, v in (record.out or {}).items()]
    view.violations = [(v.rule, v.message, v.windows) for v in result.violations]
    if result.error:
        view.headline = f"refused: {result.error}"
        if view.status:
            view.headline += f" — {view.status}"
    else:
        parts = [p for p in (view.status, f"returned {view.value}" if view.value is not None else None) if p]
        view.headline = "; ".join(parts) or ("done (void)" if result.executed else "not executed")
    return view
