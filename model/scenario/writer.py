"""Writing a scenario back out as TOML (for "save session as scenario").

The output is canonical: the validated content, in a fixed key order, durations as
strings with units, addresses and sizes in hexadecimal inside call arguments. Comments of
the original file are not kept. The text is loaded again before it is returned, so what
is written is always a valid scenario.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from model.interfaces.types import Kind
from model.objects import ModelObject
from model.scenario.methods import input_params
from model.scenario.schema import format_duration
from model.session.breakpoints import Breakpoint

if TYPE_CHECKING:
    from model.scenario.scenario import Scenario

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ACTION_ORDER = ("at_step", "at", "after", "delay", "object", "method", "args", "context", "io", "note")
_SECTIONS = ("run", "machine", "device")
_ARRAYS = ("stream", "action", "fault", "breakpoint", "expect")


def scenario_to_toml(
    scenario: Scenario, extra_actions: list[dict[str, Any]] | None, breakpoints: Sequence[Breakpoint] | None
) -> str:
    from model.scenario.loader import load_text

    doc = _dump_document(scenario.doc)
    doc["version"] = scenario.doc.version
    doc["title"] = scenario.doc.title
    doc.setdefault("device", {"kind": scenario.device})
    actions = [_tidy_action(a) for a in doc.get("action", [])]
    if extra_actions is not None:
        # A session made from this scenario holds its at_step actions as injections, so the
        # session's recorded actions are all of them: they replace the file's.
        actions = [a for a in actions if "at_step" not in a]
        actions += [_tidy_action(normalize_action(a)) for a in extra_actions]
    if actions:
        doc["action"] = actions
    else:
        doc.pop("action", None)
    if breakpoints is not None:
        tables = [_breakpoint_table(bp) for bp in breakpoints]
        if tables:
            doc["breakpoint"] = tables
        else:
            doc.pop("breakpoint", None)
    for exp in doc.get("expect", []):
        for key in ("value",):
            if isinstance(exp.get(key), dict):
                exp[key] = _tidy_check(exp[key])
        if isinstance(exp.get("out"), dict):
            exp["out"] = {k: _tidy_check(v) for k, v in exp["out"].items()}
    for stream in doc.get("stream", []):
        if isinstance(stream.get("signal"), dict) and list(stream["signal"]) == ["kind"]:
            stream["signal"] = stream["signal"]["kind"]
    text = _document(doc)
    load_text(text, source=f"{scenario.name}.toml (as saved)")  # never hand out a file dmaviz cannot read
    return text


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_unset=True, by_alias=True)


def _dump_document(doc: BaseModel) -> dict[str, Any]:
    """The file's content as plain values. Actions, faults and expectations are dumped one by one
    with their own models (the unions they belong to are chosen by a tag, not by type)."""
    out: dict[str, Any] = {}
    for name in type(doc).model_fields:
        if name not in doc.model_fields_set:
            continue
        value = getattr(doc, name)
        if isinstance(value, list):
            out[name] = [_dump(item) for item in value]
        elif isinstance(value, BaseModel):
            out[name] = _dump(value)
        else:
            out[name] = value
    return out


def normalize_action(action: dict[str, Any]) -> dict[str, Any]:
    """An action from Session.recorded_actions(), with model values turned into file values."""
    out: dict[str, Any] = {}
    for key, value in action.items():
        if key == "args" and isinstance(value, dict):
            params = input_params(str(action.get("method", "")))
            args: dict[str, Any] = {}
            for name, arg in value.items():
                if arg is None:
                    param = params.get(name)
                    if param is not None and param.ptype.kind == Kind.OBJECT:
                        args[name] = "NULL"
                    continue  # an omitted optional parameter is NULL too
                args[name] = _plain(arg)
            if args:
                out["args"] = args
        elif value is not None:
            out[key] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, ModelObject):
        return value.object_id
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _tidy_action(action: dict[str, Any]) -> dict[str, Any]:
    after = action.get("after")
    if isinstance(after, dict) and not after.get("where"):
        kind, nth = after.get("kind"), after.get("nth", 1)
        obj, method = after.get("object"), after.get("method")
        head = None
        if kind == "call" and obj and method:
            head = f"{obj}.{method}"
        elif kind != "call" and not obj and not method:
            head = kind
        if head is not None:
            action["after"] = head if nth == 1 else f"{head}#{nth}"
    if isinstance(action.get("io"), dict):
        values = action["io"].get("value")
        if isinstance(values, list) and len(values) == 1:
            action["io"]["value"] = values[0]
    if "args" in action and not action["args"]:
        del action["args"]
    ordered = {k: action[k] for k in _ACTION_ORDER if k in action}
    ordered.update({k: v for k, v in action.items() if k not in ordered})
    return ordered


def _tidy_check(check: dict[str, Any]) -> Any:
    return check["equals"] if list(check) == ["equals"] else check


def _breakpoint_table(bp: Breakpoint) -> dict[str, Any]:
    table = bp.to_table()
    if "time_ns" in table:
        table["time"] = format_duration(int(table.pop("time_ns")))
    return table


# --- TOML -----------------------------------------------------------------------------------------------
def _document(doc: dict[str, Any]) -> str:
    lines = ["# A dmaviz scenario, written by dmaviz (the format: docs/scenarios.md).", ""]
    for key in ("version", "title"):
        lines.append(f"{key} = {_value(doc[key])}")
    if doc.get("description"):
        lines.append(f"description = {_multiline(doc['description'])}")
    for section in _SECTIONS:
        table = doc.get(section)
        if table:
            lines += ["", f"[{section}]"]
            lines += [f"{_key(k)} = {_value(v, hexify=section == 'machine')}" for k, v in table.items()]
    for array in _ARRAYS:
        for item in doc.get(array, []):
            lines += ["", f"[[{array}]]"]
            if "label" in item:
                item = {**{k: v for k, v in item.items() if k != "label"}, "label": item["label"]}
            for key, value in item.items():
                if key == "args" and isinstance(value, dict):
                    text = _args(str(item.get("method", "")), value)
                else:
                    text = _value(value, hexify=key == "io")
                lines.append(f"{_key(key)} = {text}")
    if doc.get("shot"):
        lines += ["", "[shot]"]
        lines += [f"{_key(k)} = {_value(v)}" for k, v in doc["shot"].items()]
    return "\n".join(lines) + "\n"


def _args(method: str, args: dict[str, Any]) -> str:
    """Call arguments: addresses and sizes in hexadecimal, counts and ids in decimal."""
    params = input_params(method)
    parts = []
    for name, value in args.items():
        param = params.get(name)
        hexify = param is not None and (
            param.type in ("PVOID", "PHYSICAL_ADDRESS") or any(w in name for w in ("Size", "Length", "Constraint"))
        )
        parts.append(f"{_key(name)} = {_value(value, hexify=hexify)}")
    return "{ " + ", ".join(parts) + " }" if parts else "{}"


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _value(value: Any, *, hexify: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"0x{value:X}" if hexify and value >= 10 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("TOML scenario files hold finite numbers only")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = ", ".join(
            f"{_key(k)} = {_value(v, hexify=hexify or any(w in k for w in ('Size', 'Length', 'address')))}"
            for k, v in value.items()
        )
        return "{ " + inner + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v, hexify=hexify) for v in value) + "]"
    raise ValueError(f"cannot write {type(value).__name__} in a scenario file")


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _escape(ch: str, *, multiline: bool) -> str:
    if multiline and ch in "\n\t":
        return ch
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"\\u{ord(ch):04X}"
    return ch


def _string(text: str) -> str:
    return '"' + "".join(_escape(ch, multiline=False) for ch in text) + '"'


def _multiline(text: str) -> str:
    return '"""\n' + "".join(_escape(ch, multiline=True) for ch in text) + '"""'
