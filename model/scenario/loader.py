"""Reading scenario files: from a path, a built-in name or text, into a validated Scenario.

The steps, each with its own one-line error: find the file (or built-in), refuse anything
over 1 MiB, decode UTF-8, parse TOML (the standard library's reader), validate against
the schema (pydantic), then check what refers to what (an expectation naming action 7
when there are 5). Nothing in a file is executed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from model.scenario import schema
from model.scenario.errors import ScenarioError, from_validation_error, show, suggest
from model.scenario.methods import METHODS, all_params, returns_status
from model.scenario.scenario import Scenario
from resources import SCENARIOS

MAX_BYTES = 1024 * 1024
DEFAULT_NAME = "sb16_render"
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


def builtin_path(name: str) -> Path:
    return SCENARIOS / f"{name}.toml"


def builtin_names() -> list[tuple[str, str]]:
    """(name, title) of every built-in scenario, sorted by name."""
    out = []
    for path in sorted(SCENARIOS.glob("*.toml")):
        try:
            title = load(path).title
        except ScenarioError as exc:
            title = f"(broken: {exc.detail})"
        out.append((path.stem, title))
    return out


def default_name() -> str:
    return DEFAULT_NAME


def load(source: str | Path) -> Scenario:
    """A scenario from a file path or a built-in name (the file stem in resources/scenarios)."""
    if isinstance(source, Path):
        if source.is_dir():
            raise ScenarioError("not a file (a scenario is a .toml file or a built-in name)", source=str(source))
        return _load_file(source, str(source), builtin=False)
    text = str(source)
    path = Path(text)
    if path.is_file():
        return _load_file(path, text, builtin=False)
    if re.fullmatch(r"[A-Za-z0-9_\-]+", text) and builtin_path(text).is_file():
        return _load_file(builtin_path(text), text, builtin=True)
    if path.exists():
        raise ScenarioError("not a file (a scenario is a .toml file or a built-in name)", source=text)
    names = sorted(p.stem for p in SCENARIOS.glob("*.toml"))
    if path.suffix or "/" in text or "\\" in text:
        raise ScenarioError("no such file", source=text)
    raise ScenarioError(
        f"no such file and no built-in scenario of that name{suggest(text, names)}; built-in: {', '.join(names)}",
        source=text,
    )


def _load_file(path: Path, label: str, *, builtin: bool) -> Scenario:
    name = f"{path.stem}.toml" if builtin else label
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror or exc}", source=name) from None
    if len(data) > MAX_BYTES:
        raise ScenarioError(
            "the file is larger than 1 MiB; scenario files are small text files (refused unread)", source=name
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"found byte 0x{data[exc.start]:02X}, which is not UTF-8 text; expected a TOML text file",
            source=name,
            where=f"line {line}",
        ) from None
    return _parse(text, name=name, stem=path.stem, source=label, path=path.resolve(), builtin=builtin)


def load_text(text: str, source: str = "<text>") -> Scenario:
    """A scenario from TOML text (``source`` names it in messages)."""
    if not isinstance(text, str):
        raise ScenarioError(f"expected TOML text, found {type(text).__name__}", source=source)
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise ScenarioError("the text is larger than 1 MiB; scenario files are small text files", source=source)
    stem = Path(source).stem if source != "<text>" else "scenario"
    return _parse(text, name=source, stem=stem, source=source, path=None, builtin=False)


def _parse(text: str, *, name: str, stem: str, source: str, path: Path | None, builtin: bool) -> Scenario:
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ScenarioError("found a NUL character; expected a TOML text file", source=name, where=f"line {line}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, name, text) from None
    try:
        doc = schema.ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, name) from None
    cross_check(doc, name)
    return Scenario(doc=doc, name=stem, source=source, path=path, text=text, builtin=builtin, label=name)


def _toml_error(exc: tomllib.TOMLDecodeError, name: str, text: str) -> ScenarioError:
    message = str(exc)
    where = ""
    match = _TOML_AT.search(message)
    if match:
        where = f"line {match.group(1)}, column {match.group(2)}"
        message = message[: match.start()]
    elif _TOML_END.search(message):
        where = f"line {text.count(chr(10)) + 1} (end of file)"
        message = _TOML_END.sub("", message)
    message = message[:1].lower() + message[1:]
    return ScenarioError(f"not valid TOML: {message}", source=name, where=where)


# --- what refers to what -------------------------------------------------------------------------------------
def cross_check(doc: schema.ScenarioFile, name: str) -> None:
    """Checks that span several parts of the file (the schema checks each part on its own)."""

    def fail(where: str, message: str) -> None:
        raise ScenarioError(message, source=name, where=where)

    actions = doc.action
    calls = {i: a for i, a in enumerate(actions) if isinstance(a, schema.CallActionBase)}
    clients = {"client" if i == 0 else f"client{i + 1}" for i in range(len(doc.stream))}

    def check_where(where: str, kind: str, filters: dict[str, object]) -> None:
        fields = schema.record_fields(kind)
        for key in filters:
            head, dot, _ = key.partition(".")
            if dot and head in fields and head in ("args", "out"):
                continue  # a parameter inside the call's args or out table
            if key not in fields:
                fail(
                    f"{where}.{key}",
                    f"a {kind} record has no field {key}{suggest(key, fields)}; its fields: {', '.join(fields)}",
                )

    def check_ref(where: str, value: object) -> None:
        if isinstance(value, str):
            match = schema.ACTION_REF.match(value)
            if match and int(match.group(1)) not in calls:
                fail(where, f"{value} is not an interface-call action (there are {len(actions)} actions)")

    for i, action in enumerate(actions):
        if action.after is not None:
            check_where(f"action[{i}].after.where", action.after.kind, action.after.where)
            if action.after.kind != "call" and action.after.method is not None:
                fail(f"action[{i}].after.method", 'method only goes with kind = "call"')

    for i, fault in enumerate(doc.fault):
        if isinstance(fault, schema.Starve) and fault.client not in clients:
            known = ", ".join(sorted(clients)) or "none (the scenario opens no stream)"
            fail(f"fault[{i}].client", f"found {show(fault.client)}; expected a stream's client: {known}")

    for i, bp in enumerate(doc.breakpoint):
        if bp.method is not None:
            params = all_params(bp.method)
            for j, cond in enumerate(bp.conditions):
                if cond.param not in params and cond.param not in ("status", "value"):
                    fail(
                        f"breakpoint[{i}].conditions[{j}].param",
                        f"{bp.method} has no parameter {cond.param}{suggest(cond.param, list(params))}; "
                        f"parameters: {', '.join(params) or '(none)'}, or status, value",
                    )

    for i, exp in enumerate(doc.expect):
        where = f"expect[{i}]"
        if isinstance(exp, schema.ExpectCall):
            ref = exp.call
            method: str | None = ref.method
            if ref.action is not None:
                if ref.action not in calls:
                    what = "there is no such action" if ref.action >= len(actions) else "that action is not a call"
                    fail(f"{where}.call.action", f"found {ref.action}; {what} (actions: {len(actions)}, from 0)")
                method = calls[ref.action].method  # type: ignore[attr-defined]
            assert method is not None
            if exp.status is not None and not returns_status(method):
                returns = METHODS[method][0].returns
                fail(f"{where}.status", f"{method} returns {returns}, not an NTSTATUS; check value instead")
            params = all_params(method)
            for key in exp.out:
                if key not in params or not params[key].is_output:
                    outs = [p for p, decl in params.items() if decl.is_output]
                    fail(
                        f"{where}.out.{key}",
                        f"{method} has no out-parameter {key}{suggest(key, outs)}; "
                        f"its out-parameters: {', '.join(outs) or '(none)'}",
                    )
            for key in ref.args:
                if key not in params or not params[key].is_input:
                    fail(
                        f"{where}.call.args.{key}", f"{method} has no input parameter {key}{suggest(key, list(params))}"
                    )
            for part, check in [("value", exp.value), *((f"out.{k}", c) for k, c in exp.out.items())]:
                if check is None:
                    continue
                for op in ("equals", "not_equals", "at_least", "at_most"):
                    check_ref(f"{where}.{part}.{op}", getattr(check, op))
        elif isinstance(exp, schema.ExpectCount):
            check_where(f"{where}.where", exp.count, exp.where)
            if exp.window and exp.window.end is not None and exp.window.end < exp.window.start:
                fail(f"{where}.window.end", "the window ends before it starts")

    if doc.shot is not None and doc.shot.at is not None and doc.shot.at > doc.run.until:
        fail("shot.at", f"the moment {schema.format_duration(doc.shot.at)} is after the end of the run (run.until)")
