"""ScenarioError: one line that says which file, where in it, what was found and what was expected."""

from __future__ import annotations

import difflib
from datetime import date, datetime, time
from typing import Any

from pydantic import ValidationError


class ScenarioError(Exception):
    """A scenario that cannot be used. ``str()`` is a single line meant for the user."""

    def __init__(self, message: str, *, source: str = "", where: str = "") -> None:
        one_line = " ".join(message.split())
        text = ": ".join(part for part in (source, where, one_line) if part)
        super().__init__(text)
        self.source = source
        self.where = where
        self.detail = one_line


def toml_kind(value: Any) -> str:
    """How a TOML reader would name the type of ``value``."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, datetime | date | time):
        return "a date/time"
    return type(value).__name__


def show(value: Any, limit: int = 60) -> str:
    """``value`` as it would be written in a TOML file, shortened."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = f"{value:#x}" if value > 0xFFFF else str(value)
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        text = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    elif isinstance(value, dict):
        inner = ", ".join(f"{k} = {show(v, 20)}" for k, v in list(value.items())[:4])
        text = "{ " + inner + (", ..." if len(value) > 4 else "") + " }"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(show(v, 20) for v in list(value)[:4]) + (", ..." if len(value) > 4 else "") + "]"
    else:
        text = str(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def found(value: Any) -> str:
    """'found 12 (an integer)': the value and its TOML type."""
    return f"found {show(value)} ({toml_kind(value)})"


def path_text(loc: tuple[Any, ...] | list[Any]) -> str:
    """('action', 3, 'args', 'BufferSize') -> 'action[3].args.BufferSize'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def suggest(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """' (did you mean X?)' when ``name`` is close to one of ``choices``."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(close) + "?)"


# Pydantic error types whose message we rewrite as "expected ...".
_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "float_type": "a number",
    "float_parsing": "a number",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "list_type": "an array",
    "tuple_type": "an array",
}


def _clean_loc(loc: tuple[Any, ...]) -> list[Any]:
    """Drop the union tags ('tag:SetBufferSize') pydantic puts into a location."""
    return [p for p in loc if not (isinstance(p, str) and p.startswith("tag:"))]


def _message(err: dict[str, Any]) -> tuple[list[Any], str]:
    """Location and one-phrase message of one pydantic error."""
    loc = _clean_loc(tuple(err.get("loc", ())))
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    msg = str(err.get("msg", ""))
    if kind == "unknown_key":
        loc.append(ctx.get("key", "?"))
        return loc, msg
    if kind == "missing":
        return loc, "required key is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found", "duration", "size", "scenario"):
        return loc, msg
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        return loc, text
    if kind in _EXPECTED:
        return loc, f"{found(value)}; expected {_EXPECTED[kind]}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", '"')
        return loc, f"{found(value)}; expected one of {expected}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        words = {
            "greater_than_equal": ("at least", "ge"),
            "less_than_equal": ("at most", "le"),
            "greater_than": ("more than", "gt"),
            "less_than": ("less than", "lt"),
        }[kind]
        bound = ctx.get(words[1])
        bound_text = show(bound) if isinstance(bound, int) else str(bound)
        return loc, f"{found(value)}; expected a value {words[0]} {bound_text}"
    if kind in ("too_short", "too_long"):
        n = len(value) if isinstance(value, list | tuple | dict) else "?"
        limit = ctx.get("max_length") if kind == "too_long" else ctx.get("min_length")
        bound = "at most" if kind == "too_long" else "at least"
        return loc, f"found {n} items; expected {bound} {limit}"
    if kind in ("string_too_short", "string_too_long"):
        limit = ctx.get("max_length") if kind == "string_too_long" else ctx.get("min_length")
        bound = "at most" if kind == "string_too_long" else "at least"
        return loc, f"{found(value)}; expected {bound} {limit} characters"
    if kind == "string_pattern_mismatch":
        return loc, f"{found(value)}; expected a single line"
    if kind in ("finite_number",):
        return loc, f"{found(value)}; expected a finite number"
    text = msg[0].lower() + msg[1:] if msg else kind
    return loc, f"{found(value)}; {text}"


def from_validation_error(exc: ValidationError, source: str) -> ScenarioError:
    """The first problem pydantic found, as a ScenarioError (with a count of the others)."""
    errors = exc.errors(include_url=False)
    if not errors:
        return ScenarioError("the file does not match the scenario format", source=source)
    loc, text = _message(errors[0])
    extra = len(errors) - 1
    if extra:
        text += f" (and {extra} more problem{'s' if extra > 1 else ''})"
    return ScenarioError(text, source=source, where=path_text(loc) or "(top level)")
