"""Checking a scenario's expectations against a world that has run.

Three kinds: the outcome of one call (status, return value, out-parameters), a count of
trace records (with field filters and a time window), and "the data arrived intact": what
the device played equals what the client wrote (render), or what the client received
equals what the device recorded (capture), everywhere outside the glitches the port
reported. Each result says what was checked and what was found.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.kernel.types import KSSTATE
from model.scenario import schema
from model.scenario.devices import device_io
from model.scenario.world import ScenarioWorld, record_matches, resolve_name
from model.trace import CallRecord, Record, json_value
from model.units import format_ns

_CHUNK = 1 << 20  # compare audio a MiB at a time: a 10-minute stream does not fit in memory twice


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation: what it checks, whether it holds, and what was found."""

    index: int
    kind: str  # "call", "count" or "audio"
    label: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "label": self.label,
            "passed": self.passed,
            "detail": self.detail,
        }


def check_expectations(world: ScenarioWorld) -> list[ExpectationResult]:
    """Every expectation of the world's scenario, checked now."""
    results = []
    for index, exp in enumerate(world.scenario.doc.expect):
        if isinstance(exp, schema.ExpectCall):
            passed, label, detail = _expect_call(world, exp)
            kind = "call"
        elif isinstance(exp, schema.ExpectCount):
            passed, label, detail = _expect_count(world, exp)
            kind = "count"
        else:
            passed, label, detail = _expect_audio(world, exp)
            kind = "audio"
        results.append(ExpectationResult(index, kind, exp.label or label, passed, detail))
    return results


# --- calls -------------------------------------------------------------------------------------------------------
def _outcome_of(record: CallRecord, trace: list[Record]) -> dict[str, Any]:
    executed = record.context != "-" and not any(
        r.kind == "violation"
        and getattr(r, "call_seq", None) == record.seq
        and getattr(r, "rule", "") == "use-after-free"
        for r in trace[record.seq + 1 : record.seq + 4]
    )
    return {
        "executed": executed,
        "status": record.status.name if record.status is not None else None,
        "value": json_value(record.value),
        "out": json_value(record.out or {}),
        "seq": record.seq,
        "t_ns": record.t_ns,
    }


def action_outcome(world: ScenarioWorld, index: int) -> dict[str, Any] | None:
    """What action ``index`` returned, or None if it never ran."""
    plan = world.scenario.plan
    if not 0 <= index < len(plan):
        return None
    action = plan[index]
    if action.at_step is None:
        return world.driver.results.get(index)
    # An at_step action is applied by the session (or the runner) as a user call: find it in the trace.
    system = world.system
    same = [
        a for a in plan[:index] if a.at_step is not None and a.object == action.object and a.method == action.method
    ]
    target = resolve_name(system, action.object)
    obj = system.get(action.object or "")
    if obj is not None:
        target = obj.object_id
    seen = 0
    trace = system.trace.records
    for record in trace:
        if (
            isinstance(record, CallRecord)
            and record.caller == "user"
            and record.depth == 0
            and record.object == target
            and record.method == action.method
        ):
            if seen == len(same):
                return _outcome_of(record, trace)
            seen += 1
    return None


def _find_call(world: ScenarioWorld, ref: schema.CallRef) -> tuple[dict[str, Any] | None, str]:
    if ref.action is not None:
        action = world.scenario.plan[ref.action]
        return action_outcome(world, ref.action), f"action[{ref.action}] {action.describe()}"
    system = world.system
    obj = system.get(ref.object) if ref.object else None
    target = obj.object_id if obj is not None else resolve_name(system, ref.object)
    matches = []
    trace = system.trace.records
    for record in trace:
        if not isinstance(record, CallRecord) or record.method != ref.method:
            continue
        if target is not None and record.object != target:
            continue
        if ref.args and not all(json_value(record.args.get(k)) == v for k, v in ref.args.items()):
            continue
        matches.append(record)
    nth = ref.nth
    which = "last" if nth == -1 else (f"{nth}th" if nth > 0 else f"{-nth}th from last")
    if nth == 1:
        which = "first"
    args = "".join(f" {k}={v}" for k, v in ref.args.items())
    what = f"the {which} {ref.object + '.' if ref.object else ''}{ref.method} call{args and ' with' + args}"
    pick = nth - 1 if nth > 0 else nth
    if not -len(matches) <= pick < len(matches):
        return None, what + f" (there were {len(matches)})"
    return _outcome_of(matches[pick], trace), what


def _show_value(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) and value > 9:
        return f"0x{value:X}"
    return str(value)


def _resolve(world: ScenarioWorld, operand: Any, field: tuple[str, ...]) -> tuple[Any, str | None]:
    """An operand, with "action[N]" replaced by the same field of action N's outcome."""
    if isinstance(operand, str):
        match = schema.ACTION_REF.match(operand)
        if match:
            outcome = action_outcome(world, int(match.group(1)))
            if outcome is None:
                return None, f"{operand} never ran"
            value: Any = outcome
            for part in field:
                value = value.get(part) if isinstance(value, dict) else None
            return value, None
    return operand, None


def _compare(world: ScenarioWorld, check: schema.Check, actual: Any, field: tuple[str, ...]) -> tuple[bool, str]:
    parts = []
    ok = True
    for op in ("equals", "not_equals", "at_least", "at_most", "multiple_of"):
        operand = getattr(check, op)
        if operand is None:
            continue
        wanted, problem = _resolve(world, operand, field)
        if problem:
            return False, problem
        if op == "equals":
            good = actual == wanted
            parts.append(f"= {_show_value(wanted)}")
        elif op == "not_equals":
            good = actual != wanted
            parts.append(f"!= {_show_value(wanted)}")
        elif not isinstance(actual, int | float) or isinstance(actual, bool) or not isinstance(wanted, int | float):
            good = False
            parts.append(f"{op.replace('_', ' ')} {_show_value(wanted)} (not a number)")
        elif op == "at_least":
            good = actual >= wanted
            parts.append(f">= {_show_value(wanted)}")
        elif op == "at_most":
            good = actual <= wanted
            parts.append(f"<= {_show_value(wanted)}")
        else:
            good = wanted != 0 and actual % wanted == 0
            parts.append(f"a multiple of {_show_value(wanted)}")
        ok = ok and good
    return ok, " and ".join(parts)


def _expect_call(world: ScenarioWorld, exp: schema.ExpectCall) -> tuple[bool, str, str]:
    outcome, what = _find_call(world, exp.call)
    wants = []
    if exp.executed is not None:
        wants.append("is made" if exp.executed else "is refused or not executed")
    if exp.status is not None:
        wants.append(f"returns {exp.status}")
    label_parts = list(wants)
    if exp.value is not None:
        label_parts.append("value " + _compare(world, exp.value, None, ("value",))[1])
    for key, check in exp.out.items():
        label_parts.append(f"{key} " + _compare(world, check, None, ("out", key))[1])
    label = f"{what}: " + ", ".join(label_parts)
    if outcome is None:
        return False, label, "no such call was made"
    found_parts = []
    ok = True
    if exp.executed is not None:
        ok = ok and outcome["executed"] == exp.executed
        found_parts.append("made" if outcome["executed"] else "not executed")
    if exp.status is not None:
        ok = ok and outcome["status"] == exp.status
        found_parts.append(f"status {outcome['status']}")
    if exp.value is not None:
        good, _ = _compare(world, exp.value, outcome["value"], ("value",))
        ok = ok and good
        found_parts.append(f"value {_show_value(outcome['value'])}")
    for key, check in exp.out.items():
        actual = (outcome.get("out") or {}).get(key)
        good, _ = _compare(world, check, actual, ("out", key))
        ok = ok and good
        found_parts.append(f"{key} {_show_value(actual)}")
    when = f" at {format_ns(outcome['t_ns'])}" if outcome.get("t_ns") is not None else ""
    return ok, label, "found " + ", ".join(found_parts) + when


# --- counts -------------------------------------------------------------------------------------------------------
def count_records(world: ScenarioWorld, kind: str, where: dict[str, Any], window: schema.Window | None) -> int:
    system = world.system
    start = window.start if window is not None else 0
    end = window.end if window is not None and window.end is not None else None
    n = 0
    for record in system.trace.records:
        if record.kind != kind:
            continue
        if record.t_ns < start or (end is not None and record.t_ns > end):
            continue
        if where and not record_matches(system, record, where):
            continue
        n += 1
    return n


def _expect_count(world: ScenarioWorld, exp: schema.ExpectCount) -> tuple[bool, str, str]:
    n = count_records(world, exp.count, exp.where, exp.window)
    where = "".join(f" {k}={v}" for k, v in exp.where.items())
    window = ""
    if exp.window is not None:
        end = format_ns(exp.window.end) if exp.window.end is not None else "the end"
        window = f" from {format_ns(exp.window.start)} to {end}"
    if exp.equals is not None:
        rule, ok = f"= {exp.equals}", n == exp.equals
    else:
        bits = []
        ok = True
        if exp.at_least is not None:
            bits.append(f">= {exp.at_least}")
            ok = ok and n >= exp.at_least
        if exp.at_most is not None:
            bits.append(f"<= {exp.at_most}")
            ok = ok and n <= exp.at_most
        rule = " and ".join(bits)
    return ok, f"{exp.count} records{where}{window}: {rule}", f"found {n}"


# --- audio ---------------------------------------------------------------------------------------------------------
def _run_span(world: ScenarioWorld, pin_id: str) -> tuple[int | None, int | None]:
    """Time the pin first went to RUN, and the time it first left RUN after that (None: still running)."""
    run_t = stop_t = None
    for record in world.system.trace.records:
        if (
            record.kind != "state"
            or getattr(record, "object", None) != pin_id
            or getattr(record, "what", "") != "KSSTATE"
        ):
            continue
        new, old = getattr(record, "new", None), getattr(record, "old", None)
        if run_t is None and new == KSSTATE.KSSTATE_RUN:
            run_t = record.t_ns
        elif run_t is not None and old == KSSTATE.KSSTATE_RUN:
            stop_t = record.t_ns
            break
    return run_t, stop_t


def _offset_at(times: list[int], offsets: list[int], length: int, t_ns: int, *, after: bool) -> int:
    """The sink offset of the first byte appended after (or at, when ``after`` is False) ``t_ns``."""
    k = bisect.bisect_right(times, t_ns) if after else bisect.bisect_left(times, t_ns)
    return offsets[k] if k < len(offsets) else length


def _segments(glitches: list[tuple[int, int]], limit: int) -> list[tuple[int, int, int]]:
    """(device start, device end, shift) of the stretches outside glitches: device byte d is client byte d - shift."""
    out = []
    pos = shift = 0
    for offset, length in sorted(glitches):
        if offset > pos:
            out.append((pos, min(offset, limit), shift))
        shift += length
        pos = max(pos, offset + length)
        if pos >= limit:
            break
    if pos < limit:
        out.append((pos, limit, shift))
    return [(a, b, s) for a, b, s in out if b > a]


def _expect_audio(world: ScenarioWorld, exp: schema.ExpectAudio) -> tuple[bool, str, str]:
    system = world.system
    pin = system.get(exp.audio)
    label = f"{exp.audio}: the data arrived intact outside glitches"
    if pin is None or not hasattr(pin, "client"):
        return False, label, f"{exp.audio} is not a pin"
    pin_id = pin.object_id
    run_t, stop_t = _run_span(world, pin_id)
    if run_t is None:
        return False, label, "the stream never ran"
    glitches = [
        (int(r.offset), int(r.bytes))  # type: ignore[attr-defined]
        for r in system.trace.records
        if r.kind == "glitch" and getattr(r, "stream", None) == pin_id and (stop_t is None or r.t_ns <= stop_t)
    ]
    if not hasattr(pin, "data_end") and glitches:
        # A WavePci port reports a glitch at the client offset it had released when it
        # noticed, not where the device starved: compare up to the first glitch only.
        cut = min(offset for offset, _ in glitches)
        glitches = [(cut, 1 << 62)]
    sink, source = device_io(world.topology, pin)
    client = pin.client
    fmt = pin.format
    capture = bool(pin.capture)
    if not capture:
        label = f"{exp.audio}: the device played what the client wrote, outside glitches"
        if sink is None:
            return False, label, "this device has no observable output"
        times, offsets, length = sink.mark_times, sink.mark_offsets, sink.length
        base = _offset_at(times, offsets, length, run_t, after=True)
        end = length if stop_t is None else _offset_at(times, offsets, length, stop_t, after=True)
        limit = end - base
        if stop_t is None:
            limit = min(limit, _known_end(pin))
        client_limit = client.submitted_bytes
        data = sink.data
    else:
        label = f"{exp.audio}: the client received what the device recorded, outside glitches"
        if source is None:
            return False, label, "this device has no observable input"
        times, offsets, length = client.received.mark_times, client.received.mark_offsets, client.received.length
        base = 0
        client_limit = length if stop_t is None else _offset_at(times, offsets, length, stop_t, after=True)
        limit = client_limit + sum(n for _, n in glitches)  # device offsets include the bytes lost
        data = client.received.data
    lo, hi = _window(exp.window, times, offsets, length, base)
    compared = spans = 0
    for start, stop, shift in _segments(glitches, limit):
        # Device bytes [start, stop) are the client's bytes [start - shift, stop - shift).
        d_from, d_to = (start, stop) if capture else (max(start, lo), min(stop, hi))
        c_from, c_to = d_from - shift, min(d_to - shift, client_limit)
        if capture:
            c_from, c_to = max(c_from, lo), min(c_to, hi)
        if c_to <= c_from:
            continue
        spans += 1
        c = c_from
        while c < c_to:
            n = min(_CHUNK, c_to - c)
            d = c + shift
            got = data[c : c + n] if capture else data[base + d : base + d + n]
            want = source.expected(fmt, d, n) if capture else client.expected(c, n)  # type: ignore[union-attr]
            n = min(n, len(got))
            diff = np.flatnonzero(got[:n] != want[:n])
            if len(diff):
                i = int(diff[0])
                if capture:
                    what = (
                        f"the client received 0x{int(got[i]):02X} as its byte {c + i}; "
                        f"the device recorded 0x{int(want[i]):02X}"
                    )
                else:
                    what = (
                        f"the device played 0x{int(got[i]):02X} as stream byte {c + i}; "
                        f"the client wrote 0x{int(want[i]):02X}"
                    )
                return False, label, f"{what} (after {compared + i} matching bytes)"
            if n == 0:
                break
            compared += n
            c += n
    if compared < exp.at_least_bytes:
        return False, label, f"only {compared} bytes to compare (expected at least {exp.at_least_bytes})"
    skipped = f"; {len(glitches)} glitch{'es' if len(glitches) != 1 else ''} skipped" if glitches else ""
    return True, label, f"{compared} bytes identical in {spans} span{'s' if spans != 1 else ''}{skipped}"


def _known_end(pin: Any) -> int:
    """How far a running render stream certainly holds the client's data, in device offsets."""
    if hasattr(pin, "data_end"):
        # WaveCyclic: the port wrote real data up to data_end, or up to where an underrun it
        # has not reported yet began; beyond that the device plays the port's padding.
        return pin.glitch_start if pin.glitch_start is not None else pin.data_end
    # WavePci: the device plays the mappings handed out, nothing beyond them.
    return int(getattr(pin, "bytes_mapped", 0))


def _window(
    window: schema.Window | None, times: list[int], offsets: list[int], length: int, base: int
) -> tuple[int, int]:
    """The window as offsets relative to ``base`` (everything when there is no window)."""
    if window is None:
        return 0, 1 << 62
    lo = _offset_at(times, offsets, length, window.start, after=False) - base
    hi = length - base if window.end is None else _offset_at(times, offsets, length, window.end, after=True) - base
    return max(0, lo), max(0, hi)
